"""``e2docs send`` and ``e2docs remind``: drafts read back with the email package, and a real SMTP
server (aiosmtpd) on 127.0.0.1 that receives, or refuses, the messages.

The campaign has 6 candidates: Mme Martin assesses TMCV1 (``number(0)``, 2, 4), M. Durand TMCV2 (1, 3, 5).
"""

from __future__ import annotations

import email
import email.policy
import json
import socket
from pathlib import Path

import pytest

from e2docs.app.ledger import MessageRow
from e2docs.formats.mail import MailServerError, is_loopback, parse_smtp_url
from e2docs.formats.xlsx.reader import read_workbook
from tests.app.test_collect import INCOMPLETE, Setup, new_campaign, number

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")

MARTIN, DURAND = "martin@lycee.example.fr", "durand@lycee.example.fr"
FROM = "secretariat@lycee.example.fr"


class Mailbox:
    """What the SMTP server received: (envelope sender, recipients, parsed message); ``refuse``: addresses
    refused at RCPT TO (550)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], email.message.EmailMessage]] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for _, rcpt, m in self.received if address in rcpt]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp():
    box = Mailbox()
    controller = aiosmtpd_controller.Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        box.url = f"smtp://127.0.0.1:{controller.port}"
        yield box
    finally:
        controller.stop()


@pytest.fixture
def s(tmp_path) -> Setup:
    setup = Setup(new_campaign(tmp_path, 6), tmp_path / "arrivees")
    path = tmp_path / "examinateurs.csv"
    path.write_text(f"Examinateur;Courriel;Division\nMme Martin;{MARTIN};TMCV1\nM. Durand;{DURAND};TMCV2\n")
    assert setup.run("assign", str(path)).exit_code == 0
    return setup


def messages(s: Setup) -> list[MessageRow]:
    with s.campaign.ledger() as ledger:
        return ledger.messages()


def attachments(msg: email.message.EmailMessage) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in msg.iter_attachments()}


def workbook_numbers(s: Setup, path: Path) -> list[str]:
    grid = s.campaign.grid()
    return [r.layout.candidate.number for r in read_workbook(path, {grid.content_hash: grid}, secret=s.campaign.secret)]


# ------------------------------------------------------------------ drafts


def test_drafts_are_unsent_messages_with_the_examiners_workbooks(s, tmp_path):
    result = s.run("send", "--deadline", "26/03/2027")
    assert result.exit_code == 0, result.output
    assert "Bilan (envoi) : 2 brouillon(s)" in result.output and "Thunderbird" in result.output
    drafts = s.root / "brouillons"
    martin = email.message_from_bytes((drafts / "envoi_Mme-Martin.eml").read_bytes(), policy=email.policy.default)
    assert martin["X-Unsent"] == "1"
    assert martin["To"].addresses[0].addr_spec == MARTIN
    assert martin["From"] is None  # no sender configured: the mail client fills it in
    body = martin.get_body().get_content()
    assert "Bonjour Mme Martin," in body and "au plus tard le vendredi 26/03/2027" in body
    assert "en répondant à ce message avec les classeurs en pièce jointe" in body
    files = attachments(martin)
    assert sorted(files) == sorted(s.sent(number(i)).name for i in (0, 2, 4))
    for name, data in files.items():
        assert data == (s.root / "envoi" / name).read_bytes()
        out = tmp_path / name
        out.write_bytes(data)
        assert workbook_numbers(s, out) == [name.rsplit("_", 1)[1].removesuffix(".xlsx")]
    rows = messages(s)
    assert [(m.kind, m.transport, m.status, m.examiner) for m in rows] == [
        ("send", "draft", "drafted", MARTIN),
        ("send", "draft", "drafted", DURAND),
    ]
    assert rows[0].message_id == martin["Message-ID"] and rows[0].deadline == "2027-03-26"
    assert [c["number"] for c in rows[0].candidates] == [number(0), number(2), number(4)]
    assert rows[0].draft_path == "brouillons/envoi_Mme-Martin.eml"
    assert sorted(a["name"] for a in rows[0].attachments) == sorted(files)


def test_drafts_never_replace_a_file_e2docs_did_not_write(s):
    foreign = s.root / "brouillons" / "envoi_Mme-Martin.eml"
    foreign.parent.mkdir()
    foreign.write_text("mon brouillon à moi")
    assert s.run("send", "--deadline", "26/03/2027").exit_code == 0
    assert foreign.read_text() == "mon brouillon à moi"
    assert (s.root / "brouillons" / "envoi_Mme-Martin (nouvelle version).eml").is_file()
    # a second run replaces its own drafts, not the foreign one
    assert s.run("send", "--deadline", "27/03/2027").exit_code == 0
    assert sorted(p.name for p in (s.root / "brouillons").iterdir()) == [
        "envoi_M.-Durand.eml",
        "envoi_Mme-Martin (nouvelle version).eml",
        "envoi_Mme-Martin.eml",
    ]


def test_per_examiner_workbook_is_attached_once(s):
    assert s.run("generate", "--per", "examiner").exit_code == 0
    result = s.run("send", "--deadline", "26/03/2027", "--to", "M. Durand", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [m["examiner"]["email"] for m in data["messages"]] == [DURAND]
    assert data["messages"][0]["attachments"] == ["Examinateur_M.-Durand_31214_2027.xlsx"]
    assert [c["number"] for c in data["messages"][0]["candidates"]] == [number(1), number(3), number(5)]


def test_a_class_workbook_is_sent_to_nobody(s):
    assert s.run("generate", "--per", "class").exit_code == 0
    result = s.run("send", "--deadline", "26/03/2027")
    assert result.exit_code == 2
    assert "contient aussi 3 candidat(s) d'autres examinateurs" in result.output
    assert not (s.root / "brouillons").exists() and messages(s) == []


def test_unknown_examiner_and_bad_deadline(s):
    result = s.run("send", "--deadline", "26/03/2027", "--to", "personne@example.fr")
    assert result.exit_code == 2 and "examinateur inconnu : personne@example.fr" in result.output
    result = s.run("send", "--deadline", "32/03/2027")
    assert result.exit_code == 2 and "date limite illisible : « 32/03/2027 »" in result.output
    assert messages(s) == []


# ------------------------------------------------------------------ SMTP


def test_smtp_sends_once_and_records_each_message(s, smtp):
    result = s.run("send", "--deadline", "26/03/2027", "--smtp", smtp.url, "--from", FROM)
    assert result.exit_code == 0, result.output
    assert "2 envoyé(s), 0 refusé(s)" in result.output
    assert sorted(r[0] for _, r, _ in smtp.received) == [DURAND, MARTIN]
    assert all(sender == FROM for sender, _, _ in smtp.received)
    (durand,) = smtp.to(DURAND)
    assert "X-Unsent" not in durand and durand["From"].addresses[0].addr_spec == FROM
    assert sorted(attachments(durand)) == sorted(s.sent(number(i)).name for i in (1, 3, 5))
    rows = messages(s)
    assert {(m.examiner, m.status, m.transport) for m in rows} == {(MARTIN, "sent", "smtp"), (DURAND, "sent", "smtp")}
    assert {m.message_id for m in rows} == {m["Message-ID"] for _, _, m in smtp.received}
    assert all(m.sent_at for m in rows)

    again = s.run("send", "--deadline", "26/03/2027", "--smtp", smtp.url, "--from", FROM)
    assert again.exit_code == 0 and len(smtp.received) == 2
    assert "0 envoyé(s)" in again.output and "déjà envoyé le" in again.output

    forced = s.run("send", "--deadline", "26/03/2027", "--smtp", smtp.url, "--from", FROM, "--resend", "--to", MARTIN)
    assert forced.exit_code == 0 and len(smtp.received) == 3 and len(smtp.to(MARTIN)) == 2


def test_a_refused_recipient_does_not_lose_the_others(s, smtp):
    smtp.refuse.add(MARTIN)
    result = s.run("send", "--deadline", "26/03/2027", "--smtp", smtp.url, "--from", FROM)
    assert result.exit_code == 1
    assert "Mme Martin <martin@lycee.example.fr> : refusé par le serveur (destinataire refusé par le serveur (550" in (
        result.output
    )
    assert [r for _, r, _ in smtp.received] == [[DURAND]]
    assert [(m.examiner, m.status) for m in messages(s)] == [(MARTIN, "failed"), (DURAND, "sent")]

    smtp.refuse.clear()
    again = s.run("send", "--deadline", "26/03/2027", "--smtp", smtp.url, "--from", FROM, "--json")
    assert again.exit_code == 0, again.output
    data = json.loads(again.output)
    assert {m["examiner"]["email"]: m["status"] for m in data["messages"]} == {MARTIN: "sent", DURAND: "skipped"}
    assert [r for _, r, _ in smtp.received] == [[DURAND], [MARTIN]]


def test_smtp_needs_a_sender_and_a_server(s, smtp):
    result = s.run("send", "--deadline", "26/03/2027", "--smtp", smtp.url)
    assert result.exit_code == 2 and "adresse d'expéditeur manquante" in result.output
    closed = f"smtp://127.0.0.1:{free_port()}"
    result = s.run("send", "--deadline", "26/03/2027", "--smtp", closed, "--from", FROM)
    assert result.exit_code == 2 and "connexion refusée" in result.output and "rien n'a été envoyé" in result.output
    assert messages(s) == [] and smtp.received == []


def test_password_comes_from_the_environment_and_is_never_stored(s, smtp, monkeypatch):
    monkeypatch.setenv("E2DOCS_SMTP_PASSWORD", "secret-du-test")
    url = smtp.url.replace("smtp://", "smtp://secretariat@")
    result = s.run("send", "--deadline", "26/03/2027", "--smtp", url, "--from", FROM)
    # aiosmtpd offers no AUTH without TLS: the login is refused, nothing goes out, nothing is stored
    assert result.exit_code == 2, result.output
    assert "ne propose pas d'identification (AUTH)" in result.output
    assert smtp.received == []
    for path in s.root.rglob("*"):
        if path.is_file():
            assert b"secret-du-test" not in path.read_bytes(), path


# ------------------------------------------------------------------ remind


def test_remind_lists_missing_and_incomplete_with_the_current_workbook(s, smtp):
    assert s.run("send", "--deadline", "26/03/2027", "--smtp", smtp.url, "--from", FROM).exit_code == 0
    s.collect(s.make(number(0), "a.xlsx"), s.make(number(2), "grille de C.xlsx", INCOMPLETE))
    for i in (1, 3, 5):
        s.collect(s.make(number(i), f"d{i}.xlsx"))
    result = s.run("remind", "--smtp", smtp.url, "--from", FROM)
    assert result.exit_code == 0, result.output
    assert "1 envoyé(s)" in result.output and "M. Durand <durand@lycee.example.fr> : rien à envoyer" in result.output
    (first, reminder) = smtp.to(MARTIN)
    assert reminder["Subject"].startswith("Relance : grilles d'évaluation E2 à rendre (2 candidat(s))")
    body = reminder.get_body().get_content()
    assert f"NOM2 Prénom2 (n° {number(2)}, TMCV1) : grille incomplète" in body
    assert f"NOM4 Prénom4 (n° {number(4)}, TMCV1) : grille non reçue" in body
    assert number(0) not in body
    assert "au plus tard le vendredi 26/03/2027" in body  # the deadline of the first send
    files = attachments(reminder)
    assert sorted(files) == sorted(["grille de C.xlsx", s.sent(number(4)).name])
    assert files["grille de C.xlsx"] == (s.inbox / "grille de C.xlsx").read_bytes()
    assert [m.kind for m in messages(s)].count("remind") == 1

    again = s.run("remind", "--smtp", smtp.url, "--from", FROM)
    assert again.exit_code == 0 and "relance déjà envoyée le" in again.output and len(smtp.to(MARTIN)) == 2
    only = s.run("remind", "--only", "manquants", "--smtp", smtp.url, "--from", FROM, "--json")
    data = json.loads(only.output)
    (martin,) = [m for m in data["messages"] if m["status"] == "sent"]
    assert martin["candidates"] == [{"number": number(4), "state": "missing"}]


# ------------------------------------------------------------------ URLs


def test_smtp_urls():
    url = parse_smtp_url("smtp://prenom.nom%40lycee.fr@smtp.lycee.fr")
    assert (url.scheme, url.host, url.port, url.user) == ("smtp", "smtp.lycee.fr", 587, "prenom.nom@lycee.fr")
    assert parse_smtp_url("smtps://smtp.lycee.fr").port == 465
    assert parse_smtp_url("smtp://127.0.0.1:2525").user is None
    for bad in ("imap://x", "smtp://", "smtp://u:motdepasse@h", "smtp://h:99999"):
        with pytest.raises(MailServerError):
            parse_smtp_url(bad)
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("192.168.1.10") and not is_loopback("smtp.lycee.fr")
