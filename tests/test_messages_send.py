"""`portail messages send` (docs/messages.md): a Markdown file to one, many or
all families, or to those with a child booked for a service on a day. Messages reach
exactly the families addressed; the notice mail never carries the message (neither its
text nor its subject); a bad file or an unknown family sends nothing at all.

In-process moto; the command runs through `portail.cli.main` with the clock frozen."""

from __future__ import annotations

import re
from datetime import date

import pytest
from chalicelib import safe_markdown
from chalicelib import storage as st
from chalicelib.booking_requests import Item
from chalicelib.bookings import Bookings

from portail.cli import main
from portail.cli_messages import CommandError, parse_message_text
from tests.conftest import GUIDE_NOW, add_family

SUBJECT = "Impayé de novembre"
BODY = "Votre facture de **novembre** reste à régler.\n\n- avant le 15 décembre\n- à la régie"
DAY = date(2014, 12, 11)  # a Thursday, open for every service, bookable on 28 November


@pytest.fixture
def portal(storage, families, frozen_clock, monkeypatch, commune):
    """Families 100 (alice), 200 (bob), 300 (carol, two responsables), 400 (no address);
    SES sender, pages bucket, the stage's secret."""
    import boto3
    from chalicelib.families import Responsable, responsable_item
    from chalicelib.table import bucket_name

    add_family(storage, "300", "carol", None, last_name="CHARLIE", child="CLARA", email="carol@example.org")
    storage.put(responsable_item(Responsable(family_number="300", rank=2, civility="Monsieur", last_name="CHARLIE",
                                             first_name="CYRIL", login="cyril", email="cyril@example.org")))
    add_family(storage, "400", "dave", None, last_name="DELTA", child="DAVID", email="")
    for family in ("100", "200", "300", "400"):
        storage.update_attributes(st.family_pk(family), st.child_sk("1"),
                                  {"services": ["GARDERIE_MIDI", "RESTAURATION"]})
    boto3.client("ses", region_name="eu-west-3").verify_email_identity(EmailAddress=commune.commune.contact_email)
    boto3.client("s3", region_name="eu-west-3").create_bucket(
        Bucket=bucket_name("pages"), CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    monkeypatch.setenv("PORTAIL_SECRET", "secret-de-test")
    return Bookings(storage, commune)


def message_file(tmp_path, text: str | bytes, name: str = "message.md"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def good_file(tmp_path, subject=SUBJECT, body=BODY, extra=""):
    return message_file(tmp_path, f"---\nsubject: {subject}\n{extra}---\n{body}\n")


def domain(storage, site_url="http://127.0.0.1:8000"):
    """chalicelib.messages.Messages as the function and the command build it."""
    import boto3
    from chalicelib.mail import Mailer
    from chalicelib.messages import Messages

    return Messages(storage, Mailer(boto3.client("ses", region_name="eu-west-3"), "enfance@cregylesmeaux.fr"),
                    site_url)


def cli(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def inboxes(storage) -> dict[str, list[dict]]:
    return {n: storage.family_state(n).messages for n in ("100", "200", "300", "400")}


def addressed(storage) -> set[str]:
    return {n for n, messages in inboxes(storage).items() if messages}


def sent_audit(storage) -> list[dict]:
    return [e for e in storage.audit_entries(GUIDE_NOW.date()) if e["action"] == "messages_sent"]


def page(storage, family: str, path: str) -> str:
    import boto3
    from chalicelib.table import bucket_name

    key = storage.get(st.family_pk(family), st.PROFILE)["page_key"]
    body = boto3.client("s3", region_name="eu-west-3").get_object(Bucket=bucket_name("pages"),
                                                                  Key=f"famille/{key}/{path}")["Body"]
    return body.read().decode("utf-8")


# --- who receives it ---------------------------------------------------------------------------

def test_one_family_gets_the_message_and_no_other(portal, storage, tmp_path, capsys, mails):
    status, out, err = cli(capsys, "messages", "send", "--family", "100", good_file(tmp_path))
    assert status == 0, err
    assert addressed(storage) == {"100"}
    (message,) = storage.family_state("100").messages
    assert (message["subject"], message["body_markdown"], message["sender"]) == (SUBJECT, BODY, "Service enfance")
    # The family's page shows the Markdown as /gestion/messages/'s preview does: one renderer.
    shown = page(storage, "100", f"messages/{message['message_id']}/index.html")
    assert safe_markdown.render(BODY) in shown
    assert "<strong>novembre</strong>" in shown and "<li>avant le 15 décembre</li>" in shown
    assert [m["To"] for m in mails()] == ["alice@example.org"]
    assert "la famille 100" in out and "1 courriel(s)" in out


def test_several_families_by_repeated_option_or_commas(portal, storage, tmp_path, capsys, mails):
    status, _, err = cli(capsys, "messages", "send", "--family", "100", "--family", "300,100", good_file(tmp_path))
    assert status == 0, err
    assert addressed(storage) == {"100", "300"}
    assert all(len(m) <= 1 for m in inboxes(storage).values())  # 100 named twice: one message
    # Both responsables of family 300 are told, each once.
    assert sorted(m["To"] for m in mails()) == ["alice@example.org", "carol@example.org", "cyril@example.org"]


def test_all_families_each_once_and_the_one_without_address_still_gets_it(portal, storage, tmp_path, capsys, mails):
    status, out, err = cli(capsys, "messages", "send", "--all", good_file(tmp_path))
    assert status == 0, err
    assert {n: len(m) for n, m in inboxes(storage).items()} == {"100": 1, "200": 1, "300": 1, "400": 1}
    assert sorted(m["To"] for m in mails()) == ["alice@example.org", "bob@example.org", "carol@example.org",
                                                "cyril@example.org"]
    assert "toutes les familles (4)" in out


def test_service_and_day_reach_the_families_with_a_validated_booking_only(portal, storage, tmp_path, capsys, mails):
    assert portal.submit("100", "1", 1, [Item(DAY, "GARDERIE_MIDI", "reserve")], GUIDE_NOW)[0][0]["status"] == "validated"
    # 200: booked then cancelled; 300: the canteen that day, not the garderie; 400: the garderie another day.
    portal.submit("200", "1", 1, [Item(DAY, "GARDERIE_MIDI", "reserve")], GUIDE_NOW)
    portal.submit("200", "1", 1, [Item(DAY, "GARDERIE_MIDI", "cancel")], GUIDE_NOW)
    portal.submit("300", "1", 1, [Item(DAY, "RESTAURATION", "reserve")], GUIDE_NOW)
    portal.submit("400", "1", 1, [Item(date(2014, 12, 12), "GARDERIE_MIDI", "reserve")], GUIDE_NOW)
    status, out, err = cli(capsys, "messages", "send", "--service", "GARDERIE MIDI", "--date", "11/12/2014",
                           good_file(tmp_path))
    assert status == 0, err
    assert addressed(storage) == {"100"}
    assert [m["To"] for m in mails()] == ["alice@example.org"]
    (entry,) = sent_audit(storage)
    assert entry["details"]["service"] == "GARDERIE_MIDI" and entry["details"]["date"] == "2014-12-11"


def test_a_waiting_request_is_not_a_booking(portal, storage, tmp_path, capsys, commune):
    storage.put({"pk": f"SERVICEDAY#GARDERIE_MIDI#{DAY}", "sk": "COUNTER",
                 "validated": commune.service("GARDERIE_MIDI").capacity})  # full
    assert portal.submit("200", "1", 1, [Item(DAY, "GARDERIE_MIDI", "reserve")], GUIDE_NOW)[0][0]["status"] == "pending"
    status, _, err = cli(capsys, "messages", "send", "--service", "GARDERIE_MIDI", "--date", "2014-12-11",
                         good_file(tmp_path))
    assert status == 1
    assert "Aucun enfant n'est réservé" in err and addressed(storage) == set()


# --- what the mail says -------------------------------------------------------------------------

def test_the_mail_carries_neither_the_subject_nor_the_text_and_says_so(portal, storage, tmp_path, capsys, mails):
    assert cli(capsys, "messages", "send", "--family", "100", good_file(tmp_path))[0] == 0
    (mail,) = mails()
    assert mail["Subject"] == "Portail Famille : vous avez un nouveau message"
    for private in ("Impayé", "novembre", "régie", "15 décembre"):
        assert private not in mail["Body"] and private not in mail["Subject"]
    assert "http://127.0.0.1:8000/connexion/" in mail["Body"]
    assert "ne reprend ni l'objet ni le contenu" in mail["Body"]


def test_the_function_side_notice_leaves_the_subject_out_too(portal, storage, mails):
    domain(storage, "https://portail.example.fr").send("200", "Réservation validée : GARDERIE MIDI", "Une place s'est libérée.", GUIDE_NOW)
    (mail,) = mails()
    assert mail["To"] == "bob@example.org" and "GARDERIE" not in mail["Body"] and "place" not in mail["Body"]


# --- the family's pages ---------------------------------------------------------------------------

def test_the_dashboard_counts_the_new_message_and_the_inbox_shows_it(portal, storage, tmp_path, capsys):
    assert cli(capsys, "messages", "send", "--family", "100", good_file(tmp_path))[0] == 0
    assert cli(capsys, "messages", "send", "--family", "100", good_file(tmp_path, subject="Menus"))[0] == 0
    assert "vous avez <a" in page(storage, "100", "index.html")
    assert re.search(r">\s*2 nouveaux messages\s*<", page(storage, "100", "index.html"))
    inbox = page(storage, "100", "messages/index.html")
    assert SUBJECT in inbox and "Menus" in inbox
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError):  # family 200 was not addressed: no page rendered for it
        page(storage, "200", "messages/index.html")


def test_a_script_in_the_message_never_reaches_the_html(portal, storage, tmp_path, capsys):
    body = ("Bonjour <script>alert('x')</script>\n\n<img src=x onerror=alert(1)>\n\n"
            "[cliquez](javascript:alert(1)) et [le guide](/guide/)")
    assert cli(capsys, "messages", "send", "--family", "100", good_file(tmp_path, body=body))[0] == 0
    (message,) = storage.family_state("100").messages
    shown = page(storage, "100", f"messages/{message['message_id']}/index.html")
    assert "<script>alert" not in shown and "<img src=x" not in shown and "javascript:" not in shown
    assert "&lt;script&gt;alert" in shown and '<a href="/guide/">le guide</a>' in shown


# --- refusals: nothing sent ----------------------------------------------------------------------

@pytest.mark.parametrize(("content", "words"), [
    ("Pas d'en-tête\n", "doit commencer par un en-tête"),
    ("---\nsender: Mairie\n---\nTexte\n", "l'objet du message manque"),
    ("---\nsubject:   \n---\nTexte\n", "l'objet du message manque"),
    ("---\nsubject: Sortie\n---\n\n   \n", "le message est vide"),
    ("---\nsubject: Sortie\npriority: haute\n---\nTexte\n", "clé « priority » inconnue"),
    ("---\nsubject: Sortie\nsubject: Autre\n---\nTexte\n", "donné deux fois"),
    ("---\nsubject: Sortie\nTexte sans fin d'en-tête\n", "n'est pas de la forme"),
    ("---\nsubject: Sortie\n", "n'est pas fermé"),
    ("---\nsubject: Sortie au cirque\n---\nTexte\n".encode("cp1252").replace(b"Sortie", b"\xe9t\xe9"), "UTF-8"),
])
def test_a_bad_file_is_refused_in_french_and_nothing_is_sent(portal, storage, tmp_path, capsys, mails,
                                                            content, words):
    status, out, err = cli(capsys, "messages", "send", "--all", message_file(tmp_path, content))
    assert status == 1
    assert words in err and "Aucun message n'est envoyé" in err
    assert addressed(storage) == set() and mails() == [] and sent_audit(storage) == []


def test_a_missing_file_is_refused(portal, storage, tmp_path, capsys, mails):
    status, _, err = cli(capsys, "messages", "send", "--family", "100", str(tmp_path / "absent.md"))
    assert status == 1 and "fichier introuvable" in err and mails() == []


def test_an_unknown_family_among_others_sends_nothing_to_anyone(portal, storage, tmp_path, capsys, mails):
    status, _, err = cli(capsys, "messages", "send", "--family", "100,999,200", "--family", "998", good_file(tmp_path))
    assert status == 1
    assert "Familles inconnues : 999, 998. Aucun message n'est envoyé." in err
    assert addressed(storage) == set() and mails() == [] and sent_audit(storage) == []


@pytest.mark.parametrize(("options", "words"), [
    (["--family", "10a"], "n'est pas un numéro de famille"),
    (["--service", "GARDERIE_MIDI"], "--service demande aussi --date"),
    (["--all", "--date", "11/12/2014"], "--date ne s'emploie qu'avec --service"),
    (["--service", "PISCINE", "--date", "11/12/2014"], "Service « PISCINE » inconnu (attendu : GARDERIE_MATIN"),
])
def test_bad_targets_are_refused(portal, storage, tmp_path, capsys, mails, options, words):
    status, _, err = cli(capsys, "messages", "send", *options, good_file(tmp_path))
    assert status == 1 and words in err
    assert addressed(storage) == set() and mails() == []


def test_one_target_kind_only(portal, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["messages", "send", "--all", "--family", "100", good_file(tmp_path)])
    assert exit_.value.code == 2


# --- the file format and the record -------------------------------------------------------------

def test_front_matter_sender_quotes_and_byte_order_mark(portal, storage, tmp_path, capsys):
    path = message_file(tmp_path, "\ufeff---\r\nsubject: \"Fête de l'école\"\r\nsender: Mairie\r\n---\r\nVenez !\r\n")
    assert cli(capsys, "messages", "send", "--family", "200", path)[0] == 0
    (message,) = storage.family_state("200").messages
    assert (message["subject"], message["sender"], message["body_markdown"]) == ("Fête de l'école", "Mairie", "Venez !")


def test_the_audit_says_who_and_to_whom_never_what(portal, storage, tmp_path, capsys):
    assert cli(capsys, "messages", "send", "--family", "300,100", good_file(tmp_path))[0] == 0
    (entry,) = sent_audit(storage)
    assert entry["actor"] == "staff"
    assert entry["details"]["families"] == ["100", "300"] and entry["details"]["count"] == 2
    assert SUBJECT not in str(entry) and "novembre" not in str(entry)


def test_parse_message_text_keeps_the_markdown_as_written():
    parsed = parse_message_text("---\nsubject: Menus\n---\n\n# Semaine\n\n* lundi : poisson\n")
    assert (parsed.subject, parsed.body_markdown, parsed.sender) == ("Menus", "# Semaine\n\n* lundi : poisson", None)
    with pytest.raises(CommandError):
        parse_message_text("---\nsubject: " + "x" * 151 + "\n---\nTexte\n")
