"""The family's private pages (docs/family-pages.md), by what each module does:

- `names`: which pages a family has, their paths, and which ones a write makes stale
  (`pages_showing_days`, `pages_showing_messages`, `pages_showing_billing`,
  `pages_showing_documents`);
- `marks`: the French marks, legend and words of the pages;
- view models, pure: `account` (dashboard, invoices, payments, statement, notices),
  `exchanges` (inbox and messages, the « liste des demandes »), `month` (a child's
  month page: the grid, whose actions `bookings.decide` gives, and the week pattern);
- `render`: the view models through the templates, into {path: HTML};
- `export`: the I/O: the state read, the pages written to S3 (`FamilyPages.export`,
  `export_all` with its ETag comparison and upload threads);
- `nightly`: which families each nightly invocation reads (the reminder mails).
"""

import importlib

# Each name's module, imported when the name is first used (PEP 562): `import app`
# builds the exporter (export) without the renderer and the view models, which the first
# page rendered loads (docs/architecture.md, « Cold start »).
_MODULE_OF = {
    "NOTICES_PK": "account", "NOTICES_SK": "account", "current_notices": "account",
    "ExportReport": "export", "FamilyPages": "export", "page_etag": "export",
    "allowed_action": "month",
    "MONTHS_SHOWN": "names", "message_id": "names", "month_page_name": "names", "month_page_path": "names",
    "pages_showing_billing": "names", "pages_showing_days": "names", "pages_showing_documents": "names",
    "pages_showing_messages": "names", "shown_months": "names",
    "NIGHTLY_SLICES": "nightly", "in_slice": "nightly", "nightly_slice": "nightly",
    "PageRenderer": "render",
}
__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'chalicelib.pages' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"chalicelib.pages.{_MODULE_OF[name]}"), name)
    globals()[name] = value  # found once
    return value
