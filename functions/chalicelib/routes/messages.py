"""Routes of the family's inbox (docs/messages.md)."""

from __future__ import annotations

from chalicelib import family_actions
from chalicelib.dependencies import family_pages, storage
from chalicelib.routes.calls import BODY_TYPES, Call, Routes

routes = Routes(__name__)


@routes.route("/api/messages/{message_id}/read", methods=["POST"], content_types=BODY_TYPES)
@routes.family_call()
def read_message(call: Call, message_id):
    """Marks one of the family's messages read (204; a form post: 303 back to its page),
    after re-rendering the pages that show it; another family's message is 404, a form
    post's too (no page of the family shows it)."""
    family_actions.read_message(storage(), family_pages(), call.session.family_number, message_id, call.now)
    return call.answer(f"{call.session.home}messages/{message_id}/")
