"""Text from outside (names, subjects, file and member names) made safe to show or to write.

What arrives by mail or in a roster may hold terminal escape sequences (``ESC[2K``,
``ESC]…``) that erase or forge lines, control characters (carriage return, backspace),
or bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE…) that show a name or a file
name backwards. One owner for what is removed: :func:`clean_display` for the terminal,
:func:`clean_filename_text` for file names, :func:`csv_cell` for CSV cells.
"""

from __future__ import annotations

import re

# Terminal escape sequences: CSI (ESC [ … final byte), OSC/DCS/APC/PM/SOS strings (ESC ] … BEL or
# ESC \), two-character escapes (ESC + one byte), and the C1 single-character CSI (U+009B …).
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[ -~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
)
# Bidirectional controls: embeddings and overrides, isolates, marks.
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
# Control characters other than tab and line feed (C0, DEL, C1), bidi controls, line and paragraph
# separators, zero-width no-break space (BOM) and zero-width space.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f" + BIDI + "\u2028\u2029\ufeff\u200b]")


def clean_display(text: str, multiline: bool = False) -> str:
    """``text`` as it may be printed: escape sequences, control and bidi characters removed; a tab
    becomes a space, and so does a line break unless ``multiline``."""
    text = _ESCAPES.sub("", text)
    text = text.replace("\r\n", "\n").replace("\t", " ")
    if not multiline:
        text = text.replace("\n", " ")
    return _CONTROLS.sub("", text)


def clean_filename_text(text: str) -> str:
    """``text`` without escape sequences, control or bidi characters (tabs and line breaks become
    spaces), before it becomes part of a file name."""
    return clean_display(text.replace("\r", " ").replace("\n", " "))


# Cells a spreadsheet would read as a formula (OWASP "CSV injection"): = + - @ tab, carriage return.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: str) -> str:
    """A text cell for a CSV file: prefixed with a single quote when it begins with ``= + - @``, a
    tab or a carriage return, so that Excel or LibreOffice shows it as text instead of running it
    as a formula (OWASP rule). "-Marie" is written "'-Marie"."""
    return "'" + text if text.startswith(_FORMULA_START) else text
