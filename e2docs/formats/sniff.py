"""What a file is, from its first bytes and, for containers, their directory.

The one place that knows the signatures: a zip (``.xlsx``, ``.ods``, ``.docx``,
``.zip``), an OLE compound file (``.xls``, an ``.xlsx`` with an opening password,
an Outlook ``.msg`` message, Word files), Outlook's ``winmail.dat`` (TNEF), a
mailbox or an e-mail, a web page or an Excel 2003 XML workbook saved under an
``.xls`` name. File names only break ties: a teacher's attachment is often
misnamed.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from io import BytesIO
from pathlib import PurePosixPath
from typing import Literal

import olefile
from defusedxml import ElementTree

ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header, or the end record of an empty zip
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
STRICT_MAIN_NS = "http://purl.oclc.org/ooxml/spreadsheetml/main"
"""The main namespace of a workbook saved as Excel's "Strict Open XML Spreadsheet" (ECMA-376 Part 1 Strict)."""
TNEF_MAGIC = b"\x78\x9f\x3e\x22"  # 0x223E9F78, little-endian: Outlook's rich-text wrapper (winmail.dat)
HEAD_BYTES = 4096
"""How many leading bytes :func:`head_kind` needs."""

_HEADER_LINE = re.compile(
    rb"(?:return-path|received|from|to|cc|subject|date|message-id|mime-version|delivered-to|"
    rb"reply-to|sender|content-type|dkim-signature|authentication-results|arc-[a-z-]+|"
    rb"x-[a-z0-9-]+|thread-topic|thread-index|user-agent|in-reply-to|references|importance)"
    rb"[ \t]*:",
    re.IGNORECASE,
)

HeadKind = Literal["zip", "ole", "tnef", "mbox", "eml", "other"]
ZipKind = Literal["xlsx", "ods", "ods-encrypted", "xlsb", "document", "archive"]
OleKind = Literal["encrypted", "xls", "msg", "other"]
MarkupKind = Literal["html", "spreadsheet-xml"]

_SPREADSHEET_XML_NS = "urn:schemas-microsoft-com:office:spreadsheet"
_HTML_TAG = re.compile(r"<(?:!doctype\s+html|html|head|body|meta|table|style|title)\b")
_CHARSET = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def is_zip(head: bytes) -> bool:
    """Whether ``head`` (the first bytes of a file) starts a zip archive."""
    return head.startswith(ZIP_MAGICS)


def is_ole(head: bytes) -> bool:
    """Whether ``head`` starts an OLE compound file (``.xls``, password-protected ``.xlsx``, ``.doc``, ``.msg``)."""
    return head.startswith(OLE_MAGIC)


def head_kind(head: bytes, name: str) -> HeadKind:
    """What the first bytes (up to :data:`HEAD_BYTES`) say; the file ``name`` only breaks ties."""
    if is_zip(head):
        return "zip"
    if is_ole(head):
        return "ole"
    if head.startswith(TNEF_MAGIC):
        return "tnef"
    if head.startswith(b"From "):
        return "mbox"
    if _HEADER_LINE.match(head):
        return "eml"
    suffix = PurePosixPath(name.lower()).suffix
    if suffix == ".eml":
        return "eml"
    if suffix == ".mbox":
        return "mbox"
    return "other"


def zip_kind(zf: zipfile.ZipFile) -> ZipKind:
    """What an open zip holds: a workbook (``xlsx``, ``xlsb``, ``ods``, ``ods-encrypted``), another
    office ``document`` (Word, OpenDocument text…) or a plain ``archive``. Reads at most 1 MB."""
    names = set(zf.namelist())
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "xl/workbook.bin" in names:
        return "xlsb"
    if "mimetype" in names:
        if not small_member(zf, "mimetype", 200).strip().startswith(ODS_MIMETYPE):
            return "document"
        encrypted = b"encryption-data" in small_member(zf, "META-INF/manifest.xml", 2**20)
        return "ods-encrypted" if encrypted else "ods"
    if "[Content_Types].xml" in names:
        return "document"
    return "archive"


def is_strict_ooxml(zf: zipfile.ZipFile) -> bool:
    """Whether an .xlsx (a zip holding ``xl/workbook.xml``, its directory already checked) is written in
    Strict Open XML: the root element of its workbook part in the :data:`STRICT_MAIN_NS` namespace.
    openpyxl reads such a file as a workbook without sheets. Parses only up to that root element;
    a missing or unparsable workbook part is not Strict (the reader then says what is wrong)."""
    try:
        with zf.open("xl/workbook.xml") as fh:
            for _event, element in ElementTree.iterparse(fh, events=("start",)):
                return is_strict_root(element.tag)
    except (KeyError, ValueError, SyntaxError, OSError, zipfile.BadZipFile):  # XML ParseError is a SyntaxError
        return False
    return False


def is_strict_root(tag: str) -> bool:
    """Whether a workbook part whose root element has ``tag`` (``{namespace}name``, as ElementTree and
    lxml give it) is written in Strict Open XML (the rule of :func:`is_strict_ooxml`, for a reader that
    has parsed the part already)."""
    return tag.startswith("{" + STRICT_MAIN_NS + "}")


def small_member(zf: zipfile.ZipFile, name: str, cap: int) -> bytes:
    """A small member's bytes, or ``b""`` when it is missing or bigger than ``cap`` bytes
    (safe on archives whose sizes were not checked yet)."""
    try:
        info = zf.getinfo(name)
    except KeyError:
        return b""
    if info.file_size > cap:
        return b""
    with zf.open(info) as fh:
        return fh.read(cap)


def ole_kind(data: bytes) -> OleKind:
    """What an OLE compound file holds: ``encrypted`` (an .xlsx with an opening password), ``xls``,
    ``msg`` (an Outlook message saved by drag-and-drop) or ``other``.

    The names at the root of the file's directory tell them apart (read with olefile): an .xls
    has a ``Workbook`` (or ``Book``) stream, an encrypted .xlsx an ``EncryptedPackage`` stream,
    a .msg a ``__properties_version1.0`` stream beside ``__substg1.0_*`` property streams (its
    attachments are deeper, so a .msg carrying an .xls is still a .msg). A directory olefile
    cannot read falls back on looking for those names (stored in UTF-16LE) in the bytes.
    """
    try:
        with olefile.OleFileIO(BytesIO(data)) as ole:
            roots = {entry[0] for entry in ole.listdir(streams=True, storages=True)}
    except Exception:  # olefile raises various errors on a damaged directory: look at the bytes instead
        return _ole_kind_from_bytes(data)
    if "EncryptedPackage" in roots:
        return "encrypted"
    if roots & {"Workbook", "Book"}:
        return "xls"
    if "__properties_version1.0" in roots and any(name.startswith("__substg1.0_") for name in roots):
        return "msg"
    return "other"


def _ole_kind_from_bytes(data: bytes) -> OleKind:
    """:func:`ole_kind` for a file whose directory cannot be read: the stream names found anywhere."""
    if "EncryptedPackage".encode("utf-16-le") in data:
        return "encrypted"
    if "__substg1.0_".encode("utf-16-le") in data:
        return "msg"
    if any(stream.encode("utf-16-le") in data for stream in ("Workbook", "Book")):
        return "xls"
    return "other"


def utf16_order(data: bytes) -> str | None:
    """``"utf-16-le"`` or ``"utf-16-be"`` when ``data`` (without a byte order mark) looks like UTF-16
    text: mostly Latin text has a zero byte at every other place, on one side only; else ``None``."""
    sample = data[:HEAD_BYTES]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) >= 0.3 * len(odd) and even.count(0) == 0:
        return "utf-16-le"
    if even.count(0) >= 0.3 * len(even) and odd.count(0) == 0:
        return "utf-16-be"
    return None


def _head_text(head: bytes) -> str:
    """The first bytes as text, good enough to recognise tags (UTF-16 or any ASCII-based encoding)."""
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if head.startswith(bom):
            return head[len(bom) :].decode(codec, "replace")
    order = utf16_order(head)
    if order:
        return head.decode(order, "replace")
    return head.removeprefix(codecs.BOM_UTF8).decode("latin-1")


def markup_kind(head: bytes) -> MarkupKind | None:
    """What a text file that starts with a tag is: a web page (``html``: what web exports saved as
    ``.xls`` are, and Excel's « Page Web »), an Excel 2003 XML workbook (``spreadsheet-xml``), or
    ``None`` for anything else (a CSV). ``head``: the first bytes (up to :data:`HEAD_BYTES`)."""
    text = _head_text(head[:HEAD_BYTES]).lstrip().lower()
    if not text.startswith("<"):
        return None
    if _SPREADSHEET_XML_NS in text and "<workbook" in text and "<html" not in text:
        return "spreadsheet-xml"
    if _HTML_TAG.search(text):
        return "html"
    return None


def declared_charset(head: bytes) -> str | None:
    """The Python codec a web page declares in its ``<meta … charset=…>`` (``None`` when none or
    unknown); ISO-8859-1 and ASCII count as Windows-1252, as browsers read them."""
    match = _CHARSET.search(head[:HEAD_BYTES])
    if not match:
        return None
    try:
        name = codecs.lookup(match[1].decode("ascii")).name
    except (LookupError, UnicodeDecodeError):
        return None
    return "cp1252" if name in ("latin-1", "iso8859-1", "ascii") else name
