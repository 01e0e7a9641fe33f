"""Incoming e-mail: the messages of a mailbox folder, read over IMAP (standard library :mod:`imaplib`).

IMAP URLs (:func:`parse_imap_url`):

* ``imaps://user@host[:port]/FOLDER`` (port 993 by default): TLS from the start;
* ``imap://user@host[:port]/FOLDER`` (port 143 by default): STARTTLS is required — a server that
  does not offer it is refused, except on the loopback (``127.0.0.1``, ``::1``, ``localhost``),
  where nothing crosses the network (the same rule as ``send``'s SMTP).

``FOLDER`` is the folder's name as the mail client shows it (percent-encoded in the URL when it
holds spaces: ``Retours%20E2``; ``INBOX`` when left out); sub-folders are written with the
server's separator (``INBOX/Retours`` or ``INBOX.Retours``). The certificate is checked against the
system's authorities (``SSL_CERT_FILE`` names another file of authorities, as for any OpenSSL
program). The password is never part of the URL; it is given to :class:`ImapSession`.

Reading never changes anything on the server: the folder is opened with ``EXAMINE`` (read-only)
and messages are fetched with ``BODY.PEEK[]`` (the ``\\Seen`` flag is not set).
:meth:`ImapSession.move` is the only call that changes the mailbox.
"""

from __future__ import annotations

import base64
import contextlib
import imaplib
import re
import socket
import ssl
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType

from e2docs.formats.mail import is_loopback
from e2docs.model.errors import E2docsError

TIMEOUT = 60.0
"""Seconds to wait for the IMAP server before giving up."""
BATCH_MESSAGES = 50
"""At most this many messages per ``UID FETCH`` (one round trip for a batch, not one per message)."""
BATCH_BYTES = 20 * 2**20
"""At most this many bytes of messages per ``UID FETCH`` (a message bigger than that comes alone)."""

_HINT = "Écrivez par exemple imaps://prenom.nom@imap.lycee.fr/INBOX (ou imap://… avec STARTTLS)."


class ImapError(E2docsError):
    """The IMAP server cannot be used (unreachable, no TLS, password refused, folder missing, connection lost)."""


@dataclass(frozen=True)
class ImapUrl:
    """Where to read: ``scheme`` ``"imap"`` (STARTTLS) or ``"imaps"`` (TLS), ``host``, ``port``,
    ``user`` (the login), ``folder`` (its name as shown, not encoded)."""

    scheme: str
    host: str
    port: int
    user: str
    folder: str

    def __str__(self) -> str:
        user = urllib.parse.quote(self.user, safe="")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{user}@{host}:{self.port}/{urllib.parse.quote(self.folder, safe='/')}"

    @property
    def mailbox(self) -> str:
        """The folder as the ledger remembers it: ``user@host:port/FOLDER`` (host in lower case),
        the same whether reached with ``imap://`` or ``imaps://``."""
        return f"{self.user}@{self.host.lower()}:{self.port}/{self.folder}"


def parse_imap_url(text: str) -> ImapUrl:
    """Read ``imaps://user@host[:port]/FOLDER`` or ``imap://…`` (user and folder percent-encoded:
    ``prenom.nom%40lycee.fr``, ``Retours%20E2``). Raises :class:`ImapError` for another scheme, a
    missing host or user, a password in the URL or a bad port."""
    try:
        parts = urllib.parse.urlsplit(text.strip())
        port = parts.port
    except ValueError:
        raise ImapError(f"adresse de boîte mail illisible : « {text} ».", hint=_HINT) from None
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        raise ImapError(f"adresse de boîte mail non reconnue : « {text} ».", hint=_HINT)
    if parts.password is not None:
        raise ImapError(
            "le mot de passe ne doit pas figurer dans l'adresse de la boîte mail.",
            hint="Retirez-le : il est demandé au lancement, ou lu dans la variable E2DOCS_IMAP_PASSWORD.",
        )
    if not parts.username:
        raise ImapError(f"identifiant manquant dans l'adresse de la boîte mail : « {text} ».", hint=_HINT)
    folder = urllib.parse.unquote(parts.path.lstrip("/")) or "INBOX"
    if parts.query or parts.fragment:
        raise ImapError(
            f"adresse de boîte mail non reconnue : « {text} » (un ? ou un # dans le nom du dossier ?).",
            hint="Écrivez ? et # dans le nom du dossier comme %3F et %23.",
        )
    return ImapUrl(
        parts.scheme,
        parts.hostname,
        port or (993 if parts.scheme == "imaps" else 143),
        urllib.parse.unquote(parts.username),
        folder,
    )


def encode_folder(name: str) -> str:
    """A folder name in IMAP's modified UTF-7 (RFC 3501 5.1.3): « Relevés » → ``Relev&AOk-s``."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            raw = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii")
            out.append("&" + raw.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


def quoted(name: str) -> str:
    """A folder name as an IMAP quoted string, encoded (:func:`encode_folder`)."""
    return '"' + encode_folder(name).replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class Listed:
    """A message of the folder, before it is fetched: ``uid``, ``size`` (bytes), ``flags``
    (``"\\\\Seen"``, ``"\\\\Deleted"``…)."""

    uid: int
    size: int
    flags: frozenset[str]


def uid_set(uids: Sequence[int]) -> str:
    """UIDs as an IMAP sequence set of ranges: ``[1, 2, 3, 7]`` → ``"1:3,7"``."""
    ordered = sorted(set(uids))
    ranges: list[str] = []
    start = prev = ordered[0]
    for uid in ordered[1:] + [-1]:
        if uid == prev + 1:
            prev = uid
            continue
        ranges.append(str(start) if start == prev else f"{start}:{prev}")
        start = prev = uid
    return ",".join(ranges)


def batches(listed: Sequence[Listed], count: int = BATCH_MESSAGES, size: int = BATCH_BYTES) -> Iterator[list[Listed]]:
    """``listed`` cut into consecutive batches of at most ``count`` messages and ``size`` bytes (a
    message bigger than ``size`` alone in its batch)."""
    batch: list[Listed] = []
    total = 0
    for item in listed:
        if batch and (len(batch) >= count or total + item.size > size):
            yield batch
            batch, total = [], 0
        batch.append(item)
        total += item.size
    if batch:
        yield batch


class ImapSession:
    """A connection to an IMAP server: ``with ImapSession(url, password) as imap: imap.examine()…``.

    Opening raises :class:`ImapError` (in French) when the server is unreachable, offers no
    STARTTLS off the loopback, fails TLS, or refuses the login; every other call raises it when
    the server refuses the command or the connection is lost (``lost`` is then true).
    """

    def __init__(self, url: ImapUrl, password: str | None, *, timeout: float = TIMEOUT) -> None:
        self.url = url
        self.password = password
        self.timeout = timeout
        self.imap: imaplib.IMAP4 | None = None
        self.encrypted = False
        self.lost = False
        self.where = f"{url.host}:{url.port}"

    # ------------------------------------------------------------------ connecting

    def __enter__(self) -> ImapSession:
        url, where = self.url, self.where
        context = ssl.create_default_context()
        try:
            if url.scheme == "imaps":
                self.imap = imaplib.IMAP4_SSL(url.host, url.port, ssl_context=context, timeout=self.timeout)
                self.encrypted = True
            else:
                self.imap = imaplib.IMAP4(url.host, url.port, timeout=self.timeout)
                if "STARTTLS" in self.imap.capabilities:
                    self.imap.starttls(context)
                    self.encrypted = True
                elif not is_loopback(url.host):
                    raise ImapError(
                        f"le serveur {where} ne propose pas de connexion chiffrée (STARTTLS) : rien n'a été relevé.",
                        hint="Utilisez l'adresse imaps:// du serveur (port 993 le plus souvent) ; voyez les réglages "
                        "de votre messagerie.",
                    )
            if not self.password:
                raise ImapError(
                    f"mot de passe manquant pour {url.user} sur {where}.",
                    hint="Donnez-le quand il est demandé, ou dans la variable E2DOCS_IMAP_PASSWORD.",
                )
            try:
                self.imap.login(url.user, self.password)
            except imaplib.IMAP4.error:
                raise ImapError(
                    f"identifiant ou mot de passe refusé par le serveur {where} : rien n'a été relevé.",
                    hint="Vérifiez l'identifiant (dans l'adresse imaps://IDENTIFIANT@…) et le mot de passe.",
                ) from None
        except ImapError:
            self._close()
            raise
        except ssl.SSLError as exc:
            self._close()
            raise ImapError(
                f"connexion chiffrée au serveur {where} impossible ({exc.reason or exc}) : rien n'a été relevé.",
                hint="Vérifiez l'adresse et le port du serveur (imaps:// : 993 ; imap:// avec STARTTLS : 143).",
            ) from None
        except (imaplib.IMAP4.error, OSError) as exc:
            self._close()
            raise ImapError(
                f"connexion au serveur {where} impossible ({_reason(exc)}) : rien n'a été relevé.",
                hint="Vérifiez l'adresse et le port du serveur, et la connexion au réseau.",
            ) from None
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.imap is not None and not self.lost:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                self.imap.logout()
        self._close()

    def _close(self) -> None:
        if self.imap is not None:
            with contextlib.suppress(OSError):
                self.imap.shutdown()
            self.imap = None

    # ------------------------------------------------------------------ commands

    def _run(self, what: str, command: str, *args: str) -> list:
        """Run an IMAP command (``UID FETCH`` when ``command`` is ``"UID"``); its untagged data.
        Raises :class:`ImapError` when the server says NO or BAD, or the connection is lost."""
        assert self.imap is not None, "outside 'with'"
        try:
            if command == "UID":
                typ, data = self.imap.uid(*args)
            else:
                typ, data = getattr(self.imap, command.lower())(*args)
        except imaplib.IMAP4.abort as exc:
            self.lost = True
            raise ImapError(
                f"connexion au serveur {self.where} perdue ({_reason(exc)}) pendant : {what}.",
                hint="Relancez la même commande : elle ne relève que ce qui ne l'a pas été.",
            ) from None
        except (imaplib.IMAP4.error, OSError) as exc:
            lost = isinstance(exc, OSError)
            self.lost = self.lost or lost
            raise ImapError(
                f"le serveur {self.where} a refusé : {what} ({_reason(exc)}).",
                hint="Relancez la même commande : elle ne relève que ce qui ne l'a pas été.",
            ) from None
        if typ != "OK":
            raise ImapError(
                f"le serveur {self.where} a refusé : {what} ({_text(data)}).",
                hint="Vérifiez le nom du dossier (tel que votre messagerie l'affiche) et vos droits sur ce dossier.",
            )
        return list(data)

    def examine(self, folder: str | None = None) -> tuple[int, int]:
        """Open ``folder`` (default: the URL's) read-only; (UIDVALIDITY, number of messages).
        Raises :class:`ImapError` when the folder does not exist."""
        folder = folder or self.url.folder
        assert self.imap is not None
        try:
            typ, data = self.imap.select(quoted(folder), readonly=True)
        except imaplib.IMAP4.abort as exc:
            self.lost = True
            raise ImapError(f"connexion au serveur {self.where} perdue ({_reason(exc)}).") from None
        except (imaplib.IMAP4.error, OSError) as exc:
            raise ImapError(f"dossier « {folder} » illisible sur le serveur {self.where} ({_reason(exc)}).") from None
        if typ != "OK":
            raise ImapError(
                f"dossier « {folder} » introuvable sur le serveur {self.where} : rien n'a été relevé.",
                hint="Écrivez le nom du dossier tel que votre messagerie l'affiche (INBOX pour la boîte de "
                "réception ; un sous-dossier avec le séparateur du serveur : INBOX/Retours ou INBOX.Retours).",
            )
        count = int(data[0]) if data and isinstance(data[0], bytes) and data[0].isdigit() else 0
        validity = self.imap.untagged_responses.get("UIDVALIDITY", [b"0"])[-1]
        return (int(validity) if isinstance(validity, bytes) else 0), count

    def exists(self, folder: str) -> bool:
        """Whether ``folder`` exists on the server."""
        data = self._run(f"liste du dossier « {folder} »", "LIST", '""', quoted(folder))
        return any(item is not None for item in data)

    def listing(self, count: int) -> list[Listed]:
        """Every message of the folder opened (``count``: how many it holds, from :meth:`examine`),
        in UID order, with its size and flags; one round trip."""
        if count == 0:
            return []
        data = self._run("liste des messages", "UID", "FETCH", "1:*", "(UID RFC822.SIZE FLAGS)")
        found: dict[int, Listed] = {}
        for item in data:
            head = item[0] if isinstance(item, tuple) else item
            if not isinstance(head, bytes):
                continue
            uid, size, flags = _field(head, rb"UID (\d+)"), _field(head, rb"RFC822\.SIZE (\d+)"), _flags(head)
            if uid is not None:
                found[uid] = Listed(uid, size or 0, flags)
        return [found[uid] for uid in sorted(found)]

    def fetch(self, uids: Sequence[int]) -> dict[int, bytes]:
        """The messages ``uids`` (raw RFC 5322 bytes) in one ``UID FETCH … BODY.PEEK[]``, which does not
        mark them read; a message gone meanwhile is left out."""
        if not uids:
            return {}
        data = self._run("lecture des messages", "UID", "FETCH", uid_set(uids), "(UID BODY.PEEK[])")
        got: dict[int, bytes] = {}
        for i, item in enumerate(data):
            if not isinstance(item, tuple) or len(item) < 2:
                continue
            tail = data[i + 1] if i + 1 < len(data) and isinstance(data[i + 1], bytes) else b""
            uid = _field(item[0] + b" " + tail, rb"UID (\d+)")
            if uid is not None and isinstance(item[1], bytes):
                got[uid] = item[1]
        return got

    def move(self, uids: Sequence[int], target: str) -> None:
        """Move the messages ``uids`` of the URL's folder into ``target`` (which must exist): ``UID MOVE``
        when the server has it, else ``UID COPY`` then ``\\Deleted`` on these messages alone, expunged
        with ``UID EXPUNGE`` (UIDPLUS; without it they stay marked deleted for the mail client to
        remove). Only these messages are touched."""
        if not uids:
            return
        assert self.imap is not None
        self._run(f"ouverture du dossier « {self.url.folder} »", "SELECT", quoted(self.url.folder))
        # what the server offers once logged in (imaplib keeps the list it offered before: shorter)
        listed = self._run("liste des capacités du serveur", "CAPABILITY")
        caps = {cap.upper() for item in listed if isinstance(item, bytes) for cap in item.decode().split()}
        what = f"déplacement vers « {target} »"
        for start in range(0, len(uids), 500):
            part = uid_set(uids[start : start + 500])
            if "MOVE" in caps:
                self._run(what, "UID", "MOVE", part, quoted(target))
            else:
                self._run(what, "UID", "COPY", part, quoted(target))
                self._run(what, "UID", "STORE", part, "+FLAGS.SILENT", r"(\Deleted)")
                if "UIDPLUS" in caps:
                    self._run(what, "UID", "EXPUNGE", part)


def _field(head: bytes, pattern: bytes) -> int | None:
    match = re.search(pattern, head)
    return int(match.group(1)) if match else None


def _flags(head: bytes) -> frozenset[str]:
    match = re.search(rb"FLAGS \(([^)]*)\)", head)
    return frozenset(match.group(1).decode("ascii", "replace").split()) if match else frozenset()


def _text(data: object) -> str:
    if isinstance(data, list | tuple):
        return " ".join(_text(d) for d in data if d is not None)
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return str(data)


def _reason(exc: BaseException) -> str:
    """A connection failure in a few French words."""
    if isinstance(exc, ConnectionRefusedError):
        return "connexion refusée"
    if isinstance(exc, socket.timeout | TimeoutError):
        return "pas de réponse"
    if isinstance(exc, socket.gaierror):
        return "nom de serveur inconnu"
    if isinstance(exc, imaplib.IMAP4.abort | EOFError | ConnectionResetError | BrokenPipeError):
        return "le serveur a coupé la connexion"
    if isinstance(exc, imaplib.IMAP4.error):
        return str(exc)[:200]
    return type(exc).__name__
