"""The waiting list and the service enfance's decisions on it.

A reservation of a full day waits in line (`pending`, a WAIT item under
`SERVICEDAY#<service>#<date>`, in arrival order); a seat freed by a cancellation goes
to the oldest waiting request (`promote`). Staff list the waiting requests (`pending`)
and accept or refuse one (`staff_decide`); the kitchen's headcount is
chalicelib/staff/headcount.py. A
day asked for again after a staff refusal waits for staff only (`review`): a freed
seat never promotes it.

`day_update` and `leave_waiting_list` are the transaction actions a submission's
cancellations (bookings.py) share with these decisions.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime

from chalicelib import storage as st
from chalicelib.booking_requests import BookingRequestError
from chalicelib.config import Commune
from chalicelib.formatting import french_day


def day_update(storage: st.Storage, family: str, child: str, service: str, day: date, expected_status: str,
               **changes) -> dict:
    """A transaction action: a child's day changes (its status, why), only if it still
    has the status read."""
    return storage.update_if_action(st.family_pk(family), st.day_sk(child, day, service), changes,
                                    {"status": expected_status})


def leave_waiting_list(storage: st.Storage, family: str, child: str, service: str, day: date) -> list[dict]:
    """Transaction actions: a child's entries leave a service's waiting list (one Query)."""
    return [storage.delete_action(wait["pk"], wait["sk"]) for wait in storage.waiting_list(service, day)
            if wait["family_number"] == family and wait["child_id"] == child]


class WaitingList:
    def __init__(self, storage: st.Storage, commune: Commune):
        self.storage = storage
        self.commune = commune

    def promote(self, service_code: str, day: date, now: datetime) -> list[dict]:
        """Gives freed seats to the oldest waiting requests; returns the promoted ones."""
        service = self.commune.service(service_code)
        if not service.capacity:
            return []
        promoted = []
        for wait in self.storage.waiting_list(service_code, day):
            if wait.get("review"):
                continue  # asked again after a refusal: the service enfance decides, not a freed seat
            family, child = wait["family_number"], wait["child_id"]
            message = "Une place s'est libérée : réservation validée (liste d'attente)."
            failed = self.storage.transact([
                self.storage.take_seat_action(service_code, day, service.capacity),
                day_update(self.storage, family, child, service_code, day, "pending", status="validated",
                           reason="promoted_from_waiting_list", message=message, updated_at=now),
                self.storage.delete_action(wait["pk"], wait["sk"]),
            ])
            if not failed:
                promoted.append({**wait, "service": service_code, "date": day})
                continue
            if 0 in failed:
                break  # full again: the others keep waiting
            # The day item no longer waits (cancelled meanwhile): drop the stale entry.
            self.storage.batch_write([], [(wait["pk"], wait["sk"])])
        return promoted

    # --- staff: the list and its decisions ---------------------------------------------------------

    def pending(self, service: str | None = None, day: date | None = None) -> list[dict]:
        """The waiting requests: days still `pending`, by day, service, then arrival order.

        From the WAIT items of `SERVICEDAY#<service>#<date>` (one Query per service when a
        day is given, else one Scan: a staff tool, never a request path); entries whose day
        is no longer pending (cancelled meanwhile) are left out. Each: family, child,
        service, date, requested_at, position (1 = next in line), responsable_rank, review
        (asked again after a staff refusal: only staff decide it, a freed seat does not)."""
        if day is not None:
            codes = [service] if service else [s.code for s in self.commune.services]
            waits = [w for code in codes for w in self.storage.waiting_list(code, day)]
        else:
            waits = self.storage.all_waiting_lists()
        entries = []
        for wait in waits:
            _, code, iso = wait["pk"].split("#", 2)
            if service and code != service:
                continue
            entries.append((code, date.fromisoformat(iso), wait))
        keys = [(st.family_pk(w["family_number"]), st.day_sk(w["child_id"], d, code)) for code, d, w in entries]
        days = self.storage.batch_get(keys) if keys else {}
        waiting, positions = [], {}
        for (code, d, wait), key in sorted(zip(entries, keys, strict=True), key=lambda e: (e[0][1], e[0][0], e[0][2]["sk"])):
            if (days.get(key) or {}).get("status") != "pending":
                continue
            positions[(code, d)] = positions.get((code, d), 0) + 1
            waiting.append({
                "family": wait["family_number"], "child": wait["child_id"], "service": code, "date": d,
                "requested_at": wait["requested_at"], "position": positions[(code, d)],
                "responsable_rank": int(wait.get("responsable_rank") or 1), "review": bool(wait.get("review")),
            })
        return waiting

    def staff_decide(self, family: str, child: str, service_code: str, day: date, accept: bool, reason: str,
                     now: datetime) -> dict:
        """The service enfance accepts or refuses a pending day; returns the updated day.

        Accept: validated within the capacity, in one transaction as `promote` (counter +1
        under the capacity condition, day pending → validated, its WAIT item deleted).
        Refuse (a reason is required): refused, reason `staff_refused`, WAIT item deleted.
        BookingRequestError when the day is not pending, or full."""
        try:
            service = self.commune.service(service_code)
        except KeyError:
            raise BookingRequestError(400, "invalid_request", f"Service « {service_code} » inconnu.") from None
        reason = (reason or "").strip()
        if not accept and not reason:
            raise BookingRequestError(400, "reason_required", "Indiquez le motif du refus : il est transmis à la famille.")
        key = {"pk": st.family_pk(family), "sk": st.day_sk(child, day, service_code)}
        current = self.storage.get(key["pk"], key["sk"])
        where = f"l'enfant {child} de la famille {family}, {service.label}, {french_day(day)}"
        if current is None:
            raise BookingRequestError(404, "not_found", f"Aucune demande pour {where}.")
        if current.get("status") != "pending":
            raise BookingRequestError(409, "not_pending", f"La demande pour {where} n'est pas en attente "
                                      f"(état : {STATUS_LABELS.get(current.get('status'), current.get('status'))}) : "
                                      "il n'y a rien à décider.")
        if accept:
            status, code, message = "validated", "staff_accepted", "Acceptée par le service enfance."
        else:
            status, code, message = "refused", "staff_refused", f"Refusée par le service enfance : {reason}"
        actions = []
        if accept and service.capacity:
            actions.append(self.storage.take_seat_action(service_code, day, service.capacity))
        update_at = len(actions)
        actions.append(day_update(self.storage, family, child, service_code, day, "pending", status=status,
                                  reason=code, message=message, updated_at=now, decided_by="staff"))
        actions += leave_waiting_list(self.storage, family, child, service_code, day)
        failed = self.storage.transact(actions)
        if update_at in failed:
            raise BookingRequestError(409, "changed_meanwhile",
                                      f"La demande pour {where} a changé pendant la décision : relisez la liste.")
        if failed:
            raise BookingRequestError(409, "full", STAFF_FULL_MESSAGE)
        # The decision appears in the family's « liste des demandes ».
        request_id = secrets.token_hex(8)
        self.storage.put({
            "pk": st.family_pk(family), "sk": f"REQUEST#{now.astimezone(UTC).isoformat()}#{request_id}",
            "kind": "request", "request_id": request_id, "submitted_at": now, "child_id": child,
            "responsable_rank": int(current.get("responsable_rank", 1)), "channel": "staff", "type": "staff_decision",
            "items": [{"date": day.isoformat(), "service": service_code, "action": "accept" if accept else "refuse",
                       "status": status, "reason": code, "message": message}],
        })
        return {**current, "status": status, "reason": code, "message": message,
                "updated_at": now.astimezone(UTC).isoformat(), "decided_by": "staff"}


# --- staff: rules (pure) ----------------------------------------------------------------------------

STAFF_FULL_MESSAGE = "Service complet ce jour-là : libérez une place ou augmentez la capacité."
STAFF_REVIEW_MESSAGE = ("Demandée à nouveau après un refus du service enfance : en attente de sa décision, "
                        "elle n'est pas validée d'office.")
STATUS_LABELS = {"validated": "validée", "pending": "en attente", "refused": "refusée", "cancelled": "annulée",
                 "absent": "absent"}

