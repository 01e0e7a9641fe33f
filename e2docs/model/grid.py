"""The competence grid: méta-compétences, detailed competences, criteria, scale, points.

Frozen dataclasses, built from a grid file by :mod:`e2docs.formats.gridfile`
(``templates/xlsx/e2-mcv-b.toml`` by default).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property


@dataclass(frozen=True)
class Level:
    """One step of the scale ("1 Novice" … "4 Expert") and the share of points it earns.

    ``value`` is the step's number (1-based); ``fraction`` the share of a criterion's
    points earned at this step, from 0 to 1.
    """

    value: int
    label: str
    fraction: Fraction


@dataclass(frozen=True)
class Competence:
    """A detailed competence, numbered ``"<méta>.<rank>"`` in document order."""

    id: str
    meta: int
    text: str


@dataclass(frozen=True)
class Meta:
    """A méta-compétence and its detailed competences."""

    number: int
    title: str
    competences: tuple[Competence, ...]


@dataclass(frozen=True)
class Criterion:
    """An evaluation criterion: ``C<méta>.<rank>``, its indicator, its points and the
    competences it evaluates (the "repérage").

    ``points`` is the most it earns, in points of the mark (out of ``Grid.max_mark``);
    ``competences`` holds the ids of :class:`Competence` ("1.2").
    """

    id: str
    meta: int
    title: str
    indicator: str
    points: Fraction
    competences: tuple[str, ...]


@dataclass(frozen=True)
class Grid:
    """A whole grid definition, with a content hash that identifies its exact wording and points.

    ``max_mark`` is the mark's maximum (20) and ``rounding_step`` the step the proposed
    mark is rounded up to (0.5), both in points; ``source`` is the file it was read
    from ("" when built in code).
    """

    id: str
    version: str
    diploma: str
    option: str
    bloc: str
    epreuve: str
    title: str
    specialty: str
    max_mark: Fraction
    rounding_step: Fraction
    scale: tuple[Level, ...]
    metas: tuple[Meta, ...]
    criteria: tuple[Criterion, ...]
    source: str = ""

    @property
    def competences(self) -> tuple[Competence, ...]:
        """Every detailed competence, in document order."""
        return tuple(c for m in self.metas for c in m.competences)

    def criteria_of(self, meta: int) -> tuple[Criterion, ...]:
        """The criteria belonging to one méta-compétence, in order."""
        return tuple(c for c in self.criteria if c.meta == meta)

    def level(self, value: int) -> Level:
        """The scale step numbered ``value``; ``KeyError`` when the scale has none."""
        for lvl in self.scale:
            if lvl.value == value:
                return lvl
        raise KeyError(value)

    @property
    def total_points(self) -> Fraction:
        """The sum of the criteria's points (equal to ``max_mark`` in a loaded grid)."""
        return sum((c.points for c in self.criteria), Fraction(0))

    def canonical(self) -> dict[str, object]:
        """The grid as JSON-ready data (what the content hash is computed over): the texts
        by field name, numbers as exact fraction texts ("5/2"), scale, metas and criteria
        as nested lists."""
        return {
            "id": self.id,
            "version": self.version,
            "diploma": self.diploma,
            "option": self.option,
            "bloc": self.bloc,
            "epreuve": self.epreuve,
            "title": self.title,
            "specialty": self.specialty,
            "max_mark": str(self.max_mark),
            "rounding_step": str(self.rounding_step),
            "scale": [[lvl.value, lvl.label, str(lvl.fraction)] for lvl in self.scale],
            "metas": [[m.number, m.title, [[c.id, c.text] for c in m.competences]] for m in self.metas],
            "criteria": [
                [c.id, c.meta, c.title, c.indicator, str(c.points), list(c.competences)] for c in self.criteria
            ],
        }

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 of the grid's content: comments and layout of the file do not count (computed once:
        a grid does not change)."""
        data = json.dumps(self.canonical(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(data.encode("utf-8")).hexdigest()
