"""A candidate as the rest of e2docs sees it, whatever list it came from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    """One pupil sitting the épreuve.

    ``number`` is the exam-system candidate number (Cyclades "N° Candidat"), kept
    as text so leading zeros survive. ``birth_date`` is ``None`` when the list
    does not give it; ``division`` is the class name without Cyclades' quotes.
    """

    number: str
    last_name: str
    first_name: str
    division: str = ""
    birth_date: dt.date | None = None
    ine: str = ""
    specialty: str = ""

    @property
    def full_name(self) -> str:
        """ "NOM Prénom", the way French school documents write a name."""
        return f"{self.last_name} {self.first_name}".strip()


@dataclass(frozen=True)
class Context:
    """What the school adds to every workbook and document of a class (texts, empty when unknown)."""

    session: str = ""
    school: str = ""
    academie: str = ""
