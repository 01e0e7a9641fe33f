"""Grid files: a TOML description of the competence grid, read into :class:`~e2docs.model.grid.Grid`.

Every problem in the file is reported in French with the file and the key
concerned, so a teacher who edited the points can fix it.
"""

from __future__ import annotations

import re
import tomllib
from fractions import Fraction
from pathlib import Path
from typing import Any, overload

from e2docs.formats.bundled import bundled
from e2docs.formats.files import Expect, read_regular
from e2docs.model import french
from e2docs.model.errors import GridError, Place
from e2docs.model.grid import Competence, Criterion, Grid, Level, Meta

DEFAULT_GRID_NAME = "e2-mcv-b.toml"
MAX_GRID_BYTES = 2**20
"""The largest grid file read (the bundled one is a few kilobytes)."""
GRID_EXPECT = Expect("fichier de grille", MAX_GRID_BYTES, "Vérifiez le chemin passé à --grid.", GridError)


def default_grid_path() -> Path:
    """The grid file shipped with e2docs (E2, MCV option B)."""
    return bundled("templates", "xlsx", DEFAULT_GRID_NAME)


def load_grid(path: str | Path | None = None) -> Grid:
    """Read and check a grid file; ``None`` loads the bundled E2 option B grid.

    Raises :class:`GridError` (French message, the file, the key or line at fault)
    when the file cannot be read, is not UTF-8 TOML or describes an inconsistent grid
    (numbering, unknown competences, points not adding up to ``max_mark``…).
    """
    path = Path(path) if path is not None else default_grid_path()
    return grid_from_bytes(path, read_regular(path, GRID_EXPECT))


def grid_from_bytes(path: Path, raw: bytes) -> Grid:
    """Check ``raw``, the bytes of the grid file at ``path`` (named in errors), as :func:`load_grid` does."""
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise GridError("le fichier de grille n'est pas en UTF-8.", path, hint="Enregistrez-le en UTF-8.") from None
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"line (\d+), column (\d+)", str(exc))
        place = Place(line=int(where[1]), column=int(where[2])) if where else None
        raise GridError(
            "syntaxe TOML invalide (guillemets, crochets ou signe = manquant ?).",
            path,
            place,
            hint="Corrigez le fichier à l'endroit indiqué.",
        ) from None
    return _GridReader(path, data).read()


class _GridReader:
    """Turns parsed TOML into a :class:`Grid`, naming the key at fault on any error."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data

    def fail(self, key: str, message: str, hint: str | None = None) -> GridError:
        """The error to raise for ``key`` (dotted, "criterion[2].points"); ``None`` hint → the default one."""
        return GridError(
            message,
            self.path,
            Place(key=key),
            hint or "Corrigez le fichier de grille (voir le fichier fourni avec e2docs).",
        )

    @overload
    def get(self, table: dict[str, Any], key: str, where: str, kind: type[str]) -> str: ...
    @overload
    def get(self, table: dict[str, Any], key: str, where: str, kind: type[int]) -> int: ...
    @overload
    def get(self, table: dict[str, Any], key: str, where: str, kind: type[list[Any]]) -> list[Any]: ...

    def get(self, table: dict[str, Any], key: str, where: str, kind: type[object]) -> object:
        """``table[key]`` checked to be a non-empty text (returned stripped), an int (not a bool)
        or a list, as ``kind`` says; ``where`` prefixes the key in the error."""
        name = f"{where}.{key}" if where else key
        if key not in table:
            raise self.fail(name, "clé obligatoire absente.")
        value = table[key]
        if kind is str and not (isinstance(value, str) and value.strip()):
            raise self.fail(name, "texte non vide attendu.")
        if kind is int and not (isinstance(value, int) and not isinstance(value, bool)):
            raise self.fail(name, "nombre entier attendu.")
        if kind is list and not isinstance(value, list):
            raise self.fail(name, "liste attendue.")
        return value.strip() if kind is str else value

    def decimal(self, table: dict[str, Any], key: str, where: str) -> Fraction:
        """A decimal ≥ 0 written as text ("2.5", "2,5") or a number, read exactly."""
        name = f"{where}.{key}"
        value = table.get(key)
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.fail(name, 'nombre décimal attendu (par exemple "2.5").')
        try:
            number = Fraction(str(value).replace(",", "."))
        except (ValueError, ZeroDivisionError):
            raise self.fail(name, f"« {value} » n'est pas un nombre décimal.") from None
        if number < 0:
            raise self.fail(name, "nombre positif attendu.")
        return number

    def read(self) -> Grid:
        head = self.data.get("grid")
        if not isinstance(head, dict):
            raise self.fail("grid", "table [grid] absente.")
        texts = {
            k: self.get(head, k, "grid", str)
            for k in ("id", "version", "diploma", "option", "epreuve", "title", "specialty")
        }
        bloc = str(head.get("bloc", "")).strip()
        max_mark = self.decimal(head, "max_mark", "grid")
        step = self.decimal(head, "rounding_step", "grid")
        if step == 0:
            raise self.fail("grid.rounding_step", "le pas d'arrondi doit être positif.")
        scale = self.read_scale()
        metas = self.read_metas()
        criteria = self.read_criteria(metas, scale)
        total = sum((c.points for c in criteria), Fraction(0))
        if total != max_mark:
            raise self.fail(
                "criterion.points",
                f"la somme des points des critères ({french.mark(total)}) diffère de la note maximale "
                f"grid.max_mark ({french.mark(max_mark)}).",
            )
        return Grid(
            scale=scale,
            metas=metas,
            criteria=criteria,
            bloc=bloc,
            max_mark=max_mark,
            rounding_step=step,
            source=str(self.path),
            **texts,
        )

    def read_scale(self) -> tuple[Level, ...]:
        items = self.data.get("scale")
        if not isinstance(items, list) or not items:
            raise self.fail("scale", "l'échelle des niveaux ([[scale]]) est absente ou vide.")
        levels = []
        for i, item in enumerate(items, 1):
            where = f"scale[{i}]"
            value = self.get(item, "level", where, int)
            if value != i:
                raise self.fail(f"{where}.level", f"niveau {i} attendu (niveaux numérotés 1, 2, 3… dans l'ordre).")
            fraction = self.decimal(item, "fraction", where)
            if fraction > 1:
                raise self.fail(f"{where}.fraction", "fraction entre 0 et 1 attendue.")
            levels.append(Level(value, self.get(item, "label", where, str), fraction))
        return tuple(levels)

    def read_metas(self) -> tuple[Meta, ...]:
        items = self.data.get("meta")
        if not isinstance(items, list) or not items:
            raise self.fail("meta", "aucune méta-compétence ([[meta]]).")
        metas = []
        for i, item in enumerate(items, 1):
            where = f"meta[{i}]"
            number = self.get(item, "number", where, int)
            if number != i:
                raise self.fail(f"{where}.number", f"méta-compétence {i} attendue (numérotées dans l'ordre).")
            texts = self.get(item, "competences", where, list)
            if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
                raise self.fail(f"{where}.competences", "liste de compétences détaillées (textes non vides) attendue.")
            comps = tuple(Competence(f"{number}.{k}", number, t.strip()) for k, t in enumerate(texts, 1))
            metas.append(Meta(number, self.get(item, "title", where, str), comps))
        return tuple(metas)

    def read_criteria(self, metas: tuple[Meta, ...], scale: tuple[Level, ...]) -> tuple[Criterion, ...]:
        items = self.data.get("criterion")
        if not isinstance(items, list) or not items:
            raise self.fail("criterion", "aucun critère ([[criterion]]).")
        known = {c.id: c.meta for m in metas for c in m.competences}
        criteria: list[Criterion] = []
        for i, item in enumerate(items, 1):
            where = f"criterion[{i}]"
            cid = self.get(item, "id", where, str)
            meta = self.get(item, "meta", where, int)
            if meta not in {m.number for m in metas}:
                raise self.fail(f"{where}.meta", f"méta-compétence {meta} inconnue.")
            rank = sum(1 for c in criteria if c.meta == meta) + 1
            if cid != f"C{meta}.{rank}":
                raise self.fail(f"{where}.id", f"identifiant C{meta}.{rank} attendu (critères numérotés dans l'ordre).")
            if criteria and criteria[-1].meta > meta:
                raise self.fail(f"{where}.meta", "les critères doivent suivre l'ordre des méta-compétences.")
            points = self.decimal(item, "points", where)
            for lvl in scale:
                if (points * lvl.fraction * 10**6).denominator != 1:
                    raise self.fail(
                        f"{where}.points",
                        "points × fraction doit tomber juste au millionième près "
                        f"(niveau {lvl.value} : {points} × {lvl.fraction}).",
                    )
            comps = self.get(item, "competences", where, list)
            for comp in comps:
                if comp not in known:
                    raise self.fail(f"{where}.competences", f"compétence « {comp} » inconnue.")
                if known[comp] != meta:
                    raise self.fail(
                        f"{where}.competences", f"la compétence {comp} n'appartient pas à la méta-compétence {meta}."
                    )
            if not comps:
                raise self.fail(f"{where}.competences", "au moins une compétence évaluée attendue.")
            criteria.append(
                Criterion(
                    cid,
                    meta,
                    self.get(item, "title", where, str),
                    self.get(item, "indicator", where, str),
                    points,
                    tuple(comps),
                )
            )
        return tuple(criteria)
