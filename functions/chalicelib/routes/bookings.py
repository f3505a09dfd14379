"""Routes of the children's days: bookings, cancellations, absences (docs/bookings.md)."""

from __future__ import annotations

from chalicelib import family_actions
from chalicelib.dependencies import bookings, family_pages, messages
from chalicelib.routes.calls import BODY_TYPES, Call, Routes
from chalicelib.web import back_to, booking_request

routes = Routes(__name__)


def back_page(call: Call) -> str:
    """Where the month page's form returns: its `back` field when it is one of the family's pages."""
    return back_to(call.data.get("back"), call.session.home)


@routes.route("/api/bookings", methods=["POST"], content_types=BODY_TYPES)
@routes.family_call(form_errors=back_page)
def book(call: Call):
    raw_items, pattern = booking_request(call.request, call.data)
    results = family_actions.book(bookings(), messages(), family_pages(), call.session.family_number,
                                  call.field("child_id"), call.session.rank, raw_items, pattern, call.now,
                                  idempotency_key=call.data.get("idempotency_key"))
    return call.answer(back_page(call) + "#resultat", {"results": results})
