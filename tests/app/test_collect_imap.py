"""``e2docs collect --imap``: a real IMAP server (Dovecot, tests/imapserver.py) on 127.0.0.1, the
workbooks sent by ``send`` over a real SMTP server (aiosmtpd, tests/app/test_sending.py), filled,
and the examiners' replies delivered into the mailbox with APPEND.

The campaign has 6 candidates: Mme Martin assesses TMCV1 (``number(0)``, 2, 4), M. Durand TMCV2 (1, 3, 5).
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import email.utils
import os
import signal
import sqlite3
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from e2docs.app.ledger import SCHEMA_VERSION
from e2docs.formats.imap import encode_folder, parse_imap_url, uid_set
from e2docs.formats.mail import XLSX_TYPE
from e2docs.formats.xlsx import names
from tests.app.test_collect import COMPLETE, INCOMPLETE, Setup, new_campaign, number
from tests.app.test_libreoffice_returns import PLANS, _expected
from tests.app.test_sending import DURAND, FROM, MARTIN, attachments, messages
from tests.app.test_sending import s as s  # noqa: F401 - the campaign with its examiners (fixture)
from tests.app.test_sending import smtp as smtp  # noqa: F401 - the SMTP server (fixture)
from tests.helpers import PROJECT, fill
from tests.imapserver import PASSWORD, Dovecot, free_port, unavailable_reason
from tests.lo.availability import skip_or_fail

pytestmark = pytest.mark.imap


def _server(request: pytest.FixtureRequest, tmp_path: Path, tls: bool) -> Dovecot:
    reason = unavailable_reason()
    if reason is not None:
        skip_or_fail(reason)
    server = Dovecot(tmp_path / ("dovecot-tls" if tls else "dovecot"), tls=tls).start()
    request.addfinalizer(server.stop)
    return server


@pytest.fixture
def dovecot(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Dovecot:
    """Dovecot on 127.0.0.1, plain IMAP (loopback); the password in E2DOCS_IMAP_PASSWORD."""
    monkeypatch.setenv("E2DOCS_IMAP_PASSWORD", PASSWORD)
    return _server(request, tmp_path, tls=False)


def reply(
    to_message: EmailMessage,
    sender: str,
    files: dict[str, bytes],
    when: dt.datetime = dt.datetime(2027, 3, 18, 9, 30, tzinfo=dt.UTC),
) -> bytes:
    """An examiner's reply to ``to_message`` (In-Reply-To, References), ``files`` attached."""
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender
    msg["To"] = FROM
    msg["Subject"] = "RE: " + str(to_message["Subject"])
    msg["Date"] = email.utils.format_datetime(when)
    msg["Message-ID"] = email.utils.make_msgid(domain="lycee.example.fr")
    msg["In-Reply-To"] = to_message["Message-ID"]
    msg["References"] = to_message["Message-ID"]
    msg.set_content("Bonjour,\nVoici les grilles remplies.\nCordialement")
    for name, data in files.items():
        msg.add_attachment(data, maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=name)
    return msg.as_bytes()


def question(sender: str = MARTIN) -> bytes:
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"], msg["To"], msg["Subject"] = sender, FROM, "Question sur la grille"
    msg["Date"] = email.utils.format_datetime(dt.datetime(2027, 3, 17, 8, 0, tzinfo=dt.UTC))
    msg.set_content("Bonjour, faut-il remplir les observations ? Merci")
    return msg.as_bytes()


def parsed(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[return-value]


def filled(tmp_path: Path, s: Setup, name: str, data: bytes, num: str, values: dict) -> bytes:
    """The attachment ``data`` (the workbook sent for ``num``) filled with ``values`` (tests.helpers.fill)."""
    path = tmp_path / "remplis" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    fill(path, values, cand=s.candidates[num])
    return path.read_bytes()


def untouched(contents: dict[int, tuple[str, bytes]]) -> dict[int, tuple[set[str], bytes]]:
    """A folder's messages without the session flag \\Recent (which only says a session saw them first)."""
    return {uid: (set(flags.split()) - {"\\Recent"}, data) for uid, (flags, data) in contents.items()}


def history(s: Setup) -> str:
    result = s.run("status", "--history")
    assert result.exit_code == 0, result.output
    return result.output


# ------------------------------------------------------------------ the round trip


def test_send_fill_reply_collect_remind_and_move(s, smtp, dovecot, tmp_path):
    assert s.run("send", "--deadline", "26/03/2027", "--smtp", smtp.url, "--from", FROM).exit_code == 0
    (to_martin,) = smtp.to(MARTIN)
    (to_durand,) = smtp.to(DURAND)
    got = attachments(to_martin)
    martin_files = {
        name: filled(tmp_path, s, name, data, num, values)
        for name, data in got.items()
        for num, values in ((number(0), COMPLETE), (number(2), INCOMPLETE))
        if name.endswith(f"_{num}.xlsx")
    }
    durand_files = {
        name: filled(tmp_path, s, name, data, name.rsplit("_", 1)[1][:-5], COMPLETE)
        for name, data in attachments(to_durand).items()
    }
    dovecot.append([reply(to_martin, MARTIN, martin_files), question(), reply(to_durand, DURAND, durand_files)])
    before = untouched(dovecot.contents())

    result = s.run("collect", "--imap", dovecot.url())
    assert result.exit_code == 1, result.output  # the question is refused, as an .eml would be
    assert "3 message(s) relevé(s), 0 déjà relevé(s) avant ; rien n'a été changé sur le serveur" in result.output
    assert "aucune pièce jointe de classeur dans le message « Question sur la grille »" in result.output
    assert "réponse à l'envoi du" in result.output
    status = s.status()
    assert {n: status[number(n)]["state"] for n in range(6)} == {
        0: "complete",
        1: "complete",
        2: "incomplete",
        3: "complete",
        4: "missing",
        5: "complete",
    }
    sent_day = dt.datetime.fromisoformat(messages(s)[0].sent_at).strftime("%d/%m/%Y")
    shown = history(s)
    assert f"réponse à l'envoi du {sent_day} à Mme Martin" in shown
    assert f"réponse à l'envoi du {sent_day} à M. Durand" in shown
    reply_to = status[number(0)]["history"][0]["reply_to"]
    assert reply_to["message_id"] == to_martin["Message-ID"] and reply_to["kind"] == "send"
    assert untouched(dovecot.contents()) == before  # nothing changed on the server, not even \Seen

    again = s.run("collect", "--imap", dovecot.url())
    assert again.exit_code == 0, again.output
    assert "0 message(s) relevé(s), 3 déjà relevé(s) avant" in again.output
    assert len(s.returns()) == 5 and untouched(dovecot.contents()) == before

    # the reminder for the rest, answered with the missing grid
    assert s.run("remind", "--smtp", smtp.url, "--from", FROM).exit_code == 0
    reminder = smtp.to(MARTIN)[-1]
    assert "grille non reçue" in reminder.get_body().get_content()
    name = s.sent(number(4)).name
    late = filled(tmp_path, s, name, attachments(reminder)[name], number(4), COMPLETE)
    answer = reply(reminder, MARTIN, {name: late}, dt.datetime(2027, 3, 25, 9, 0, tzinfo=dt.UTC))
    dovecot.append([answer])
    dovecot.create("Relevés")

    moved = s.run("collect", "--imap", dovecot.url(), "--move-to", "Relevés")
    assert moved.exit_code == 0, moved.output
    assert "1 message(s) relevé(s), 3 déjà relevé(s) avant ; 3 déplacé(s) vers « Relevés »" in moved.output
    assert s.status()[number(4)]["state"] == "complete"
    assert "réponse à la relance du" in history(s)
    assert [data for _, data in dovecot.contents().values()] == [question()]  # the question stays, to be read
    replies = [data for _, data in before.values() if data != question()] + [answer]
    assert sorted(data for _, data in dovecot.contents("Relevés").values()) == sorted(replies)
    with s.campaign.ledger() as ledger:
        rows = ledger.db.execute("SELECT uid, workbooks, moved_to FROM imap_messages ORDER BY uid").fetchall()
    assert [(r["workbooks"], r["moved_to"]) for r in rows] == [
        (2, "Relevés"),
        (0, None),
        (3, "Relevés"),
        (1, "Relevés"),
    ]


# ------------------------------------------------------------------ re-runs, kills, failures


@pytest.mark.libreoffice
def test_a_workbook_received_by_mail_filled_in_libreoffice_comes_back_through_the_mailbox(
    s, smtp, dovecot, lo, tmp_path
):
    """The attachment M. Durand received, typed into by LibreOffice Calc, recalculated and saved, then
    sent back as a reply: collected from the mailbox with the rule's marks, linked to the message sent."""
    assert s.run("send", "--deadline", "26/03/2027", "--smtp", smtp.url, "--from", FROM).exit_code == 0
    (to_durand,) = smtp.to(DURAND)
    num = number(1)
    ((name, data),) = [(n, d) for n, d in attachments(to_durand).items() if n.endswith(f"_{num}.xlsx")]
    received, saved = tmp_path / "recu" / name, tmp_path / "enregistre" / name
    received.parent.mkdir()
    saved.parent.mkdir()
    received.write_bytes(data)
    plan = next(iter(PLANS.values()))
    named = s.named(num)
    grid = [[named[names.level(cid, lvl)].ref, "X"] for cid, lvl in plan["levels"].items()]
    grid.append([named["observations"].ref, plan["observations"]])
    prosp = [[named[key].ref, text] for key, text in plan["prospecting"].items()]
    results = lo.run(
        [
            {"op": "open", "path": str(received)},
            {"op": "type_many", "sheet": "Grille E2", "entries": grid},
            {"op": "type_many", "sheet": "Opération de prospection", "entries": prosp},
            {"op": "recalc"},
            {"op": "save", "path": str(saved)},
            {"op": "close"},
        ],
        timeout=300,
    )
    assert all(e["changed"] for e in results[1]["entries"] + results[2]["entries"])
    dovecot.append([reply(to_durand, DURAND, {name: saved.read_bytes()})])

    result = s.run("collect", "--imap", dovecot.url())
    assert result.exit_code == 0, result.output
    expected = _expected(plan)
    status = s.status()[num]
    assert status["state"] == "complete"
    assert status["proposed_mark"] == float(expected.proposed_mark)
    assert status["final_mark"] == float(expected.final_mark)
    assert status["history"][0]["reply_to"]["message_id"] == to_durand["Message-ID"]


def test_a_new_uidvalidity_reads_every_message_again_as_already_imported(s, dovecot, tmp_path):
    grids = {f"g{i}.xlsx": s.make(number(i), f"g{i}.xlsx").read_bytes() for i in (0, 1)}
    messages_ = [reply(parsed(question()), MARTIN, {name: data}) for name, data in grids.items()]
    dovecot.append(messages_, folder="Retours")
    first = s.run("collect", "--imap", dovecot.url("Retours"))
    assert first.exit_code == 0, first.output and "2 message(s) relevé(s)" in first.output
    validity = dovecot.uidvalidity("Retours")
    with dovecot.session() as imap:  # the folder made again: the server gives it a new UIDVALIDITY
        assert imap.delete('"Retours"')[0] == "OK"
    time.sleep(1.1)  # Dovecot's UIDVALIDITY is a time in seconds
    dovecot.append(messages_, folder="Retours")
    assert dovecot.uidvalidity("Retours") != validity
    again = s.run("collect", "--imap", dovecot.url("Retours"))
    assert again.exit_code == 0, again.output
    assert "2 message(s) relevé(s), 0 déjà relevé(s) avant" in again.output
    assert "Bilan : 0 complet(s), 0 incomplet(s), 0 rejeté(s), 0 en conflit, 2 déjà importé(s)" in again.output
    assert len(s.returns()) == 2


def _counts(db: Path) -> tuple[int, int]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return tuple(con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("imap_messages", "returns"))
    finally:
        con.close()


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL: POSIX")
def test_collect_killed_midway_then_run_again_records_each_message_once(tmp_path, dovecot):
    count = 40
    s = Setup(new_campaign(tmp_path, count), tmp_path / "arrivees")
    dovecot.append(
        [
            reply(parsed(question()), MARTIN, {f"r{i}.xlsx": s.make(number(i), f"r{i}.xlsx").read_bytes()})
            for i in range(count)
        ]
    )
    db = s.root / "registre.sqlite"
    env = dict(os.environ, E2DOCS_IMAP_PASSWORD=PASSWORD)
    cmd = [sys.executable, "-m", "e2docs", "-C", str(s.root), "collect", "--imap", dovecot.url()]
    proc = subprocess.Popen(cmd, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if db.exists() and _counts(db)[0] >= 3:
                break
            time.sleep(0.01)
        assert proc.poll() is None, "collect ended before it could be interrupted"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    processed, returns = _counts(db)
    assert 3 <= processed < count and returns in (processed, processed + 1)  # + the message being recorded
    again = subprocess.run(cmd, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr + again.stdout
    assert _counts(db) == (count, count)  # every message once, every return once
    assert {number(i) for i in range(count)} == {r.candidate for r in s.returns()}
    assert all(c["state"] == "complete" for c in s.status().values())


def test_server_errors_are_said_in_french_and_nothing_is_recorded(s, dovecot, monkeypatch):
    closed = f"imap://secretariat@127.0.0.1:{free_port()}/INBOX"
    result = s.run("collect", "--imap", closed)
    assert result.exit_code == 2 and "connexion refusée" in result.output and "rien n'a été relevé" in result.output
    monkeypatch.setenv("E2DOCS_IMAP_PASSWORD", "mauvais")
    result = s.run("collect", "--imap", dovecot.url())
    assert result.exit_code == 2 and "identifiant ou mot de passe refusé" in result.output
    monkeypatch.setenv("E2DOCS_IMAP_PASSWORD", PASSWORD)
    result = s.run("collect", "--imap", dovecot.url("Inexistant"))
    assert result.exit_code == 2 and "dossier « Inexistant » introuvable" in result.output
    result = s.run("collect", "--imap", dovecot.url(), "--move-to", "Relevés")
    assert result.exit_code == 2 and "dossier « Relevés » introuvable" in result.output
    result = s.run("collect", "--imap", "imap://secretariat:motdepasse@127.0.0.1/INBOX")
    assert result.exit_code == 2 and "le mot de passe ne doit pas figurer" in result.output
    with s.campaign.ledger() as ledger:
        assert ledger.returns() == [] and ledger.batches() == []
        assert ledger.db.execute("SELECT COUNT(*) FROM imap_messages").fetchone()[0] == 0
    for path in s.root.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path


def test_imaps_with_a_certificate_checked(s, request, tmp_path, monkeypatch):
    server = _server(request, tmp_path, tls=True)
    server.append([reply(parsed(question()), DURAND, {"g.xlsx": s.make(number(1), "g.xlsx").read_bytes()})])
    monkeypatch.setenv("E2DOCS_IMAP_PASSWORD", PASSWORD)
    untrusted = s.run("collect", "--imap", server.url())
    assert untrusted.exit_code == 2 and "connexion chiffrée au serveur" in untrusted.output
    monkeypatch.setenv("SSL_CERT_FILE", str(server.cafile))  # the school's own authority, as OpenSSL reads it
    result = s.run("collect", "--imap", server.url())
    assert result.exit_code == 0, result.output
    assert s.status()[number(1)]["state"] == "complete"


def test_an_eml_reply_given_on_the_command_line_is_linked_too(s, tmp_path):
    assert s.run("send", "--deadline", "26/03/2027").exit_code == 0  # drafts
    draft = email.message_from_bytes(
        (s.root / "brouillons" / "envoi_M.-Durand.eml").read_bytes(), policy=email.policy.default
    )
    path = tmp_path / "reponse.eml"
    path.write_bytes(reply(draft, DURAND, {"g.xlsx": s.make(number(3), "g.xlsx").read_bytes()}))
    assert s.collect(path).exit_code == 0
    assert "réponse à l'envoi du" in history(s) and "à M. Durand" in history(s)


# ------------------------------------------------------------------ URLs and names


def test_imap_urls_and_folder_names():
    url = parse_imap_url("imaps://prenom.nom%40lycee.fr@imap.lycee.fr/Retours%20E2")
    assert (url.scheme, url.host, url.port, url.user, url.folder) == (
        "imaps",
        "imap.lycee.fr",
        993,
        "prenom.nom@lycee.fr",
        "Retours E2",
    )
    assert parse_imap_url("imap://u@h").port == 143 and parse_imap_url("imap://u@h").folder == "INBOX"
    assert parse_imap_url("imap://u@H:1430/INBOX/Sous").mailbox == "u@h:1430/INBOX/Sous"
    from e2docs.formats.imap import ImapError

    for bad in ("smtp://u@h", "imap://h/INBOX", "imap://u:p@h", "imap://u@h:99999", "imap://u@h/a?b"):
        with pytest.raises(ImapError):
            parse_imap_url(bad)
    assert encode_folder("Relevés") == "Relev&AOk-s" and encode_folder("A&B") == "A&-B"
    assert encode_folder("Été 2027") == "&AMk-t&AOk- 2027"
    assert uid_set([7, 1, 2, 3, 9, 10]) == "1:3,7,9:10"


def test_a_version_2_ledger_opens_and_is_migrated(s):
    db = sqlite3.connect(s.root / "registre.sqlite")
    db.execute("DROP TABLE evaluations")  # schema 4
    db.execute("DROP TABLE imap_messages")
    db.execute("ALTER TABLE returns DROP COLUMN reply_to")
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    assert s.status()[number(0)]["history"] == []  # read-only: migrated in memory
    assert s.collect(s.make(number(0), "a.xlsx")).exit_code == 0
    db = sqlite3.connect(s.root / "registre.sqlite")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("SELECT reply_to FROM returns").fetchall() == [(None,)]
    db.close()
