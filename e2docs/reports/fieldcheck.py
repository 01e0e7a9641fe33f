"""Unknown fields in a parsed template: ``candidat.nmo``, ``metas[].titr``, with a suggestion."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from jinja2 import nodes

from e2docs.reports.context import CANDIDATE_FIELDS, CLASS_FIELDS
from e2docs.reports.problem import ERROR, Problem, line_text
from e2docs.reports.schema import LIST, OBJECT, Spec, child

# Names Jinja itself provides: never reported as unknown fields.
_GLOBALS: set[str] = {
    "loop",
    "range",
    "dict",
    "lipsum",
    "cycler",
    "joiner",
    "namespace",
    "true",
    "false",
    "none",
    "True",
    "False",
    "None",
    "caller",
    "varargs",
    "kwargs",
    "super",
    "self",
}


@dataclass(frozen=True)
class _Shape:
    """What an expression stands for: a field with its dotted path ("metas[].criteres"), its kind
    (:data:`~e2docs.reports.schema.LIST`, ``OBJECT``…) and, for those two, its sub-fields."""

    path: str
    kind: str
    fields: tuple[Spec, ...] = ()


def _shape(path: str, spec: Spec) -> _Shape:
    return _Shape(path, spec.kind, spec.fields)


# A template variable in scope → what it stands for (None: a loop variable or something untracked).
_Scope = dict[str, _Shape | None]


class FieldChecker:
    """Walks a parsed template and reports fields that the data does not have.

    ``top`` are the fields of the document family, ``src`` the template text that was
    parsed (to quote the paragraph of a problem) and ``part`` the name of the Word
    part it came from, for the messages.
    """

    def __init__(self, top: Sequence[Spec], src: str, part: str) -> None:
        self.top = {s.key: s for s in top}
        self.src, self.part = src, part
        self.problems: list[Problem] = []
        self.seen: set[str] = set()
        self.assigned: set[str] = set()

    def run(self, ast: nodes.Template) -> list[Problem]:
        """The unknown fields of ``ast``, one problem per field path, in template order."""
        for n in ast.find_all((nodes.Assign, nodes.AssignBlock, nodes.For, nodes.Macro, nodes.With, nodes.CallBlock)):
            for target in n.find_all(nodes.Name):
                if target.ctx in ("store", "param"):
                    self.assigned.add(target.name)
            if isinstance(n, nodes.Macro):
                self.assigned.add(n.name)
        self.visit(ast, {})
        return self.problems

    def report(self, path: str, siblings: Iterable[str], lineno: int) -> None:
        """Record unknown field ``path`` (once), suggesting the closest of ``siblings``."""
        if path in self.seen:
            return
        self.seen.add(path)
        name = path.rsplit(".", 1)[-1]
        siblings = list(siblings)
        close = [s for s in siblings if sorted(s) == sorted(name)] or difflib.get_close_matches(name, siblings, n=1)
        stem = path[: -len(name)]
        hint = f" Vouliez-vous dire « {stem}{close[0]} » ?" if close else " Liste des champs : e2docs fields."
        self.problems.append(Problem(ERROR, f"champ inconnu « {path} ».{hint}", line_text(self.src, lineno), self.part))

    def visit(self, node: nodes.Node, scope: _Scope) -> None:
        """Check every field used under ``node``; a ``for`` loop scopes its variable."""
        if isinstance(node, nodes.For):
            shape = self.resolve(node.iter, scope)
            inner: _Scope = dict(scope, loop=None)
            item = None
            if shape is not None and shape.kind == LIST:
                item = _Shape(shape.path + "[]", OBJECT, shape.fields)
            for name in node.target.find_all(nodes.Name) if not isinstance(node.target, nodes.Name) else ():
                inner[name.name] = None
            if isinstance(node.target, nodes.Name):
                inner[node.target.name] = item
            for n in ([node.test] if node.test else []) + list(node.body):
                self.visit(n, inner)
            for n in node.else_:
                self.visit(n, scope)
        elif isinstance(node, (nodes.Name, nodes.Getattr, nodes.Getitem)):
            self.resolve(node, scope)
        else:
            for n in node.iter_child_nodes():
                self.visit(n, scope)

    def resolve(self, expr: nodes.Node, scope: _Scope) -> _Shape | None:
        """What ``expr`` stands for, reporting unknown fields on the way; ``None`` when untracked."""
        if isinstance(expr, nodes.Name):
            if expr.name in scope:
                return scope[expr.name]
            if expr.name in self.top:
                return _shape(expr.name, self.top[expr.name])
            if expr.name not in self.assigned and expr.name not in _GLOBALS and expr.ctx == "load":
                self.report(expr.name, self.top, expr.lineno)
            return None
        if isinstance(expr, nodes.Getattr):
            return self.member(self.resolve(expr.node, scope), expr.attr, expr.lineno)
        if isinstance(expr, nodes.Getitem):
            base = self.resolve(expr.node, scope)
            self.visit(expr.arg, scope)
            if base is None or not isinstance(expr.arg, nodes.Const):
                return None
            if isinstance(expr.arg.value, str):
                return self.member(base, expr.arg.value, expr.lineno)
            if isinstance(expr.arg.value, int) and base.kind == LIST:
                return _Shape(base.path + "[]", OBJECT, base.fields)
            return None
        self.visit(expr, scope)
        return None

    def member(self, base: _Shape | None, attr: str, lineno: int) -> _Shape | None:
        """Sub-field ``attr`` of ``base``, reported when an object lacks it; ``None`` when untracked."""
        if base is None or base.kind != OBJECT:
            return None  # a text's methods, a list's, or something untracked
        spec = child(base.fields, attr)
        if spec is None:
            self.report(f"{base.path}.{attr}", [s.key for s in base.fields], lineno)
            return None
        return _shape(f"{base.path}.{attr}", spec)


def guess_document(path: Path, asts: Iterable[nodes.Template]) -> str:
    """``"candidat"`` or ``"classe"``: the document family whose fields leave fewer of the names
    used by the parsed parts of template ``path`` unknown; the file name decides a tie
    ("classe" or "recap" in it → ``"classe"``)."""
    used: set[str] = set()
    for ast in asts:
        used |= {n.name for n in ast.find_all(nodes.Name) if n.ctx == "load"}
    cand = len(used - {s.key for s in CANDIDATE_FIELDS})
    klass = len(used - {s.key for s in CLASS_FIELDS})
    if cand != klass:
        return "candidat" if cand < klass else "classe"
    return "classe" if re.search(r"classe|recap", path.name, re.I) else "candidat"
