"""Word documents from templates, with docxtpl and a sandboxed, autoescaping Jinja.

Templates may be edited by anyone at the school, so they run in Jinja's
:class:`~jinja2.sandbox.SandboxedEnvironment`: no access to Python internals
(``__class__``, ``__globals__``…), no huge ranges or repetitions. Autoescape is on,
so "Dupont & Fils <SARL>" is written as typed instead of breaking the XML. An
unknown field is an error, not a silent blank in an official document.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from docxtpl import DocxTemplate
from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError, UndefinedError, nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from lxml import etree

from e2docs.formats.atomic import atomic_write
from e2docs.formats.files import Expect, read_regular
from e2docs.reports import limits
from e2docs.reports.charts import bind_charts
from e2docs.reports.context import FIELDS_BY_DOCUMENT
from e2docs.reports.errors import ReportError
from e2docs.reports.fieldcheck import guess_document
from e2docs.reports.mergefields import merge_field_problems, template_parts

MAX_REPEAT = 100_000  # longest string or list a template may build with * or **
_TOO_BIG = "le modèle demande une "
MAX_TEMPLATE_BYTES = 50 * 2**20
"""The largest Word template read (e2docs' own weigh about 26 KB; pictures add a few MB)."""
TEMPLATE_EXPECT = Expect(
    "modèle Word",
    MAX_TEMPLATE_BYTES,
    "Vérifiez le chemin du modèle ou le dossier de modèles (--templates).",
    ReportError,
)


class BrokenXml(Exception):
    """The filled-in document is not well-formed XML (a tag straddled a link, a field…)."""


class _StrictTemplate(DocxTemplate):
    """docxtpl parses the filled body with ``recover=True``, silently dropping text when a tag
    straddled a hyperlink or a tracked change; refuse such a result instead."""

    def fix_tables(self, xml: str | bytes) -> etree._Element:
        """docxtpl's step that parses the filled-in body; ``BrokenXml`` when it is not well-formed."""
        try:
            etree.fromstring(xml.encode("utf-8") if isinstance(xml, str) else xml)
        except etree.XMLSyntaxError as exc:
            raise BrokenXml(exc.msg) from None
        return super().fix_tables(xml)


class _Undefined(StrictUndefined):
    """Any use of an unknown field fails (also in ``{{ }}``), with Jinja's hint kept."""


class Sandbox(SandboxedEnvironment):
    """The Jinja environment of every e2docs template, bounded by :mod:`e2docs.reports.limits`.

    Call :meth:`bounded` around each rendering: it arms the meter (time, steps, output) for
    that document and turns a bound exceeded, or Python's ``RecursionError``, into a
    :class:`~e2docs.reports.limits.TemplateLimit`.
    """

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self) -> None:
        super().__init__(autoescape=True, undefined=_Undefined, keep_trailing_newline=True, finalize=self._emit)
        self._compiled: dict[str, Template] = {}  # template text → compiled, at most 65 kept
        self.meter = limits.Meter()
        meter = self._current_meter
        self.filters = {name: limits.bounded_filter(meter, name, f) for name, f in self.filters.items()}
        self.filters[limits.LOOP_FILTER] = lambda value, size=0: self.meter.loop(value, size)
        self.filters[limits.JOIN_FILTER] = lambda value: self.meter.join(value)
        self.globals["lipsum"] = limits.bounded_lipsum(meter)

    def _current_meter(self) -> limits.Meter:
        return self.meter

    def _emit(self, value: object) -> object:
        """Jinja's ``finalize``: every ``{{ … }}`` output, counted before it is kept in a buffer."""
        self.meter.produce(len(value) if isinstance(value, str) else len(str(value)))
        return value

    @contextlib.contextmanager
    def bounded(self, seconds: float | None = None, scale: float = 1.0) -> Iterator[None]:
        """Arm the meter for one rendering of at most ``seconds`` (``None``: :data:`~e2docs.reports.limits.SECONDS`;
        times ``scale``, as the other bounds:
        :meth:`~e2docs.reports.limits.Meter.start`); a ``RecursionError`` inside becomes a
        :class:`~e2docs.reports.limits.TemplateLimit`."""
        self.meter.start(seconds, scale)
        try:
            yield
        except RecursionError:
            raise limits.TemplateLimit(
                "le modèle s'appelle lui-même trop profondément (macro récursive ou imbrication excessive)"
            ) from None
        finally:
            self.meter.stop()

    def compile(
        self,
        source: str | nodes.Template,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> Any:
        """Jinja's compilation, with every loop and ``~`` join metered (:func:`limits.rewrite`)."""
        if isinstance(source, str):
            source = self.parse(source, name, filename)
        return super().compile(limits.rewrite(source), name, filename, raw, defer_init)  # type: ignore[call-overload]

    def concat(self, pieces: Iterable[str]) -> str:
        """Every buffer join of the template (whole output, macros, ``{% set %}`` blocks), metered."""
        return self.meter.concat(pieces)

    def from_string(
        self,
        source: str | nodes.Template,
        globals: MutableMapping[str, Any] | None = None,
        template_class: type[Template] | None = None,
    ) -> Template:
        """Compile each distinct template text once: a batch renders the same parts again and again."""
        if globals or template_class or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        if source not in self._compiled:
            if len(self._compiled) > 64:
                self._compiled.clear()
            self._compiled[source] = super().from_string(source)
        return self._compiled[source]

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (Jinja's names)
        """A call from the template (function, method, macro, ``loop()``): counted, one level deeper,
        its arguments checked before (a text method that would build a huge text) and its result
        after."""
        owner = getattr(getattr(__obj, "__wrapped__", __obj), "__self__", None)  # str.format: wrapped by Jinja
        if isinstance(owner, str):
            limits.check_str_method(getattr(__obj, "__name__", ""), owner, args, kwargs)
        result = __self.meter.call(lambda: SandboxedEnvironment.call(__self, __context, __obj, *args, **kwargs))
        limits.check_size(result)
        if isinstance(owner, (list, dict, set)):
            limits.check_size(owner)
        return result

    def call_binop(self, context: Context, operator: str, left: object, right: object) -> object:
        """``*``, ``**``, ``+`` and ``%`` as usual, but :class:`SecurityError` for a power
        above 100, a text or list repeated beyond :data:`MAX_REPEAT` items, a format asking for a
        huge width, or a text, list or number beyond the bounds of :mod:`e2docs.reports.limits`."""
        self.meter.tick()
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > 100:
            raise SecurityError(_TOO_BIG + "puissance trop grande")
        limits.check_int_op(operator, left, right)
        if operator == "*":
            for a, b in ((left, right), (right, left)):
                if isinstance(a, (str, list, tuple)) and isinstance(b, int) and len(a) * b > MAX_REPEAT:
                    raise SecurityError(_TOO_BIG + f"répétition trop longue (plus de {MAX_REPEAT} éléments)")
        if operator == "+" and isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
            (limits.check_text if isinstance(left, str) else limits.check_items)(len(left) + len(right))
        if operator == "%":
            limits.check_format(left, right if isinstance(right, tuple) else [right])
        result = super().call_binop(context, operator, left, right)
        limits.check_int(result)
        return result


_SHARED: Sandbox | None = None


def make_env() -> Sandbox:
    """The sandboxed environment (autoescape on, unknown fields are errors), shared so that its
    compiled templates serve the whole batch."""
    global _SHARED
    if _SHARED is None:
        _SHARED = Sandbox()
    return _SHARED


def _where(exc: Exception) -> str:
    """The template text around a Jinja error, when docxtpl recorded it."""
    lines = [re.sub(r"\s+", " ", x).strip() for x in getattr(exc, "docx_context", None) or []]
    text = " ".join(x for x in lines if x)
    return f" Texte du modèle à cet endroit : « {text[:200]} »." if text else ""


def explain(exc: Exception) -> str:
    """A French sentence for an error raised while rendering a template."""
    msg = str(exc)
    if isinstance(exc, OverflowError) and "sandbox" in msg.lower():
        return "le modèle demande une boucle trop longue (plus de 100 000 tours), ce qui est interdit."
    if isinstance(exc, limits.TemplateLimit):
        return (
            f"{msg}, ce qui est interdit. Simplifiez le modèle (boucles imbriquées, macro qui s'appelle "
            "elle-même, largeur de mise en forme démesurée)."
        )
    if msg.startswith(_TOO_BIG):
        return msg + ", ce qui est interdit."
    if isinstance(exc, SecurityError) or "unsafe" in msg:
        return (
            "le modèle tente d'accéder à l'intérieur de Python, ce qui est interdit "
            f"(« {msg} »). Retirez ce code du modèle."
        )
    if isinstance(exc, UndefinedError):
        m = re.search(r"'([^']+)' is undefined|has no attribute '([^']+)'", msg)
        name = next((g for g in (m.groups() if m else ()) if g), msg)
        return (
            f"champ inconnu « {name} ». Vérifiez l'orthographe (liste des champs : e2docs fields) ; "
            "e2docs check-template indique le paragraphe."
        )
    if isinstance(exc, TemplateSyntaxError):
        return syntax_message(exc) + " Vérifiez le modèle avec e2docs check-template."
    return f"le modèle n'a pas pu être rempli ({type(exc).__name__} : {msg})."


def syntax_message(exc: TemplateSyntaxError) -> str:
    """A Jinja syntax error, in French with what to do."""
    msg = exc.message or str(exc)
    quote = re.search(r"unexpected char '(.)'", msg)
    if quote and quote.group(1) in "«»“”‘’„":
        return (
            f"guillemet typographique « {quote.group(1)} » dans une balise : Word l'a sans doute mis à la "
            "place d'un guillemet droit. Utilisez ' ou \" (désactivez la correction automatique des "
            "guillemets)."
        )
    if quote:
        return f"caractère « {quote.group(1)} » inattendu dans une balise."
    unknown = re.search(r"Encountered unknown tag '([^']+)'", msg)
    if unknown:
        return f"instruction « {{% {unknown.group(1)} %}} » inconnue (faute de frappe ?)."
    block = re.search(r"innermost block that needs to be closed is '(\w+)'", msg)
    if block:
        return f"bloc « {{% {block.group(1)} … %}} » jamais fermé : ajoutez « {{% end{block.group(1)} %}} »."
    if "end of print statement" in msg:
        return "balise « {{ … }} » mal formée : un seul champ ou une seule expression entre {{ et }}."
    return f"erreur de syntaxe dans une balise ({msg})."


def render_to(template: str | Path, context: Mapping[str, object], out: str | Path, scale: float = 1.0) -> Path:
    """Fill ``template`` with ``context`` and write ``out`` atomically (temporary file, then rename).

    ``context`` maps the template's top-level field names to their values; its
    :class:`~e2docs.reports.charts.Chart` values become images (drawn only if the template shows them). Returns
    ``out``; raises :class:`ReportError` (French message, the template) when the template
    is missing or unreadable, uses an unknown field, breaks the sandbox (its bounds times ``scale``,
    see :meth:`Sandbox.bounded`) or gives an invalid document.
    """
    template, out = Path(template), Path(out)
    if not template.exists():
        raise ReportError("modèle Word introuvable.", template, hint="Vérifiez le dossier de modèles (--templates).")
    doc = load_template(template)
    refuse_merge_fields(doc, template)
    env = make_env()
    with explained(template), env.bounded(scale=scale):
        doc.render(bind_charts(dict(context), doc), env, autoescape=True)
    save_atomically(doc, out)
    return out


@contextlib.contextmanager
def explained(template: Path) -> Iterator[None]:
    """Turn an error raised while filling ``template`` (Jinja, sandbox, limits, an invalid result,
    an expression of the template such as ``1/0``) into a :class:`ReportError` in French."""
    try:
        yield
    except (TemplateError, SecurityError) as exc:
        raise ReportError(explain(exc) + _where(exc), template) from None
    except BrokenXml as exc:
        raise ReportError(
            f"le document produit serait invalide ({exc}) : une balise est sans doute à cheval sur "
            "un lien, un champ ou une modification suivie.",
            template,
            hint="Lancez e2docs check-template sur ce modèle.",
        ) from None
    except (ArithmeticError, TypeError, ValueError, LookupError, AttributeError) as exc:
        # raised by an expression of the template ("1/0", "range(10**9)", "'a' - 1"…)
        raise ReportError(explain(exc), template) from None


def refuse_merge_fields(doc: DocxTemplate, template: Path) -> None:
    """:class:`ReportError` when the template holds Word merge fields («Nom_candidat»), which e2docs
    does not fill: the same messages as ``check-template``, the first three of them."""
    document = guess_document(template, [])
    fields = FIELDS_BY_DOCUMENT[document]
    found = [p for name, root in template_parts(doc) for p in merge_field_problems(root, name, fields, document)]
    if not found:
        return
    shown = [f"{p.message} ({p.part}, paragraphe « {p.paragraph} »)" if p.paragraph else p.message for p in found[:3]]
    more = f" ; et {len(found) - 3} autre(s)" if len(found) > 3 else ""
    raise ReportError(
        f"le modèle contient {len(found)} champ(s) de publipostage Word : " + " ; ".join(shown) + more + ".",
        template,
        hint="Corrigez le modèle dans Word, puis vérifiez-le avec e2docs check-template.",
    )


def load_template(template: Path) -> DocxTemplate:
    """Open a .docx template, or raise :class:`ReportError` saying in French why it cannot be used
    (not a regular file, more than :data:`MAX_TEMPLATE_BYTES`, not a Word document)."""
    data = read_regular(template, TEMPLATE_EXPECT)
    try:
        doc = _StrictTemplate(io.BytesIO(data))
        doc.init_docx()
        return doc
    except Exception as exc:  # python-docx raises many types on a damaged or foreign file
        raise ReportError(
            f"fichier .docx illisible ou endommagé ({type(exc).__name__} : {exc}).",
            template,
            hint="Ouvrez-le dans Word ou LibreOffice et enregistrez-le au format .docx.",
        ) from None


class Saveable(Protocol):
    """A python-docx ``Document`` or a docxtpl ``DocxTemplate``: anything that saves itself as .docx bytes."""

    def save(self, stream: BinaryIO, /) -> None: ...


def save_atomically(doc: Saveable, out: Path) -> None:
    """Save a python-docx/docxtpl document to ``out`` through
    :func:`e2docs.formats.atomic.atomic_write` (``OSError`` when it cannot be written)."""
    buffer = io.BytesIO()
    doc.save(buffer)
    atomic_write(out, buffer.getvalue(), prefix=f".{out.stem}.")
