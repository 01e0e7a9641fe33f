"""The fields templates can use, declared once: how each is computed and what it means.

A :class:`Spec` names a field, describes it in French and says how to get its
value from a source object. The same declarations build the template data
(:func:`build`), list the fields for users (:func:`flatten`) and let
``check_template`` recognise a misspelt field (:func:`child`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from e2docs.model.sequences import Mapped

TEXT, NUMBER, BOOL, LIST, OBJECT = "texte", "nombre", "booléen", "liste", "objet"
TEXTS, VALUES = "liste de textes", "liste de valeurs"
IMAGE = "image"  # a chart drawn into the document: ``{{ field }}`` alone in its paragraph
COMPAT = " (gardé pour les anciens modèles)"  # ends the description of a field kept for compatibility


@dataclass(frozen=True)
class Spec:
    """One template field.

    ``get`` receives the source object (for an item of a list: the item's source)
    and returns the value; for an ``objet`` it returns the source of the sub-fields,
    for a ``liste`` an iterable of item sources. ``fields`` describe the sub-fields.
    ``kind`` is one of the French kind names above (``TEXT``…), shown to users.
    Sources are whatever the document's context builder passes (readings, grid
    parts…), hence ``Any``.
    """

    key: str
    doc: str
    get: Callable[[Any], Any]
    kind: str = TEXT
    fields: tuple[Spec, ...] = ()


def T(key: str, doc: str, get: Callable[[Any], Any], kind: str = TEXT) -> Spec:
    """A leaf field (text unless ``kind`` says otherwise)."""
    return Spec(key, doc, get, kind)


def O(key: str, doc: str, get: Callable[[Any], Any], fields: Sequence[Spec]) -> Spec:  # noqa: E743 (T, O, L: field DSL)
    """An object with sub-fields (``{{ key.sub }}``)."""
    return Spec(key, doc, get, OBJECT, tuple(fields))


def L(key: str, doc: str, get: Callable[[Any], Any], fields: Sequence[Spec]) -> Spec:
    """A list of objects, for ``{% for x in key %}``."""
    return Spec(key, doc, get, LIST, tuple(fields))


class Lazy(Mapped[Any, Any]):
    """A ``liste`` whose items are made one at a time, when the template reads them: ``make`` of each
    item of ``items``, made again at each reading. A field's ``get`` returns one for a list too long to
    hold as dicts (the class record of a whole académie, whose rows are read from disk:
    :class:`~e2docs.reports.rows.ClassRows`); :func:`build` keeps it lazy.

    A template sees a list: ``for`` and ``loop``, ``|length``, ``|first``, ``|last``, indexing,
    slices (real lists), ``in``, truth (empty or not), ``+`` and ``*`` (a real list then), ``==`` with a
    list, its text (``|string``). Nothing else of it is reachable (its attributes are private: the
    sandbox hides them)."""

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return list(super().__getitem__(index))
        return super().__getitem__(index)

    def __add__(self, other: Any) -> list[Any]:
        return [*self, *other]

    def __radd__(self, other: Any) -> list[Any]:
        return [*other, *self]

    def __mul__(self, times: int) -> list[Any]:
        return list(self) * times

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return repr(list(self))

    def then(self, make: Callable[[Any], Any]) -> Lazy:
        """This list with ``make`` applied to each of its items, lazily too."""
        mapped = super().then(make)
        return Lazy(mapped._items, mapped._make)


def build(specs: Iterable[Spec], source: Any) -> dict[str, Any]:
    """The template data described by ``specs``, computed from ``source``: field key → value,
    an ``objet`` as a nested dict, a ``liste`` as a list of dicts (a :class:`Lazy` list stays
    lazy, its items built when read), the lists of texts or values as lists."""
    out: dict[str, Any] = {}
    for spec in specs:
        value = spec.get(source)
        if spec.kind == OBJECT:
            value = build(spec.fields, value)
        elif spec.kind == LIST and isinstance(value, Lazy):
            value = value.then(functools.partial(build, spec.fields))
        elif spec.kind == LIST:
            value = [build(spec.fields, item) for item in value]
        elif spec.kind in (TEXTS, VALUES):
            value = list(value)
        out[spec.key] = value
    return out


@dataclass(frozen=True)
class FieldDoc:
    """One line of the field list: ``candidat.nom``, ``metas[].criteres[].points``…

    ``document`` is the family (``"candidat"`` or ``"classe"``), ``kind`` the French kind name.
    """

    document: str
    path: str
    kind: str
    description: str


def flatten(specs: Iterable[Spec], document: str, prefix: str = "") -> list[FieldDoc]:
    """Every field, depth first, with its dotted path (``[]`` marks a list item)."""
    out: list[FieldDoc] = []
    for spec in specs:
        path = f"{prefix}{spec.key}"
        out.append(FieldDoc(document, path, spec.kind, spec.doc))
        if spec.kind == OBJECT:
            out += flatten(spec.fields, document, path + ".")
        elif spec.kind == LIST:
            out += flatten(spec.fields, document, path + "[].")
    return out


def child(spec_fields: Sequence[Spec], key: str) -> Spec | None:
    """The sub-field named ``key``, or None."""
    return next((s for s in spec_fields if s.key == key), None)
