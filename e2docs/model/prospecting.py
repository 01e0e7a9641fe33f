"""The "Opération de prospection" sheet: its fields and the indicators computed from them.

Like :mod:`e2docs.model.scoring`, each indicator exists once, as a Python function and as
the spreadsheet formula built from the same definition, so reports and the
workbook agree.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

FieldKind = Literal["text", "longtext", "date", "integer", "amount", "tick"]


@dataclass(frozen=True)
class Field:
    """One input of the sheet: ``key`` names it in the workbook and the templates, ``label``
    and ``section`` are the French texts of the sheet. ``kind``: a line of text, a
    paragraph, a date, a whole number, an amount in euros, or a tick box (an "X")."""

    key: str
    label: str
    kind: FieldKind
    section: str


CONTEXT = "Contexte de l'opération"
DURATION = "Durée de l'opération"
OBJECTIVES = "Objectifs et résultats"
MEANS = "Moyens mobilisés"
TECHNIQUES = "Techniques de prospection utilisées (une X par technique)"
ANALYSIS = "Analyse et suivi"

FIELDS: tuple[Field, ...] = (
    Field("organisation", "Organisation (raison sociale)", "text", CONTEXT),
    Field("secteur", "Secteur d'activité", "text", CONTEXT),
    Field("offre", "Offre prospectée (produits, services)", "longtext", CONTEXT),
    Field("cible", "Cible", "longtext", CONTEXT),
    Field("choix_cible", "Choix de la cible (justification)", "longtext", CONTEXT),
    Field("debut", "Date de début", "date", DURATION),
    Field("fin", "Date de fin", "date", DURATION),
    Field("obj_contacts", "Objectif : contacts", "integer", OBJECTIVES),
    Field("obj_rdv", "Objectif : rendez-vous", "integer", OBJECTIVES),
    Field("obj_ventes", "Objectif : ventes", "integer", OBJECTIVES),
    Field("obj_ca", "Objectif : chiffre d'affaires (€)", "amount", OBJECTIVES),
    Field("res_contacts", "Résultat : contacts réalisés", "integer", OBJECTIVES),
    Field("res_rdv", "Résultat : rendez-vous", "integer", OBJECTIVES),
    Field("res_ventes", "Résultat : ventes", "integer", OBJECTIVES),
    Field("res_ca", "Résultat : chiffre d'affaires (€)", "amount", OBJECTIVES),
    Field("res_argumentes", "Résultat : contacts argumentés", "integer", OBJECTIVES),
    Field("res_prospects", "Résultat : nouveaux prospects qualifiés", "integer", OBJECTIVES),
    Field("obj_qualitatifs", "Objectifs qualitatifs", "longtext", OBJECTIVES),
    Field("moy_personnes", "Personnes mobilisées", "integer", MEANS),
    Field("moy_budget", "Budget (€)", "amount", MEANS),
    Field("moy_materiel", "Moyens matériels", "longtext", MEANS),
    Field("tech_phoning", "Phoning", "tick", TECHNIQUES),
    Field("tech_emailing", "E-mailing", "tick", TECHNIQUES),
    Field("tech_porte_a_porte", "Porte-à-porte", "tick", TECHNIQUES),
    Field("tech_salon", "Salon, foire", "tick", TECHNIQUES),
    Field("tech_reseaux_sociaux", "Réseaux sociaux", "tick", TECHNIQUES),
    Field("tech_publipostage", "Publipostage", "tick", TECHNIQUES),
    Field("tech_sms", "SMS", "tick", TECHNIQUES),
    Field("tech_autre", "Autre", "tick", TECHNIQUES),
    Field("tech_autre_precision", "Autre technique (préciser)", "text", TECHNIQUES),
    Field("outils", "Outils et supports utilisés", "longtext", TECHNIQUES),
    Field("causes_ecarts", "Causes des écarts", "longtext", ANALYSIS),
    Field("actions_correctives", "Actions correctives proposées", "longtext", ANALYSIS),
    Field("suivi_contacts", "Suivi des contacts", "longtext", ANALYSIS),
)

FIELD_BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS}

# Objective/result pairs of the dashboard: (label, objective key, result key).
DASHBOARD: tuple[tuple[str, str, str], ...] = (
    ("Contacts", "obj_contacts", "res_contacts"),
    ("Rendez-vous", "obj_rdv", "res_rdv"),
    ("Ventes", "obj_ventes", "res_ventes"),
    ("Chiffre d'affaires (€)", "obj_ca", "res_ca"),
)


def _num(value: object) -> Fraction | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return Fraction(value)


def _date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def duration_days(start: object, end: object) -> int | None:
    """Days of the operation, both ends included (dates or datetimes); ``None`` unless both
    are dates and end ≥ start."""
    a, b = _date(start), _date(end)
    if a is None or b is None or b < a:
        return None
    return (b - a).days + 1


def gap(objective: object, result: object) -> Fraction | None:
    """Result minus objective (negative when the objective was missed); ``None`` unless both
    are numbers."""
    o, r = _num(objective), _num(result)
    return None if o is None or r is None else r - o


def ratio(numerator: object, denominator: object) -> Fraction | None:
    """numerator / denominator, as a share (0.45 for 45 %); ``None`` when either is not a
    number or the denominator is 0."""
    n, d = _num(numerator), _num(denominator)
    return None if n is None or d is None or d == 0 else n / d


def indicators(values: Mapping[str, object]) -> dict[str, int | Fraction | None]:
    """Every computed indicator from the raw inputs (``values`` maps the keys of :data:`FIELDS`
    to cell values).

    Keys: ``duree`` (days, an int), ``ecart_<x>`` (result − objective) and ``taux_<x>``
    (result / objective, a share) for x in contacts, rdv, ventes, ca; ``taux_conversion``
    (sales / contacts) and ``cout_contact`` (budget / contacts, euros). ``None`` where the
    inputs do not allow the computation.
    """
    out: dict[str, int | Fraction | None] = {"duree": duration_days(values.get("debut"), values.get("fin"))}
    for _label, obj, res in DASHBOARD:
        stem = res.removeprefix("res_")
        out[f"ecart_{stem}"] = gap(values.get(obj), values.get(res))
        out[f"taux_{stem}"] = ratio(values.get(res), values.get(obj))
    out["taux_conversion"] = ratio(values.get("res_ventes"), values.get("res_contacts"))
    out["cout_contact"] = ratio(values.get("moy_budget"), values.get("res_contacts"))
    return out


# --- formulas (refs are the cells of the same sheet) ---


def duration_formula(start: str, end: str) -> str:
    """The spreadsheet twin of :func:`duration_days` (``start``, ``end``: cell refs)."""
    return f'=IF(AND(ISNUMBER({start}),ISNUMBER({end})),IF({end}>={start},{end}-{start}+1,""),"")'


def gap_formula(objective: str, result: str) -> str:
    """The spreadsheet twin of :func:`gap`; "" where :func:`gap` gives ``None``."""
    return f'=IF(AND(ISNUMBER({objective}),ISNUMBER({result})),{result}-{objective},"")'


def ratio_formula(numerator: str, denominator: str) -> str:
    """The spreadsheet twin of :func:`ratio`; "" where :func:`ratio` gives ``None``."""
    return (
        f'=IF(AND(ISNUMBER({numerator}),ISNUMBER({denominator})),IF({denominator}<>0,{numerator}/{denominator},""),"")'
    )
