"""Results turned into plain template data: strings formatted the French way, lists, booleans.

Two documents families, two declarations:

* :data:`CANDIDATE_FIELDS` — one candidate's :class:`~e2docs.model.evaluation.Evaluation`,
  for the evaluation sheet and the prospecting summary (:func:`candidate_context`);
* :data:`CLASS_FIELDS` — a whole class, for the class record (:func:`class_context`),
  built from :class:`ClassRow` items so that candidates without an evaluation (not
  returned, rejected) appear too.

Each field is declared once (see :mod:`e2docs.reports.schema`): the same
declaration computes the value and documents it (:data:`FIELDS_DOC`).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from statistics import median
from typing import Any

from e2docs.formats.gridfile import load_grid
from e2docs.model import french as f
from e2docs.model import prospecting, scoring
from e2docs.model.candidate import Candidate, Context
from e2docs.model.distribution import Distribution, distribution
from e2docs.model.evaluation import Evaluation
from e2docs.model.grid import Competence, Criterion, Grid, Meta
from e2docs.model.scoring import Outcome
from e2docs.model.states import CandidateState
from e2docs.reports.charts import LEVELS, MARKS, Chart
from e2docs.reports.rows import ClassRows
from e2docs.reports.schema import (
    BOOL,
    COMPAT,
    IMAGE,
    NUMBER,
    TEXTS,
    VALUES,
    FieldDoc,
    L,
    Lazy,
    O,
    Spec,
    T,
    build,
    flatten,
)

TICKED, UNTICKED, LEVEL_MARK = "☒", "☐", "✗"


# ------------------------------------------------------------------ candidate


def _indicator(e: Evaluation, key: str) -> int | float | None:
    """A prospecting indicator as the workbook's cell shows it (``None`` when empty): an ``int`` when
    whole, else a ``float``, so that rounding for display gives the figure the sheet shows."""
    value = e.indicators.get(key)
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else float(value)
    return value


def _missing_label(item: str) -> str:
    if item == "note_finale":
        return "note finale"
    if item == "observations":
        return "observations"
    return f"niveau du critère {item}"


def _competence(s: Evaluation, comp: Competence) -> dict:
    return {"s": s, "c": comp, "seen": comp.id in s.observed}


def _criterion(s: Evaluation, cr: Criterion) -> dict:
    return {"s": s, "c": cr, "level": s.levels.get(cr.id), "points": s.outcome.points.get(cr.id)}


def _metas(s: Evaluation) -> list[tuple[Evaluation, Meta]]:
    return [(s, m) for m in s.grid.metas]


_COMPETENCE = (
    T("id", "Numéro de la compétence (1.1, 1.2…)", lambda x: x["c"].id),
    T("texte", "Libellé de la compétence", lambda x: x["c"].text),
    T("observee", "Compétence repérée (X dans la colonne « Repérage »)", lambda x: x["seen"], BOOL),
    T("case", f"{TICKED} si la compétence est repérée, sinon {UNTICKED}", lambda x: TICKED if x["seen"] else UNTICKED),
)

_CRITERION = (
    T("id", "Identifiant du critère (C1.1, C2.1…)", lambda x: x["c"].id),
    T("titre", "Intitulé du critère", lambda x: x["c"].title),
    T("indicateur", "Indicateur d'évaluation", lambda x: x["c"].indicator),
    T("points_max", "Points du critère (« 2,5 »)", lambda x: f.mark(x["c"].points)),
    T("niveau", "Niveau coché, de 1 à 4 (vide si aucun ou plusieurs)", lambda x: x["level"], NUMBER),
    T(
        "niveau_libelle",
        "Libellé du niveau coché (« Averti »)",
        lambda x: x["s"].grid.level(x["level"]).label if x["level"] else "",
    ),
    T("points", "Points obtenus (« 2,25 », vide si pas de niveau)", lambda x: f.mark(x["points"])),
    T(
        "coches",
        "Quatre booléens, vrai pour le niveau coché",
        lambda x: [x["level"] == lvl.value for lvl in x["s"].grid.scale],
        VALUES,
    ),
    T(
        "marques",
        f"Quatre textes : « {LEVEL_MARK} » pour le niveau coché, vide sinon",
        lambda x: [LEVEL_MARK if x["level"] == lvl.value else "" for lvl in x["s"].grid.scale],
        TEXTS,
    ),
)

_META = (
    T("numero", "Numéro de la méta-compétence", lambda x: x[1].number, NUMBER),
    T("titre", "Intitulé de la méta-compétence", lambda x: x[1].title),
    L("competences", "Compétences détaillées", lambda x: [_competence(x[0], c) for c in x[1].competences], _COMPETENCE),
    L(
        "criteres",
        "Critères d'évaluation (liste vide pour la méta-compétence 5)",
        lambda x: [_criterion(x[0], c) for c in x[0].grid.criteria_of(x[1].number)],
        _CRITERION,
    ),
)


def _prospect_value(kind: str, value: object) -> object:
    if kind == "tick":
        return scoring.is_tick(value)
    if kind == "date":
        return f.date(value)
    if kind == "integer":
        return f.number(value)
    if kind == "amount":
        return f.amount(value)
    return f.text(value)


def _prospect_input(fd: prospecting.Field) -> Callable[[Evaluation], object]:
    """The getter of one prospecting input field (a function per field: no late binding)."""
    return lambda s: _prospect_value(fd.kind, s.prospecting.get(fd.key))


_KIND_DOC = {"tick": BOOL}
_PROSPECT_INPUTS = tuple(
    T(
        fd.key,
        fd.label + (" (case cochée)" if fd.kind == "tick" else ""),
        _prospect_input(fd),
        _KIND_DOC.get(fd.kind, "texte"),
    )
    for fd in prospecting.FIELDS
)


def _techniques(s: Evaluation) -> list[str]:
    out = []
    for fd in prospecting.FIELDS:
        if fd.kind == "tick" and scoring.is_tick(s.prospecting.get(fd.key)):
            precision = f.text(s.prospecting.get("tech_autre_precision")) if fd.key == "tech_autre" else ""
            out.append(f"{fd.label} : {precision}" if precision else fd.label)
    return out


def _dashboard(s: Evaluation) -> list[dict]:
    rows = []
    for label, obj, res in prospecting.DASHBOARD:
        stem = res.removeprefix("res_")
        fmt = f.amount if obj == "obj_ca" else f.number
        gap = _indicator(s, f"ecart_{stem}")
        rows.append(
            {
                "libelle": label,
                "objectif": fmt(s.prospecting.get(obj)),
                "resultat": fmt(s.prospecting.get(res)),
                "ecart": "" if gap is None else fmt(gap, sign=True),
                "taux": f.percent(_indicator(s, f"taux_{stem}")),
            }
        )
    return rows


def _duration(s: Evaluation) -> str:
    days = _indicator(s, "duree")
    return "" if days is None else f"{f.number(days)} jour{'s' if days > 1 else ''}"


def _period(s: Evaluation) -> str:
    a, b = f.date(s.prospecting.get("debut")), f.date(s.prospecting.get("fin"))
    if a and b:
        return f"du {a} au {b}"
    return f"à partir du {a}" if a else (f"jusqu'au {b}" if b else "")


_PROSPECT = _PROSPECT_INPUTS + (
    T("periode", "Période (« du 05/01/2027 au 20/01/2027 »)", _period),
    T("duree", "Durée de l'opération, début et fin compris (« 16 jours »)", _duration),
    T(
        "taux_conversion",
        "Taux de conversion : ventes / contacts réalisés (« 12,5 % »)",
        lambda s: f.percent(_indicator(s, "taux_conversion")),
    ),
    T(
        "cout_contact",
        "Coût par contact : budget / contacts réalisés (« 15,63 € »)",
        lambda s: f.amount(_indicator(s, "cout_contact")),
    ),
    T("techniques", "Techniques cochées, en clair (« Autre : … » avec la précision)", _techniques, TEXTS),
    L(
        "tableau",
        "Tableau de bord : une ligne par indicateur (contacts, rendez-vous, ventes, CA)",
        _dashboard,
        (
            T("libelle", "Indicateur", lambda x: x["libelle"]),
            T("objectif", "Objectif", lambda x: x["objectif"]),
            T("resultat", "Résultat", lambda x: x["resultat"]),
            T("ecart", "Écart résultat − objectif, signé (« -20 », « +5 »)", lambda x: x["ecart"]),
            T("taux", "Taux de réalisation (« 80,0 % »)", lambda x: x["taux"]),
        ),
    ),
)


def _header(get_grid: Callable[[Any], Grid], get_context: Callable[[Any], Context]) -> tuple[Spec, ...]:
    """Diploma and school fields, shared by both document families."""
    return (
        T("diplome", "Intitulé du diplôme", lambda s: get_grid(s).diploma),
        T("option", "Option du diplôme", lambda s: get_grid(s).option),
        T("epreuve", "Intitulé de l'épreuve", lambda s: get_grid(s).epreuve),
        T("bloc", "Bloc de compétences (« Bloc 4B »)", lambda s: get_grid(s).bloc),
        T("intitule", "Titre de la grille", lambda s: get_grid(s).title),
        T("note_max", "Note maximale (« 20 »)", lambda s: f.mark(get_grid(s).max_mark)),
        T("session", "Session d'examen", lambda s: f.text(get_context(s).session)),
        T("academie", "Académie (« Versailles »)", lambda s: f.text(get_context(s).academie)),
        T(
            "academie_libelle",
            "Académie avec son article (« Académie d'Amiens »)",
            lambda s: f.academie_label(get_context(s).academie or ""),
        ),
        T("etablissement", "Établissement", lambda s: f.text(get_context(s).school)),
        T("date_edition", "Date d'édition du document (« 12/03/2027 »)", lambda s: f.date(dt.date.today())),
    )


def _candidate_fields(get: Callable[[Any], Candidate]) -> tuple[Spec, ...]:
    return (
        T("numero", "Numéro de candidat", lambda s: f.text(get(s).number)),
        T("nom", "Nom de famille", lambda s: f.text(get(s).last_name)),
        T("prenom", "Prénom(s)", lambda s: f.text(get(s).first_name)),
        T("division", "Division (classe)", lambda s: f.text(get(s).division)),
        T(
            "naissance",
            "Date de naissance (« 14/03/2009 », vide si inconnue)",
            lambda s: f.date(get(s).birth_date) if get(s).birth_date else "",
        ),
    )


CANDIDATE_FIELDS: tuple[Spec, ...] = _header(lambda s: s.grid, lambda s: s.context) + (
    O("candidat", "Identité du candidat", lambda s: s, _candidate_fields(lambda s: s.candidate)),
    O(
        "commission",
        "Commission d'évaluation",
        lambda s: s,
        (
            T("prof_nom", "Nom et prénom du professeur", lambda s: f.text(s.commission.prof_name)),
            T("prof_fonction", "Fonction du professeur", lambda s: f.text(s.commission.prof_function)),
            T("pro_nom", "Nom et prénom du professionnel", lambda s: f.text(s.commission.pro_name)),
            T("pro_fonction", "Fonction du professionnel", lambda s: f.text(s.commission.pro_function)),
            T("date", "Date de l'évaluation (« 12/03/2027 »)", lambda s: f.date(s.commission.date)),
        ),
    ),
    L("metas", "Méta-compétences, dans l'ordre de la grille", _metas, _META),
    L(
        "niveaux",
        "Échelle des niveaux",
        lambda s: s.grid.scale,
        (
            T("numero", "Numéro du niveau (1 à 4)", lambda lvl: lvl.value, NUMBER),
            T("libelle", "Libellé (« Novice », « Débrouillé », « Averti », « Expert »)", lambda lvl: lvl.label),
        ),
    ),
    T(
        "total_points",
        "Somme des points avant arrondi (« 14,75 », vide si un critère manque)",
        lambda s: f.mark(sum(s.outcome.points.values(), Fraction(0))) if s.outcome.proposed_mark is not None else "",
    ),
    T(
        "note_proposee",
        "Note proposée, arrondie au demi-point supérieur (« 12,5 »)",
        lambda s: f.mark(s.outcome.proposed_mark),
    ),
    T(
        "note_commission",
        "Note attribuée par la commission, telle que saisie (vide si aucune)",
        lambda s: f.mark(s.commission_mark),
    ),
    T(
        "note_finale",
        "Note finale : celle de la commission, sinon la note proposée",
        lambda s: f.mark(s.outcome.final_mark),
    ),
    T(
        "observations",
        "Observations, commentaires (retours à la ligne conservés)",
        lambda s: f.text(s.observations),
    ),
    T("complet", "Vrai quand la grille est complète", lambda s: s.outcome.complete, BOOL),
    T(
        "provisoire",
        "Vrai quand la grille est incomplète (document provisoire)",
        lambda s: not s.outcome.complete,
        BOOL,
    ),
    T(
        "etat",
        "État de la grille (« Grille complète », « 2 critère(s) à renseigner »…)",
        lambda s: s.outcome.status_text,
    ),
    T(
        "manquants",
        "Ce qui manque, en clair (« niveau du critère C2.1 », « observations »)",
        lambda s: [_missing_label(m) for m in s.outcome.missing],
        TEXTS,
    ),
    O("prospection", "Opération de prospection (feuille du classeur)", lambda s: s, _PROSPECT),
)


def candidate_context(evaluation: Evaluation) -> dict[str, Any]:
    """Template data for one candidate (evaluation sheet, prospecting summary): field name → French
    text, boolean, number or nested lists/dicts, as declared in :data:`CANDIDATE_FIELDS`."""
    return build(CANDIDATE_FIELDS, evaluation)


# ------------------------------------------------------------------ class

BAR_WIDTH = 30
LEVEL_SHADES = ("░", "▒", "▓", "█")


@dataclass(frozen=True)
class ClassRow:
    """One candidate of the class record.

    ``status`` is one of ``complete``, ``incomplete``, ``missing`` (not returned)
    or ``rejected``, as in ``e2docs status``; ``evaluation`` is None when there
    is none (not returned, or rejected before it could be read); ``detail`` may
    say why a file was rejected. ``outcome``: what the class record reads of the
    evaluation, the scoring rule's result (:class:`~e2docs.model.scoring.Outcome`:
    levels and marks); taken from ``evaluation`` when not given. A row given only
    its outcome (no evaluation) takes a quarter of the memory: a report of a whole
    académie holds thousands.
    """

    candidate: Candidate
    status: CandidateState
    evaluation: Evaluation | None = None
    detail: str = ""
    outcome: Outcome | None = None

    def __post_init__(self) -> None:
        if self.outcome is None and self.evaluation is not None:
            object.__setattr__(self, "outcome", self.evaluation.outcome)

    @classmethod
    def from_evaluation(cls, evaluation: Evaluation) -> ClassRow:
        """A returned grid: complete or incomplete according to the scoring rule."""
        return cls(
            evaluation.candidate,
            CandidateState.COMPLETE if evaluation.outcome.complete else CandidateState.INCOMPLETE,
            evaluation,
        )

    @property
    def scored(self) -> bool:
        """Its marks and levels count in the statistics (returned and not rejected)."""
        return self.outcome is not None and self.status in (CandidateState.COMPLETE, CandidateState.INCOMPLETE)

    @property
    def final_mark(self) -> Fraction | None:
        """The final mark on the grid's scale (20), None when not scored or without one."""
        return self.outcome.final_mark if self.outcome is not None and self.scored else None


@dataclass(frozen=True)
class ClassInfo:
    """What the class record says about the class: school data (``""`` when unknown), and the grid
    (``None``: the first evaluation's grid, else the bundled one)."""

    session: str = ""
    school: str = ""
    academie: str = ""
    division: str = ""
    grid: Grid | None = None

    @classmethod
    def from_evaluation(cls, evaluation: Evaluation, division: str = "") -> ClassInfo:
        """The school data and grid of one candidate's evaluation; ``division`` defaults to the candidate's."""
        ctx = evaluation.context
        return cls(ctx.session, ctx.school, ctx.academie, division or evaluation.candidate.division, evaluation.grid)


def class_rows(
    evaluations: Iterable[Evaluation],
    missing: Iterable[Candidate] = (),
    rejected: Iterable[tuple[Candidate, str]] = (),
) -> list[ClassRow]:
    """Rows for a class without a campaign ledger: the evaluations, then the missing and rejected
    (candidate, reason) pairs."""
    rows = [ClassRow.from_evaluation(e) for e in evaluations]
    rows += [ClassRow(c, CandidateState.MISSING) for c in missing]
    rows += [ClassRow(c, CandidateState.REJECTED, detail=why) for c, why in rejected]
    return rows


@dataclass(frozen=True)
class _Tally:
    """What the statistics read of the rows, counted in one pass: rows per state, final marks (mark →
    how many: a class of any size holds a few dozen distinct marks)."""

    states: Counter[CandidateState]
    marks: Counter[Fraction]

    @property
    def count(self) -> int:
        return sum(self.marks.values())

    def median(self) -> Fraction:
        """The median final mark (:func:`statistics.median`: a reference per mark, not a mark each)."""
        return median(self.marks.elements())

    def mean(self) -> Fraction:
        return sum((m * k for m, k in self.marks.items()), Fraction(0)) / self.count


@dataclass(frozen=True)
class _Class:
    rows: Sequence[ClassRow]  # a tuple, or a ClassRows read from disk (its lists then stay lazy)
    info: ClassInfo
    grid: Grid
    context: Context = field(default_factory=Context)

    @functools.cached_property
    def tally(self) -> _Tally:
        states: Counter[CandidateState] = Counter()
        marks: Counter[Fraction] = Counter()
        for r in self.rows:
            states[CandidateState(r.status)] += 1
            if r.final_mark is not None:
                marks[r.final_mark] += 1
        return _Tally(states, marks)

    def count(self, status: CandidateState) -> int:
        return self.tally.states[status]

    def each(self, *states: CandidateState) -> list[dict] | Lazy:
        """The rows (those in ``states`` when given) as the class record's list items: a list, or a
        :class:`Lazy` one for rows read from disk."""
        if isinstance(self.rows, ClassRows):
            return Lazy(self.rows.where(*states) if states else self.rows, _row)
        return [_row(r) for r in self.rows if not states or r.status in states]

    @functools.cached_property
    def distribution(self) -> Distribution:
        """Final marks per band and levels per criterion of the scored rows (what the charts show)."""
        scored = (r.outcome.levels for r in self.rows if r.outcome is not None and r.scored)
        return distribution(self.grid, self.tally.marks.elements(), scored)


def _bar(n: int, top: int, char: str = "█") -> str:
    """``n`` as a bar of characters, the largest value ``top`` taking BAR_WIDTH characters."""
    if n <= 0 or top <= 0:
        return ""
    return char * max(1, round(n * BAR_WIDTH / top))


def _stacked(counts: Sequence[int]) -> str:
    """Counts per level as one bar of BAR_WIDTH characters, one shade per level (rounded cumulatively)."""
    total = sum(counts)
    if not total:
        return ""
    out, done, acc = [], 0, 0
    for i, n in enumerate(counts):
        acc += n
        upto = round(acc * BAR_WIDTH / total)
        out.append(LEVEL_SHADES[min(i, len(LEVEL_SHADES) - 1)] * (upto - done))
        done = upto
    return "".join(out)


def _bands(c: _Class) -> list[dict]:
    bands, total = c.distribution.bands, c.distribution.marks
    most = max((b.count for b in bands), default=0)
    return [
        {
            "tranche": b.label,
            "effectif": b.count,
            "barre": _bar(b.count, most),
            "part": f.percent(Fraction(b.count, total)) if total else "",
        }
        for b in bands
    ]


def _levels(c: _Class) -> list[dict]:
    return [
        {"c": x.criterion, "counts": list(x.counts), "total": x.total, "bar": _stacked(x.counts)}
        for x in c.distribution.criteria
    ]


def _row(r: ClassRow) -> dict:
    return {"r": r, "o": r.outcome}


_ROW = _candidate_fields(lambda x: x["r"].candidate) + (
    T(
        "note_proposee",
        "Note proposée (vide si non rendue ou rejetée)",
        lambda x: f.mark(x["o"].proposed_mark) if x["o"] and x["r"].scored else "",
    ),
    T(
        "note_finale",
        "Note finale (vide si non rendue ou rejetée)",
        lambda x: f.mark(x["o"].final_mark) if x["o"] and x["r"].scored else "",
    ),
    T(
        "statut",
        "« complète », « incomplète », « non rendue » ou « rejetée »",
        lambda x: CandidateState(x["r"].status).grid_label,
    ),
    T(
        "etat",
        "Détail : état de la grille, ou motif du rejet",
        lambda x: f.text(x["r"].detail) or (x["o"].status_text if x["o"] else ""),
    ),
    T("complet", "Vrai quand la grille est complète", lambda x: x["r"].status == CandidateState.COMPLETE, BOOL),
)


CLASS_FIELDS: tuple[Spec, ...] = _header(lambda c: c.grid, lambda c: c.context) + (
    T(
        "classe",
        "Division(s) concernée(s)",
        lambda c: (
            f.text(c.info.division) or ", ".join(sorted({r.candidate.division for r in c.rows if r.candidate.division}))
        ),
    ),
    L("lignes", "Une ligne par candidat, dans l'ordre donné", lambda c: c.each(), _ROW),
    O(
        "stats",
        "Statistiques sur les notes finales (grilles rendues et non rejetées)",
        lambda c: c,
        (
            T("effectif", "Nombre de candidats", lambda c: len(c.rows), NUMBER),
            T("effectif_notes", "Nombre de candidats ayant une note finale", lambda c: c.tally.count, NUMBER),
            T("completes", "Grilles complètes", lambda c: c.count(CandidateState.COMPLETE), NUMBER),
            T("incompletes", "Grilles incomplètes", lambda c: c.count(CandidateState.INCOMPLETE), NUMBER),
            T("non_rendues", "Grilles non rendues", lambda c: c.count(CandidateState.MISSING), NUMBER),
            T("rejetees", "Grilles rejetées", lambda c: c.count(CandidateState.REJECTED), NUMBER),
            T(
                "moyenne",
                "Moyenne, deux décimales (« 12,35 »)",
                lambda c: f.number(c.tally.mean(), 2) if c.tally.count else "",
            ),
            T("mediane", "Médiane", lambda c: f.mark(c.tally.median()) if c.tally.count else ""),
            T("min", "Note la plus basse", lambda c: f.mark(min(c.tally.marks)) if c.tally.count else ""),
            T("max", "Note la plus haute", lambda c: f.mark(max(c.tally.marks)) if c.tally.count else ""),
        ),
    ),
    L(
        "repartition",
        "Répartition des notes finales par tranche de 2 points : [0 ; 2[, [2 ; 4[ … [18 ; 20]",
        _bands,
        (
            T("tranche", "Tranche (« 0–2 » … « 18–20 »)", lambda b: b["tranche"]),
            T("effectif", "Nombre de notes dans la tranche", lambda b: b["effectif"], NUMBER),
            T(
                "barre",
                f"Barre de « █ » proportionnelle (la tranche la plus fournie : {BAR_WIDTH} caractères)" + COMPAT,
                lambda b: b["barre"],
            ),
            T("part", "Part des notes (« 25,0 % »)", lambda b: b["part"]),
        ),
    ),
    L(
        "niveaux",
        "Échelle des niveaux, avec le motif de chaque niveau dans les barres",
        lambda c: list(c.grid.scale),
        (
            T("numero", "Numéro du niveau", lambda lvl: lvl.value, NUMBER),
            T("libelle", "Libellé du niveau", lambda lvl: lvl.label),
            T(
                "motif",
                "Caractère de ce niveau dans les barres de texte (░ ▒ ▓ █)" + COMPAT,
                lambda lvl: LEVEL_SHADES[min(lvl.value, 4) - 1],
            ),
        ),
    ),
    L(
        "criteres",
        "Niveaux atteints, critère par critère",
        _levels,
        (
            T("id", "Identifiant du critère", lambda x: x["c"].id),
            T("titre", "Intitulé du critère", lambda x: x["c"].title),
            T("comptes", "Nombre de candidats par niveau (quatre nombres)", lambda x: x["counts"], VALUES),
            T("total", "Nombre de candidats évalués sur ce critère", lambda x: x["total"], NUMBER),
            T(
                "barre",
                f"Barre empilée de {BAR_WIDTH} caractères : ░ niveau 1, ▒ niveau 2, ▓ niveau 3, █ niveau 4" + COMPAT,
                lambda x: x["bar"],
            ),
        ),
    ),
    O(
        "graphiques",
        "Graphiques (images), chacun seul dans son paragraphe : « {{ graphiques.repartition }} »",
        lambda c: c,
        (
            T(
                "repartition",
                "Histogramme des notes finales par tranche de 2 points, avec l'effectif au-dessus de chaque barre",
                lambda c: Chart(MARKS, c.distribution, int(c.grid.max_mark)),
                IMAGE,
            ),
            T(
                "niveaux",
                "Barres empilées des niveaux atteints par critère (gris et hachures par niveau, effectifs inscrits)",
                lambda c: Chart(LEVELS, c.distribution, int(c.grid.max_mark)),
                IMAGE,
            ),
        ),
    ),
    L(
        "manquants",
        "Candidats dont la grille n'est pas rendue ou a été rejetée",
        lambda c: c.each(CandidateState.MISSING, CandidateState.REJECTED),
        _ROW,
    ),
)


def class_context(rows: Sequence[ClassRow], info: ClassInfo | None = None) -> dict[str, Any]:
    """Template data for the class record: field name → French text, boolean, number or nested
    lists/dicts, as declared in :data:`CLASS_FIELDS`; rows in the order given.

    ``info`` defaults to what the first evaluation says; the grid to the bundled one (rows given only
    an outcome say nothing of the school or the grid: give ``info``). Rows given as
    :class:`~e2docs.reports.rows.ClassRows` (on disk) are read when the template reads them: the
    lists ``lignes`` and ``manquants`` are then :class:`~e2docs.reports.schema.Lazy` (a template sees
    lists), so that memory does not grow with the class; the rows must stay open until rendered.
    """
    on_disk = isinstance(rows, ClassRows)
    first = None if on_disk else next((r.evaluation for r in rows if r.evaluation is not None), None)
    if info is None:
        info = ClassInfo.from_evaluation(first) if first is not None else ClassInfo()
    grid = info.grid or (first.grid if first is not None else load_grid())
    context = Context(info.session, info.school, info.academie)
    return build(CLASS_FIELDS, _Class(rows if on_disk else tuple(rows), info, grid, context))


# ------------------------------------------------------------------ documentation

DOCUMENTS = {"candidat": "fiche d'évaluation et synthèse de prospection", "classe": "récapitulatif de classe"}

FIELDS_DOC: list[FieldDoc] = flatten(CANDIDATE_FIELDS, "candidat") + flatten(CLASS_FIELDS, "classe")

FIELDS_BY_DOCUMENT = {"candidat": CANDIDATE_FIELDS, "classe": CLASS_FIELDS}
