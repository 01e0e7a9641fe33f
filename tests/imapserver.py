"""A real IMAP server for the tests and the benchmark: Dovecot (Debian package ``dovecot-imapd``) run
in the foreground with a configuration of its own in a throw-away folder.

:class:`Dovecot` writes ``dovecot.conf`` (one user with a plain password in a passwd-file, maildir
mailboxes, logs and sockets inside the folder), starts ``dovecot -c dovecot.conf -F`` on 127.0.0.1
on a free port, plain IMAP (``ssl=no``: loopback only) or, with ``tls=True``, IMAP over TLS with a
self-signed certificate made with ``openssl``. No root privileges are needed: every process runs
as the user running the tests (as root, Dovecot's own unprivileged users are used, as Debian
installs them). Helpers append messages (``APPEND``) and read a folder back (UIDs, flags) with
:mod:`imaplib`, to check what e2docs left on the server.
"""

from __future__ import annotations

import contextlib
import grp
import imaplib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

USER, PASSWORD = "secretariat", "mot-de-passe-du-test"


def unavailable_reason() -> str | None:
    """None when Dovecot can be run, else why not."""
    if os.name != "posix":
        return "Dovecot runs on POSIX systems only"
    if shutil.which("dovecot") is None and not Path("/usr/sbin/dovecot").exists():
        return "Dovecot is not installed (apt-get install dovecot-imapd)"
    return None


def _binary() -> str:
    return shutil.which("dovecot") or "/usr/sbin/dovecot"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Dovecot:
    """Dovecot serving one mailbox (user :data:`USER`, password :data:`PASSWORD`) from ``folder``.

    ``url(folder)``: the URL e2docs is given (``imap://secretariat@127.0.0.1:PORT/FOLDER``, or
    ``imaps://`` with ``tls``); ``cafile``: the self-signed certificate (``tls`` only).
    """

    def __init__(self, folder: Path, *, tls: bool = False) -> None:
        self.given = folder
        if os.getuid() == 0:
            # root: the mail is read and written by an unprivileged user (Dovecot refuses root), who must
            # reach it: a folder of its own under the system's temporary folder (pytest's are private)
            folder = Path(tempfile.mkdtemp(prefix="e2docs-dovecot-"))
            os.chmod(folder, 0o755)
        self.folder = folder
        self.tls = tls
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.given.mkdir(parents=True, exist_ok=True)
        self.cafile = folder / "cert.pem"
        self.conf = folder / "dovecot.conf"
        self._write_config()

    # ------------------------------------------------------------------ configuration

    def _write_config(self) -> None:
        f = self.folder
        for sub in ("run", "home", "state"):
            (f / sub).mkdir(exist_ok=True)
        me = pwd.getpwuid(os.getuid())
        if os.getuid() == 0:  # root: Dovecot's own users (Debian creates them), the mail as user "mail"
            login_user, internal_user = "dovenull", "dovecot"
            me = pwd.getpwnam("mail")
            os.chown(f / "home", me.pw_uid, me.pw_gid)
        else:
            login_user = internal_user = me.pw_name
        (f / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}:::::\n", encoding="utf-8")
        if self.tls:
            subprocess.run(
                [
                    "openssl",
                    "req",
                    "-x509",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=localhost",
                    "-addext",
                    "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout",
                    str(f / "key.pem"),
                    "-out",
                    str(self.cafile),
                ],
                check=True,
                capture_output=True,
                timeout=60,
            )
            ssl = f"ssl = required\nssl_cert = <{self.cafile}\nssl_key = <{f / 'key.pem'}\n"
            listeners = (
                f"inet_listener imap {{\n port = 0\n }}\n inet_listener imaps {{\n port = {self.port}\n ssl = yes\n }}"
            )
        else:
            ssl = "ssl = no\n"
            listeners = f"inet_listener imap {{\n port = {self.port}\n }}\n inet_listener imaps {{\n port = 0\n }}"
        self.conf.write_text(
            f"""
protocols = imap
listen = 127.0.0.1
base_dir = {f / "run"}
state_dir = {f / "state"}
instance_name = e2docs-test-{self.port}
log_path = {f / "dovecot.log"}
info_log_path = {f / "dovecot.log"}
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {grp.getgrgid(pwd.getpwnam(internal_user).pw_gid).gr_name}
first_valid_uid = 0
first_valid_gid = 0
disable_plaintext_auth = no
auth_mechanisms = plain login
{ssl}
mail_location = maildir:{f / "home"}/%u/Maildir
mail_uid = {me.pw_uid}
mail_gid = {me.pw_gid}
mail_home = {f / "home"}/%u
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {f / "users"}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {f / "users"}
}}
service imap-login {{
 {listeners}
 chroot =
 process_min_avail = 0
}}
service auth-worker {{
  user = {"root" if os.getuid() == 0 else "$default_internal_user"}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
service auth {{
  user = {"root" if os.getuid() == 0 else "$default_internal_user"}
  unix_listener auth-userdb {{
    mode = 0666
  }}
}}
""",
            encoding="utf-8",
        )

    # ------------------------------------------------------------------ running

    def start(self) -> Dovecot:
        """Start the server and wait (at most 30 s) until it answers; raises RuntimeError with its log."""
        self.proc = subprocess.Popen(
            [_binary(), "-c", str(self.conf), "-F"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(self.folder / "stderr.log", "wb"),  # noqa: SIM115 - kept by the process
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dovecot ended ({self.proc.returncode}):\n{self.log()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                if self.tls or sock.recv(100).startswith(b"* OK"):
                    return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dovecot did not answer on port {self.port}:\n{self.log()}")

    def stop(self) -> None:
        """Stop the server and every process it started (its own process group)."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None
        if self.folder != self.given:  # root: keep the log with the test's files, remove the rest
            with contextlib.suppress(OSError):
                shutil.copy(self.folder / "dovecot.log", self.given / "dovecot.log")
            shutil.rmtree(self.folder, ignore_errors=True)

    def log(self) -> str:
        parts = []
        for name in ("dovecot.log", "stderr.log"):
            with contextlib.suppress(OSError):
                parts.append((self.folder / name).read_text(errors="replace")[-4000:])
        return "\n".join(parts)

    # ------------------------------------------------------------------ the mailbox, as a mail client sees it

    def url(self, folder: str = "INBOX") -> str:
        scheme = "imaps" if self.tls else "imap"
        return f"{scheme}://{USER}@127.0.0.1:{self.port}/{folder}"

    def client(self) -> imaplib.IMAP4:
        if self.tls:
            import ssl

            context = ssl.create_default_context(cafile=str(self.cafile))
            imap: imaplib.IMAP4 = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=context)
        else:
            imap = imaplib.IMAP4("127.0.0.1", self.port)
        imap.login(USER, PASSWORD)
        return imap

    @contextlib.contextmanager
    def session(self) -> Iterator[imaplib.IMAP4]:
        imap = self.client()
        try:
            yield imap
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                imap.logout()

    def create(self, folder: str) -> None:
        with self.session() as imap:
            typ, data = imap.create(_quoted(folder))
            assert typ == "OK", data

    def append(self, messages: list[bytes], folder: str = "INBOX", flags: str = "") -> None:
        """APPEND each message to ``folder`` (created if absent), with ``flags`` (``"\\\\Seen"``…)."""
        with self.session() as imap:
            imap.create(_quoted(folder))  # NO when it exists
            for data in messages:
                typ, resp = imap.append(_quoted(folder), f"({flags})" if flags else None, None, data)
                assert typ == "OK", resp

    def contents(self, folder: str = "INBOX") -> dict[int, tuple[str, bytes]]:
        """UID → (flags, message bytes) of every message in ``folder``, read without changing anything
        (EXAMINE, BODY.PEEK)."""
        with self.session() as imap:
            typ, data = imap.select(_quoted(folder), readonly=True)
            assert typ == "OK", data
            typ, data = imap.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")
            found: dict[int, tuple[str, bytes]] = {}
            for item in data:
                if isinstance(item, tuple):
                    head = item[0].decode()
                    uid = int(re.search(r"UID (\d+)", head).group(1))  # type: ignore[union-attr]
                    flags = re.search(r"FLAGS \(([^)]*)\)", head).group(1)  # type: ignore[union-attr]
                    found[uid] = (flags, item[1])
            return found

    def uidvalidity(self, folder: str = "INBOX") -> int:
        with self.session() as imap:
            typ, data = imap.status(_quoted(folder), "(UIDVALIDITY)")
            return int(re.search(rb"UIDVALIDITY (\d+)", data[0]).group(1))  # type: ignore[arg-type,union-attr]


def _quoted(name: str) -> str:
    from e2docs.formats.imap import quoted

    return quoted(name)
