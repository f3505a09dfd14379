"""The waiting list and the service enfance's decisions on it.

A reservation of a full day waits in line (`pending`, a WAIT item under
`SERVICEDAY#<service>#<date>`, in arrival order); a seat freed by a cancellation goes
to the oldest waiting request (`promote`). Staff list the waiting requests (`pending`,
`waiting`), and accept or refuse one (`staff_decide`); the kitchen's headcount is
chalicelib/staff/headcount.py. A day asked for again after a staff refusal waits for staff only
(`review`): a freed seat never promotes it.

Every WAIT item is also on the index gsi1 (`WAITING`, by day, service, arrival) and
carries the names the staff's list shows (`wait_item`): the list of every pending day
is one Query, never a Scan nor a read per line. A WAIT item never outlives its pending
day: each write that takes the day out of `pending` (a cancellation, a promotion, a
staff decision) deletes it in the same transaction.

`day_update` and `leave_waiting_list` are the transaction actions a submission's
cancellations (bookings.py) share with these decisions.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta

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


def leave_waiting_list(storage: st.Storage, family: str, child: str, service: str, day: date,
                       day_item: dict | None = None) -> list[dict]:
    """Transaction actions: a child's entries leave a service's waiting list. The day item
    as read names its WAIT item (`wait_sk`); a day written before it did is looked for in
    the line (one Query)."""
    if (day_item or {}).get("wait_sk"):
        return [storage.delete_action(st.service_day_pk(service, day), day_item["wait_sk"])]
    return [storage.delete_action(wait["pk"], wait["sk"]) for wait in storage.waiting_list(service, day)
            if wait["family_number"] == family and wait["child_id"] == child]


def waiting_names(state: st.FamilyState, child: str, rank: int) -> dict:
    """The child's and the responsable's names as the staff's list shows them
    (« ALPHA Anna », « Madame Anne ALPHA »), from the family's state already read."""
    kid = next((c for c in state.children if c.get("child_id") == child), {})
    parent = next((r for r in state.responsables if int(r.get("rank") or 0) == rank), {})
    return {"child_name": " ".join(p for p in (kid.get("last_name"), kid.get("first_name")) if p),
            "responsable_name": " ".join(p for p in (parent.get("civility"), parent.get("first_name"),
                                                     parent.get("last_name")) if p)}


def wait_item(family: str, child: str, rank: int, service: str, day: date, now: datetime, names: dict, *,
              review: bool = False) -> dict:
    """A day's place in line: under its service's day (arrival order, promotions) and on
    the index `WAITING` (the staff's list, by day), with the names that list shows."""
    return {"pk": st.service_day_pk(service, day), "sk": st.wait_sk(now, family, child), "kind": "wait",
            "family_number": family, "child_id": child, "responsable_rank": rank, "requested_at": now,
            "service": service, "date": day, **{k: v for k, v in names.items() if v},
            "gsi1pk": st.WAITING, "gsi1sk": st.waiting_index_sk(day, service, now, family, child),
            **({"review": True} if review else {})}


def _entry(wait: dict) -> dict:
    """A line of the staff's list, from its WAIT item."""
    _, code, iso = wait["pk"].split("#", 2)
    return {"family": wait["family_number"], "child": wait["child_id"], "service": code,
            "date": date.fromisoformat(iso), "requested_at": wait["requested_at"],
            "responsable_rank": int(wait.get("responsable_rank") or 1), "review": bool(wait.get("review")),
            "child_name": wait.get("child_name", ""), "responsable_name": wait.get("responsable_name", ""),
            "index_sk": wait.get("gsi1sk", "")}


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
        """The waiting requests, by day, service, then arrival order: every line of
        `waiting` (one day, or all), read page after page."""
        return self.waiting(service, day, day)[0]

    def waiting(self, service: str | None = None, first: date | None = None, last: date | None = None, *,
                limit: int | None = None, after: str | None = None) -> tuple[list[dict], str | None]:
        """The pending days from `first` to `last` (either open), oldest day first, then by
        service and arrival: Queries of the index `WAITING` (one per `limit` + 1 lines or
        1 MB), never a Scan nor a read per line. A page holds `limit` lines or more: it
        ends with a day's whole line, so that positions stay right; `after` (the
        `index_sk` of the line before) resumes. Returns the lines and the `after` of the
        next page (None: none). Each line: family, child, service, date, requested_at,
        position (1 = next in line), responsable_rank, review (asked again after a staff
        refusal: only staff decide it), child_name, responsable_name, index_sk."""
        low = first.isoformat() if first else None
        # Index sort keys start `<date>#`: the next day alone sorts after all of `last`'s.
        high = (last + timedelta(days=1)).isoformat() if last else None
        start = None
        if after and (low is None or after >= low) and (high is None or after <= high):
            try:
                pk, sk = st.wait_key_of_index_sk(after)
            except ValueError:
                pk = sk = None
            if pk:
                start = {"pk": pk, "sk": sk, "gsi1pk": st.WAITING, "gsi1sk": after}
        lines: list[dict] = []
        positions: dict[tuple[str, date], int] = {}
        while True:
            waits, start = self.storage.query_index_range(st.WAITING, low, high, after=start,
                                                         limit=limit + 1 if limit else None)
            for wait in waits:
                line = _entry(wait)
                if service and line["service"] != service:
                    continue
                group = (line["service"], line["date"])
                if limit and len(lines) >= limit and group not in positions:
                    return lines, lines[-1]["index_sk"]
                positions[group] = positions.get(group, 0) + 1
                lines.append({**line, "position": positions[group]})
            if start is None:
                return lines, None

    def count(self) -> int:
        """How many days wait for a decision or a seat (the count of the index `WAITING`)."""
        return self.storage.count_index_range(st.WAITING)

    def staff_decide(self, family: str, child: str, service_code: str, day: date, accept: bool, reason: str,
                     now: datetime, *, read: dict | None = None, extra: list[dict] = ()) -> dict:
        """The service enfance accepts or refuses a pending day; returns the updated day.

        Accept: validated within the capacity, in one transaction as `promote` (counter +1
        under the capacity condition, day pending → validated, its WAIT item deleted).
        Refuse (a reason is required): refused, reason `staff_refused`, WAIT item deleted.
        The same transaction writes the family's « Liste des demandes » line and the
        `extra` actions (the caller's audit entry). `read`: the day items already read
        ({(pk, sk): item}, one BatchGetItem for many decisions), else the day is read.
        BookingRequestError when the day is not pending, or full."""
        try:
            service = self.commune.service(service_code)
        except KeyError:
            raise BookingRequestError(400, "invalid_request", f"Service « {service_code} » inconnu.") from None
        reason = (reason or "").strip()
        if not accept and not reason:
            raise BookingRequestError(400, "reason_required", "Indiquez le motif du refus : il est transmis à la famille.")
        key = (st.family_pk(family), st.day_sk(child, day, service_code))
        current = read.get(key) if read is not None else self.storage.get(*key)
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
            status, code, message = "refused", "staff_refused", f"Refusée par le service enfance. Motif : {reason}"
        actions = []
        if accept and service.capacity:
            actions.append(self.storage.take_seat_action(service_code, day, service.capacity))
        update_at = len(actions)
        actions.append(day_update(self.storage, family, child, service_code, day, "pending", status=status,
                                  reason=code, message=message, updated_at=now, decided_by="staff"))
        actions += leave_waiting_list(self.storage, family, child, service_code, day, current)
        # The decision appears in the family's « liste des demandes ».
        request_id = secrets.token_hex(8)
        actions.append(self.storage.put_action({
            "pk": st.family_pk(family), "sk": f"REQUEST#{now.astimezone(UTC).isoformat()}#{request_id}",
            "kind": "request", "request_id": request_id, "submitted_at": now, "child_id": child,
            "responsable_rank": int(current.get("responsable_rank", 1)), "channel": "staff", "type": "staff_decision",
            "items": [{"date": day.isoformat(), "service": service_code, "action": "accept" if accept else "refuse",
                       "status": status, "reason": code, "message": message}],
        }))
        failed = self.storage.transact([*actions, *extra])
        if update_at in failed:
            raise BookingRequestError(409, "changed_meanwhile",
                                      f"La demande pour {where} a changé pendant la décision : relisez la liste.")
        if failed:
            raise BookingRequestError(409, "full", STAFF_FULL_MESSAGE)
        return {**current, "status": status, "reason": code, "message": message,
                "updated_at": now.astimezone(UTC).isoformat(), "decided_by": "staff"}

    def drop_stale(self, family: str, child: str, service_code: str, day: date) -> None:
        """Deletes a child's WAIT items of a day that no longer waits (one Query, one batch
        write): none should exist, since each write that ends `pending` deletes its item;
        a staff decision that finds the day decided calls this, so that the list heals. The
        item of a day asked again meanwhile (pending, naming it) is kept."""
        now_read = self.storage.get(st.family_pk(family), st.day_sk(child, day, service_code)) or {}
        if now_read.get("status") == "pending" and not now_read.get("wait_sk"):
            return  # asked again meanwhile, by a write older than `wait_sk`: its item is not stale
        keep = now_read.get("wait_sk") if now_read.get("status") == "pending" else None
        stale = [(w["pk"], w["sk"]) for w in self.storage.waiting_list(service_code, day)
                 if w["family_number"] == family and w["child_id"] == child and w["sk"] != keep]
        if stale:
            self.storage.batch_write([], stale)


# --- staff: rules (pure) ----------------------------------------------------------------------------

STAFF_FULL_MESSAGE = "Service complet ce jour-là : libérez une place ou augmentez la capacité."
STAFF_REVIEW_MESSAGE = ("Demandée à nouveau après un refus du service enfance : en attente de sa décision, "
                        "elle n'est pas validée d'office.")
STATUS_LABELS = {"validated": "validée", "pending": "en attente", "refused": "refusée", "cancelled": "annulée",
                 "absent": "absent"}

