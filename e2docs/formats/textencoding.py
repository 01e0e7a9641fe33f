"""Decode a list saved as text (candidates, examiners), or refuse to guess.

Spreadsheets save "CSV" in many encodings: UTF-8 (with or without a byte order
mark), UTF-16 (Excel's « Texte Unicode », with or without one), Windows-1252
(Excel for Windows, older Cyclades exports) and Mac Roman (Excel for Mac). Byte
order marks and UTF-16's zero bytes tell themselves; UTF-8 is recognised by its
strict structure. Windows-1252 and Mac Roman cannot be told apart by the bytes
alone (every byte means something in both), so each reading is judged on what a
French class list holds: accented letters of French names, in a case that fits
their word (« Léa », « LÉA »), and a few signs (« N° », « ’ »). Bytes 8E, 91, 83
read as Windows-1252 give « LŽa », « Ma‘l », « ƒlo•se »; as Mac Roman « Léa »,
« Maël », « Éloïse ».

A reading is taken only when it is plausible everywhere and the other one is not;
otherwise the caller's error (:class:`~e2docs.model.errors.RosterError` by default)
names the file and the first line in doubt, and says how to save the list in UTF-8
(or to force the encoding).

charset-normalizer was tried and not kept: on the Mac Roman list of the field
cases it answers Windows-1252, the very mistake this module exists to avoid (the
two readings have no "chaos" for it).
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from e2docs.formats import sniff
from e2docs.model.errors import E2docsError, Place, RosterError

ENCODINGS: dict[str, tuple[str, str]] = {
    "utf-8": ("utf-8", "UTF-8"),
    "utf-16le": ("utf-16-le", "UTF-16 LE"),
    "utf-16be": ("utf-16-be", "UTF-16 BE"),
    "windows-1252": ("cp1252", "Windows-1252"),
    "mac-roman": ("mac_roman", "Mac Roman"),
}
"""The encodings ``--encoding`` accepts: its value → (Python codec, name shown to the user)."""

_LABELS = {"utf-8": "UTF-8", "cp1252": "Windows-1252", "mac-roman": "Mac Roman", "utf-16": "UTF-16"}
_SINGLE_BYTE = (("cp1252", "Windows-1252"), ("mac_roman", "Mac Roman"))
_BOMS = (
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 LE"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 BE"),
)

HINT = (
    "Enregistrez la liste en « CSV UTF-8 » depuis votre tableur (Excel : Fichier › Enregistrer sous › "
    "« CSV UTF-8 (délimité par des virgules) » ; LibreOffice : Enregistrer sous › CSV, jeu de caractères "
    "« Unicode (UTF-8) »), ou indiquez l'encodage avec --encoding (utf-8, utf-16le, utf-16be, "
    "windows-1252, mac-roman)."
)

# Letters of French names. Others of the Latin alphabet (ñ, ø, ß…) are plausible but prove nothing.
_FRENCH = set("àâäçéèêëîïôöùûüÿœæ") | set("ÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸŒÆ")
_WORD_FINAL = set("àÀùÙ")  # « à », « déjà », « où »: never inside a word
_AFTER_OE = set("uiedlncsUIEDLNCS")  # « cœur », « œil », « Œdipe », « cœlacanthe », « œnologie »…
# Signs a list may hold: « N° » and a no-break space (« Nom : ») anywhere but inside a word; quotes
# around words; guillemets, dashes, ellipsis, the euro only apart from letters (« JOS… » is « JOSÉ »).
_INSIDE_NEVER = set("°ªº²\u00a0‘“”")
_APART = set("«»–—…€·")
_APOSTROPHE = "’"  # inside a name too: « N’Diaye »
# Bytes both readings turn into the same character (¢ £ © ± µ): no evidence either way.
_SAME_IN_BOTH = frozenset(
    byte
    for byte in range(0x80, 0x100)
    if bytes([byte]).decode("cp1252", "replace") == bytes([byte]).decode("mac_roman")
)
_C1_CONTROL = re.compile("[\u0080-\u009f]")
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


@dataclass(frozen=True)
class Decoded:
    """A text file decoded: its ``text`` (no byte order mark) and the encoding's name, as shown to users
    (« UTF-8 », « Mac Roman »…)."""

    text: str
    encoding: str


def decode(
    path: Path,
    data: bytes,
    forced: str | None = None,
    declared: str | None = None,
    error: type[E2docsError] = RosterError,
) -> Decoded:
    """Decode ``data``, the bytes of the list at ``path`` (named in errors).

    ``forced`` is a key of :data:`ENCODINGS` (the user's ``--encoding``); ``declared`` a Python
    codec a web page names in its ``<meta charset>``: used when the bytes are not UTF-8 and fit
    it; for Windows-1252 or Mac Roman, only to settle a doubt between the two. Without either,
    the encoding is recognised as the module says. Raises ``error`` (:class:`RosterError` by
    default) with the first line in doubt when the bytes do not fit the forced encoding, or when
    no reading is clearly right.
    """
    if forced is not None:
        codec, label = ENCODINGS[forced]
        return Decoded(_strict(path, data, codec, label, error).removeprefix("\ufeff"), label)
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            return Decoded(_strict(path, data[len(bom) :], codec, label, error), label)
    order = sniff.utf16_order(data)
    if order is not None:
        label = "UTF-16 LE" if order == "utf-16-le" else "UTF-16 BE"
        return Decoded(_strict(path, data, order, label, error), label)
    try:
        text = data.decode("utf-8")  # strict: other encodings almost never pass…
    except UnicodeDecodeError as exc:
        utf8_error = exc.start
    else:
        control = _C1_CONTROL.search(text)  # … and when they do, it is mostly into C1 controls
        if control is None:
            return Decoded(text, "UTF-8")
        utf8_error = len(text[: control.start()].encode("utf-8"))
    single_byte = {codecs.lookup(codec).name: codec for codec, _ in _SINGLE_BYTE}
    if declared is not None and codecs.lookup(declared).name not in single_byte:
        try:
            return Decoded(data.decode(declared), _LABELS.get(declared, declared))
        except UnicodeDecodeError:
            pass  # the page does not hold what it says: judge the bytes
    prefer = single_byte.get(codecs.lookup(declared).name) if declared is not None else None
    return _single_byte(path, data, utf8_error, prefer, error)


def _strict(path: Path, data: bytes, codec: str, label: str, error: type[E2docsError]) -> str:
    """``data`` decoded with ``codec``, or a refusal (``error``) at the line of the first byte that does not fit."""
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise error(
            f"caractères illisibles : le fichier n'est pas en {label} comme il l'annonce ou comme indiqué.",
            path=path,
            place=Place(line=_line(data, exc.start, codec)),
            hint=HINT,
        ) from None


def _line(data: bytes, offset: int, codec: str) -> int:
    """The line (from 1) holding the byte at ``offset``."""
    return data[:offset].decode(codec, "replace").count("\n") + 1


@dataclass(frozen=True)
class _Reading:
    """One single-byte reading of the file and what is wrong with it: the offsets (equal to byte
    offsets, one byte being one character) of the implausible characters; ``None`` text when
    some byte means nothing in this encoding."""

    codec: str
    label: str
    text: str | None
    bad: tuple[int, ...]
    undefined_at: int | None = None


def _read_as(data: bytes, codec: str, label: str) -> _Reading:
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        return _Reading(codec, label, None, (), exc.start)
    bad = tuple(
        i
        for i, char in enumerate(text)
        if ord(char) > 0x7F and data[i] not in _SAME_IN_BOTH and not _plausible(text, i)
    )
    return _Reading(codec, label, text, bad)


def _single_byte(path: Path, data: bytes, utf8_error: int, prefer: str | None, error: type[E2docsError]) -> Decoded:
    """Windows-1252 or Mac Roman, when one reading is plausible everywhere and the other is not;
    ``prefer`` (a codec a web page declares) settles the case where both are. ``utf8_error``: the
    offset of the first byte that is not UTF-8 text. Raises ``error`` otherwise."""
    readings = [_read_as(data, codec, label) for codec, label in _SINGLE_BYTE]
    fine = [r for r in readings if r.text is not None and not r.bad]
    if len(fine) > 1 and prefer is not None:
        fine = [r for r in fine if r.codec == prefer] or fine
    if fine and fine[0].text is not None and all(r.text == fine[0].text for r in fine):
        return Decoded(fine[0].text, fine[0].label)  # one plausible reading, or two that agree
    if not fine and _UTF8_SEQUENCE.search(data):
        # Mostly UTF-8 with a stray byte: a list pasted together from two files, or edited badly.
        raise error(
            "caractères illisibles : le fichier est en UTF-8 mais contient des octets d'un autre encodage.",
            path=path,
            place=Place(line=_line(data, utf8_error, "utf-8")),
            hint=HINT,
        )
    if fine:  # both readings plausible: show what each would give at the first place they differ
        first = min(i for i, byte in enumerate(data) if byte > 0x7F and byte not in _SAME_IN_BOTH)
        words = " ou ".join(f"« {_word(r.text or '', first)} » ({r.label})" for r in fine)
        raise error(
            f"encodage incertain : ce texte se lit {words} ; e2docs ne devine pas.",
            path=path,
            place=Place(line=_line(data, first, "latin-1")),
            hint=HINT,
        )
    decodable = [r for r in readings if r.text is not None]
    best = min(decodable, key=lambda r: len(r.bad))  # Mac Roman decodes every byte: never empty
    first = best.bad[0]
    raise error(
        f"encodage non reconnu : « {_word(best.text or '', first)} » n'est un nom plausible ni en UTF-8, "
        "ni en Windows-1252, ni en Mac Roman.",
        path=path,
        place=Place(line=_line(data, first, "latin-1")),
        hint=HINT,
    )


def _word(text: str, index: int) -> str:
    """The word around ``text[index]`` (letters and the character itself), for a message."""
    start = index
    while start > 0 and not text[start - 1].isspace() and text[start - 1] not in ";,\t\"'":
        start -= 1
    end = index + 1
    while end < len(text) and not text[end].isspace() and text[end] not in ";,\t\"'":
        end += 1
    return text[start:end][:40]


def _plausible(text: str, index: int) -> bool:
    """Whether the non-ASCII ``text[index]`` fits a French class list where it stands."""
    char = text[index]
    before = text[index - 1] if index > 0 else ""
    after = text[index + 1] if index + 1 < len(text) else ""
    if char == _APOSTROPHE:
        return True
    if char in "‘“" and before.isalpha():
        return False  # an opening quote right after a letter: « Zo‘ » is « Zoë »
    if char == "”" and after.isalpha():
        return False
    if char in _INSIDE_NEVER:
        return not (before.isalpha() and after.isalpha())  # « Ma‘l »
    if char in _APART:
        return not (before.isalpha() or after.isalpha())  # « MA€L », « JOS… »
    if char == "ƒ" or not char.isalpha() or not unicodedata.name(char, "").startswith("LATIN"):
        return False  # symbols (•, √, ∞), the florin sign, Greek letters of Mac Roman (π, Ω, µ)
    if not _case_fits(text, index):
        return False
    if char in _WORD_FINAL and after.isalpha():
        return False
    return not (char in "œŒ" and after not in _AFTER_OE)


def _case_fits(text: str, index: int) -> bool:
    """Whether a letter's case fits its word: no capital inside a lowercase word (« LŽa », « JÈrÙme »),
    no small letter inside a capitalised one (« NíDIAYE ») nor between two capitals (« NíDiaye »)."""
    char = text[index]
    start = index
    while start > 0 and text[start - 1].isalpha():
        start -= 1
    end = index + 1
    while end < len(text) and text[end].isalpha():
        end += 1
    others = text[start:index] + text[index + 1 : end]
    if char.isupper():
        previous_small = index > start and text[index - 1].islower()
        next_small = index + 1 < end and text[index + 1].islower()
        return index == start or not (previous_small or next_small)
    if char.islower():
        if index - start > 0 and index + 1 < end and text[index - 1].isupper() and text[index + 1].isupper():
            return False  # « NíDiaye »
        capitals = sum(1 for other in others if other.isupper())
        return not (capitals >= 2 and not any(other.islower() for other in others))
    return True
