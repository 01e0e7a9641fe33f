"""Bounds on what a template may cost: time, loop steps, text built, recursion.

Templates are edited by anyone at the school; a slip (or a prank) such as
``{% for i in range(10**5) %}{% for j in range(10**5) %}…``, ``lipsum(10**6)``,
``"x"|center(10**9)``, ``"%999999999s"|format`` or a macro calling itself must end
with a French refusal, quickly and without exhausting memory, on every system.

How (all in-process, so it behaves the same on Windows, macOS and Linux):

* every ``{% for %}`` loop is rewritten at compile time to iterate through
  :func:`Meter.loop` (a step counter checking the deadline), and every ``~`` through
  :meth:`Meter.join`; calls, intercepted operators, filters and every buffer join
  (``Environment.concat``, used by the whole template, macros and ``{% set %}``
  blocks) go through the sandbox's hooks, which count and check too;
* sizes are checked *before* Python builds a big text or list (widths of
  ``center``/``format``/``indent``…, repetitions, joins), so memory stays bounded;
* macro and ``loop()`` recursion is counted, and Python's own ``RecursionError`` is
  turned into the same refusal.

A :class:`TemplateLimit` (a :class:`~jinja2.sandbox.SecurityError`) carries the French
reason. The meter is per rendering: :meth:`Meter.start` arms it for one template.
"""

from __future__ import annotations

import contextlib
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sized
from functools import wraps
from typing import Any

from jinja2 import nodes
from jinja2.sandbox import SecurityError
from jinja2.visitor import NodeTransformer

SECONDS = 10.0  # longest rendering of one document (body, headers and footers)
MAX_STEPS = 200_000  # loop turns, calls and filters of one document
MAX_TEXT = 1_000_000  # longest text a template may build (characters)
MAX_OUTPUT = 50_000_000  # characters produced in all, over every join of one document
MAX_ITEMS = 100_000  # longest list a template may build
MAX_WIDTH = 10_000  # largest width or count given to center, indent, format, batch…
MAX_DEPTH = 50  # nested macro or recursive-loop calls
MAX_BITS = 100_000  # largest integer a template may compute (bits)
CLASS_ROWS = 1_000
"""Candidates a document's bounds are made for: the class record of a larger class gets time, steps
and output in proportion (:meth:`Meter.start`'s ``scale``), so that a whole académie's record is
not refused while a template's runaway loop still is."""


class TemplateLimit(SecurityError):
    """A template went beyond one of the bounds; the message is French and says which.

    ``lineno`` is the line of the template being run when it was raised (``None`` when
    unknown): docxtpl uses it to quote the paragraph."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.lineno = _template_line()


def _template_line() -> int | None:
    """The template line being run by the innermost compiled Jinja frame on the stack, or ``None``."""
    frame = sys._getframe(1)
    while frame is not None:
        template = frame.f_globals.get("__jinja_template__")
        if template is not None:
            line: int = template.get_corresponding_lineno(frame.f_lineno)
            return line
        frame = frame.f_back  # type: ignore[assignment]  # None ends the loop
    return None


class Meter:
    """The costs of the rendering in progress: steps taken, characters produced, call depth.

    :meth:`start` arms it for one document (deadline ``seconds`` from now), :meth:`stop`
    disarms it. Disarmed, it counts nothing (only the checks on sizes and widths apply):
    every rendering e2docs makes is armed (``Sandbox.bounded``).
    """

    def __init__(self) -> None:
        self.start()
        self.stop()

    def start(self, seconds: float | None = None, scale: float = 1.0) -> None:
        """Reset the counts and set the deadline ``seconds`` from now (``None``: :data:`SECONDS`);
        ``scale`` (at least 1) multiplies the time, the steps (:data:`MAX_STEPS`) and the output
        (:data:`MAX_OUTPUT`) allowed."""
        seconds = SECONDS if seconds is None else seconds
        scale = max(scale, 1.0)
        self.armed = True
        _ARMED.add(self)
        self.started = time.monotonic()
        self.deadline = self.started + seconds * scale
        self.seconds = seconds * scale
        self.max_steps = int(MAX_STEPS * scale)
        self.max_output = int(MAX_OUTPUT * scale)
        self.steps = 0
        self.output = 0
        self.depth = 0

    def stop(self) -> None:
        """Disarm: nothing is counted until the next :meth:`start`."""
        self.armed = False
        _ARMED.discard(self)

    def tick(self, n: int = 1) -> None:
        """Count ``n`` steps; :class:`TemplateLimit` past the step budget or the deadline."""
        if not self.armed:
            return
        self.steps += n
        if self.steps > self.max_steps:
            raise TemplateLimit(
                f"le modèle demande trop de calculs (plus de {self.max_steps:,} tours de boucle ou appels)".replace(
                    ",", " "
                )
            )
        if time.monotonic() > self.deadline:
            raise TemplateLimit(f"le remplissage du modèle dépasse {self.seconds:g} secondes")

    def produce(self, chars: int) -> None:
        """Count ``chars`` characters of output; :class:`TemplateLimit` past :data:`MAX_OUTPUT`."""
        if not self.armed:
            return
        self.output += chars
        if self.output > self.max_output:
            millions = self.max_output // 1_000_000
            raise TemplateLimit(f"le modèle produit un document démesuré (plus de {millions} millions de caractères)")

    def loop(self, iterable: Iterable[Any], size: int = 0) -> Iterator[Any]:
        """``iterable`` with one step counted per item (every ``{% for %}`` goes through here), and
        ``size`` characters of output: the fixed text of the loop's body."""
        self.tick()
        for item in iterable:
            self.tick()
            self.produce(size)
            yield item

    def join(self, pieces: Iterable[Any]) -> str:
        """The ``~`` operator: the pieces as text, joined, refused beyond :data:`MAX_TEXT`."""
        from jinja2.runtime import markup_join

        items = list(pieces)
        check_text(sum(len(x) if isinstance(x, str) else len(str(x)) for x in items))
        result: str = markup_join(items)
        return result

    def concat(self, pieces: Iterable[str]) -> str:
        """``Environment.concat``: every buffer of the template joined, counted piece by piece
        before the join so that a runaway loop is stopped before its text is built."""
        return "".join(self.stream(pieces, 1 << 16))  # a class record holds a million pieces

    def stream(self, pieces: Iterable[str], size: int) -> Iterator[str]:
        """``pieces`` (a template's output, as Jinja's ``generate`` gives it) counted as :meth:`concat`
        counts them, joined into texts of ``size`` characters or a little more (the last one shorter):
        a large document is then never held whole. The time the caller takes with each text before
        asking for the next is its own, not the template's: it is not counted in the deadline."""
        buffer: list[str] = []
        held = 0
        for count, piece in enumerate(pieces, 1):
            self.produce(len(piece))
            buffer.append(piece)
            held += len(piece)
            if count % 1024 == 0:
                self.tick(0)
            if held >= size:
                paused = time.monotonic()
                yield "".join(buffer)
                self.deadline += time.monotonic() - paused
                buffer.clear()
                held = 0
        if buffer:
            yield "".join(buffer)

    def call(self, run: Callable[[], Any]) -> Any:
        """A call from the template, one level deeper; :class:`TemplateLimit` beyond :data:`MAX_DEPTH`
        levels (a macro calling itself)."""
        self.tick()
        if self.depth >= MAX_DEPTH:
            raise TemplateLimit(
                f"le modèle s'appelle lui-même trop profondément (macro récursive, plus de {MAX_DEPTH} niveaux)"
            )
        self.depth += 1
        try:
            return run()
        finally:
            self.depth -= 1


_ARMED: set[Meter] = set()  # the meters armed in this process (one per environment: renderings in progress)
_UNTIMED = 0  # untimed() blocks entered and not left


@contextlib.contextmanager
def untimed() -> Iterator[None]:
    """The time spent inside is not counted in the deadline of the renderings in progress: for
    e2docs's own work called from a template, such as drawing a chart it shows (the first one also
    imports matplotlib: seconds on a slow machine, which a template's bound is not about). Nested
    blocks count once; a meter armed inside gets back only the time since it was armed."""
    global _UNTIMED
    start = time.monotonic()
    _UNTIMED += 1
    try:
        yield
    finally:
        _UNTIMED -= 1
        if _UNTIMED == 0:
            now = time.monotonic()
            for meter in list(_ARMED):
                meter.deadline += now - max(start, meter.started)


def check_text(length: int) -> None:
    """:class:`TemplateLimit` when a text of ``length`` characters would be too long."""
    if length > MAX_TEXT:
        raise TemplateLimit(
            f"le modèle construit un texte trop long (plus de {MAX_TEXT:,} caractères)".replace(",", " ")
        )


def check_items(length: int) -> None:
    """:class:`TemplateLimit` when a list of ``length`` items would be too long."""
    if length > MAX_ITEMS:
        raise TemplateLimit(
            f"le modèle construit une liste trop longue (plus de {MAX_ITEMS:,} éléments)".replace(",", " ")
        )


def check_width(value: object) -> None:
    """:class:`TemplateLimit` when ``value`` is an integer too big for a width or a count."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_WIDTH:
        raise TemplateLimit(
            f"le modèle demande une largeur ou un nombre trop grand ({value:.3g} ; au plus {MAX_WIDTH})"
        )


def check_size(value: object) -> None:
    """:class:`TemplateLimit` when ``value`` is a text or a list beyond the bounds."""
    if isinstance(value, str):
        check_text(len(value))
    elif isinstance(value, (list, tuple, dict, set)):
        check_items(len(value))


def check_int(value: object) -> None:
    """:class:`TemplateLimit` when ``value`` is an integer beyond :data:`MAX_BITS` bits."""
    if isinstance(value, int) and value.bit_length() > MAX_BITS:
        raise TemplateLimit("le modèle calcule un nombre démesuré")


def check_int_op(operator: str, left: object, right: object) -> None:
    """:class:`TemplateLimit` before ``left ** right`` or ``left * right`` would give an integer
    beyond :data:`MAX_BITS` bits."""
    if not (isinstance(left, int) and isinstance(right, int)):
        return
    if operator == "**":
        bits = left.bit_length() * max(right, 0)
    elif operator == "*":
        bits = left.bit_length() + right.bit_length()
    else:
        return
    if bits > MAX_BITS:
        raise TemplateLimit("le modèle calcule un nombre démesuré")


# Widths and precisions in "%…s" (printf style) and "{:…}" (str.format) formats.
_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\d*|\*)(?:\.(\d*|\*))?")
_BRACES = re.compile(r"\{[^{}]*?:([^{}]*)\}")


def check_format(fmt: object, args: Iterable[Any] = ()) -> None:
    """:class:`TemplateLimit` when format text ``fmt`` (``%`` or ``str.format`` style) or one of its
    ``args`` asks for a width beyond :data:`MAX_WIDTH` (``"%999999999s"``, ``"{:>999999999}"``)."""
    if not isinstance(fmt, str):
        return
    numbers = [n for m in _PRINTF.finditer(fmt) for n in m.groups() if n and n != "*"]
    numbers += re.findall(r"\d+", " ".join(m.group(1) for m in _BRACES.finditer(fmt)))
    for n in numbers:
        check_width(int(n) if len(n) < 12 else 10**12)
    for a in args:
        check_width(a)
    check_text(len(fmt))


def _total_text(items: object, sep: object = "") -> int:
    """Characters of ``sep.join(items)`` (0 when ``items`` is not a list or tuple: checked after)."""
    if not isinstance(items, (list, tuple)):
        return 0
    seps = len(sep) if isinstance(sep, str) else 0
    return sum(len(x) if isinstance(x, str) else 16 for x in items) + seps * len(items)


def check_str_method(name: str, text: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Before ``text.<name>(*args, **kwargs)`` runs: refuse what would build a huge text."""
    values = list(args) + list(kwargs.values())
    if name in ("center", "ljust", "rjust", "zfill", "expandtabs"):
        for v in values:
            check_width(v)
    elif name in ("format", "format_map"):
        check_format(text, [v for v in values if isinstance(v, int)])
    elif name == "join" and values:
        check_text(_total_text(values[0], text))
    elif name == "replace" and len(values) >= 2 and isinstance(values[1], str):
        check_text(len(text) + (len(text) + 1) * len(values[1]))


# ------------------------------------------------------------------ filters


def _width_args(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if name in ("center", "indent", "wordwrap", "truncate", "batch", "slice"):
        for v in list(args) + list(kwargs.values()):
            check_width(v)


def bounded_filter(meter_of: Callable[[], Meter], name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """Filter ``func`` with the bounds checked around it: a step counted, widths and the texts
    it would build checked before, the size of its result after."""
    offset = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0

    @wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        meter_of().tick()
        if len(args) > offset:
            value, rest = args[offset], args[offset + 1 :]
            _width_args(name, rest, kwargs)
            if name == "format":
                check_format(value, [v for v in list(rest) + list(kwargs.values()) if isinstance(v, int)])
            elif name == "join":
                check_text(_total_text(value, rest[0] if rest else kwargs.get("d", "")))
            elif name == "replace" and len(rest) >= 2 and isinstance(value, str) and isinstance(rest[1], str):
                check_text(len(value) + (len(value) + 1) * len(rest[1]))
            elif name == "sum" and isinstance(value, (list, tuple)):
                check_items(sum(len(x) if isinstance(x, Sized) else 1 for x in value))
        result = func(*args, **kwargs)
        check_size(result)
        return result

    return run


def bounded_lipsum(meter_of: Callable[[], Meter]) -> Callable[..., str]:
    """Jinja's ``lipsum`` with at most 20 paragraphs of at most 200 words."""
    from jinja2.utils import generate_lorem_ipsum

    def lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:  # noqa: A002 (Jinja's names)
        meter_of().tick()
        if not all(isinstance(v, int) for v in (n, min, max)) or n > 20 or max > 200 or min > max:
            raise TemplateLimit("le modèle demande trop de faux texte (lipsum : au plus 20 paragraphes de 200 mots)")
        return generate_lorem_ipsum(n, html, min, max)

    return lipsum


# ------------------------------------------------------------------ compile-time rewrite

LOOP_FILTER = "e2docs_boucle"
JOIN_FILTER = "e2docs_concat"


class _Rewrite(NodeTransformer):
    """Every ``{% for %}`` iterates through :data:`LOOP_FILTER`, every ``~`` joins through
    :data:`JOIN_FILTER` (filters: a template cannot shadow them)."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        size = sum(len(d.data) for n in node.body for d in n.find_all(nodes.TemplateData))
        self.generic_visit(node)
        size_arg = nodes.Const(size, lineno=node.lineno)
        node.iter = nodes.Filter(node.iter, LOOP_FILTER, [size_arg], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return nodes.Filter(
            nodes.List(node.nodes, lineno=node.lineno), JOIN_FILTER, [], [], None, None, lineno=node.lineno
        )


def rewrite(ast: nodes.Template) -> nodes.Template:
    """``ast`` with its loops and ``~`` joins metered (changed in place, and returned)."""
    _Rewrite().visit(ast)
    return ast
