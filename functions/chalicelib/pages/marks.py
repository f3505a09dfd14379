"""The French words and signs of the family pages: the month grid's marks and legend,
the actions a day offers, what the « liste des demandes » calls each request."""

from __future__ import annotations

# The month grid's column heads (« Lu 01 »), Monday first as date.weekday(); each is
# the start of the day's name, which the list of days on a phone shows whole.
DAY_ABBREVIATIONS = ("Lu", "Ma", "Me", "Je", "Ve", "Sa", "Di")
DAY_NAMES = ("Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche")

# Every mark of the grid: the sign shown, the words a screen reader says (and the
# legend), the cell's class. Colour only repeats what the sign and the words say.
STATUS_MARKS = {
    "validated": ("✓", "réservé", "jour-reserve"),
    "pending": ("…", "en attente", "jour-attente"),
    "refused": ("✗", "refusé", "jour-refuse"),
    "absent": ("A", "absent", "jour-absent"),
    "cancelled": ("○", "annulé", "jour-annule"),
}
CLOSURE_MARKS = {
    "public_holiday": ("F", "férié", "jour-ferie"),
    "school_holiday": ("P", "vacances", "jour-vacances"),
}
CLOSED_MARK = ("–", "fermé", "jour-ferme")
# A day nothing booked whose deadline passed: « réservations closes le <the deadline's day> »;
# a service the child is not enrolled in.
CLOSED_FOR_BOOKING = ("⊘", "réservations closes", "jour-clos")
NOT_ENROLLED = ("·", "non inscrit", "jour-non-inscrit")
# The legend: (sign, class, words, what it means), every sign of the grid once.
LEGEND = [
    (*STATUS_MARKS["validated"][::2], "réservé", "réservation validée"),
    (*STATUS_MARKS["pending"][::2], "en attente",
     "liste d'attente (service complet), ou jour redemandé après un refus : le service enfance décide"),
    (*STATUS_MARKS["refused"][::2], "refusé",
     "par le service enfance, motif sous le calendrier ; vous pouvez le redemander"),
    (*STATUS_MARKS["absent"][::2], "absent", "absence déclarée après la date limite"),
    (*STATUS_MARKS["cancelled"][::2], "annulé", "réservation annulée à temps, non facturée"),
    (*CLOSURE_MARKS["public_holiday"][::2], "férié", "jour férié, service fermé"),
    (*CLOSURE_MARKS["school_holiday"][::2], "vacances", "vacances scolaires, service fermé"),
    (*CLOSED_MARK[::2], "fermé", "week-end ou jour sans ce service"),
    (*CLOSED_FOR_BOOKING[::2], "réservations closes le …",
     "date limite passée, plus de réservation en ligne ; un jour réservé peut encore être déclaré absent"),
    (*NOT_ENROLLED[::2], "non inscrit", "enfant non inscrit à ce service"),
]
# The three actions of a day, each its own control with its verb (a sign on the
# desktop grid, where a day is narrow): (class, sign, verb, what it does).
ACTION_LEGEND = [
    ("legende-reserve", "+", "Réserver", "demander une place"),
    ("legende-cancel", "−", "Annuler", "avant la date limite, sans frais"),
    ("legende-absence", "!", "Déclarer une absence",
     "après la date limite, pour un jour réservé ; le 1er jour est facturé"),
]
ACTION_VERBS = {
    "reserve": "Réserver",
    "cancel": "Annuler",
    "absence": "Déclarer une absence :",
}
# A day the service enfance refused, asked for again (bookings.after_staff_refusal).
REVIEW_VERB = "Redemander"
REVIEW_NOTE = "le service enfance examinera la demande, elle ne sera pas validée d'office"



def outcome_words(status: str, status_label: str, message: str) -> str:
    """A requested day's outcome said once: the function's message already names the
    state (« Réservation validée. », « Absence enregistrée : … »), so it stands alone;
    a refusal's message gives the reason only (« Trop tard : … »), so the state leads it.
    Without a message, the state's word."""
    if not message:
        return f"{status_label}."
    if status == "refused":
        return f"{status_label}. {message}"
    return message


# What the « liste des demandes » calls each kind of request and each action.
REQUEST_KINDS = {"booking": "Réservation en ligne", "certificate": "Certificat médical",
                 "staff_decision": "Décision du service enfance",
                 "certificate_decision": "Décision sur un certificat médical"}
PAPER_PLANNING = "Planning papier"
CERTIFICATE_DECISIONS = {"accepted": "accepté", "refused": "refusé"}
ACTION_NOUNS = {"reserve": "réservation", "cancel": "annulation", "absence": "absence",
                "certificate": "certificat médical", "accept": "acceptation", "refuse": "refus"}
