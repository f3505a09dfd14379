"""The families, as staff find and handle them (`/gestion/familles/`): the search by
number, names, login or e-mail (the family search index, chalicelib/family_search.py),
and the changes staff make in a family's file: the responsables' contacts, the family's
address and tariff bracket, a child's services, days booked on the family's behalf, and
« Envoyer un lien de mot de passe ».

Each change is checked whole before anything is written (a Refusal with a French
sentence otherwise), then written, recorded in the audit trail with the family's number
(`storage.audit`, actor: the staff login), and the family's pages that show it are
rendered again. Bookings go through the parents' own path (`family_actions.book`:
`Bookings.submit`, capacity, waiting list, closures), channel `staff`; only staff may
lift the deadline, with a reason recorded on each day and in the audit.

The collaborators are injected (`FamilyDesk`); the clock is an argument. The file's view
model is chalicelib/staff/family_file.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from chalicelib import family_search
from chalicelib import storage as st
from chalicelib.families import checked_email, checked_phone
from chalicelib.refusals import Refusal

MAX_RESULTS = 30  # a list an agent reads; three keys a family: one BatchGetItem (100 keys)
MAX_REASON = 500
MAX_ADDRESS = 200
_FAMILY_NUMBER = re.compile(r"^\d{1,20}$")
_POSTAL_CODE = re.compile(r"^\d{5}$")
# The journal's words for a staff booking's days (chalicelib/staff/journal.py shows details as they are).
ACTION_WORDS = {"reserve": "réserver", "cancel": "annuler", "absence": "absent"}
STATUS_WORDS = {"validated": "validée", "pending": "en attente", "refused": "refusée", "cancelled": "annulée",
                "absent": "absent"}
_ITEM = re.compile(r"^(\d{4}-\d{2}-\d{2})\|([A-Z][A-Z0-9_]*)\|(reserve|cancel|absence)$")


def unknown_family(number: str) -> Refusal:
    shown = number if len(number) <= 20 else number[:19] + "…"
    return Refusal(404, "family_not_found", f"Famille n° {shown} introuvable : vérifiez le numéro ou cherchez-la par son nom.")


def _sentence(error: ValueError) -> str:
    text = str(error)
    return text[:1].upper() + text[1:] + "."


# --- the search ------------------------------------------------------------------------

@dataclass
class SearchResult:
    query: str
    families: list[dict] = field(default_factory=list)
    more: bool = False  # more families than shown: the agent narrows the search
    too_short: bool = False  # nothing to look up (words of one character)


def search(storage: st.Storage, query: str, limit: int = MAX_RESULTS) -> SearchResult:
    """Families whose number, responsables' or children's names, logins or e-mails
    start with each word of `query` (case and accents ignored); the family whose number
    is `query` first. One Query on gsi1 per word (at most five), then one BatchGetItem
    of the responsables and the search cards (children's names) of at most `limit`."""
    text = (query or "").strip()[:200]
    words = family_search.query_words(text)
    number = text if _FAMILY_NUMBER.fullmatch(text) else None
    if not words and number is None:
        return SearchResult(text, too_short=bool(text))
    found: set[str] | None = None
    for word in words:
        hits = {item["family_number"] for item in storage.query_index(st.search_index_pk(word), word)}
        found = hits if found is None else found & hits
        if not found:
            break
    numbers = ([number] if number else []) + sorted((found or set()) - {number})
    shown = numbers[:limit]
    keys = [key for n in shown for key in ((st.family_pk(n), family_search.card_sk(n)),
                                           (st.family_pk(n), st.responsable_sk(1)),
                                           (st.family_pk(n), st.responsable_sk(2)))]
    items = storage.batch_get(keys) if keys else {}
    families = []
    for n in shown:
        card = items.get((st.family_pk(n), family_search.card_sk(n)))
        if card is None:
            continue  # the exact number typed is no family's
        responsables = [items[k] for k in ((st.family_pk(n), st.responsable_sk(r)) for r in (1, 2)) if k in items]
        families.append({
            "number": n,
            "responsables": [{"rank": int(r["rank"]), "name": f"{r.get('civility', '')} {r.get('last_name', '')} "
                              f"{r.get('first_name', '')}".strip(), "login": r.get("login", ""),
                              "email": r.get("email", "")} for r in responsables],
            "children": [f"{c.get('first_name', '')} {c.get('last_name', '')}".strip() for c in card.get("children", [])],
        })
    # The number typed first, then by the first responsable's name, as a register reads.
    families.sort(key=lambda f: (f["number"] != number, (f["responsables"] or [{"name": ""}])[0]["name"].split(" ", 1)[-1],
                                 f["number"]))
    return SearchResult(text, families, more=len(numbers) > limit)


# --- the changes -----------------------------------------------------------------------

def parse_grid_items(values: list[str]) -> list[dict]:
    """The grid's check boxes, « AAAA-MM-JJ|SERVICE|action », as booking items (their
    dates and services are checked by `parse_items`, as a parent's)."""
    from chalicelib.booking_requests import BookingRequestError

    items = []
    for value in values:
        match = _ITEM.fullmatch(value.strip())
        if match is None:
            raise BookingRequestError(400, "invalid_request", f"Case « {value[:40]} » illisible : rechargez la page.")
        items.append({"date": match[1], "service": match[2], "action": match[3]})
    return items


class FamilyDesk:
    """The staff's handling of families; `pages` (FamilyPages) renders the family's
    pages again after a change, `bookings`, `messages` and `password_reset` are the
    function's own (chalicelib.dependencies)."""

    def __init__(self, storage: st.Storage, commune, pages, *, bookings=None, messages=None, password_reset=None):
        self.storage = storage
        self.commune = commune
        self.pages = pages
        self.bookings = bookings
        self.messages = messages
        self.password_reset = password_reset

    def search(self, query: str) -> SearchResult:
        return search(self.storage, query)

    def state(self, number: str) -> st.FamilyState:
        """The family's whole state (one Query); Refusal 404 for no family."""
        if not _FAMILY_NUMBER.fullmatch(number or ""):
            raise unknown_family(number or "")
        state = self.storage.family_state(number)
        if state.profile is None:
            raise unknown_family(number)
        return state

    def _audit(self, now: datetime, actor: str, action: str, number: str, **details) -> None:
        self.storage.audit(now, actor, action, {"family_number": number, **details})

    # contacts and address --------------------------------------------------------------

    def set_contact(self, number: str, rank: int, email: str, phone: str, actor: str, now: datetime) -> str:
        """A responsable's e-mail (where reset links go) and phone; the search index's
        e-mail token follows, in the same transaction."""
        try:
            email = checked_email(email) if (email or "").strip() else ""
            phone = checked_phone(phone) if (phone or "").strip() else ""
        except ValueError as error:
            raise Refusal(400, "invalid_contact", _sentence(error)) from None
        state = self.state(number)
        before = next((r for r in state.responsables if int(r["rank"]) == rank), None)
        if before is None:
            raise Refusal(404, "responsable_not_found", f"La famille n° {number} n'a pas de responsable {rank}.")
        old_email = before.get("email") or ""
        puts, deletes = family_search.item_changes(number, before, {**before, "email": email})
        # Written only if the e-mail is still the one read: the index's tokens are its.
        written = self.storage.transact_if([
            self.storage.update_if_action(before["pk"], before["sk"], {"email": email, "phone": phone},
                                          {"email": old_email} if "email" in before else {},
                                          absent=() if "email" in before else ("email",)),
            *(self.storage.put_action(item) for item in puts),
            *(self.storage.delete_action(*key) for key in deletes),
        ])
        if not written:
            raise Refusal(409, "changed_meanwhile", "Ces coordonnées ont changé pendant votre saisie : "
                                                    "rechargez la fiche et recommencez.")
        changed = [word for word, differs in (("courriel", email != old_email.lower()),
                                              ("téléphone", phone != (before.get("phone") or ""))) if differs]
        self._audit(now, actor, "family_contact_changed", number, rank=rank, changed=changed)
        self.pages.export(self.storage, number, now, only=["compte"])
        return f"Coordonnées du responsable {rank} enregistrées."

    def set_address(self, number: str, address: str, postal_code: str, city: str, actor: str, now: datetime) -> str:
        address, postal_code, city = (v.strip() for v in (address or "", postal_code or "", city or ""))
        if postal_code and not _POSTAL_CODE.fullmatch(postal_code):
            raise Refusal(400, "invalid_address", f"Code postal « {postal_code[:10]} » invalide (5 chiffres).")
        if max(len(address), len(city)) > MAX_ADDRESS:
            raise Refusal(400, "invalid_address", f"Adresse trop longue ({MAX_ADDRESS} caractères au plus).")
        self.state(number)
        self.storage.update_attributes(st.family_pk(number), st.PROFILE,
                                       {"address": address, "postal_code": postal_code, "city": city})
        self._audit(now, actor, "family_address_changed", number)
        self.pages.export(self.storage, number, now)
        return "Adresse de la famille enregistrée."

    # services and tariff ---------------------------------------------------------------

    def set_services(self, number: str, child_id: str, services: list[str], actor: str, now: datetime) -> str:
        """The services a child is enrolled in (each box of the form); days already
        booked in a service left stay booked (the grid cancels them, with its rules)."""
        codes = {s.code: s for s in self.commune.services}
        unknown = [code for code in services if code not in codes]
        if unknown:
            raise Refusal(400, "invalid_service", f"Service « {unknown[0][:40]} » inconnu.")
        state = self.state(number)
        child = next((c for c in state.children if c["child_id"] == child_id), None)
        if child is None:
            raise Refusal(404, "child_not_found", f"La famille n° {number} n'a pas d'enfant « {child_id[:32]} ».")
        before = list(child.get("services", []))
        after = [s.code for s in self.commune.services if s.code in services]
        name = child.get("first_name", "")
        added, left = [c for c in after if c not in before], [c for c in before if c not in after]
        if not added and not left:
            return f"Inscriptions de {name} inchangées."
        self.storage.update_attributes(child["pk"], child["sk"], {"services": after})
        self._audit(now, actor, "family_services_changed", number, child_id=child_id, enrolled=added, left=left)
        self.pages.export(self.storage, number, now)
        today = now.astimezone(self.commune.tz).date().isoformat()
        kept = sum(1 for d in state.days if d.get("child_id") == child_id and d.get("service") in left
                   and d.get("status") in ("validated", "pending") and str(d.get("date", "")) >= today)
        return (f"Inscriptions de {name} enregistrées."
                + (f" {kept} jour(s) déjà réservé(s) dans un service quitté le restent : annulez-les dans la grille "
                   "si besoin." if kept else ""))

    def set_bracket(self, number: str, bracket: str, actor: str, now: datetime) -> str:
        """The family's tariff bracket (quotient familial): the next invoices use it."""
        labels = {b.code: b.label for b in self.commune.quotient_brackets}
        if bracket not in labels:
            raise Refusal(400, "invalid_bracket", f"Tranche « {bracket[:10]} » inconnue (attendu : {', '.join(labels)}).")
        before = self.state(number).profile.get("quotient_bracket")
        if before == bracket:
            return f"La famille est déjà en tranche {bracket} : rien n'a changé."
        self.storage.update_attributes(st.family_pk(number), st.PROFILE, {"quotient_bracket": bracket})
        self._audit(now, actor, "family_bracket_changed", number, before=before, after=bracket)
        self.pages.export(self.storage, number, now)
        return f"Tranche de quotient familial : {bracket} ({labels[bracket]}). Les prochaines factures l'appliquent."

    # bookings on the family's behalf ---------------------------------------------------

    def book(self, number: str, child_id: str, values: list[str], rank: int, override: bool, reason: str,
             actor: str, now: datetime) -> list[dict]:
        """Reserves, cancels or marks absent the days ticked, with the parents' rules;
        `override` lifts the deadline and needs a `reason`, written on each day and in
        the audit. Every item is checked before the first write."""
        from chalicelib import family_actions

        reason = (reason or "").strip()
        if override and not reason:
            raise Refusal(400, "reason_required", "Indiquez la raison pour passer outre la date limite.")
        if len(reason) > MAX_REASON:
            raise Refusal(400, "reason_too_long", f"La raison compte au plus {MAX_REASON} caractères.")
        raw = parse_grid_items(values)
        # The first responsable is the family's own (the pages show theirs); a second one
        # is checked. The family and the child are `Bookings.submit`'s to find (404).
        if rank != 1 and not any(int(r["rank"]) == rank for r in self.state(number).responsables):
            raise Refusal(400, "responsable_not_found", f"La famille n° {number} n'a pas de responsable {rank}.")
        attributes = {"staff_login": actor, **({"override_reason": reason} if override else {})}
        results = family_actions.book(self.bookings, self.messages, self.pages, number, child_id, rank,
                                      raw, None, now, channel="staff", apply_deadline=not override,
                                      day_attributes=attributes)
        # Two codes: the journal tells a deadline passed over at a glance.
        self._audit(now, actor, "staff_booking_override" if override else "staff_booking", number,
                    child_id=child_id, **({"reason": reason} if override else {}),
                    days=[f"{r['date']} {r['service']} {ACTION_WORDS.get(r['action'], r['action'])} : "
                          f"{STATUS_WORDS.get(r['status'], r['status'])}" for r in results])
        return results

    # the password ----------------------------------------------------------------------

    def send_password_link(self, number: str, rank: int, actor: str, now: datetime) -> str:
        """Mails the responsable the link of « Mot de passe oublié » (its very job,
        `PasswordReset.send_reset_link`, deferred as the parent's request defers it)."""
        from chalicelib.password_reset import RESET_LINK_JOB

        state = self.state(number)
        responsable = next((r for r in state.responsables if int(r["rank"]) == rank), None)
        if responsable is None:
            raise Refusal(404, "responsable_not_found", f"La famille n° {number} n'a pas de responsable {rank}.")
        if not responsable.get("email") or not responsable.get("login"):
            raise Refusal(409, "no_email", "Ce responsable n'a pas d'adresse électronique : enregistrez-la d'abord "
                                           "dans ses coordonnées.")
        self.password_reset.defer(RESET_LINK_JOB, {"login": responsable["login"],
                                                   "requested_at": now.astimezone(UTC).isoformat()})
        self._audit(now, actor, "password_link_sent", number, rank=rank)
        return f"Lien de mot de passe envoyé à {responsable['email']} (valable 30 minutes)."
