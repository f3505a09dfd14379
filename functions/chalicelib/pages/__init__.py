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

from chalicelib.pages.account import NOTICES_PK, NOTICES_SK, current_notices
from chalicelib.pages.export import ExportReport, FamilyPages, page_etag
from chalicelib.pages.month import allowed_action
from chalicelib.pages.names import (
    MONTHS_SHOWN,
    message_id,
    month_page_name,
    month_page_path,
    pages_showing_billing,
    pages_showing_days,
    pages_showing_documents,
    pages_showing_messages,
    shown_months,
)
from chalicelib.pages.nightly import NIGHTLY_SLICES, in_slice, nightly_slice
from chalicelib.pages.render import PageRenderer

__all__ = [
    "MONTHS_SHOWN", "NIGHTLY_SLICES", "NOTICES_PK", "NOTICES_SK", "ExportReport", "FamilyPages", "PageRenderer",
    "allowed_action", "current_notices", "in_slice", "message_id", "month_page_name", "month_page_path",
    "nightly_slice", "page_etag", "pages_showing_billing", "pages_showing_days", "pages_showing_documents",
    "pages_showing_messages", "shown_months",
]
