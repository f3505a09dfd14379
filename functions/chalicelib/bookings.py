"""Bookings: reservations, cancellations and absences of a child's days (docs/bookings.md, docs/billing.md).

`decide` is pure: for one requested day it gives the final refusal, or the write to
try. `Bookings.submit` reads the family's state (one Query), decides every item, then
writes them in DynamoDB transactions of at most 100 actions, where conditions hold the
capacity and forbid duplicates whatever the concurrency. An item whose condition fails
is decided again (a full day goes to the waiting list) and the rest retried: one
refused day never blocks the others.

The request's body is read and checked in booking_requests.py; the waiting list and
the service enfance's decisions are in waiting_list.py.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from chalicelib import storage as st
from chalicelib.booking_requests import BookingRequestError, Item
from chalicelib.calendar_rules import (
    CommuneCalendar,
    booking_deadline,
    is_before_deadline,
    school_year,
    school_year_first_day,
    school_year_last_day,
)
from chalicelib.config import Commune, Service
from chalicelib.formatting import french_moment
from chalicelib.submission import Submission, after_writes
from chalicelib.table import TTL_ATTRIBUTE
from chalicelib.waiting_list import (
    STAFF_REVIEW_MESSAGE,
    day_update,
    leave_waiting_list,
    wait_item,
    waiting_names,
)

MAX_TRANSACTION = 100  # DynamoDB's limit of actions in one TransactWriteItems
# Day items that hold a place (or a place in the queue): a new reservation is a duplicate.
HELD = ("validated", "pending", "absent")
IDEMPOTENCY_TTL = timedelta(days=2)
# An absence is declared online for a booked day at most this long ago (the month pages
# show the previous month); older days are the service enfance's business.
ABSENCE_WINDOW = timedelta(days=31)


@dataclass
class Outcome:
    item: Item
    status: str
    reason: str
    message: str

    def to_dict(self) -> dict:
        return {"date": self.item.day.isoformat(), "service": self.item.service, "action": self.item.action,
                "status": self.status, "reason": self.reason, "message": self.message}


@dataclass(frozen=True)
class Plan:
    """A write to try: the day's new status, and from which state."""

    item: Item
    status: str  # validated (or pending when full), cancelled, absent
    reason: str
    message: str
    previous: dict | None  # the day item as read (None: a new day)
    capacity: int | None


def refused(item: Item, reason: str, message: str) -> Outcome:
    return Outcome(item, "refused", reason, message)


# --- the rules (pure) ---------------------------------------------------------------------------

def after_staff_refusal(day_item: dict | None) -> bool:
    """A day the service enfance refused (the only refusal stored on a day): asked for
    again, it goes back to the service's review, never straight to validated."""
    return (day_item or {}).get("status") == "refused"


def absence_window_open(day: date, today: date) -> bool:
    """Whether an absence may still be declared online for `day` (ABSENCE_WINDOW)."""
    return day >= today - ABSENCE_WINDOW


def bookable_years(commune: Commune, today: date) -> tuple[date, date]:
    """The open school year: the current one; the next one too from July."""
    year = school_year(today, commune.year_start)
    last_year = year + 1 if today.month in (7, 8) else year
    return school_year_first_day(year, commune.year_start), school_year_last_day(last_year, commune.year_start)


def decide(item: Item, *, enrolled: list[str], day_item: dict | None, service: Service, commune: Commune,
           calendar: CommuneCalendar, now: datetime, previous_open_day_absent: bool = False,
           apply_deadline: bool = True) -> Outcome | Plan:
    """The outcome of one requested day, or the write to try (pure: clock as argument).

    `apply_deadline=False` (paper plannings, whose own rule is the 20th of the month
    before) skips the online deadline of reservations and cancellations."""
    tz = commune.tz
    today = now.astimezone(tz).date()
    rule = commune.deadline_rule(service)
    deadline = booking_deadline(item.day, rule, tz)
    on_time = is_before_deadline(now, item.day, rule, tz)
    status = (day_item or {}).get("status")

    if item.action == "reserve":
        first, last = bookable_years(commune, today)
        if not first <= item.day <= last:
            return refused(item, "outside_school_year", "Ce jour est en dehors de l'année scolaire ouverte aux réservations.")
        closure = calendar.closure(item.day, service)
        if closure is not None:
            reason = {"public_holiday": "public_holiday", "school_holiday": "school_holiday"}.get(closure.kind, "service_closed")
            return refused(item, reason, f"{closure.label} : le service {service.label} est fermé ce jour-là.")
        if service.code not in enrolled:
            return refused(item, "not_enrolled", f"Votre enfant n'est pas inscrit au service {service.label}.")
        if apply_deadline and not on_time:
            return refused(item, "deadline_passed",
                           f"Trop tard : la date limite pour ce jour était le {french_moment(deadline)}.")
        if status in HELD:
            return refused(item, "already_booked", "Ce jour est déjà réservé : la demande n'est pas enregistrée deux fois.")
        if after_staff_refusal(day_item):
            return Plan(item, "pending", "staff_review", STAFF_REVIEW_MESSAGE, day_item, service.capacity)
        return Plan(item, "validated", "", "Réservation validée.", day_item, service.capacity)

    if item.action == "cancel":
        if status not in ("validated", "pending"):
            return refused(item, "not_booked", "Ce jour n'est pas réservé : il n'y a rien à annuler.")
        if apply_deadline and not on_time:
            return refused(item, "deadline_passed",
                           f"La date limite d'annulation était le {french_moment(deadline)} : déclarez plutôt une absence.")
        if not on_time:  # the deadline lifted: only staff do so (chalicelib/staff/families.py)
            return Plan(item, "cancelled", "cancelled_by_staff",
                        "Réservation annulée par le service enfance après la date limite : ce jour n'est pas facturé.",
                        day_item, service.capacity)
        return Plan(item, "cancelled", "cancelled_in_time",
                    "Réservation annulée avant la date limite : ce jour n'est pas facturé.", day_item, service.capacity)

    # absence
    if status == "absent":
        return refused(item, "already_absent", "L'absence de ce jour est déjà enregistrée.")
    if status != "validated":
        return refused(item, "not_booked", "Ce jour n'est pas réservé : il n'y a pas d'absence à déclarer.")
    if not absence_window_open(item.day, today):
        return refused(item, "absence_window_closed",
                       f"Ce jour est passé depuis plus de {ABSENCE_WINDOW.days} jours : l'absence ne se déclare plus "
                       "en ligne, adressez-vous au service enfance.")
    if on_time:
        return Plan(item, "cancelled", "cancelled_in_time",
                    "La date limite n'est pas passée : la réservation est annulée sans frais.", day_item, service.capacity)
    if previous_open_day_absent:
        return Plan(item, "absent", "absence_following_day",
                    "Absence enregistrée : ce jour n'est pas facturé sur présentation d'un certificat médical.",
                    day_item, service.capacity)
    return Plan(item, "absent", "absence_first_day", "Absence enregistrée : le premier jour d'absence est facturé.",
                day_item, service.capacity)


def payload_hash(child_id: str, items: list[Item]) -> str:
    text = json.dumps([child_id, [(i.day.isoformat(), i.service, i.action) for i in items]])
    return hashlib.sha256(text.encode()).hexdigest()


class Bookings:
    def __init__(self, storage: st.Storage, commune: Commune, calendar: CommuneCalendar | None = None):
        self.storage = storage
        self.commune = commune
        self.calendar = calendar or CommuneCalendar(commune)

    def submit(self, family_number: str, child_id: str, rank: int, items: list[Item], now: datetime, *,
               idempotency_key: str | None = None, channel: str = "online",
               apply_deadline: bool = True, day_attributes: dict | None = None
               ) -> tuple[list[dict], list[tuple[str, date]]]:
        """Decides and writes; returns (results, the (service, day) seats freed).
        `day_attributes` are written on every day changed (a staff override's reason)."""
        submission = self.submit_state(family_number, child_id, rank, items, now, idempotency_key=idempotency_key,
                                       channel=channel, apply_deadline=apply_deadline,
                                       day_attributes=day_attributes)
        return submission.results, submission.freed

    def submit_state(self, family_number: str, child_id: str, rank: int, items: list[Item], now: datetime, *,
                     idempotency_key: str | None = None, channel: str = "online",
                     apply_deadline: bool = True, day_attributes: dict | None = None) -> Submission:
        """`submit`, and the family's state after its writes (`Submission.state`): the
        state read before deciding with the days and the request written applied, as the
        table would give them back. The pages export renders from it instead of reading
        the family again (docs/family-pages.md, « What a booking re-renders »)."""
        state = self.storage.family_state(family_number)
        child = next((c for c in state.children if c["child_id"] == child_id), None)
        if child is None:
            raise BookingRequestError(404, "not_found", "Enfant inconnu.")
        fingerprint = payload_hash(child_id, items)
        if idempotency_key is not None:
            if not isinstance(idempotency_key, str) or not 1 <= len(idempotency_key) <= 100:
                raise BookingRequestError(400, "invalid_request", "Clé d'idempotence invalide.")
            known = next((i for i in state.other if i["sk"] == f"IDEMPOTENCY#{idempotency_key}"), None)
            if known is not None:
                if known["payload_hash"] != fingerprint:
                    raise BookingRequestError(422, "idempotency_key_reused",
                                              "Cette clé a déjà servi pour une autre demande.")
                return Submission(known["results"], [], state)

        days = {d["sk"]: d for d in state.days}
        outcomes: list[Outcome | Plan] = []
        seen: set[tuple[date, str]] = set()
        for item in items:
            if (item.day, item.service) in seen:
                outcomes.append(refused(item, "duplicate_in_request", "Ce jour figure deux fois dans la demande."))
                continue
            seen.add((item.day, item.service))
            service = self.commune.service(item.service)
            previous_absent = self.calendar.follows_absence(
                item.day, service, lambda day, code=item.service: (days.get(st.day_sk(child_id, day, code)) or {}).get("status"))
            key = st.day_sk(child_id, item.day, item.service)
            decision = decide(item, enrolled=list(child.get("services", [])), day_item=days.get(key),
                              service=service, commune=self.commune, calendar=self.calendar, now=now,
                              previous_open_day_absent=previous_absent, apply_deadline=apply_deadline)
            if isinstance(decision, Plan) and decision.status == "absent":
                # The next day of the same request follows this absence.
                days[key] = {**(decision.previous or {}), "status": "absent"}
            outcomes.append(decision)
        # What the staff's list shows of a day put in line, copied onto its WAIT item now
        # (the state is read): the list is then one Query, without a read per line.
        names = waiting_names(state, child_id, rank)
        written: dict[str, dict] = {}
        results, freed = self._write(family_number, child_id, rank, outcomes, now, channel, names,
                                     extra=day_attributes or {}, written=written)
        answer = [r.to_dict() for r in results]
        request_id = secrets.token_hex(8)
        extra = [{
            "pk": st.family_pk(family_number), "sk": f"REQUEST#{now.astimezone(UTC).isoformat()}#{request_id}",
            "kind": "request", "request_id": request_id, "submitted_at": now, "child_id": child_id,
            "responsable_rank": rank, "channel": channel, "type": "booking", "items": answer,
        }]
        if idempotency_key is not None:
            extra.append({"pk": st.family_pk(family_number), "sk": f"IDEMPOTENCY#{idempotency_key}",
                          "kind": "idempotency", "payload_hash": fingerprint, "results": answer,
                          TTL_ATTRIBUTE: int((now + IDEMPOTENCY_TTL).timestamp())})
        self.storage.batch_write(extra)
        return Submission(answer, freed, after_writes(state, written, extra))

    # --- writing ---------------------------------------------------------------------------------

    def _write(self, family: str, child: str, rank: int, decisions: list, now: datetime, channel: str,
               names: dict | None = None, extra: dict | None = None, written: dict | None = None):
        """Writes the plans in transactions of at most 100 actions (each plan whole in one);
        a failed condition re-decides its item, and the chunk's other plans are retried.
        `written` receives {sort key: the day item as written} of each plan written."""
        written = {} if written is None else written
        results: dict[int, Outcome] = {i: d for i, d in enumerate(decisions) if isinstance(d, Outcome)}
        plans = {i: d for i, d in enumerate(decisions) if isinstance(d, Plan)}
        freed: list[tuple[str, date]] = []
        full: set[int] = set()
        for _attempt in range(2 * len(plans) + 2):
            if not plans:
                break
            chunks, chunk, size = [], [], 0
            for index in plans:
                actions = self._actions(family, child, rank, plans[index], now, channel, full=index in full,
                                        names=names, extra=extra or {})
                if chunk and size + len(actions) > MAX_TRANSACTION:
                    chunks.append(chunk)
                    chunk, size = [], 0
                chunk.append((index, actions))
                size += len(actions)
            chunks.append(chunk)
            for chunk in chunks:
                steps = [(index, action, takes_seat) for index, plan_actions in chunk
                         for action, takes_seat in plan_actions]
                failed = self.storage.transact([action for _, action, _ in steps])
                if not failed:
                    for index, _ in chunk:
                        day = self._day_after(family, child, rank, plans[index], now, channel, index in full,
                                              extra or {})
                        written[day["sk"]] = day
                        results[index], seat = self._written(plans.pop(index), index in full)
                        if seat:
                            freed.append(seat)
                    continue
                for position in failed:
                    index, _, takes_seat = steps[position]
                    plan = plans.get(index)
                    if plan is None:
                        continue
                    if takes_seat and index not in full:
                        full.add(index)  # the day is full: the request waits in line
                    else:
                        results[index] = self._refusal_after_race(plan)
                        del plans[index]
        return [results[i] for i in sorted(results)], freed

    def _written(self, plan: Plan, waiting: bool) -> tuple[Outcome, tuple[str, date] | None]:
        if waiting:
            return Outcome(plan.item, "pending", "waiting_list",
                           "Service complet ce jour-là, demande mise en liste d'attente."), None
        seat = None
        if plan.status == "cancelled" and (plan.previous or {}).get("status") == "validated" and plan.capacity:
            seat = (plan.item.service, plan.item.day)
        return Outcome(plan.item, plan.status, plan.reason, plan.message), seat

    def _refusal_after_race(self, plan: Plan) -> Outcome:
        if plan.item.action == "reserve":
            return refused(plan.item, "already_booked", "Ce jour est déjà réservé : la demande n'est pas enregistrée deux fois.")
        return refused(plan.item, "changed_meanwhile",
                       "Ce jour a changé pendant votre demande : rechargez la page et vérifiez-le.")

    def _day_after(self, family: str, child: str, rank: int, plan: Plan, now: datetime, channel: str,
                   full: bool, extra: dict) -> dict:
        """The plan's day item as its write leaves it (the put item, or the item read with
        the update's attributes): what `_actions` writes, for `submit_state`."""
        item = plan.item
        if item.action == "reserve":
            return self._reserve_item(family, child, rank, plan, now, channel, full, extra)
        return {**(plan.previous or {}), **self._update_changes(plan, now, rank, extra)}

    @staticmethod
    def _reserve_item(family: str, child: str, rank: int, plan: Plan, now: datetime, channel: str, full: bool,
                      extra: dict) -> dict:
        item = plan.item
        review = plan.status == "pending"  # asked again after a staff refusal: staff decide
        status = "pending" if full or review else "validated"
        reason = plan.reason if review else "waiting_list" if full else ""
        day = {
            "pk": st.family_pk(family), "sk": st.day_sk(child, item.day, item.service),
            "kind": "day", "child_id": child, "date": item.day, "service": item.service,
            "status": status, "reason": reason, "responsable_rank": rank,
            "channel": channel, "requested_at": now, "updated_at": now,
            "gsi1pk": st.service_day_pk(item.service, item.day), "gsi1sk": f"{family}#{child}",
            **({"message": plan.message} if review else {}), **extra,
        }
        if full or review:
            day["wait_sk"] = st.wait_sk(now, family, child)
        return day

    @staticmethod
    def _update_changes(plan: Plan, now: datetime, rank: int, extra: dict) -> dict:
        return {"status": plan.status, "reason": plan.reason, "message": plan.message, "updated_at": now,
                "responsable_rank": rank, **extra}

    def _actions(self, family: str, child: str, rank: int, plan: Plan, now: datetime, channel: str,
                 full: bool, names: dict | None = None, extra: dict | None = None) -> list[tuple[dict, bool]]:
        """The plan's transaction actions, each with whether it takes a seat (when that one
        fails, the day is full and the request waits in line; any other, it changed)."""
        item = plan.item
        previous_status = (plan.previous or {}).get("status")
        if item.action == "reserve":
            day = self._reserve_item(family, child, rank, plan, now, channel, full, extra or {})
            if "wait_sk" in day:
                # In line with the waiting list (staff see it in `portail requests list` and
                # /gestion/demandes/); a review is never promoted by a freed seat, only
                # decided by staff. The day names its WAIT item: whoever takes the day out
                # of `pending` deletes that item in the same transaction, without a Query.
                wait = wait_item(family, child, rank, item.service, item.day, now, names or {},
                                 review=plan.status == "pending")
                # A refused day is not held: asked again twice at once, the second finds it pending.
                return [(self.storage.put_unless_action(day, HELD), False), (self.storage.put_action(wait), False)]
            put = (self.storage.put_unless_action(day, HELD), False)
            if plan.capacity:
                return [(self.storage.take_seat_action(item.service, item.day, plan.capacity), True), put]
            return [put]
        # cancel / absence: an update from the state read, which must not have changed
        actions = [(day_update(self.storage, family, child, item.service, item.day, previous_status,
                               **self._update_changes(plan, now, rank, extra or {})), False)]
        if plan.status == "cancelled" and previous_status == "validated" and plan.capacity:
            actions.append((self.storage.release_seat_action(item.service, item.day), False))
        if plan.status == "cancelled" and previous_status == "pending":
            actions += [(leave, False)
                        for leave in leave_waiting_list(self.storage, family, child, item.service, item.day,
                                                        plan.previous)]
        return actions

