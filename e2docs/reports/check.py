"""Check a Word template someone edited, before it is used for real.

What is reported (docxtpl 0.20 behaviour, checked against its code and in tests):

* tags split over runs, paragraphs, links or cells: see :mod:`e2docs.reports.runs`
  (same formatting: fine, not reported; different formatting or two paragraphs:
  warning; link, tracked change, field, table cells: error);
* a ``{%p …%}`` / ``{%tr …%}`` tag replaces its whole paragraph / table row, so
  other text there disappears — a warning;
* Jinja syntax errors (unclosed ``{% for %}``, typographic quotes…) and unknown
  fields (``candidat.nmo``), with the paragraph where they are;
* when nothing above is an error, a test render with sample data in the sandbox,
  and a strict XML parse of what it produces.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from docx import Document
from docxtpl import DocxTemplate
from jinja2 import TemplateSyntaxError
from jinja2.exceptions import TemplateError
from jinja2.sandbox import SecurityError
from lxml import etree

from e2docs.reports import samples
from e2docs.reports.charts import bind_charts
from e2docs.reports.context import CANDIDATE_FIELDS, CLASS_FIELDS, candidate_context, class_context
from e2docs.reports.fieldcheck import FieldChecker, guess_document
from e2docs.reports.mergefields import merge_field_problems, template_parts
from e2docs.reports.problem import ERROR, WARNING, Problem, line_text, plain, short
from e2docs.reports.render import explain, load_template, make_env, syntax_message
from e2docs.reports.runs import run_problems

__all__ = ["ERROR", "WARNING", "Problem", "check_template"]

_BLOCKS = {"for", "if", "macro", "call", "filter", "with", "block", "autoescape", "trans", "set"}


def check_template(path: str | Path, document: str | None = None) -> list[Problem]:
    """Every problem found in the template at ``path``; an empty list means it is usable.

    ``document`` is ``candidat`` (evaluation sheet, prospecting summary) or
    ``classe`` (class record); by default it is guessed from the fields used. Raises
    :class:`~e2docs.reports.errors.ReportError` when the file cannot be opened as a Word template.
    """
    path = Path(path)
    tpl = load_template(path)
    problems: list[Problem] = []
    sources = []
    for part_name, element in _parts(tpl):
        problems += run_problems(element, part_name)
        xml = tpl.patch_xml(etree.tostring(element, encoding="unicode"))
        sources.append((part_name, re.sub(r"<w:p([ >])", r"\n<w:p\1", xml)))
    asts = []
    for part_name, src in sources:
        block = _block_problems(src, part_name)
        problems += block
        try:
            asts.append((part_name, src, make_env().parse(src)))
        except TemplateSyntaxError as exc:
            if not block:
                problems.append(Problem(ERROR, syntax_message(exc), line_text(src, exc.lineno), part_name))
        except RecursionError:
            problems.append(
                Problem(ERROR, "expression trop imbriquée (parenthèses ou crochets) : simplifiez-la.", "", part_name)
            )
    if document is None:
        document = guess_document(path, [a for _, _, a in asts])
    top = CANDIDATE_FIELDS if document != "classe" else CLASS_FIELDS
    for part_name, element in _parts(tpl):
        problems += merge_field_problems(element, part_name, top, document)
    for part_name, src, ast in asts:
        problems += FieldChecker(top, src, part_name).run(ast)
    if not any(p.severity == ERROR for p in problems):
        problems += _test_render(path, document)
    return problems


# ------------------------------------------------------------------ parts and text


def _parts(tpl: DocxTemplate) -> list[tuple[str, etree._Element]]:
    """(French name of the part, its XML root) for the body, then each header and footer."""
    return template_parts(tpl)


# ------------------------------------------------------------------ Jinja syntax


def _block_problems(src: str, part: str) -> list[Problem]:
    """Unclosed or unmatched ``{% for %}``/``{% if %}``…, located at their own paragraph."""
    stack: list[tuple[str, int, bool]] = []
    out: list[Problem] = []
    try:
        tokens = [t for t in make_env().lex(src) if t[1] not in ("whitespace", "comment", "linecomment")]
    except TemplateSyntaxError:
        return []
    for i, (lineno, kind, _value) in enumerate(tokens):
        if kind != "block_begin" or i + 1 >= len(tokens) or tokens[i + 1][1] != "name":
            continue
        word = tokens[i + 1][2]
        if word == "set":  # a block set has no "=" before the end of its tag
            rest = [t for t in tokens[i + 2 : i + 40]]
            end = next((k for k, t in enumerate(rest) if t[1] == "block_end"), len(rest))
            if any(t[1] == "operator" and t[2] == "=" for t in rest[:end]):
                continue
        if word in _BLOCKS:
            stack.append((word, lineno, True))
        elif word.startswith("end") and word[3:] in _BLOCKS:
            opened = word[3:]
            if stack and stack[-1][0] == opened:
                stack.pop()
            else:
                hint = f" (le dernier bloc ouvert est « {stack[-1][0]} »)" if stack else ""
                out.append(
                    Problem(
                        ERROR,
                        f"« {{% {word} %}} » sans « {{% {opened} … %}} » ouvert avant{hint}.",
                        line_text(src, lineno, r"\{%-?\s*" + word + r"\b"),
                        part,
                    )
                )
                if stack and any(s[0] == opened for s in stack):
                    while stack and stack[-1][0] != opened:
                        stack.pop()
                    stack.pop()
    for word, lineno, _ in stack:
        tag = _tag_in_line(src, lineno, word)
        out.append(
            Problem(
                ERROR,
                f"bloc « {tag} » jamais fermé : ajoutez « {{% end{word} %}} » "
                f"(« {{%tr end{word} %}} » s'il ouvre une ligne de tableau, « {{%p end{word} %}} » "
                "pour un paragraphe).",
                line_text(src, lineno, r"\{%-?\s*" + word + r"\b"),
                part,
            )
        )
    return out


def _tag_in_line(src: str, lineno: int, word: str) -> str:
    text = plain(src.split("\n")[lineno - 1]) if 0 < lineno <= src.count("\n") + 1 else ""
    m = re.search(r"\{%-?\s*" + word + r"\b[^%]*%\}", text)
    return short(m.group(0), 60) if m else f"{{% {word} … %}}"


# ------------------------------------------------------------------ test render


def _test_render(path: Path, document: str) -> list[Problem]:
    """Render with sample data; the result must be well-formed and open in python-docx."""
    context = (
        class_context(samples.sample_class_rows(), samples.sample_class_info())
        if document == "classe"
        else candidate_context(samples.sample_evaluation())
    )
    tpl = load_template(path)
    env = make_env()
    try:
        with env.bounded():
            tpl.render_init()
            bound = bind_charts(context, tpl)
            xml_parts = [("corps du document", tpl.build_xml(bound, env))]
            for uri, name in ((tpl.HEADER_URI, "en-tête"), (tpl.FOOTER_URI, "pied de page")):
                xml_parts += [
                    (name, x.decode("utf-8") if isinstance(x, bytes) else x)
                    for _, x in tpl.build_headers_footers_xml(bound, uri, env)
                ]
    except (TemplateError, SecurityError, ArithmeticError, TypeError, ValueError, LookupError, AttributeError) as exc:
        lines = [x for x in getattr(exc, "docx_context", None) or [] if x.strip()]
        return [
            Problem(
                ERROR, "essai avec des données d'exemple : " + explain(exc), short(" ".join(lines)) if lines else ""
            )
        ]
    out = []
    for name, xml in xml_parts:
        try:
            etree.fromstring(xml.encode("utf-8"))
        except etree.XMLSyntaxError as exc:
            out.append(
                Problem(
                    ERROR,
                    "essai avec des données d'exemple : le document produit est invalide "
                    f"({exc.msg}). Une balise est sans doute à cheval sur un lien, un champ ou une "
                    "modification suivie.",
                    part=name,
                )
            )
    if out:
        return out
    try:
        full = load_template(path)
        with env.bounded():
            full.render(bind_charts(context, full), env, autoescape=True)  # what render_to does
        buf = io.BytesIO()
        full.save(buf)
        Document(io.BytesIO(buf.getvalue()))
    except Exception as exc:  # anything here is a template problem docxtpl did not name
        out.append(Problem(ERROR, f"essai avec des données d'exemple : échec ({type(exc).__name__} : {exc})."))
    return out
