"""A page of the family layout answered by the function itself (no-store): the forms a
static page cannot hold (the certificate's fresh presigned form) and the refusals in
words of the routes a family's browser follows (docs/family-pages.md)."""

from __future__ import annotations

from chalice import Response

from chalicelib.dependencies import family_pages
from chalicelib.routes.calls import Call


def family_page(call: Call, template: str, status: int = 200, *, section: str, current: str,
                **context) -> Response:
    """`template` rendered for the session's family, its menu on `section`."""
    from chalicelib import sessions
    from chalicelib.dependencies import secret

    session = call.session
    html = family_pages().renderer.environment.get_template(template).render(
        home=session.home, csrf_token=sessions.csrf_token(secret(), session.page_key), section=section,
        current=current, **context)
    return Response(body=html, status_code=status,
                    headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"})
