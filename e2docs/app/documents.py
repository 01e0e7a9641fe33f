"""``e2docs report``: a campaign's Word documents, from the returns the ledger holds.

Each accepted return is read again from its archived original (never from the
ledger's summary), so the documents show what the reader computes today.
Documents are named like the workbooks (``NOM_Prénom_31214_<numéro>_…``) and
written atomically; a candidate's old documents are replaced only once the new
ones exist.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from e2docs.app.campaign import Campaign, writes
from e2docs.app.status import CandidateStatus, candidate_statuses
from e2docs.formats.intake import Item, to_xlsx
from e2docs.formats.naming import candidate_stem, safe_part
from e2docs.formats.xlsx.evaluation import evaluation_of
from e2docs.formats.xlsx.reader import Reading, read_workbook
from e2docs.model.errors import E2docsError
from e2docs.model.grid import Grid
from e2docs.model.states import CandidateState
from e2docs.reports import (
    EVALUATION,
    PROSPECTING,
    ClassInfo,
    ClassRow,
    ReportError,
    convert_to_pdf,
    merge_documents,
    render_candidate_documents,
    render_class_record,
)


@dataclass
class ReportResult:
    """What ``make_reports`` did: documents written into ``outdir`` (Word, then PDF), the names of the
    candidates whose documents say PROVISOIRE, those who got no individual document, and the stale
    documents removed."""

    outdir: Path
    written: list[Path] = field(default_factory=list)
    provisional: list[str] = field(default_factory=list)
    skipped: list[CandidateStatus] = field(default_factory=list)  # candidates without individual documents
    pdfs: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)


def read_return(campaign: Campaign, status: CandidateStatus, workdir: Path, grid: Grid | None = None) -> Reading:
    """The candidate's current return, read again from the archive (``grid``: the campaign's, if already
    loaded, so that every reading shares it; ``workdir``: where a .ods/.xls is converted).

    Raises :class:`ValueError` for a candidate without a return (``status.current`` is ``None``),
    :class:`E2docsError` when the archived file cannot be read or no longer holds the candidate.
    """
    row = status.current
    if row is None:
        raise ValueError(f"candidate {status.candidate.number} has no return to read")
    stored = campaign.root / row.stored_path
    path = stored
    if stored.suffix.lower() != ".xlsx":
        item = Item(stored.read_bytes(), row.original_name, row.origin, stored.suffix.lstrip(".").lower())
        path = to_xlsx(item, workdir)
    grid = grid or campaign.grid()
    readings = read_workbook(path, {grid.content_hash: grid}, secret=campaign.secret, check_cache=False)
    for reading in readings:
        if reading.candidate.number == status.candidate.number:
            return reading
    raise E2docsError(f"le retour archivé ne contient plus le candidat {status.candidate.number}.", stored)


@writes("report")
def make_reports(
    campaign: Campaign,
    *,
    pdf: bool = False,
    merge: bool = False,
    templates_dir: Path | None = None,
    only_complete: bool = False,
    progress: Callable[[Iterable[CandidateStatus]], Iterable[CandidateStatus]] | None = None,
) -> ReportResult:
    """Write every document of the campaign into ``rapports/``.

    ``templates_dir``: modified Word templates (``None``: e2docs's own); ``only_complete``: no
    individual documents for incomplete grids; ``progress`` wraps the candidates (to show a
    progress bar) and yields them unchanged. Raises :class:`ReportError` when a template is
    unusable or the PDF conversion fails (the Word documents are then written), and
    :class:`E2docsError` when an archived return cannot be read.
    """
    outdir = campaign.folder("rapports")
    result = ReportResult(outdir)
    grid = campaign.grid()
    with campaign.ledger() as ledger:
        statuses = candidate_statuses(ledger)
    rows: list[ClassRow] = []
    sheets: list[Path] = []
    without: list[str] = []  # stems of the candidates who get no individual document this time
    with tempfile.TemporaryDirectory(prefix="e2docs-report-") as work:
        todo = progress(statuses) if progress else statuses
        for status in todo:
            cand = status.candidate
            if status.state in (CandidateState.COMPLETE, CandidateState.INCOMPLETE):
                # The class record keeps the evaluation (a few kB), not the reading: a whole Reading
                # (layout, cell values: ~140 kB) for 2,000 candidates would take over 400 MB.
                evaluation = evaluation_of(read_return(campaign, status, Path(work), grid))
                rows.append(ClassRow(cand, status.state, evaluation))
                if only_complete and status.state != CandidateState.COMPLETE:
                    result.skipped.append(status)
                    without.append(candidate_stem(cand, grid.specialty))
                    continue
                if status.state == CandidateState.INCOMPLETE:
                    result.provisional.append(cand.full_name)
                docs = render_candidate_documents(
                    evaluation, outdir, candidate_stem(cand, grid.specialty), templates_dir
                )
                result.written += docs
                sheets.append(docs[0])
            else:
                reason = status.current.reasons[0] if status.current and status.current.reasons else ""
                rows.append(ClassRow(cand, status.state, None, reason))
                result.skipped.append(status)
                without.append(candidate_stem(cand, grid.specialty))
    s = campaign.settings
    divisions = sorted({c.candidate.division for c in rows if c.candidate.division})
    info = ClassInfo(
        s.get("session", ""), s.get("etablissement", ""), s.get("academie", ""), ", ".join(divisions), grid
    )
    label = safe_part("-".join(divisions) or "classe")
    result.written.append(render_class_record(rows, info, outdir / f"recapitulatif-classe_{label}.docx", templates_dir))
    if merge and sheets:
        result.written.append(merge_documents(sheets, outdir / f"fiches-evaluation_{label}.docx"))
    result.removed = _remove_stale(outdir, without)
    if not merge:  # a merged file from an earlier run would show old marks
        result.removed += _unlink(outdir / f"fiches-evaluation_{label}{suffix}" for suffix in (".docx", ".pdf"))
    if not pdf:  # PDFs of documents rewritten now are out of date
        result.removed += _unlink(path.with_suffix(".pdf") for path in result.written)
    if pdf:
        try:
            result.pdfs = convert_to_pdf(result.written, outdir)
        except ReportError as exc:  # exit code 2 usually means "nothing written": say what was
            exc.message += f" Les {len(result.written)} documents Word sont quand même écrits dans {outdir}."
            raise
    return result


def _remove_stale(outdir: Path, stems: Iterable[str]) -> list[Path]:
    """Delete the documents an earlier run wrote for candidates who get none now (``--only complete``
    after a full run): a lingering PROVISOIRE sheet would be printed with the others."""
    return _unlink(
        outdir / f"{stem}_{Path(name).stem}{suffix}"
        for stem in stems
        for name in (EVALUATION, PROSPECTING)
        for suffix in (".docx", ".pdf")
    )


def _unlink(paths: Iterable[Path]) -> list[Path]:
    """Remove the files that exist among ``paths``; return them."""
    removed = []
    for path in paths:
        if path.is_file():
            path.unlink()
            removed.append(path)
    return removed
