"""``e2docs send`` over SMTP with encryption and a login, and killed midway: a real aiosmtpd server on
127.0.0.1 with a self-signed certificate made by ``openssl`` (STARTTLS on ``smtp://``, TLS from the
start on ``smtps://``), an authenticator accepting one user and password, and a real
``python -m e2docs send`` process killed with SIGKILL in the middle of a batch.

The campaign of :func:`tests.app.test_sending.s` has two examiners (Mme Martin: TMCV1, M. Durand: TMCV2).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sqlite3
import ssl
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.app.test_collect import Setup, new_campaign, number
from tests.app.test_sending import DURAND, FROM, MARTIN, Mailbox, free_port, messages, s  # noqa: F401 (fixture)
from tests.helpers import PROJECT

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
aiosmtpd_smtp = pytest.importorskip("aiosmtpd.smtp")

# smtps: aiosmtpd warns that AUTH is allowed without STARTTLS, the connection being TLS from the start
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

USER, PASSWORD = "secretariat@lycee.example.fr", "mot-de-passe-du-test"


def self_signed(folder: Path) -> tuple[Path, Path]:
    """(certificate, key) for 127.0.0.1 and localhost, made with the openssl command as for Dovecot
    (tests/imapserver.py)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost"]
        + ["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def authenticator(server, session, envelope, mechanism, auth_data):  # aiosmtpd's Authenticator protocol
    ok = isinstance(auth_data, aiosmtpd_smtp.LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return aiosmtpd_smtp.AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


@pytest.fixture(params=["starttls", "smtps"])
def tls_smtp(request, tmp_path_factory):
    """A Mailbox behind a server that requires STARTTLS (``smtp://``) or speaks TLS from the start
    (``smtps://``), and accepts :data:`USER` / :data:`PASSWORD`; ``url``, ``cafile``."""
    cert, key = self_signed(tmp_path_factory.mktemp("cert"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    box = Mailbox()
    common = {"hostname": "127.0.0.1", "port": free_port(), "authenticator": authenticator, "auth_required": True}
    if request.param == "starttls":
        controller = aiosmtpd_controller.Controller(box, tls_context=context, require_starttls=True, **common)
        scheme = "smtp"
    else:
        # aiosmtpd only knows a STARTTLS upgrade as "TLS" for AUTH: on an implicit TLS socket it is told so
        controller = aiosmtpd_controller.Controller(box, ssl_context=context, auth_require_tls=False, **common)
        scheme = "smtps"
    controller.start()
    try:
        box.url = f"{scheme}://{USER.replace('@', '%40')}@127.0.0.1:{controller.port}"
        box.cafile = cert
        yield box
    finally:
        controller.stop()


# ------------------------------------------------------------------ TLS and login


def test_tls_login_with_the_password_from_the_environment(s, tls_smtp, monkeypatch):  # noqa: F811
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_smtp.cafile))  # the school's own authority, as OpenSSL reads it
    monkeypatch.setenv("E2DOCS_SMTP_PASSWORD", PASSWORD)
    result = s.run("send", "--deadline", "26/03/2027", "--smtp", tls_smtp.url, "--from", FROM)
    assert result.exit_code == 0, result.output
    assert "2 envoyé(s), 0 refusé(s)" in result.output
    assert sorted(r[0] for _, r, _ in tls_smtp.received) == [DURAND, MARTIN]
    assert {(m.examiner, m.status, m.transport) for m in messages(s)} == {
        (MARTIN, "sent", "smtp"),
        (DURAND, "sent", "smtp"),
    }
    for path in s.root.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path


def test_a_wrong_password_sends_nothing(s, tls_smtp, monkeypatch):  # noqa: F811
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_smtp.cafile))
    monkeypatch.setenv("E2DOCS_SMTP_PASSWORD", "mauvais")
    result = s.run("send", "--deadline", "26/03/2027", "--smtp", tls_smtp.url, "--from", FROM)
    assert result.exit_code == 2, result.output
    assert "identifiant ou mot de passe refusé par le serveur 127.0.0.1:" in result.output
    assert "rien n'a été envoyé" in result.output
    assert tls_smtp.received == [] and messages(s) == []


def test_an_unknown_certificate_is_refused_until_ssl_cert_file_names_it(s, tls_smtp, monkeypatch):  # noqa: F811
    monkeypatch.setenv("E2DOCS_SMTP_PASSWORD", PASSWORD)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    result = s.run("send", "--deadline", "26/03/2027", "--smtp", tls_smtp.url, "--from", FROM)
    assert result.exit_code == 2, result.output
    assert "certificat du serveur 127.0.0.1:" in result.output and "non reconnu" in result.output
    assert "rien n'a été envoyé" in result.output and "SSL_CERT_FILE" in result.output
    assert tls_smtp.received == [] and messages(s) == []
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_smtp.cafile))
    result = s.run("send", "--deadline", "26/03/2027", "--smtp", tls_smtp.url, "--from", FROM)
    assert result.exit_code == 0, result.output
    assert len(tls_smtp.received) == 2


# ------------------------------------------------------------------ killed midway


class StallingMailbox(Mailbox):
    """Accepts messages; the ``stall_at``-th one (from 1) is kept as delivered, then the server never
    answers it (``stalled`` is set): the sender is killed while waiting for the « 250 »."""

    def __init__(self, stall_at: int) -> None:
        super().__init__()
        self.stall_at = stall_at
        self.stalled = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        if len(self.received) == self.stall_at and not self.stalled.is_set():
            self.stalled.set()
            await asyncio.sleep(60)
        return answer


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL: POSIX")
def test_send_killed_midway_then_run_again_sends_the_rest(tmp_path):
    count = 6  # one examiner per candidate
    camp = Setup(new_campaign(tmp_path, count), tmp_path / "arrivees")
    roster = tmp_path / "examinateurs.csv"
    lines = [f"Examinateur {i};examinateur{i}@lycee.example.fr;{number(i)}" for i in range(count)]
    roster.write_text("Examinateur;Courriel;N° candidat\n" + "\n".join(lines) + "\n")
    assert camp.run("assign", str(roster)).exit_code == 0
    everyone = [f"examinateur{i}@lycee.example.fr" for i in range(count)]

    box = StallingMailbox(stall_at=3)
    controller = aiosmtpd_controller.Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        url = f"smtp://127.0.0.1:{controller.port}"
        cmd = [sys.executable, "-m", "e2docs", "-C", str(camp.root), "send", "--deadline", "26/03/2027"]
        cmd += ["--smtp", url, "--from", FROM]
        proc = subprocess.Popen(cmd, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert box.stalled.wait(120), "send never reached the third message"
            assert proc.poll() is None
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL

        # killed while the third message was delivered but not yet acknowledged: two recorded as sent
        db = camp.root / "registre.sqlite"
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            con.close()
        first = [(m.examiner, m.status) for m in messages(camp)]
        assert first == [(everyone[0], "sent"), (everyone[1], "sent")]
        assert len(box.received) == 3

        again = subprocess.run(cmd, cwd=PROJECT, capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr + again.stdout
        assert "4 envoyé(s), 0 refusé(s)" in again.stdout
    finally:
        controller.stop()

    # every examiner has their message; only the one in flight at the kill went twice (the documented limit)
    received = [r for _, rcpt, _ in box.received for r in rcpt]
    assert sorted(set(received)) == everyone
    assert {a: received.count(a) for a in everyone} == {a: 2 if a == everyone[2] else 1 for a in everyone}
    rows = messages(camp)
    assert sorted(m.examiner for m in rows) == everyone and all(m.status == "sent" for m in rows)
    # the ledger names each message the examiner received last
    by_id = {m["Message-ID"]: rcpt[0] for _, rcpt, m in box.received}
    assert all(by_id[m.message_id] == m.examiner for m in rows)
    assert not (camp.root / "brouillons").exists()
    assert [p for p in camp.root.rglob("*.tmp")] == []  # no half-written file (formats/atomic.py's temporaries)
