"""Turn what a secretariat receives into candidate workbooks: files, folders, .zip, .eml, .mbox.

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
and encoded-word file names); forwarded messages are searched too. Attachments
that are neither workbooks nor archives (signatures, PDF letters…) are ignored,
unless their name claims to be a workbook.

:func:`gather` does not depend on what is installed: .ods and .xls items are
yielded as such, and :func:`to_xlsx` converts them through LibreOffice, or raises
a :class:`~e2docs.errors.WorkbookError` telling the user to save as .xlsx.
"""

from __future__ import annotations

import datetime as dt
import io
import mailbox
import os
import re
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as email_policy
from pathlib import Path, PurePosixPath

from e2docs.formats import libreoffice, sniff
from e2docs.formats.libreoffice import available as libreoffice_available
from e2docs.formats.xlsx.safety import MAX_FILE_BYTES, SAVE_AS_XLSX, check_zip_members
from e2docs.model import french
from e2docs.model.errors import WorkbookError

__all__ = ["Item", "Refusal", "gather", "to_xlsx", "strict_to_xlsx", "libreoffice_available"]

MAX_INPUT_BYTES = 500 * 2**20  # loaded per top-level path
MAX_MESSAGE_BYTES = 50 * 2**20  # one e-mail (providers refuse bigger ones anyway)
MAX_DEPTH = 2  # containers opened one inside another
MAX_FORWARDS = 10  # forwarded messages nested one inside another
CONVERT_TIMEOUT = 120  # seconds for one LibreOffice conversion

SEP = " › "
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".zip")
_ZIPPED_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".ods")
_JUNK_NAMES = {"thumbs.db", "desktop.ini", "__macosx"}

# What users are told (French).
_NOT_WORKBOOK_HINT = (
    "Seuls les classeurs (.xlsx, .ods, .xls), les archives .zip et les messages .eml ou .mbox "
    "sont lus ; demandez la grille au format .xlsx."
)
_ASK_ARCHIVE_AGAIN = "Demandez un nouvel envoi de l'archive (le téléchargement a pu être interrompu)."
_ASK_FILE_AGAIN = "Demandez un nouvel envoi du fichier."
_PASSWORD_HINT = (
    "Demandez à l'expéditeur de retirer le mot de passe d'ouverture (Excel : Fichier › Informations "
    "› Protéger le classeur › Chiffrer avec mot de passe, puis effacer le mot de passe) "
    "et de renvoyer le fichier."
)
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


@dataclass(frozen=True)
class Refusal:
    """Something in the inputs that could not be used, with a French reason and what to do."""

    origin: str
    reason: str
    hint: str | None = None


@dataclass(frozen=True)
class _Context:
    """Where the walk is: how many containers deep, and which e-mail brought the bytes."""

    level: int = 0
    sender: str | None = None
    received_at: str | None = None

    def deeper(self) -> _Context:
        """The context inside one more container."""
        return replace(self, level=self.level + 1)


class _Exhausted(Exception):
    """The byte budget of a top-level path is spent."""


def gather(paths: Iterable[str | Path]) -> Iterator[Item | Refusal]:
    """Yield the workbooks found in ``paths`` (files, folders, archives, e-mails), and what was refused."""
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

    def path(self, path: Path, origin: str) -> Iterator[Item | Refusal]:
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

    def folder(self, folder: Path, origin: str) -> Iterator[Item | Refusal]:
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

    def file(self, path: Path, origin: str, size: int) -> Iterator[Item | Refusal]:
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
        cap = {"zip": MAX_INPUT_BYTES, "mbox": MAX_INPUT_BYTES, "eml": MAX_MESSAGE_BYTES}.get(kind, MAX_FILE_BYTES)
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

    def data(self, data: bytes, name: str, origin: str, ctx: _Context) -> Iterator[Item | Refusal]:
        """Bytes found in a container (or a whole file): recognise them and go on."""
        kind = sniff.head_kind(data[: sniff.HEAD_BYTES], name)
        if kind == "zip":
            yield from self.zip(data, name, origin, ctx, len(data))
        elif kind == "ole":
            yield _ole(data, name, origin, ctx)
        elif kind == "eml":
            if ctx.level >= MAX_DEPTH:
                yield _too_deep(origin)
            else:
                yield from self.message(_parse(data), origin, ctx.deeper())
        elif kind == "mbox":
            yield Refusal(
                origin,
                "boîte mail (.mbox) dans une archive ou un message : non ouverte.",
                "Extrayez-la, puis indiquez-la directement.",
            )
        else:
            yield _not_a_workbook(origin)

    # -- zips ------------------------------------------------------------------------------

    def zip(self, source: Path | bytes, name: str, origin: str, ctx: _Context, size: int) -> Iterator[Item | Refusal]:
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

    def members(self, zf: zipfile.ZipFile, origin: str, ctx: _Context) -> Iterator[Item | Refusal]:
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

    def mbox(self, path: Path, origin: str, ctx: _Context) -> Iterator[Item | Refusal]:
        """Every message of a mailbox, read one at a time."""
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
                yield from self.message(_parse(raw), where, ctx.deeper())
            if count == 0:
                yield Refusal(origin, "aucun message dans cette boîte mail.", "Vérifiez le fichier exporté.")
        except OSError as exc:
            yield _unreadable(origin, exc)
        finally:
            box.close()

    def message(self, msg: EmailMessage, origin: str, ctx: _Context) -> Iterator[Item | Refusal]:
        """The workbooks attached to an e-mail, or a refusal naming its sender and subject."""
        origin = f"{origin} {_describe(msg)}".rstrip()
        if ctx.sender is None and ctx.received_at is None:  # the message the secretariat received
            when = _date(msg)
            ctx = replace(ctx, sender=_header(msg, "From") or None, received_at=when.isoformat() if when else None)
        found = False
        for result in self.parts(msg, origin, ctx, 0):
            found = True
            yield result
        if not found:
            subject = _header(msg, "Subject")
            about = f" « {subject} »" if subject else ""
            sender = _address(msg)
            by = f" de {sender}" if sender else ""
            yield Refusal(
                origin,
                f"aucune pièce jointe de classeur dans le message{about}{by}.",
                "Demandez à l'expéditeur de renvoyer la grille remplie en pièce jointe (.xlsx).",
            )

    def parts(self, part: EmailMessage, origin: str, ctx: _Context, forwards: int) -> Iterator[Item | Refusal]:
        """Walk the parts of a message, forwarded messages included, and go on with the attachments."""
        if part.get_content_type() in ("message/rfc822", "message/global"):
            inner = part.get_payload()
            if not isinstance(inner, list) or not inner or forwards >= MAX_FORWARDS:
                return
            if isinstance(inner[0], EmailMessage):  # always, with the modern policy
                where = f"{origin}{SEP}message transféré {_describe(inner[0])}".rstrip()
                yield from self.parts(inner[0], where, ctx, forwards + 1)
        elif part.is_multipart():
            for sub in part.get_payload():
                if isinstance(sub, EmailMessage):
                    yield from self.parts(sub, origin, ctx, forwards)
        else:
            yield from self.attachment(part, origin, ctx)

    def attachment(self, part: EmailMessage, origin: str, ctx: _Context) -> Iterator[Item | Refusal]:
        """One leaf part: a workbook, an archive or an attached .eml goes on; bodies and the rest are ignored."""
        filename = _filename(part)
        if part.get_content_maintype() == "text" and not filename and not part.is_attachment():
            return  # the body of the message
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes) or not data:
            return
        if not _worth_a_look(data, filename):
            return
        name = _basename(filename)
        where = f"{origin}{SEP}pièce jointe {name or 'sans nom'}"
        cap = MAX_MESSAGE_BYTES if filename.lower().endswith(".eml") else MAX_FILE_BYTES
        if len(data) > cap:
            yield _too_big(where, len(data), cap)
        else:
            yield from self.data(data, name, where, ctx)


# -- recognising content ---------------------------------------------------------------------

_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, ValueError)


def _worth_a_look(data: bytes, filename: str) -> bool:
    """Whether an attachment may be a grid: a workbook, an archive, an .eml, or named like one of them.

    Cover letters (.docx, .doc, .pdf) and signature images are not, and are ignored.
    """
    if filename.lower().endswith(WORKBOOK_SUFFIXES + (".eml",)):
        return True
    kind = sniff.head_kind(data[: sniff.HEAD_BYTES], filename)
    if kind == "ole":
        return sniff.ole_kind(data) != "other"
    if kind == "zip":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                return sniff.zip_kind(zf) != "document"
        except _READ_ERRORS:
            return True  # damaged: said so when it is opened
    return False


def _ole(data: bytes, name: str, origin: str, ctx: _Context) -> Item | Refusal:
    """An OLE compound file: an .xls item, or a refusal."""
    kind = sniff.ole_kind(data)
    if kind == "encrypted":
        return Refusal(origin, "classeur protégé par un mot de passe à l'ouverture.", _PASSWORD_HINT)
    if kind == "xls":
        return _item(data, name, origin, "xls", ctx)
    return Refusal(origin, "document Office (Word, Outlook…) qui n'est pas un classeur.", _NOT_WORKBOOK_HINT)


def _item(data: bytes, name: str, origin: str, kind: str, ctx: _Context) -> Item:
    """An item, with a name even for attachments that came without one."""
    return Item(data, name or f"sans-nom.{kind}", origin, kind, ctx.received_at, ctx.sender)


# -- e-mail helpers ----------------------------------------------------------------------------


def _parse(raw: bytes) -> EmailMessage:
    """An e-mail parsed with the modern policy, which decodes RFC 2231 and encoded-word names."""
    return BytesParser(policy=email_policy).parsebytes(raw)


def _header(msg: EmailMessage, name: str) -> str:
    """A decoded header, or "" when missing or too broken to read."""
    try:
        value = msg.get(name)
        return " ".join(str(value).split()) if value is not None else ""
    except Exception:  # the email package can raise anything on a malformed header
        return ""


def _address(msg: EmailMessage) -> str:
    """The sender's bare address (prof@example.fr), else the raw From header."""
    try:
        addresses = msg["From"].addresses
        if addresses and addresses[0].addr_spec:
            return addresses[0].addr_spec
    except Exception:  # missing or malformed header
        pass
    return _header(msg, "From")


def _date(msg: EmailMessage) -> dt.datetime | None:
    """The Date header as a datetime, or None."""
    try:
        return msg["Date"].datetime
    except Exception:  # missing or malformed header
        return None


def _describe(msg: EmailMessage) -> str:
    """ "(de prof@example.fr, 12/03/2027)", with what the message tells; "" when it tells nothing."""
    bits = []
    if sender := _address(msg):
        bits.append(f"de {sender}")
    if when := _date(msg):
        bits.append(when.strftime("%d/%m/%Y"))
    return f"({', '.join(bits)})" if bits else ""


def _filename(part: EmailMessage) -> str:
    """The attachment's decoded file name, or ""."""
    try:
        return part.get_filename() or ""
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
