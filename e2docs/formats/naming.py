"""File names for candidates' workbooks and documents, safe on Windows, macOS and Linux."""

from __future__ import annotations

import re
import unicodedata

from e2docs.model.candidate import Candidate
from e2docs.model.text import clean_filename_text

_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_RESERVED: set[str] = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}


def safe_part(text: str, limit: int = 60) -> str:
    """One part of a file name: no separators or reserved characters, no terminal escapes, control
    or bidirectional characters (a right-to-left override), spaces as hyphens, accents kept (NFC),
    no leading/trailing dots, at most ``limit`` characters."""
    text = clean_filename_text(text)  # escapes, control and bidi characters go; tabs, line breaks: spaces
    text = _FORBIDDEN.sub("", text)  # …other control and reserved characters go
    text = unicodedata.normalize("NFC", re.sub(r"\s+", "-", text.strip()))
    text = text.replace("_", "-")
    text = re.sub(r"-{2,}", "-", text)[:limit].strip(".- ")
    if text.upper() in _RESERVED:
        text = f"{text}-"
    return text


def candidate_stem(cand: Candidate, specialty: str) -> str:
    """``NOM_Prénom_31214_<numéro>``: the naming schools already use for exchanged files.

    A stem, without extension; ``specialty`` is the specialty code (cut to 10
    characters), the candidate number is cut to 20. An empty name part becomes
    "SANS-NOM"/"SANS-PRENOM"; an empty specialty or number is left out.
    """
    parts = [
        safe_part(cand.last_name) or "SANS-NOM",
        safe_part(cand.first_name) or "SANS-PRENOM",
        safe_part(specialty, 10),
        safe_part(cand.number, 20),
    ]
    return "_".join(p for p in parts if p)
