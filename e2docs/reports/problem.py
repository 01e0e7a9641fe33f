"""A problem found in a template, and the helpers that show where it is."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

# Severities, as shown to users.
ERROR, WARNING = "erreur", "avertissement"


@dataclass(frozen=True)
class Problem:
    """Something wrong (``erreur``) or doubtful (``avertissement``) in a template.

    ``message`` is French; ``paragraph`` quotes the paragraph concerned ("" when unknown);
    ``part`` names the Word part ("corps du document", "en-tête", "pied de page").
    """

    severity: str
    message: str
    paragraph: str = ""
    part: str = "corps du document"

    def __str__(self) -> str:
        where = f" — {self.part}, paragraphe « {self.paragraph} »" if self.paragraph else f" — {self.part}"
        return f"{self.severity.capitalize()}{where} : {self.message}"


def plain(xml_text: str) -> str:
    """The text of an XML fragment: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", xml_text))


def short(text: str, limit: int = 120) -> str:
    """``text`` with runs of blanks as one space, cut to ``limit`` characters (ending "…")."""
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def line_text(src: str, lineno: int | None, needle: str | None = None) -> str:
    """The text of the paragraph at ``lineno`` (1-based) of the prepared XML, shortened; with
    ``needle`` (a regex), only the part holding it (a ``{%tr`` tag stands alone between two
    paragraphs). "" when ``lineno`` is ``None``, 0 or past the end."""
    lines = src.split("\n")
    if not lineno or lineno > len(lines):
        return ""
    line = lines[lineno - 1]
    if needle:
        for piece in re.split(r"</w:p>", line):
            if re.search(needle, plain(piece)):
                return short(plain(piece))
    return short(plain(line))
