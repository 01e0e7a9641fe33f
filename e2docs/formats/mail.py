"""Outgoing e-mail: messages with workbooks attached, written as drafts (.eml) or sent over SMTP.

Messages are built with the standard library (:class:`email.message.EmailMessage`, policy
``SMTP``: CRLF line ends, as mail clients and servers expect). A draft carries the header
``X-Unsent: 1``: Outlook opens such a ``.eml`` as a message to send; Thunderbird opens it with
File > Open > Saved message, then « Modifier en tant que nouveau message ».

SMTP URLs (:func:`parse_smtp_url`):

* ``smtp://[user@]host[:port]`` (port 587 by default): STARTTLS is required — a server that
  does not offer it is refused, except on the loopback (``127.0.0.1``, ``::1``, ``localhost``):
  a local relay or a test server, where nothing crosses the network;
* ``smtps://[user@]host[:port]`` (port 465 by default): TLS from the start.

The certificate is checked against the system's authorities (``SSL_CERT_FILE`` names another file
of authorities, as for any OpenSSL program); an unknown one is refused. The password is never part of the
URL; it is given to :class:`SmtpSession` (asked by the CLI or read from ``E2DOCS_SMTP_PASSWORD``).
"""

from __future__ import annotations

import binascii
import contextlib
import datetime as dt
import email.generator
import email.policy
import email.utils
import io
import ipaddress
import re
import smtplib
import socket
import ssl
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType
from typing import cast

from e2docs.model.errors import E2docsError

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
_TYPES = {
    ".xlsx": XLSX_TYPE,
    ".ods": ("application", "vnd.oasis.opendocument.spreadsheet"),
    ".xls": ("application", "vnd.ms-excel"),
}
TIMEOUT = 60.0
"""Seconds to wait for the SMTP server before giving up."""


class MailServerError(E2docsError):
    """The SMTP server cannot be used (unreachable, no TLS, password refused, connection lost)."""


class Refused(Exception):
    """The server refused one message (recipient, sender or content); the others may go. ``args[0]``:
    why, in French."""


@dataclass(frozen=True)
class Attachment:
    """A file attached to a message: ``name`` as the recipient sees it, its bytes."""

    name: str
    data: bytes


def message_id(domain: str) -> str:
    """A new, unique ``Message-ID`` (angle brackets included) in ``domain``, without asking the
    network for this machine's name."""
    return email.utils.make_msgid(domain=domain or "e2docs.invalid")


def build_message(
    *,
    to: tuple[str, str],
    sender: tuple[str, str] | None,
    subject: str,
    body: str,
    attachments: Sequence[Attachment],
    msgid: str,
    date: dt.datetime,
    draft: bool,
) -> EmailMessage:
    """One message: ``to`` and ``sender`` are (display name, address) — ``sender`` ``None`` leaves
    ``From`` out (the mail client fills it when the draft is sent); ``body`` is plain French text;
    ``date`` an aware date-time; ``draft`` adds ``X-Unsent: 1``."""
    msg = EmailMessage(policy=email.policy.SMTP)
    if sender is not None:
        msg["From"] = email.utils.formataddr(sender)
    msg["To"] = email.utils.formataddr(to)
    msg["Subject"] = subject
    msg["Date"] = email.utils.format_datetime(date)
    msg["Message-ID"] = msgid
    if draft:
        msg["X-Unsent"] = "1"
    msg.set_content(body)
    for item in attachments:
        suffix = "." + item.name.rsplit(".", 1)[-1].lower() if "." in item.name else ""
        maintype, subtype = _TYPES.get(suffix, ("application", "octet-stream"))
        # the headers as add_attachment(data) writes them; the base64 body (76 characters a line, as
        # the email package cuts it at the policy's 78) computed in C rather than line by line in Python
        msg.add_attachment(b"", maintype=maintype, subtype=subtype, filename=item.name)
        part = cast(list[EmailMessage], msg.get_payload())[-1]
        part.set_payload(_base64_lines(item.data))
    return msg


def _base64_lines(data: bytes) -> str:
    """``data`` in base64, lines of 76 characters each ended by a newline: what
    :meth:`EmailMessage.add_attachment` writes (57 bytes a line at the policy's 78 characters)."""
    lines = _LINE.findall(binascii.b2a_base64(data, newline=False))
    return (b"\n".join(lines) + b"\n").decode("ascii") if lines else ""


_LINE = re.compile(rb".{1,76}", re.DOTALL)


class _Generator(email.generator.BytesGenerator):
    """The standard generator, writing a body's lines in one call rather than two per line (the
    bytes are the same: a test compares them with :meth:`EmailMessage.as_bytes`)."""

    def _write_lines(self, lines: str) -> None:
        # as NLCRE.split(lines) then one newline between the pieces: "\r\n", "\r", "\n" each one line end
        if lines:
            nl = self._NL  # type: ignore[attr-defined]  # set by flatten()
            if "\r" in lines:
                lines = lines.replace("\r\n", "\n").replace("\r", "\n")
            self.write(lines.replace("\n", nl) if nl != "\n" else lines)


def as_bytes(msg: EmailMessage) -> bytes:
    """The message as an ``.eml`` file holds it (CRLF line ends): the bytes of
    ``msg.as_bytes(policy=email.policy.SMTP)``."""
    out = io.BytesIO()
    _Generator(out, mangle_from_=False, policy=email.policy.SMTP).flatten(msg)
    return out.getvalue()


# ------------------------------------------------------------------ SMTP


@dataclass(frozen=True)
class SmtpUrl:
    """Where to send: ``scheme`` ``"smtp"`` (STARTTLS) or ``"smtps"`` (TLS), ``host``, ``port``,
    ``user`` (``None``: no login)."""

    scheme: str
    host: str
    port: int
    user: str | None

    def __str__(self) -> str:
        user = f"{urllib.parse.quote(self.user, safe='')}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{user}{host}:{self.port}"


def parse_smtp_url(text: str) -> SmtpUrl:
    """Read ``smtp://user@host:port`` or ``smtps://…`` (user percent-encoded: ``prenom.nom%40lycee.fr``).
    Raises :class:`MailServerError` for another scheme, a missing host, a password in the URL or a
    bad port."""
    hint = "Écrivez par exemple smtp://prenom.nom@smtp.lycee.fr:587 (STARTTLS) ou smtps://prenom.nom@smtp.lycee.fr."
    try:
        parts = urllib.parse.urlsplit(text.strip())
        port = parts.port
    except ValueError:
        raise MailServerError(f"adresse de serveur illisible : « {text} ».", hint=hint) from None
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise MailServerError(f"adresse de serveur non reconnue : « {text} ».", hint=hint)
    if parts.password is not None:
        raise MailServerError(
            "le mot de passe ne doit pas figurer dans l'adresse du serveur.",
            hint="Retirez-le : il est demandé au lancement, ou lu dans la variable E2DOCS_SMTP_PASSWORD.",
        )
    user = urllib.parse.unquote(parts.username) if parts.username else None
    return SmtpUrl(parts.scheme, parts.hostname, port or (465 if parts.scheme == "smtps" else 587), user)


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (``localhost``, ``127.x.x.x``, ``::1``)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SmtpSession:
    """A connection to an SMTP server for a batch of messages: ``with SmtpSession(url, password) as
    smtp: smtp.send(msg, sender, recipient)``.

    Opening raises :class:`MailServerError` (in French) when the server is unreachable, offers no
    STARTTLS off the loopback, fails TLS, or refuses the login. :meth:`send` raises :class:`Refused`
    for a message the server refuses (the session stays usable) and :class:`MailServerError` when
    the connection is lost.
    """

    def __init__(self, url: SmtpUrl, password: str | None, *, timeout: float = TIMEOUT) -> None:
        self.url = url
        self.password = password
        self.timeout = timeout
        self.smtp: smtplib.SMTP | None = None
        self.encrypted = False

    def __enter__(self) -> SmtpSession:
        url = self.url
        where = f"{url.host}:{url.port}"
        context = ssl.create_default_context()
        try:
            if url.scheme == "smtps":
                self.smtp = smtplib.SMTP_SSL(url.host, url.port, timeout=self.timeout, context=context)
                self.encrypted = True
            else:
                self.smtp = smtplib.SMTP(url.host, url.port, timeout=self.timeout)
                self.smtp.ehlo()
                if self.smtp.has_extn("starttls"):
                    self.smtp.starttls(context=context)
                    self.smtp.ehlo()
                    self.encrypted = True
                elif not is_loopback(url.host):
                    raise MailServerError(
                        f"le serveur {where} ne propose pas de connexion chiffrée (STARTTLS) : rien n'a été envoyé.",
                        hint="Utilisez l'adresse smtps:// du serveur, ou le port qui propose STARTTLS (587 le plus "
                        "souvent) ; voyez les réglages de votre messagerie.",
                    )
            if url.user:
                if not self.password:
                    raise MailServerError(
                        f"mot de passe manquant pour {url.user} sur {where}.",
                        hint="Donnez-le quand il est demandé, ou dans la variable E2DOCS_SMTP_PASSWORD.",
                    )
                self.smtp.login(url.user, self.password)
        except MailServerError:
            self._close()
            raise
        except smtplib.SMTPNotSupportedError:
            self._close()
            raise MailServerError(
                f"le serveur {where} ne propose pas d'identification (AUTH) : rien n'a été envoyé.",
                hint="Retirez l'identifiant de l'adresse (smtp://serveur) si ce serveur n'en demande pas, ou "
                "utilisez l'adresse chiffrée du serveur (smtps://).",
            ) from None
        except smtplib.SMTPAuthenticationError:
            self._close()
            raise MailServerError(
                f"identifiant ou mot de passe refusé par le serveur {where} : rien n'a été envoyé.",
                hint="Vérifiez l'identifiant (dans l'adresse smtp://IDENTIFIANT@…) et le mot de passe.",
            ) from None
        except ssl.SSLCertVerificationError as exc:
            self._close()
            raise MailServerError(
                f"certificat du serveur {where} non reconnu ({exc.verify_message or exc.reason}) : rien n'a été "
                "envoyé.",
                hint="Vérifiez le nom du serveur dans l'adresse smtp://… ; si votre établissement a sa propre "
                "autorité de certification, donnez son fichier dans la variable SSL_CERT_FILE.",
            ) from None
        except ssl.SSLError as exc:
            self._close()
            raise MailServerError(
                f"connexion chiffrée au serveur {where} impossible ({exc.reason or exc}) : rien n'a été envoyé.",
                hint="Vérifiez l'adresse et le port du serveur (smtps:// : 465 ; smtp:// avec STARTTLS : 587).",
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            self._close()
            raise MailServerError(
                f"connexion au serveur {where} impossible ({_reason(exc)}) : rien n'a été envoyé.",
                hint="Vérifiez l'adresse et le port du serveur, et la connexion au réseau.",
            ) from None
        return self

    def send(self, msg: EmailMessage, sender: str, recipient: str) -> None:
        """Send ``msg`` from the address ``sender`` to ``recipient`` (the envelope); returns once the
        server has accepted it."""
        assert self.smtp is not None, "send() outside 'with'"
        try:
            refused = self.smtp.send_message(msg, from_addr=sender, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (0, b""))
            raise Refused(f"destinataire refusé par le serveur ({code} {_text(text)})") from None
        except smtplib.SMTPSenderRefused as exc:
            raise Refused(
                f"expéditeur {sender} refusé par le serveur ({exc.smtp_code} {_text(exc.smtp_error)})"
            ) from None
        except smtplib.SMTPDataError as exc:
            raise Refused(f"message refusé par le serveur ({exc.smtp_code} {_text(exc.smtp_error)})") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise MailServerError(
                f"connexion au serveur {self.url.host}:{self.url.port} perdue ({_reason(exc)}).",
                hint="Relancez la même commande : elle n'envoie que ce qui ne l'a pas été.",
            ) from None
        if refused:
            code, text = next(iter(refused.values()))
            raise Refused(f"destinataire refusé par le serveur ({code} {_text(text)})")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.smtp.quit()
        self._close()

    def _close(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(OSError):
                self.smtp.close()
            self.smtp = None


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _reason(exc: BaseException) -> str:
    """A connection failure in a few French words."""
    if isinstance(exc, ConnectionRefusedError):
        return "connexion refusée"
    if isinstance(exc, socket.timeout | TimeoutError):
        return "pas de réponse"
    if isinstance(exc, socket.gaierror):
        return "nom de serveur inconnu"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "le serveur a coupé la connexion"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return type(exc).__name__
