"""Word documents from results: evaluation sheet, prospecting summary, class record.

Templates are looked up in ``templates_dir`` when given (a school's edited
copies; a template missing there is taken from e2docs), else among the
templates shipped in the package (``e2docs.templates/docx``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from e2docs.formats.bundled import bundled
from e2docs.model.evaluation import Evaluation
from e2docs.reports import limits
from e2docs.reports.check import Problem, check_template
from e2docs.reports.compiled import CompiledTemplate, Templates
from e2docs.reports.context import FIELDS_DOC, ClassInfo, ClassRow, candidate_context, class_context, class_rows
from e2docs.reports.errors import ReportError
from e2docs.reports.fields import fields_doc, fields_text
from e2docs.reports.merge import merge_documents
from e2docs.reports.pdf import convert_to_pdf
from e2docs.reports.render import render_to

EVALUATION = "fiche-evaluation.docx"
PROSPECTING = "synthese-prospection.docx"
CLASS_RECORD = "recapitulatif-classe.docx"
TEMPLATE_NAMES = (EVALUATION, PROSPECTING, CLASS_RECORD)

__all__ = [
    "CLASS_RECORD",
    "EVALUATION",
    "FIELDS_DOC",
    "PROSPECTING",
    "ClassInfo",
    "ClassRow",
    "CompiledTemplate",
    "Problem",
    "ReportError",
    "Templates",
    "candidate_context",
    "check_template",
    "class_context",
    "class_rows",
    "convert_to_pdf",
    "fields_doc",
    "fields_text",
    "merge_documents",
    "render_candidate_documents",
    "render_class_record",
    "template_path",
]


def template_path(name: str, templates_dir: str | Path | None = None) -> Path:
    """The template ``name``: from ``templates_dir`` if it holds one, else the packaged one."""
    if templates_dir is not None:
        own = Path(templates_dir) / name
        if own.exists():  # a folder or a pipe by that name is refused when opened, not silently skipped
            return own
    return bundled("templates", "docx", name)


def render_candidate_documents(
    evaluation: Evaluation,
    outdir: str | Path,
    stem: str,
    templates_dir: str | Path | None = None,
    templates: Templates | None = None,
    durable: bool = True,
) -> list[Path]:
    """Write ``<stem>_fiche-evaluation.docx`` and ``<stem>_synthese-prospection.docx`` into ``outdir``;
    return their paths, in that order. ``templates``: the run's compiled templates (a batch passes
    the same one to every call, so that each template is compiled once; ``None``: compiled for this
    call); ``durable=False``: not flushed to disk yet (the caller flushes them,
    :class:`~e2docs.formats.atomic.Flusher`). Raises :class:`ReportError` when a template cannot be rendered."""
    context = candidate_context(evaluation)
    outdir = Path(outdir)
    templates = templates or Templates()
    return [
        templates.get(template_path(name, templates_dir)).render_to(
            context, outdir / f"{stem}_{name}", charts=False, durable=durable
        )
        for name in (EVALUATION, PROSPECTING)
    ]


def render_class_record(
    rows: Sequence[ClassRow],
    meta: ClassInfo | None,
    out: str | Path,
    templates_dir: str | Path | None = None,
    templates: Templates | None = None,
) -> Path:
    """Write the class record (one row per candidate, statistics, charts) to ``out``; ``templates``
    as for :func:`render_candidate_documents`. The template's bounds (:mod:`e2docs.reports.limits`) grow
    with the class beyond :data:`~e2docs.reports.limits.CLASS_ROWS` candidates."""
    path = template_path(CLASS_RECORD, templates_dir)
    scale = len(rows) / limits.CLASS_ROWS  # a larger class gets bounds in proportion
    if templates is None:
        return render_to(path, class_context(rows, meta), Path(out), scale)
    return templates.get(path).render_to(class_context(rows, meta), Path(out), scale)
