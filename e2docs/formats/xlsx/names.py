"""Defined names of a generated workbook: the one module that spells them.

Every input and result cell of a generated workbook carries a defined name, so
that scripts, the reader and the tamper check find a cell whatever its position.
The names are a public contract (README, ``inspect --json``): stable across
versions, never renamed — workbooks already in teachers' hands must still read.

* identity (locked): ``candidat_numero``, ``candidat_nom``, ``candidat_prenom``,
  ``candidat_division``, ``candidat_naissance``, ``session``, ``etablissement``,
  ``academie``;
* commission (inputs): ``commission_prof_nom``, ``commission_prof_fonction``,
  ``commission_pro_nom``, ``commission_pro_fonction``, ``commission_date``;
* grid: ``niveau_C1_1_1`` (criterion C1.1, level 1) …, ``reperage_1_1``
  (competence 1.1) …, ``points_C1_1`` …, ``note_proposee``, ``note_commission``,
  ``note_finale``, ``observations``, ``etat_grille``;
* prospecting sheet: ``prosp_<field>`` for inputs, ``prosp_<indicator>`` for
  results (keys of :mod:`e2docs.model.prospecting`).

In a class workbook the same names are local to each candidate's sheets.
"""

from __future__ import annotations

from typing import Literal

SESSION = "session"
SCHOOL = "etablissement"
ACADEMIE = "academie"
CANDIDATE_NUMBER = "candidat_numero"
LAST_NAME = "candidat_nom"
FIRST_NAME = "candidat_prenom"
DIVISION = "candidat_division"
BIRTH_DATE = "candidat_naissance"

COMMISSION_DATE = "commission_date"
PROPOSED_MARK = "note_proposee"
COMMISSION_MARK = "note_commission"
FINAL_MARK = "note_finale"
OBSERVATIONS = "observations"
STATUS = "etat_grille"

PROSPECTING_PREFIX = "prosp_"

Member = Literal["prof", "pro"]
"""A member of the commission: the professor (``prof``) or the professional (``pro``)."""


def name_id(text: str) -> str:
    """``"C1.1"`` → ``"C1_1"``: dots are avoided in defined names."""
    return text.replace(".", "_")


def level(criterion_id: str, level: int) -> str:
    """The level cell of a criterion: ``level("C1.1", 2)`` → ``"niveau_C1_1_2"`` (levels 1–4)."""
    return f"niveau_{name_id(criterion_id)}_{level}"


def competence(competence_id: str) -> str:
    """The "Repérage" tick of a detailed competence: ``competence("1.1")`` → ``"reperage_1_1"``."""
    return f"reperage_{name_id(competence_id)}"


def points(criterion_id: str) -> str:
    """The points computed for a criterion: ``points("C1.1")`` → ``"points_C1_1"``."""
    return f"points_{name_id(criterion_id)}"


def commission_name(member: Member) -> str:
    """Name and first name of a commission member: ``"commission_prof_nom"``."""
    return f"commission_{member}_nom"


def commission_function(member: Member) -> str:
    """Function of a commission member: ``"commission_pro_fonction"``."""
    return f"commission_{member}_fonction"


def prospecting(key: str) -> str:
    """A cell of the prospecting sheet, by field or indicator key: ``"organisation"`` → ``"prosp_organisation"``."""
    return PROSPECTING_PREFIX + key
