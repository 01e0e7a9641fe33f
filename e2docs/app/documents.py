"""``e2docs report``: a campaign's Word documents, from the returns the ledger holds.

Each accepted return's evaluation is what the reader makes of its archived original today: the
inputs ``collect`` read are kept in the ledger, sealed (:mod:`e2docs.formats.evaluation_record`), and
used when the file's bytes, the grid and the reader's version are those they were read with; otherwise
the archived file is read again. Either way the marks are computed now by the scoring rule (never taken
from the ledger's summary).
Documents are named like the workbooks (``NOM_Prénom_31214_<numéro>_…``). They
are all made first in a hidden folder inside ``rapports/``, then moved into place:
a run that fails or is killed leaves the documents of the previous run. Only what
e2docs wrote and nobody changed since is replaced or removed (the record of
:mod:`e2docs.app.written`); a document edited by hand stays, and the new version
is written beside it. From :data:`PARALLEL_FROM` candidates, when cores are idle, the returns are
read and the individual documents rendered by several processes (the same documents, the same
errors); the class record, the merge, the PDFs and the putting in place stay in this one.
"""

from __future__ import annotations

import errno
import hashlib
import multiprocessing
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from e2docs.app.campaign import Campaign, writes
from e2docs.app.status import CandidateStatus, candidate_statuses
from e2docs.app.written import Record, free_target, install, remove_own
from e2docs.formats import atomic, evaluation_record, processes
from e2docs.formats.intake import Item, kept_conversion, kept_copy, to_xlsx
from e2docs.formats.naming import candidate_stem, safe_part
from e2docs.formats.processes import alive
from e2docs.formats.xlsx.evaluation import evaluation_of
from e2docs.formats.xlsx.reader import Reading, read_workbook
from e2docs.model.errors import E2docsError
from e2docs.model.evaluation import Evaluation
from e2docs.model.grid import Grid
from e2docs.model.scoring import Outcome
from e2docs.model.states import CandidateState
from e2docs.reports import (
    ClassInfo,
    ClassRow,
    ReportError,
    Templates,
    convert_to_pdf,
    merge_documents,
    render_candidate_documents,
    render_class_record,
)

STAGING = ".e2docs-rapport-"  # staging folders inside rapports/: « .e2docs-rapport-<pid>-<random> »


@dataclass
class ReportResult:
    """What ``make_reports`` did, paths in ``outdir``: the Word documents written (``written``) and
    their PDFs (``pdfs``), the names of the candidates whose documents say PROVISOIRE, the candidates
    who got no individual document (``skipped``); ``beside``: (document changed since e2docs wrote it,
    kept; its new version, written beside it); ``removed``: the documents of earlier runs not written
    now, deleted; ``kept``: those left in place because they were changed since e2docs wrote them."""

    outdir: Path
    written: list[Path] = field(default_factory=list)
    provisional: list[str] = field(default_factory=list)
    skipped: list[CandidateStatus] = field(default_factory=list)  # candidates without individual documents
    pdfs: list[Path] = field(default_factory=list)
    beside: list[tuple[Path, Path]] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)


def read_return(campaign: Campaign, status: CandidateStatus, workdir: Path, grid: Grid | None = None) -> Reading:
    """The candidate's current return, read again from the archive (``grid``: the campaign's, if already
    loaded, so that every reading shares it; ``workdir``: where a .ods/.xls is converted). An .ods, .xls
    or Strict return is read from the converted copy kept beside it in ``retours/``
    (:func:`~e2docs.formats.intake.kept_copy`), made now when missing or damaged.

    Raises :class:`ValueError` for a candidate without a return (``status.current`` is ``None``),
    :class:`FileNotFoundError` when the archived original is gone, :class:`E2docsError` when it changed
    since it was collected (its bytes no longer have the hash recorded), cannot be read or no longer
    holds the candidate.
    """
    row = status.current
    if row is None:
        raise ValueError(f"candidate {status.candidate.number} has no return to read")
    stored = campaign.root / row.stored_path
    if not stored.is_file():  # deleted or moved from retours/: a system fault, named by the campaign lock
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(stored))
    if hashlib.sha256(stored.read_bytes()).hexdigest() != row.sha256:
        raise E2docsError(
            "le retour archivé a changé depuis sa relève (son contenu ne correspond plus à l'empreinte "
            "enregistrée dans le registre) : e2docs ne s'en sert pas.",
            stored,
            hint=f"Relevez à nouveau le fichier reçu ({row.original_name}) avec e2docs collect : l'archive "
            "est réécrite. Sinon, restaurez le dossier retours/ depuis une sauvegarde.",
        )
    path = stored
    kept = kept_copy(stored)  # an .ods, .xls or Strict return: the copy collect converted, or made now
    if stored.suffix.lower() != ".xlsx":
        item = Item(stored.read_bytes(), row.original_name, row.origin, stored.suffix.lstrip(".").lower())
        path = kept_conversion(kept, lambda folder: to_xlsx(item, folder), workdir)
    grid = grid or campaign.grid()
    readings = read_workbook(
        path,
        {grid.content_hash: grid},
        secret=campaign.secret,
        check_cache=False,
        converted=path != stored,
        keep_converted=kept,
    )
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
    progress bar) and yields them unchanged.

    The documents are made in a hidden folder inside ``rapports/``, then moved into place: a
    document e2docs wrote and nobody changed since is replaced; any other file of the same name
    is kept and the new version written beside it (:func:`e2docs.app.written.free_target`). The
    documents e2docs wrote earlier and did not write now (another candidate set, no ``--merge``,
    no ``--pdf``) are removed when unchanged, kept otherwise (``kept``).

    Raises :class:`ReportError` when a template is unusable (nothing written) or the PDF conversion
    fails (the Word documents are then in place), and :class:`E2docsError` when an archived return
    cannot be read (nothing written).
    """
    outdir = campaign.folder("rapports")
    result = ReportResult(outdir)
    grid = campaign.grid()
    reader = evaluation_record.reader_key(grid)
    with campaign.ledger() as ledger:
        statuses = candidate_statuses(ledger)
        records = ledger.evaluations(reader)
    rows: list[ClassRow] = []
    docs: list[Path] = []  # staged Word documents, in the order they are listed
    sheets: list[Path] = []  # staged evaluation sheets, for --merge
    templates = Templates()  # each template compiled once for the run (in this process)
    _remove_leftovers(outdir)
    stage = Path(tempfile.mkdtemp(prefix=f"{STAGING}{os.getpid()}-", dir=outdir))
    try:
        job = _Job(campaign, grid, stage, templates_dir, only_complete, campaign.secret, reader)
        turns = [_Turn(s, records.get((s.current.sha256, s.candidate.number)) if s.current else None) for s in statuses]
        s = campaign.settings
        divisions = sorted({st.candidate.division for st in statuses if st.candidate.division})
        info = ClassInfo(
            s.get("session", ""), s.get("etablissement", ""), s.get("academie", ""), ", ".join(divisions), grid
        )
        label = safe_part("-".join(divisions) or "classe")
        record = _ClassRecord(job, turns, info, stage / f"recapitulatif-classe_{label}.docx", templates)
        with atomic.Flusher() as flusher:
            made_all = _make_all(job, turns, templates, progress, record, flusher)
            flusher.wait()  # every staged document on disk before any is put in place
        del turns, records  # the kept evaluations' records: read
        for status, made in zip(statuses, made_all, strict=True):
            cand = status.candidate
            if not record.done:  # the rows of a class record still to make
                rows.append(_class_row(status, made.outcome))
            if made.outcome is not None:
                if not made.documents:  # --only complete, and this grid is not
                    result.skipped.append(status)
                    continue
                if status.state == CandidateState.INCOMPLETE:
                    result.provisional.append(cand.full_name)
                docs += made.documents
                sheets.append(made.documents[0])
            else:
                result.skipped.append(status)
        del statuses, made_all  # what is left of them is in result; the rows go once the record is made
        docs.append(record.made(rows))
        rows.clear()
        if merge and sheets:
            docs.append(merge_documents(sheets, stage / f"fiches-evaluation_{label}.docx"))
        pdfs: list[Path] = []
        failure: ReportError | None = None
        if pdf:
            try:
                pdfs = convert_to_pdf(docs, stage)
            except ReportError as exc:  # the Word documents are put in place all the same
                failure = exc
        _put_in_place(campaign, result, docs, pdfs)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    if failure is not None:  # exit code 2 usually means "nothing written": say what was
        failure.message += f" Les {len(result.written)} documents Word sont quand même écrits dans {outdir}."
        raise failure
    return result


PARALLEL_FROM = 100
"""Candidates from which :func:`make_reports` splits their reading and rendering over processes.
A spawned process takes about 1.2 s to start (imports, its templates compiled) where one process
reads a return and renders its two documents in about 50 ms: a second process pays from about
2 × 1.2 s / 50 ms ≈ 50 candidates on an idle core; 100 leaves a margin for a busy machine
(``benchmarks/bench_report.py`` measures both ways)."""
MAX_PROCESSES = 4
CHUNK = 20
"""Candidates handed to a process at a time: small enough that the work stays balanced and that a
failure stops the others after their current chunk, large enough that handing out costs nothing."""


def processes_for(count: int) -> int:
    """How many processes read and render ``count`` candidates (:func:`e2docs.formats.processes.share_count`
    from :data:`PARALLEL_FROM`, at most :data:`MAX_PROCESSES`)."""
    return processes.share_count(count, PARALLEL_FROM, MAX_PROCESSES)


@dataclass(frozen=True)
class _Job:
    """What every process needs to read and render a candidate (picklable: sent to spawned processes)."""

    campaign: Campaign
    grid: Grid
    stage: Path
    templates_dir: Path | None
    only_complete: bool
    secret: bytes
    reader: str  # evaluation_record.reader_key(grid)


@dataclass(frozen=True)
class _Turn:
    """A candidate to read and render: their status, and the evaluation ``collect`` kept of their current
    return (record, seal), ``None`` when none is kept."""

    status: CandidateStatus
    kept: tuple[bytes, bytes] | None = None


@dataclass(frozen=True)
class _Made:
    """One candidate's turn: ``outcome``, the scoring rule's result for the evaluation of their return
    (what the class record reads of it: the whole evaluation, four times larger, is not kept for
    thousands of candidates); ``None`` when the candidate has no return to read (missing, rejected, in
    conflict). ``documents``: the staged Word documents, the evaluation sheet first, empty when none
    was written (no return, or ``--only complete`` and an incomplete grid)."""

    outcome: Outcome | None
    documents: tuple[Path, ...] = ()


def _class_row(status: CandidateStatus, outcome: Outcome | None) -> ClassRow:
    """The class record's row of ``status``, whose return read gave ``outcome`` (``None``: none read)."""
    if outcome is not None:
        return ClassRow(status.candidate, status.state, outcome=outcome)
    reason = status.current.reasons[0] if status.current and status.current.reasons else ""
    return ClassRow(status.candidate, status.state, None, reason)


class _ClassRecord:
    """The class record of a run, rendered in this process while spawned ones render the candidates'
    documents (:meth:`early`) when ``collect`` kept every evaluation it needs, else once they are all
    read (:meth:`made`). The same document either way; an error of its template is raised where the
    documents of one process would have raised it, after the candidates'."""

    def __init__(self, job: _Job, turns: list[_Turn], info: ClassInfo, out: Path, templates: Templates) -> None:
        self.job, self.turns, self.info, self.out, self.templates = job, turns, info, out, templates
        self.done = False
        self.failure: ReportError | None = None

    def early(self) -> None:
        """Render it now if every return to read has its evaluation kept; otherwise leave it to
        :meth:`made`. Only the rows' outcomes are held: :func:`_make_one` opens the kept evaluations
        again (a tenth of a millisecond each) rather than this process holding thousands."""
        rows = []
        turns, self.turns = self.turns, []  # not needed afterwards: made() is given its rows
        for turn in turns:
            outcome = None
            if turn.status.state in (CandidateState.COMPLETE, CandidateState.INCOMPLETE):
                evaluation = _kept(self.job, turn)
                if evaluation is None:
                    return
                outcome = evaluation.outcome
            rows.append(_class_row(turn.status, outcome))
        try:
            self._render(rows)
        except ReportError as exc:  # raised by made(), after the candidates' own errors
            self.failure = exc
        self.done = True

    def made(self, rows: list[ClassRow]) -> Path:
        """The staged class record, of ``rows`` (every candidate, in order) unless made early."""
        if self.failure is not None:
            raise self.failure
        if not self.done:
            self._render(rows)
        return self.out

    def _render(self, rows: list[ClassRow]) -> None:
        render_class_record(rows, self.info, self.out, self.job.templates_dir, self.templates)


def _kept(job: _Job, turn: _Turn) -> Evaluation | None:
    """The evaluation ``collect`` kept of ``turn``'s current return, when the archived file still has the
    bytes it was read from and the seal holds; ``None`` otherwise (the file is then read again)."""
    row = turn.status.current
    if row is None or turn.kept is None:
        return None
    try:
        data = (job.campaign.root / row.stored_path).read_bytes()
    except OSError:
        return None  # read_return says what is wrong
    if hashlib.sha256(data).hexdigest() != row.sha256:
        return None
    record, seal = turn.kept
    number = turn.status.candidate.number
    return evaluation_record.opened(job.secret, row.sha256, number, job.reader, record, seal, job.grid)


def _make_one(job: _Job, turn: _Turn, work: Path, templates: Templates) -> _Made:
    """Get ``turn``'s evaluation (kept by ``collect``, else its return read again) and render its
    documents into ``job.stage``. Raises as :func:`read_return` and
    :func:`~e2docs.reports.render_candidate_documents` do."""
    status = turn.status
    if status.state not in (CandidateState.COMPLETE, CandidateState.INCOMPLETE):
        return _Made(None)
    evaluation = _kept(job, turn) or evaluation_of(read_return(job.campaign, status, work, job.grid))
    if job.only_complete and status.state != CandidateState.COMPLETE:
        return _Made(evaluation.outcome)
    stem = candidate_stem(status.candidate, job.grid.specialty)
    # not flushed to disk one by one: make_reports flushes them together (atomic.Flusher)
    rendered = render_candidate_documents(evaluation, job.stage, stem, job.templates_dir, templates, durable=False)
    return _Made(evaluation.outcome, tuple(rendered))


def _make_all(
    job: _Job,
    turns: list[_Turn],
    templates: Templates,
    progress: Callable[[Iterable[CandidateStatus]], Iterable[CandidateStatus]] | None,
    record: _ClassRecord | None = None,
    flusher: atomic.Flusher | None = None,
) -> list[_Made]:
    """Every candidate's turn (:func:`_make_one`), in the candidates' order.

    Large batches (:func:`processes_for`) are cut in chunks of :data:`CHUNK` handed to spawned
    processes (spawn: the same on Linux, macOS and Windows) from the first, while this process takes
    those no process has started from the last: they meet in the middle, whatever the start-up of
    the spawned processes. The first error in the candidates' order is raised, as one process would
    have raised it (the later chunks not started are cancelled). When spawned processes work,
    ``record`` (the class record) is first rendered here meanwhile, when it can be (:meth:`_ClassRecord.early`).
    ``flusher``: given each candidate's documents as soon as they are known here, to flush them to disk."""
    flush = flusher.add if flusher is not None else (lambda paths: None)
    statuses = [turn.status for turn in turns]
    ticks = iter(progress(statuses) if progress else statuses)
    n = processes_for(len(turns))
    with tempfile.TemporaryDirectory(prefix="e2docs-report-") as work:
        if n == 1:
            made_one = []
            for turn, _ in zip(turns, ticks, strict=True):
                made_one.append(_make_one(job, turn, Path(work), templates))
                flush(made_one[-1].documents)
            return made_one
        chunks = [turns[i : i + CHUNK] for i in range(0, len(turns), CHUNK)]
        made: list[list[_Made] | None] = [None] * len(chunks)
        shown: set[int] = set()  # chunks counted by the progress bar

        def show(i: int) -> None:
            if i not in shown:
                shown.add(i)
                for _ in chunks[i]:
                    next(ticks, None)
                done = made[i]
                if done is None:  # a spawned process's chunk, done (show is called only then)
                    done = futures[i].result()
                flush(p for m in done for p in m.documents)

        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(n - 1, spawn, processes.stop_with_parent) as pool:
            futures = [pool.submit(_make_chunk, job, chunk, os.getpid()) for chunk in chunks]
            try:
                if record is not None:
                    record.early()
                failed: tuple[int, Exception] | None = None
                for i in reversed(range(len(chunks))):
                    if not futures[i].cancel():  # a spawned process has it: so has it every chunk before
                        break
                    try:
                        made[i] = [_make_one(job, turn, Path(work), templates) for turn in chunks[i]]
                    except Exception as exc:  # raised once the chunks before it are known to succeed
                        failed = (i, exc)
                        break
                    show(i)
                    for j, future in enumerate(futures):
                        if future.done() and not future.cancelled() and future.exception() is None:
                            show(j)
                for i, future in enumerate(futures):
                    if failed is not None and failed[0] == i:
                        raise failed[1]
                    if made[i] is None:
                        made[i] = future.result()
                    show(i)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
        for _ in ticks:  # the progress bar ends
            pass
    return [m for chunk in made if chunk is not None for m in chunk]


_TEMPLATES: Templates | None = None  # in a spawned process: its templates, compiled on first use


def _make_chunk(job: _Job, turns: list[_Turn], parent: int) -> list[_Made]:
    """:func:`_make_one` for each of ``turns``, in a spawned process: it stops when ``parent`` is
    gone (POSIX), so that a killed run does not keep writing."""
    global _TEMPLATES
    if _TEMPLATES is None:
        _TEMPLATES = Templates()
    with tempfile.TemporaryDirectory(prefix="e2docs-report-") as work:
        made = []
        for turn in turns:
            if os.name == "posix" and os.getppid() != parent:
                raise SystemExit(1)
            made.append(_make_one(job, turn, Path(work), _TEMPLATES))
    return made


def _put_in_place(campaign: Campaign, result: ReportResult, docs: list[Path], pdfs: list[Path]) -> None:
    """Move the staged documents (Word, then PDF) into ``result.outdir`` without replacing anything
    e2docs did not write, then remove the documents of earlier runs not written now (only when
    unchanged). Fills ``written``, ``pdfs``, ``beside``, ``removed`` and ``kept`` of ``result``."""
    record = Record.load(campaign.root)
    final: dict[Path, Path] = {}  # staged → target
    chosen: set[Path] = set()  # its targets
    for staged in docs + pdfs:
        if staged.suffix == ".pdf":  # the PDF goes with its Word document, wherever that went
            wanted = final[staged.with_suffix(".docx")].with_suffix(".pdf")
        else:
            wanted = result.outdir / staged.name
        target = free_target(record, wanted, chosen)
        final[staged] = target
        chosen.add(target)
        if target != wanted:
            result.beside.append((wanted, target))
    install(record, list(final.items()), by="report")
    result.written = [final[d] for d in docs]
    result.pdfs = [final[p] for p in pdfs]
    now = {record.key(p) for p in (*final.values(), *(wanted for wanted, _ in result.beside))}
    stale = sorted(p for p in record.paths("report") if record.key(p) not in now)
    result.removed, result.kept = remove_own(record, stale)


def _remove_leftovers(outdir: Path) -> None:
    """Remove the staging folders of ``report`` runs that were killed (their process is gone)."""
    for path in outdir.glob(f"{STAGING}*"):
        match = re.fullmatch(re.escape(STAGING) + r"(\d+)-.*", path.name)
        if match and path.is_dir() and not alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)
