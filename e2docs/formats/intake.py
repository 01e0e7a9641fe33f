"""Turn what a secretariat receives into candidate workbooks: files, folders, .zip, .eml, .mbox, .msg.

:func:`gather` walks the paths it is given and yields, as it goes, one
:class:`Item` per workbook found and one :class:`Refusal` per thing that could
not be used, with a French reason. Nothing is extracted to disk and nothing is
trusted:

* the format is recognised from the content (magic bytes), the file name only
  breaks ties: an .xlsx is a zip holding ``xl/workbook.xml``, an .ods a zip whose
  ``mimetype`` says so, an .xls an OLE file holding a ``Workbook`` stream; an OLE
  file holding an ``EncryptedPackage`` stream is an .xlsx encrypted with an
  opening password, and is refused;
* every zip (archive, or workbook) has its directory checked with
  :func:`~e2docs.workbook.safety.check_zip_members` before any member is read;
  members are read into memory, each capped at ``MAX_FILE_BYTES``;
* containers (archives, e-mails) open at most ``MAX_DEPTH`` levels deep: a zip
  inside a zip, or a zip attached to an e-mail, is opened, one level further is not;
* each top-level path may load at most ``MAX_INPUT_BYTES``; past that the rest
  of that path is refused in one go;
* inside folders, files that systems and office suites leave behind (hidden
  files, ``~$`` and ``.~lock`` lock files) are skipped silently.

E-mails are parsed with :mod:`email` (``policy.default``, which decodes RFC 2231
and encoded-word file names); forwarded messages are searched too, whatever their
transfer encoding (some clients base64- or quoted-printable-encode a forwarded
``message/rfc822`` part, which the :mod:`email` package leaves unparsed), at most
``MAX_FORWARDS`` one inside another. Outlook's own formats are opened with
maintained libraries: a ``winmail.dat`` attachment (TNEF, Outlook's rich-text mail)
with tnefparse, a ``.msg`` file (a message saved by drag-and-drop) with extract-msg;
their attachments, and the messages embedded in them, are taken as those of an
e-mail. Attachments that are neither workbooks nor archives (signatures, PDF
letters…) are ignored, unless their name claims to be a workbook; an empty one
that claims to be a grid is refused as such.

Mail is read as mail clients write it: a header that is not valid (a raw 8-bit byte
in a From address) is shown with U+FFFD replacement characters; a message deleted
in a mailbox but still in the file (Thunderbird keeps it until the folder is
compacted: flag 0x0008 of ``X-Mozilla-Status``; a ``D`` in ``Status`` or
``X-Status``) is skipped (:class:`Skipped`); a message nested more than
``MAX_MIME_DEPTH`` parts deep is refused. Whatever the third-party parsers raise
on one message becomes a refusal of that message alone: the walk goes on.

:func:`gather` does not depend on what is installed: .ods and .xls items are
yielded as such, and :func:`to_xlsx` converts them through LibreOffice, or raises
a :class:`~e2docs.errors.WorkbookError` telling the user to save as .xlsx.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import mailbox
import os
import re
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as email_policy
from pathlib import Path, PurePosixPath

from e2docs.formats import libreoffice, sniff
from e2docs.formats.atomic import atomic_write
from e2docs.formats.libreoffice import available as libreoffice_available
from e2docs.formats.xlsx.safety import MAX_FILE_BYTES, SAVE_AS_XLSX, check_workbook_file, check_zip_members
from e2docs.model import french
from e2docs.model.errors import WorkbookError

__all__ = [
    "Item",
    "Refusal",
    "Skipped",
    "gather",
    "gather_message",
    "message_too_big",
    "to_xlsx",
    "strict_to_xlsx",
    "libreoffice_available",
]

# Outlook's format libraries log what they find odd; e2docs says it in French, or not at all.
for _library in ("tnefparse", "extract_msg"):
    logging.getLogger(_library).addHandler(logging.NullHandler())
    logging.getLogger(_library).propagate = False

MAX_INPUT_BYTES = 500 * 2**20  # loaded per top-level path
MAX_MESSAGE_BYTES = 50 * 2**20  # one e-mail (providers refuse bigger ones anyway)
MAX_DEPTH = 2  # containers opened one inside another
MAX_FORWARDS = 10  # forwarded messages nested one inside another
MAX_MIME_DEPTH = 50  # parts nested one inside another in one message (real mail: fewer than 10)
CONVERT_TIMEOUT = 120  # seconds for one LibreOffice conversion

SEP = " › "
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".zip")
_ZIPPED_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".ods")
_JUNK_NAMES = {"thumbs.db", "desktop.ini", "__macosx"}

# What users are told (French).
_NOT_WORKBOOK_HINT = (
    "Seuls les classeurs (.xlsx, .ods, .xls), les archives .zip et les messages (.eml, .mbox, "
    ".msg d'Outlook) sont lus ; demandez la grille au format .xlsx."
)
_ASK_ARCHIVE_AGAIN = "Demandez un nouvel envoi de l'archive (le téléchargement a pu être interrompu)."
_ASK_FILE_AGAIN = "Demandez un nouvel envoi du fichier."
_PASSWORD_HINT = (
    "Demandez à l'expéditeur de retirer le mot de passe d'ouverture (Excel : Fichier › Informations "
    "› Protéger le classeur › Chiffrer avec mot de passe, puis effacer le mot de passe) "
    "et de renvoyer le fichier."
)
_ASK_MAIL_AGAIN = "Demandez à l'expéditeur de renvoyer la grille remplie en pièce jointe (.xlsx)."
_NO_LIBREOFFICE = "LibreOffice n'est pas installé : ouvrez le fichier et enregistrez-le au format .xlsx."
_SAVE_AS_TRANSITIONAL = (
    "Ouvrez-le dans Excel et enregistrez-le au format Classeur Excel (*.xlsx) "
    "(Fichier › Enregistrer sous, type « Classeur Excel »)."
)


class ConversionError(WorkbookError):
    """A .ods/.xls could not be converted on this machine (LibreOffice missing, not started, failed,
    too slow): the file may be fine, and trying again later (LibreOffice installed…) may work."""


@dataclass(frozen=True)
class Item:
    """One candidate workbook found in the inputs."""

    data: bytes = field(repr=False)  # the original bytes, unchanged
    name: str  # file name as received (attachment, member or file base name)
    origin: str  # where it came from, in French: "retours.zip › LEBLANC.xlsx"
    kind: str  # "xlsx", "ods" or "xls"
    received_at: str | None = None  # ISO date-time of the e-mail that brought it (Date header)
    sender: str | None = None  # From header of that e-mail
    replies_to: tuple[str, ...] = ()  # Message-IDs that e-mail answers: In-Reply-To, then References newest first


@dataclass(frozen=True)
class Refusal:
    """Something in the inputs that could not be used, with a French reason and what to do."""

    origin: str
    reason: str
    hint: str | None = None


@dataclass(frozen=True)
class Skipped:
    """Something in the inputs deliberately left aside (a message deleted in its mailbox), with a French reason:
    not an error, nothing for the user to do."""

    origin: str
    reason: str


@dataclass(frozen=True)
class _Context:
    """Where the walk is: how many containers deep, and which e-mail brought the bytes."""

    level: int = 0
    sender: str | None = None
    received_at: str | None = None
    replies_to: tuple[str, ...] = ()

    def deeper(self) -> _Context:
        """The context inside one more container."""
        return replace(self, level=self.level + 1)


class _Exhausted(Exception):
    """The byte budget of a top-level path is spent."""


def gather_message(data: bytes, origin: str) -> Iterator[Item | Refusal | Skipped]:
    """Yield the workbooks found in one e-mail given as bytes (a message fetched from a mailbox
    server, ``origin`` saying which), and what was refused, exactly as for an ``.eml`` file given
    to :func:`gather` (same limits, forwards and Outlook attachments included)."""
    if len(data) > MAX_MESSAGE_BYTES:
        yield _too_big(origin, len(data), MAX_MESSAGE_BYTES)
        return
    walker = _Walker()
    try:
        walker.charge(len(data))
        yield from walker.message(_read_email(data, origin), _Context().deeper())
    except _Exhausted:
        yield Refusal(origin, f"plus de {french.data_size(MAX_INPUT_BYTES)} à lire : la suite n'a pas été lue.")


def message_too_big(origin: str, size: int) -> Refusal:
    """The refusal of an e-mail of ``size`` bytes, more than ``MAX_MESSAGE_BYTES`` (not read)."""
    return _too_big(origin, size, MAX_MESSAGE_BYTES)


def gather(paths: Iterable[str | Path]) -> Iterator[Item | Refusal | Skipped]:
    """Yield the workbooks found in ``paths`` (files, folders, archives, e-mails), what was refused, and the
    messages skipped because they were deleted in their mailbox."""
    for path in paths:
        walker = _Walker()
        try:
            yield from walker.path(Path(path), str(path))
        except _Exhausted:
            yield Refusal(
                str(path),
                f"plus de {french.data_size(MAX_INPUT_BYTES)} à lire : la suite n'a pas été lue.",
                "Traitez les envois en plusieurs fois (un dossier ou une archive à la fois).",
            )


class _Walker:
    """Walks one top-level path, counting the bytes it loads into memory."""

    def __init__(self) -> None:
        self.loaded = 0

    def charge(self, count: int) -> None:
        """Count ``count`` more bytes against the budget of this path."""
        self.loaded += count
        if self.loaded > MAX_INPUT_BYTES:
            raise _Exhausted

    # -- files and folders -------------------------------------------------------------------

    def path(self, path: Path, origin: str) -> Iterator[Item | Refusal | Skipped]:
        """A path given by the user or found in a folder."""
        try:
            stat = path.stat()
        except FileNotFoundError:
            yield Refusal(origin, "fichier introuvable.", "Vérifiez le chemin et l'orthographe du nom.")
            return
        except OSError as exc:
            yield _unreadable(origin, exc)
            return
        if path.is_dir():
            yield from self.folder(path, origin)
        elif not path.is_file():
            yield Refusal(origin, "ce n'est pas un fichier ordinaire.", _NOT_WORKBOOK_HINT)
        else:
            yield from self.file(path, origin, stat.st_size)

    def folder(self, folder: Path, origin: str) -> Iterator[Item | Refusal | Skipped]:
        """Every file of a folder and its subfolders, in name order; symbolic links to folders are not followed."""
        try:
            children = sorted(folder.iterdir(), key=lambda child: child.name)
        except OSError as exc:
            yield _unreadable(origin, exc, "dossier")
            return
        found = False
        for child in children:
            if _is_junk(child.name) or (child.is_symlink() and child.is_dir()):
                continue
            for result in self.path(child, os.path.join(origin, child.name)):
                found = True
                yield result
        if not found:
            yield Refusal(origin, "aucun classeur dans ce dossier.", "Vérifiez le dossier indiqué.")

    def file(self, path: Path, origin: str, size: int) -> Iterator[Item | Refusal | Skipped]:
        """A file on disk: zips and mailboxes are read in place, other files are loaded whole."""
        if size == 0:
            yield Refusal(origin, "fichier vide.", _ASK_FILE_AGAIN)
            return
        try:
            with path.open("rb") as fh:
                head = fh.read(sniff.HEAD_BYTES)
        except OSError as exc:
            yield _unreadable(origin, exc)
            return
        kind = sniff.head_kind(head, path.name)
        caps = {"zip": MAX_INPUT_BYTES, "mbox": MAX_INPUT_BYTES, "eml": MAX_MESSAGE_BYTES, "tnef": MAX_MESSAGE_BYTES}
        cap = caps.get(kind, MAX_FILE_BYTES)
        if kind == "ole" and path.suffix.lower() == ".msg":
            cap = MAX_MESSAGE_BYTES
        if kind == "other":
            yield _not_a_workbook(origin)
        elif size > cap:
            yield _too_big(origin, size, cap)
        elif kind == "zip":
            yield from self.zip(path, path.name, origin, _Context(), size)
        elif kind == "mbox":
            yield from self.mbox(path, origin, _Context())
        else:
            try:
                data = self.load(path, cap)
            except OSError as exc:
                yield _unreadable(origin, exc)
                return
            if data is None:
                yield _too_big(origin, max(size, cap + 1), cap)  # it grew since stat()
            else:
                yield from self.data(data, path.name, origin, _Context())

    def load(self, path: Path, cap: int) -> bytes | None:
        """The bytes of ``path``, or None when it holds more than ``cap`` bytes."""
        with path.open("rb") as fh:
            data = fh.read(cap + 1)
        if len(data) > cap:
            return None
        self.charge(len(data))
        return data

    # -- bytes of any kind -------------------------------------------------------------------

    def data(self, data: bytes, name: str, origin: str, ctx: _Context) -> Iterator[Item | Refusal | Skipped]:
        """Bytes found in a container (or a whole file): recognise them and go on."""
        kind = sniff.head_kind(data[: sniff.HEAD_BYTES], name)
        if kind == "zip":
            yield from self.zip(data, name, origin, ctx, len(data))
        elif kind == "ole":
            yield from self.ole(data, name, origin, ctx)
        elif kind == "tnef":
            yield from self.tnef(data, origin, ctx, 0)
        elif kind == "eml":
            if ctx.level >= MAX_DEPTH:
                yield _too_deep(origin)
            else:
                yield from self.message(_read_email(data, origin), ctx.deeper())
        elif kind == "mbox":
            yield Refusal(
                origin,
                "boîte mail (.mbox) dans une archive ou un message : non ouverte.",
                "Extrayez-la, puis indiquez-la directement.",
            )
        else:
            yield _not_a_workbook(origin)

    # -- zips ------------------------------------------------------------------------------

    def zip(
        self, source: Path | bytes, name: str, origin: str, ctx: _Context, size: int
    ) -> Iterator[Item | Refusal | Skipped]:
        """A zip, on disk or in memory: a workbook (.xlsx, .ods), another document, or an archive to open."""
        try:
            zf = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
        except (zipfile.BadZipFile, EOFError, OSError, ValueError):
            yield _damaged(origin, name)
            return
        with zf:
            try:
                what = "classeur" if name.lower().endswith(_ZIPPED_WORKBOOK_SUFFIXES) else "fichier zip"
                check_zip_members(zf, Path(name), what)
                kind = sniff.zip_kind(zf)
            except WorkbookError as exc:
                yield Refusal(origin, exc.message, exc.hint or _ASK_FILE_AGAIN)
                return
            except _READ_ERRORS:
                yield _damaged(origin, name)
                return
            if kind == "archive":
                if ctx.level >= MAX_DEPTH:
                    yield _too_deep(origin)
                else:
                    yield from self.members(zf, origin, ctx.deeper())
                return
        if kind not in ("xlsx", "ods"):
            yield _ZIP_REFUSALS[kind](origin)
        elif size > MAX_FILE_BYTES:
            yield _too_big(origin, size, MAX_FILE_BYTES)
        elif isinstance(source, bytes):
            yield _item(source, name, origin, kind, ctx)
        else:
            data = self.load(source, MAX_FILE_BYTES)
            yield _item(data, name, origin, kind, ctx) if data is not None else _too_big(origin, size, MAX_FILE_BYTES)

    def members(self, zf: zipfile.ZipFile, origin: str, ctx: _Context) -> Iterator[Item | Refusal | Skipped]:
        """Every member of an archive whose directory was checked, read into memory one at a time."""
        found = False
        for info in sorted(zf.infolist(), key=lambda info: info.filename):
            inner = _member_name(info)
            if info.is_dir() or any(_is_junk(part) for part in inner.split("/")):
                continue
            found = True
            where = origin + SEP + inner
            if info.file_size > MAX_FILE_BYTES:
                yield _too_big(where, info.file_size, MAX_FILE_BYTES)
                continue
            try:
                with zf.open(info) as fh:
                    data = fh.read(MAX_FILE_BYTES + 1)
            except NotImplementedError:
                yield Refusal(
                    where,
                    "méthode de compression non prise en charge.",
                    "Recréez l'archive avec l'outil de compression standard (format .zip).",
                )
                continue
            except _READ_ERRORS:
                yield _damaged(where, ".zip")
                continue
            if len(data) > MAX_FILE_BYTES:  # the directory lied about the size
                yield _too_big(where, len(data), MAX_FILE_BYTES)
                continue
            self.charge(len(data))
            yield from self.data(data, _basename(inner), where, ctx)
        if not found:
            yield Refusal(origin, "aucun classeur dans l'archive.", _ASK_ARCHIVE_AGAIN)

    # -- e-mails ---------------------------------------------------------------------------

    def mbox(self, path: Path, origin: str, ctx: _Context) -> Iterator[Item | Refusal | Skipped]:
        """Every message of a mailbox, read one at a time; messages deleted but still in the file are skipped."""
        try:
            box = mailbox.mbox(path, create=False)
        except (OSError, mailbox.Error) as exc:
            yield _unreadable(origin, exc)
            return
        try:
            count = 0
            for count, key in enumerate(box.iterkeys(), 1):
                where = f"{origin}{SEP}message {count}"
                with box.get_file(key) as fh:
                    raw = fh.read(MAX_MESSAGE_BYTES + 1)
                if len(raw) > MAX_MESSAGE_BYTES:
                    yield _too_big(where, len(raw), MAX_MESSAGE_BYTES)
                    continue
                self.charge(len(raw))
                mail = _read_email(raw, where)
                if isinstance(mail, _Mail) and mail.deleted:
                    yield Skipped(
                        mail.origin,
                        "message supprimé dans la boîte mail (encore dans le fichier tant que le dossier n'est "
                        "pas compacté) : non relevé.",
                    )
                else:
                    yield from self.message(mail, ctx.deeper())
            if count == 0:
                yield Refusal(origin, "aucun message dans cette boîte mail.", "Vérifiez le fichier exporté.")
        except OSError as exc:
            yield _unreadable(origin, exc)
        finally:
            box.close()

    def message(self, mail: _Mail | Refusal, ctx: _Context) -> Iterator[Item | Refusal | Skipped]:
        """The workbooks attached to a message read by :func:`_read_email` or :func:`_read_outlook`,
        or a refusal naming its sender and subject."""
        if isinstance(mail, Refusal):
            yield mail
            return
        if ctx.sender is None and ctx.received_at is None:  # the message the secretariat received
            ctx = replace(
                ctx,
                sender=mail.sender or None,
                received_at=mail.date.isoformat() if mail.date else None,
                replies_to=mail.replies_to,
            )
        found = False
        for part in mail.parts:
            for result in self.attachment(part, ctx):
                found = True
                yield result
        if not found:
            about = f" « {mail.subject} »" if mail.subject else ""
            by = f" de {mail.address}" if mail.address else ""
            yield Refusal(mail.origin, f"aucune pièce jointe de classeur dans le message{about}{by}.", _ASK_MAIL_AGAIN)

    def attachment(self, part: _Part, ctx: _Context) -> Iterator[Item | Refusal | Skipped]:
        """One attachment: a workbook, an archive, a message or a winmail.dat goes on; the rest is ignored."""
        name = _basename(part.name)
        where = f"{part.where}{SEP}pièce jointe {name or 'sans nom'}"
        if not part.data:
            if _claims_a_grid(part):
                yield Refusal(where, f"pièce jointe vide : {name or 'sans nom'}.", _ASK_MAIL_AGAIN)
            return
        if part.content_type == "application/ms-tnef" or name.lower() == "winmail.dat":
            yield from self.tnef(part.data, where, ctx, part.forwards)
            return
        if not _worth_a_look(part.data, part.name):
            return
        cap = MAX_MESSAGE_BYTES if name.lower().endswith((".eml", ".msg")) else MAX_FILE_BYTES
        if len(part.data) > cap:
            yield _too_big(where, len(part.data), cap)
        else:
            yield from self.data(part.data, name, where, ctx)

    # -- Outlook's formats -----------------------------------------------------------------

    def ole(self, data: bytes, name: str, origin: str, ctx: _Context) -> Iterator[Item | Refusal | Skipped]:
        """An OLE compound file: an .xls item, an Outlook message opened, or a refusal."""
        kind = sniff.ole_kind(data)
        if kind == "encrypted":
            yield Refusal(origin, "classeur protégé par un mot de passe à l'ouverture.", _PASSWORD_HINT)
        elif kind == "xls":
            yield _item(data, name, origin, "xls", ctx)
        elif kind == "msg" or name.lower().endswith(".msg"):  # a damaged .msg is said to be one
            if ctx.level >= MAX_DEPTH:
                yield _too_deep(origin)
            else:
                yield from self.message(_read_outlook(data, origin), ctx.deeper())
        else:
            yield Refusal(origin, "document Office (Word, PowerPoint…) qui n'est pas un classeur.", _NOT_WORKBOOK_HINT)

    def tnef(self, data: bytes, origin: str, ctx: _Context, forwards: int) -> Iterator[Item | Refusal | Skipped]:
        """Outlook's rich-text wrapper (winmail.dat): its attachments, as those of the message that carried it."""
        try:
            parts = _tnef_parts(data, origin, forwards)
        except Exception as exc:  # tnefparse raises anything on a damaged file
            yield Refusal(
                origin,
                f"pièce jointe winmail.dat d'Outlook illisible ({_error_name(exc)}).",
                "Demandez à l'expéditeur de renvoyer la grille en pièce jointe depuis un message au format "
                "HTML ou texte (Outlook : Format du texte › HTML).",
            )
            return
        found = False
        for part in parts:
            for result in self.attachment(part, ctx):
                found = True
                yield result
        if not found:
            yield Refusal(origin, "aucun classeur dans le fichier winmail.dat d'Outlook.", _ASK_MAIL_AGAIN)


# -- recognising content ---------------------------------------------------------------------

_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, ValueError)


def _worth_a_look(data: bytes, filename: str) -> bool:
    """Whether an attachment may be a grid: a workbook, an archive, an .eml, or named like one of them.

    Cover letters (.docx, .doc, .pdf) and signature images are not, and are ignored.
    """
    if filename.lower().endswith(WORKBOOK_SUFFIXES + (".eml", ".msg")):
        return True
    kind = sniff.head_kind(data[: sniff.HEAD_BYTES], filename)
    if kind == "tnef":
        return True
    if kind == "ole":
        return sniff.ole_kind(data) != "other"
    if kind == "zip":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                return sniff.zip_kind(zf) != "document"
        except _READ_ERRORS:
            return True  # damaged: said so when it is opened
    return False


def _item(data: bytes, name: str, origin: str, kind: str, ctx: _Context) -> Item:
    """An item, with a name even for attachments that came without one."""
    return Item(data, name or f"sans-nom.{kind}", origin, kind, ctx.received_at, ctx.sender, ctx.replies_to)


# -- e-mail helpers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Part:
    """One attachment taken out of a message by a third-party parser, before e2docs looks at it."""

    name: str  # decoded file name, "" when it came without one
    data: bytes = field(repr=False)  # decoded content, b"" for an empty attachment
    where: str  # the message (or forwarded message) that carried it, in French
    content_type: str = ""  # "application/ms-tnef"…, lower case; "" when unknown
    forwards: int = 0  # forwarded messages around it


@dataclass(frozen=True)
class _Mail:
    """A message read by a third-party parser: what e2docs shows of it, and its attachments."""

    origin: str  # where it came from, with its sender and date: "boite.mbox › message 2 (de a@b.fr, 12/03/2027)"
    sender: str  # the From header as received, "" when missing
    address: str  # the sender's bare address, else the From header, else ""
    subject: str
    date: dt.datetime | None
    parts: list[_Part]
    deleted: bool = False  # marked deleted in its mailbox (Thunderbird, mbox status flags)
    replies_to: tuple[str, ...] = ()  # see Item.replies_to


class _TooDeep(Exception):
    """A message nests more than ``MAX_MIME_DEPTH`` parts one inside another."""


class _EmailPart(EmailMessage):
    """A part as the e-mail parser builds it, except that a ``message/*`` part whose body is base64- or
    quoted-printable-encoded is kept as an encoded body (a forward as some clients write it, though
    RFC 2046 forbids it): the parser would otherwise read the encoded text as a message. Its body is
    decoded then parsed by :func:`_mail_parts`."""

    def get_content_maintype(self) -> str:
        maintype = super().get_content_maintype()
        if maintype == "message" and _encoded(self):
            return "application"
        return maintype


def _encoded(part: EmailMessage) -> bool:
    """Whether a part's body is base64- or quoted-printable-encoded."""
    encoding = part.get("Content-Transfer-Encoding")
    return encoding is not None and str(encoding).strip().lower() in ("base64", "quoted-printable")


def _parse(raw: bytes) -> EmailMessage:
    """An e-mail parsed with the modern policy, which decodes RFC 2231 and encoded-word names."""
    return BytesParser(_EmailPart, policy=email_policy).parsebytes(raw)


def _read_email(raw: bytes, origin: str) -> _Mail | Refusal:
    """An e-mail (RFC 5322 bytes) and its attachments, forwarded messages included, or a refusal of it:
    nested too deep, or anything else the :mod:`email` package raises on it."""
    try:
        msg = _parse(raw)
        where = f"{origin} {_describe(_address(msg), _date(msg))}".rstrip()
        return _Mail(
            where,
            _header(msg, "From"),
            _address(msg),
            _header(msg, "Subject"),
            _date(msg),
            _mail_parts(msg, where),
            _deleted(msg),
            _replies_to(_header(msg, "In-Reply-To"), _header(msg, "References")),
        )
    except (_TooDeep, RecursionError):
        return Refusal(
            origin,
            f"message imbriqué trop profondément (plus de {MAX_MIME_DEPTH} niveaux de parties) : non ouvert.",
            "Demandez à l'expéditeur de renvoyer la grille dans un nouveau message, en pièce jointe (.xlsx).",
        )
    except Exception as exc:  # the email package can raise anything on a malformed message
        return _unreadable_message(origin, exc)


def _mail_parts(msg: EmailMessage, origin: str) -> list[_Part]:
    """The attachments of ``msg`` in document order, those of forwarded messages (at most
    ``MAX_FORWARDS`` deep, whatever their transfer encoding) included; bodies are left out.
    Walks without recursion; raises :class:`_TooDeep` past ``MAX_MIME_DEPTH`` nested parts."""
    found: list[_Part] = []
    stack: list[tuple[EmailMessage, str, int, int]] = [(msg, origin, 0, 0)]  # part, where, forwards, depth
    while stack:
        part, where, forwards, depth = stack.pop()
        if depth > MAX_MIME_DEPTH:
            raise _TooDeep
        if part.get_content_type() in ("message/rfc822", "message/global"):
            if forwards >= MAX_FORWARDS:
                continue
            inner = part.get_payload()
            if isinstance(inner, list):
                inner = inner[0] if inner else None
            else:  # a forward in base64 or quoted-printable (see _EmailPart)
                body = part.get_payload(decode=True)
                inner = _parse(body) if isinstance(body, bytes) and body.strip() else None
            if isinstance(inner, EmailMessage):
                forwarded = f"{where}{SEP}message transféré {_describe(_address(inner), _date(inner))}".rstrip()
                stack.append((inner, forwarded, forwards + 1, depth + 1))
        elif part.is_multipart():
            subs = [sub for sub in part.get_payload() if isinstance(sub, EmailMessage)]
            stack.extend((sub, where, forwards, depth + 1) for sub in reversed(subs))
        else:
            filename = _filename(part)
            if part.get_content_maintype() == "text" and not filename and not part.is_attachment():
                continue  # the body of the message
            data = part.get_payload(decode=True)
            content = data if isinstance(data, bytes) else b""
            found.append(_Part(filename, content, where, part.get_content_type(), forwards))
    return found


def _read_outlook(data: bytes, origin: str) -> _Mail | Refusal:
    """An Outlook .msg file (read with extract-msg) and its attachments, embedded messages included,
    or a refusal of it when the library cannot read it."""
    import extract_msg  # imported here: it takes most of a second to import

    try:
        msg = extract_msg.openMsg(data, strict=False, delayAttachments=False)
    except Exception as exc:  # extract-msg raises many kinds of errors on damaged files
        return _unreadable_message(origin, exc, "message Outlook (.msg)")
    try:
        sender, date = _clean(msg.sender or "") if hasattr(msg, "sender") else "", _outlook_date(msg)
        where = f"{origin} {_describe(_bare(sender), date)}".rstrip()
        subject = _clean(" ".join(str(getattr(msg, "subject", "") or "").split()))
        replies = _replies_to(str(getattr(msg, "inReplyTo", None) or ""), _outlook_header(msg, "References"))
        return _Mail(where, sender, _bare(sender), subject, date, _outlook_parts(msg, where, 0), replies_to=replies)
    except Exception as exc:  # likewise, on a damaged attachment or property
        return _unreadable_message(origin, exc, "message Outlook (.msg)")
    finally:
        msg.close()


def _outlook_parts(msg: object, where: str, forwards: int) -> list[_Part]:
    """The attachments of an extract-msg message, those of embedded messages (at most ``MAX_FORWARDS``) included."""
    from extract_msg.enums import AttachmentType

    found: list[_Part] = []
    for attachment in getattr(msg, "attachments", []):
        name = _clean(attachment.longFilename or attachment.shortFilename or attachment.displayName or "")
        kind = attachment.type
        if kind in (AttachmentType.MSG, AttachmentType.SIGNED_EMBEDDED):
            inner = attachment.data
            if inner is not None and forwards < MAX_FORWARDS:
                sender = _clean(getattr(inner, "sender", None) or "")
                forwarded = f"{where}{SEP}message transféré {_describe(_bare(sender), _outlook_date(inner))}"
                found += _outlook_parts(inner, forwarded.rstrip(), forwards + 1)
        elif kind == AttachmentType.DATA:
            data = attachment.data
            mime = str(getattr(attachment, "mimetype", None) or "").lower()
            found.append(_Part(name, data if isinstance(data, bytes) else b"", where, mime, forwards))
    return found


def _outlook_header(msg: object, name: str) -> str:
    """A header of the internet message an Outlook .msg keeps (when it came from the internet), or ""."""
    try:
        header = getattr(msg, "header", None)
        value = header.get(name) if header is not None else None
    except Exception:  # extract-msg parses the stored headers lazily and may fail on them
        return ""
    return _clean(str(value)) if value else ""


def _outlook_date(msg: object) -> dt.datetime | None:
    """When an extract-msg message was sent, or None (Outlook writes 1601-01-01 for « never »)."""
    when = getattr(msg, "date", None)
    return when if isinstance(when, dt.datetime) and when.year > 1601 else None


def _tnef_parts(data: bytes, where: str, forwards: int) -> list[_Part]:
    """The attachments of a TNEF stream (winmail.dat, read with tnefparse), those of embedded messages
    (at most ``MAX_FORWARDS``) included. Raises whatever tnefparse raises on a damaged stream."""
    import tnefparse

    found: list[_Part] = []
    for attachment in tnefparse.TNEF(data, do_checksum=False).attachments:
        embedded = getattr(attachment, "embed", None)
        if embedded is not None:
            if forwards < MAX_FORWARDS:
                found += _tnef_parts(attachment.data, f"{where}{SEP}message transféré", forwards + 1)
            continue
        content = attachment.data if isinstance(attachment.data, bytes) else b""
        found.append(_Part(_tnef_name(attachment), content, where, "", forwards))
    return found


def _tnef_name(attachment: object) -> str:
    """A TNEF attachment's file name: its long name when Outlook wrote one, else its short name decoded with the
    stream's code page (tnefparse decodes it as UTF-8, which fails on « Théo » written in Windows-1252)."""
    from tnefparse.properties import MAPI_ATTACH_LONG_FILENAME

    for prop in getattr(attachment, "mapi_attrs", []):
        if prop.name == MAPI_ATTACH_LONG_FILENAME:
            value = prop.data
            return _clean(value if isinstance(value, str) else _decode(value, attachment))
    raw = getattr(attachment, "_name", b"")
    return _clean((raw if isinstance(raw, str) else _decode(raw, attachment)).strip("\x00"))


def _decode(raw: bytes, attachment: object) -> str:
    """Bytes of a TNEF stream decoded with its code page (Windows-1252 when unknown or not Python's)."""
    codepage = getattr(attachment, "codepage", None) or "cp1252"
    try:
        return raw.decode(codepage, errors="replace")
    except LookupError:
        return raw.decode("cp1252", errors="replace")


def _claims_a_grid(part: _Part) -> bool:
    """Whether an (empty) attachment says it is a grid: named like a workbook, an archive or a message,
    or typed as a spreadsheet, an archive or unknown binary content."""
    if part.name.lower().endswith(WORKBOOK_SUFFIXES + (".eml", ".msg")):
        return True
    return part.content_type.startswith(
        (
            "application/vnd.openxmlformats-officedocument.spreadsheetml",
            "application/vnd.ms-excel",
            "application/vnd.oasis.opendocument.spreadsheet",
            "application/zip",
            "application/x-zip",
            "application/octet-stream",
        )
    )


def _unreadable_message(origin: str, exc: BaseException, what: str = "message") -> Refusal:
    return Refusal(
        origin,
        f"{what} illisible ({_error_name(exc)}) : non ouvert.",
        "Demandez à l'expéditeur de renvoyer la grille dans un nouveau message, en pièce jointe (.xlsx).",
    )


def _error_name(exc: BaseException) -> str:
    """What went wrong, for a French message: the library's error type (its English text is left out)."""
    return f"erreur {type(exc).__name__}"


def _clean(text: str) -> str:
    """``text`` with every lone surrogate (a raw byte the e-mail package could not decode) replaced by U+FFFD,
    so that it can be shown, encoded and stored."""
    return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)


def _header(msg: EmailMessage, name: str) -> str:
    """A decoded header, undecodable bytes shown as U+FFFD, or "" when missing or too broken to read."""
    try:
        value = msg.get(name)
        return _clean(" ".join(str(value).split())) if value is not None else ""
    except Exception:  # the email package can raise anything on a malformed header
        return ""


def _address(msg: EmailMessage) -> str:
    """The sender's bare address (prof@example.fr), else the raw From header."""
    try:
        addresses = msg["From"].addresses
        if addresses and addresses[0].addr_spec:
            return _clean(addresses[0].addr_spec)
    except Exception:  # missing or malformed header
        pass
    return _header(msg, "From")


def _bare(sender: str) -> str:
    """The bare address of a From value ("Prof <prof@example.fr>" → "prof@example.fr"), else the value."""
    match = re.search(r"<([^<>\s]+@[^<>\s]+)>", sender)
    return match.group(1) if match else sender.strip()


def _date(msg: EmailMessage) -> dt.datetime | None:
    """The Date header as a datetime, or None."""
    try:
        value = msg["Date"].datetime
        return value if isinstance(value, dt.datetime) else None
    except Exception:  # missing or malformed header
        return None


_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


def _replies_to(in_reply_to: str, references: str) -> tuple[str, ...]:
    """The Message-IDs a message answers, the most likely first: those of In-Reply-To, then those of
    References from the newest (last) to the oldest; each once."""
    found = _MESSAGE_ID.findall(in_reply_to) + _MESSAGE_ID.findall(references)[::-1]
    return tuple(dict.fromkeys(found))


def _deleted(msg: EmailMessage) -> bool:
    """Whether a message of a mailbox is marked deleted: flag 0x0008 (expunged) of Thunderbird's
    ``X-Mozilla-Status``, or a ``D`` in the ``Status`` or ``X-Status`` header of other mbox clients."""
    try:
        if int(_header(msg, "X-Mozilla-Status") or "0", 16) & 0x0008:
            return True
    except ValueError:
        pass
    flags = (_header(msg, name) for name in ("Status", "X-Status"))
    return any(re.fullmatch(r"[A-Z]+", value) and "D" in value for value in flags)


def _describe(address: str, when: dt.datetime | None) -> str:
    """ "(de prof@example.fr, 12/03/2027)", with what the message tells; "" when it tells nothing."""
    bits = []
    if address:
        bits.append(f"de {address}")
    if when:
        bits.append(when.strftime("%d/%m/%Y"))
    return f"({', '.join(bits)})" if bits else ""


def _filename(part: EmailMessage) -> str:
    """The attachment's decoded file name, or ""."""
    try:
        return _clean(part.get_filename() or "")
    except Exception:  # malformed Content-Disposition
        return ""


# -- names and messages ---------------------------------------------------------------------


def _is_junk(name: str) -> bool:
    """Hidden files and what systems and office suites leave behind (.DS_Store, ~$ and .~lock files)."""
    return name.startswith((".", "~$")) or name.lower() in _JUNK_NAMES


def _basename(name: str) -> str:
    """The last part of a path written with / or \\, without control characters."""
    base = PurePosixPath(name.replace("\\", "/")).name
    return "".join(ch for ch in base if ch.isprintable())


def _member_name(info: zipfile.ZipInfo) -> str:
    """A member's name; names in UTF-8 without the zip's UTF-8 flag (some archivers) are decoded too."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except UnicodeError:
        return info.filename


def _unreadable(origin: str, exc: Exception, what: str = "fichier") -> Refusal:
    reason = getattr(exc, "strerror", None) or str(exc)
    return Refusal(origin, f"{what} illisible ({reason}).", "Vérifiez les droits d'accès au fichier.")


def _not_a_workbook(origin: str) -> Refusal:
    return Refusal(origin, "ce fichier n'est pas un classeur.", _NOT_WORKBOOK_HINT)


def _too_big(origin: str, size: int, cap: int) -> Refusal:
    return Refusal(
        origin,
        f"fichier trop volumineux ({french.data_size(size)} ; {french.data_size(cap)} au plus).",
        "Demandez la grille seule, au format .xlsx.",
    )


def _too_deep(origin: str) -> Refusal:
    return Refusal(
        origin,
        f"archive ou message imbriqué trop profondément (plus de {MAX_DEPTH} niveaux) : non ouvert.",
        "Envoyez les grilles dans une seule archive .zip, ou directement en pièces jointes.",
    )


def _damaged(origin: str, name: str) -> Refusal:
    """A zip that cannot be read: a workbook if its name says so, else an archive."""
    if name.lower().endswith(_ZIPPED_WORKBOOK_SUFFIXES):
        return Refusal(origin, "classeur endommagé ou tronqué.", _ASK_FILE_AGAIN)
    return Refusal(origin, "archive endommagée ou tronquée.", _ASK_ARCHIVE_AGAIN)


_ZIP_REFUSALS = {
    "ods-encrypted": lambda origin: Refusal(
        origin, "classeur protégé par un mot de passe à l'ouverture.", _PASSWORD_HINT
    ),
    "xlsb": lambda origin: Refusal(origin, "classeur au format binaire (.xlsb).", SAVE_AS_XLSX),
    "document": lambda origin: Refusal(
        origin, "document (Word, PowerPoint, OpenDocument…) qui n'est pas un classeur.", _NOT_WORKBOOK_HINT
    ),
}


# -- conversion --------------------------------------------------------------------------------


def to_xlsx(item: Item, workdir: Path) -> Path:
    """Write ``item`` as an .xlsx file in a new folder of ``workdir`` and return its path.

    .ods and .xls items are converted by LibreOffice, headless, with a profile of
    its own (so a LibreOffice the user has open is not disturbed), at most
    ``CONVERT_TIMEOUT`` seconds (see :mod:`e2docs.formats.libreoffice`).
    Raises :class:`ConversionError` (a :class:`WorkbookError`) when LibreOffice is missing, fails or
    overruns.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="classeur-", dir=workdir))
    target = folder / (_safe_stem(item.name) + ".xlsx")
    if item.kind == "xlsx":
        target.write_bytes(item.data)
        return target
    missing = ConversionError(
        _NO_LIBREOFFICE,
        item.origin,
        hint="Ou installez LibreOffice pour que la conversion soit automatique." + libreoffice.override_note(),
    )
    return _convert(item.data, item.kind, item.origin, folder, missing).replace(target)


def strict_to_xlsx(path: Path, workdir: Path) -> Path:
    """Convert ``path``, an .xlsx saved as Excel's "Strict Open XML Spreadsheet" (see
    :func:`e2docs.formats.sniff.is_strict_ooxml`), into an ordinary .xlsx in a new folder of ``workdir``
    and return its path; LibreOffice converts it as it does an .ods (same limits).

    Raises :class:`ConversionError` naming ``path`` when LibreOffice is missing (saying to save it as
    an ordinary Excel workbook), fails or overruns; :class:`OSError` when ``path`` cannot be read.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="classeur-", dir=workdir))
    missing = ConversionError(
        "classeur enregistré au format « Feuille de calcul Open XML Strict » d'Excel : il doit être converti, "
        "et LibreOffice, qui le convertit, n'est pas installé.",
        path,
        hint=_SAVE_AS_TRANSITIONAL
        + " Ou installez LibreOffice pour que la conversion soit automatique."
        + libreoffice.override_note(),
    )
    return _convert(path.read_bytes(), "xlsx", str(path), folder, missing, hint=_SAVE_AS_TRANSITIONAL)


CONVERTED_SUFFIX = "-converti.xlsx"


def kept_copy(stored: Path) -> Path:
    """Where the ordinary .xlsx converted from the archived return ``stored`` (``retours/<sha256>.<ext>``:
    an .ods, an .xls, a Strict .xlsx) is kept: beside it, ``retours/<sha256>-converti.xlsx``, addressed
    by the original's content as the original is (``<sha256>.*`` still names the original alone)."""
    return stored.with_name(stored.name.split(".", 1)[0] + CONVERTED_SUFFIX)


def kept_conversion(target: Path, convert: Callable[[Path], Path], workdir: Path | None = None) -> Path:
    """``target`` (see :func:`kept_copy`), converted once: when it already holds a sound ordinary .xlsx
    (it passes :func:`~e2docs.formats.xlsx.safety.check_workbook_file`, is not Strict and every member
    matches its checksum) it is returned as it is; otherwise ``convert(folder)`` (:func:`to_xlsx` or
    :func:`strict_to_xlsx` bound to the original) runs in a new folder of ``workdir`` (a temporary
    one when ``None``) and its result is written to ``target`` atomically (a missing or damaged copy
    is simply made again). :class:`ConversionError` passes through, nothing written; ``OSError``
    when ``target`` cannot be written."""
    if _sound_xlsx(target):
        return target
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="conversion-", dir=workdir) as work:
        made = convert(Path(work))
        atomic_write(target, made.read_bytes())
    return target


def _sound_xlsx(path: Path) -> bool:
    """Whether ``path`` is an ordinary .xlsx whose members all read back with their checksums."""
    if not path.is_file():
        return False
    try:
        check_workbook_file(path)
        with zipfile.ZipFile(path) as zf:
            return not sniff.is_strict_ooxml(zf) and zf.testzip() is None
    except (WorkbookError, OSError, zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, ValueError):
        return False


def _convert(
    data: bytes, suffix: str, origin: str | Path, folder: Path, missing: ConversionError, hint: str = SAVE_AS_XLSX
) -> Path:
    """Convert ``data`` (a workbook whose file name ends in ``.suffix``) into ``folder/source.xlsx`` with
    LibreOffice and return that path; ``missing`` is raised when LibreOffice is not found, other
    failures raise :class:`ConversionError` about ``origin`` with ``hint``."""
    soffice = libreoffice.find_soffice()
    if soffice is None:
        raise missing
    source = folder / "source" / f"source.{suffix}"
    source.parent.mkdir()
    source.write_bytes(data)
    try:
        done = libreoffice.convert([source], "xlsx:Calc MS Excel 2007 XML", folder, CONVERT_TIMEOUT, soffice=soffice)
    except libreoffice.LibreOfficeNotStarted as exc:
        raise ConversionError(exc.message, origin, hint=hint) from None
    except libreoffice.LibreOfficeTimeout:
        raise ConversionError(
            f"conversion en .xlsx trop longue (plus de {CONVERT_TIMEOUT} s) : abandonnée.", origin, hint=hint
        ) from None
    if done.returncode != 0:
        detail = done.last_error_line()
        tail = f" : {detail[:200]}" if detail else ""
        raise ConversionError(
            f"conversion en .xlsx impossible (LibreOffice, code {done.returncode}{tail}).", origin, hint=hint
        )
    converted = folder / "source.xlsx"
    if not converted.is_file() or converted.stat().st_size == 0:
        raise ConversionError("conversion en .xlsx impossible : LibreOffice n'a rien produit.", origin, hint=hint)
    return converted


def _safe_stem(name: str) -> str:
    """A file name stem safe on any system, from a name received from outside."""
    stem = re.sub(r"[^\w.-]+", "_", PurePosixPath(_basename(name)).stem).strip("._")
    return stem[:100] or "classeur"
