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

Memory does not grow with the number of candidates, but for their documents' names and the record
of what e2docs wrote (about 1 KB per candidate): the candidates are read from the ledger a batch at a
time and let go once their documents are made, and the class record's rows are kept in a temporary
file (:class:`~e2docs.reports.rows.ClassRows`) and read back as its template reads them.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import itertools
import multiprocessing
import operator
import os
import re
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from e2docs.app.campaign import Campaign, writes
from e2docs.app.ledger import Ledger
from e2docs.app.status import CandidateStatus, iter_candidate_statuses
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
from e2docs.model.sequences import Mapped
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
from e2docs.reports.rows import ClassRows

STAGING = ".e2docs-rapport-"  # staging folders inside rapports/: « .e2docs-rapport-<pid>-<random> »


@dataclass
class ReportResult:
    """What ``make_reports`` did, paths in ``outdir``: the Word documents written (``written``) and
    their PDFs (``pdfs``), sequences made when read, which hold only the documents' names; the names of
    the candidates whose documents say PROVISOIRE; the candidates who got no individual document
    (``skipped``); ``beside``: (document changed since e2docs wrote it, kept; its new version, written
    beside it); ``removed``: the documents of earlier runs not written now, deleted; ``kept``: those
    left in place because they were changed since e2docs wrote them."""

    outdir: Path
    written: Sequence[Path] = field(default_factory=list)
    provisional: list[str] = field(default_factory=list)
    skipped: list[CandidateStatus] = field(default_factory=list)  # candidates without individual documents
    pdfs: Sequence[Path] = field(default_factory=list)
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
    docs: list[str] = []  # names of the staged Word documents, in the order they are listed
    sheets: list[str] = []  # those of the staged evaluation sheets, for --merge
    templates = Templates()  # each template compiled once for the run (in this process)
    _remove_leftovers(outdir)
    stage = Path(tempfile.mkdtemp(prefix=f"{STAGING}{os.getpid()}-", dir=outdir))
    try:
        # the candidates are read from the ledger a batch at a time, their class record rows kept on disk:
        # memory does not grow with the number of candidates (but for the documents' names)
        with campaign.ledger() as ledger, ClassRows(ledger.candidate_count()) as rows:
            job = _Job(campaign, grid, stage, templates_dir, only_complete, campaign.secret, reader)
            s = campaign.settings
            divisions = ledger.divisions()
            info = ClassInfo(
                s.get("session", ""), s.get("etablissement", ""), s.get("academie", ""), ", ".join(divisions), grid
            )
            label = safe_part("-".join(divisions) or "classe")
            out = stage / f"recapitulatif-classe_{label}.docx"
            record = _ClassRecord(job, lambda: _turns(ledger, reader), len(rows), info, out, templates)

            def settle(index: int, turn: _Turn, made: _Made) -> None:
                status = turn.status
                if not record.done:  # the rows of a class record still to make
                    rows.put(index, _class_row(status, made.outcome))
                if made.outcome is None or not made.documents:  # no return read, or --only-complete
                    result.skipped.append(status)
                    return
                if status.state == CandidateState.INCOMPLETE:
                    result.provisional.append(status.candidate.full_name)
                docs.extend(made.documents)
                sheets.append(made.documents[0])

            with atomic.Flusher() as flusher:
                _make_all(job, _turns(ledger, reader), len(rows), templates, progress, settle, record, flusher)
                flusher.wait()  # every staged document on disk before any is put in place
            docs.append(record.made(rows).name)
        if merge and sheets:
            docs.append(merge_documents([stage / n for n in sheets], stage / f"fiches-evaluation_{label}.docx").name)
        pdfs: list[Path] = []
        failure: ReportError | None = None
        if pdf:
            try:
                pdfs = convert_to_pdf([stage / n for n in docs], stage)
            except ReportError as exc:  # the Word documents are put in place all the same
                failure = exc
        _put_in_place(campaign, result, stage, docs, [p.name for p in pdfs])
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    if failure is not None:  # exit code 2 usually means "nothing written": say what was
        failure.message += f" Les {len(result.written)} documents Word sont quand même écrits dans {outdir}."
        raise failure
    return result


def _turns(ledger: Ledger, reader: str) -> Iterator[_Turn]:
    """Every candidate's turn, in roster order, read from the open ``ledger`` a batch at a time
    (:func:`~e2docs.app.status.iter_candidate_statuses`), with the evaluation kept for ``reader``."""
    for status in iter_candidate_statuses(ledger):
        row = status.current
        yield _Turn(status, ledger.evaluation(reader, row.sha256, status.candidate.number) if row else None)


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
    conflict). ``documents``: the names of the staged Word documents (in ``_Job.stage``), the evaluation
    sheet first, empty when none was written (no return, or ``--only complete`` and an incomplete grid)."""

    outcome: Outcome | None
    documents: tuple[str, ...] = ()


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
    documents of one process would have raised it, after the candidates'. ``turns``: every candidate's
    turn, read anew (from the ledger) at each call; ``count``: how many."""

    def __init__(
        self,
        job: _Job,
        turns: Callable[[], Iterable[_Turn]],
        count: int,
        info: ClassInfo,
        out: Path,
        templates: Templates,
    ) -> None:
        self.job, self.turns, self.count, self.info, self.out, self.templates = job, turns, count, info, out, templates
        self.done = False
        self.failure: ReportError | None = None

    def early(self) -> None:
        """Render it now if every return to read has its evaluation kept; otherwise leave it to
        :meth:`made`. Its rows are kept on disk (:class:`~e2docs.reports.rows.ClassRows`), only their
        outcomes: :func:`_make_one` opens the kept evaluations again (a tenth of a millisecond each)."""
        turns = iter(self.turns())
        with ClassRows(self.count) as rows:
            for index in range(self.count):
                try:
                    turn = next(turns)
                except Exception:  # the ledger read again (or too short): made() then raises it in order
                    return
                outcome = None
                if turn.status.state in (CandidateState.COMPLETE, CandidateState.INCOMPLETE):
                    evaluation = _kept(self.job, turn)
                    if evaluation is None:
                        return
                    outcome = evaluation.outcome
                rows.put(index, _class_row(turn.status, outcome))
            try:
                self._render(rows)
            except ReportError as exc:  # raised by made(), after the candidates' own errors
                self.failure = exc
        self.done = True

    def made(self, rows: Sequence[ClassRow]) -> Path:
        """The staged class record, of ``rows`` (every candidate, in order) unless made early."""
        if self.failure is not None:
            raise self.failure
        if not self.done:
            self._render(rows)
        return self.out

    def _render(self, rows: Sequence[ClassRow]) -> None:
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
    return _Made(evaluation.outcome, tuple(p.name for p in rendered))


WINDOW = 64
"""Chunks handed out ahead, at most: the processes always have work, while this one holds the
turns of :data:`WINDOW` × :data:`CHUNK` candidates, not all of them."""


class _Feed:
    """The candidates given to the progress bar as their turns are settled (its length known ahead)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.ready: deque[CandidateStatus] = deque()

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[CandidateStatus]:
        while self.ready:
            yield self.ready.popleft()


@dataclass
class _Slot:
    """A chunk handed out: its first candidate's index, its turns, the spawned process's work
    (``None`` once taken back by this one), and — taken back — what this process made of it or the
    error it raised."""

    first: int
    turns: list[_Turn]
    future: Future[list[_Made]] | None
    made: list[_Made] | None = None
    error: Exception | None = None


def _make_all(
    job: _Job,
    turns: Iterable[_Turn],
    count: int,
    templates: Templates,
    progress: Callable[[Iterable[CandidateStatus]], Iterable[CandidateStatus]] | None,
    settle: Callable[[int, _Turn, _Made], None],
    record: _ClassRecord | None = None,
    flusher: atomic.Flusher | None = None,
) -> None:
    """Every candidate's turn (:func:`_make_one`) of the ``count`` of ``turns``, each given to
    ``settle`` (index, turn, made) in the candidates' order, then dropped.

    Large batches (:func:`processes_for`) are cut in chunks of :data:`CHUNK` handed to spawned
    processes (spawn: the same on Linux, macOS and Windows), at most :data:`WINDOW` ahead of the first
    chunk not settled, while this process takes back the last chunk handed out that no process has
    started: the work meets, whatever the start-up of the spawned processes. The first error in the
    candidates' order is raised, as one process would have raised it (the chunks not started are
    cancelled). When spawned processes work, ``record`` (the class record) is first rendered here
    meanwhile, when it can be (:meth:`_ClassRecord.early`). ``flusher``: given each candidate's
    documents as soon as they are settled, to flush them to disk."""
    flush = flusher.add if flusher is not None else (lambda paths: None)
    feed = _Feed(count)
    ticks = iter(progress(feed)) if progress else None

    def done(index: int, turn: _Turn, made: _Made) -> None:
        settle(index, turn, made)
        flush(job.stage / name for name in made.documents)
        if ticks is not None:
            feed.ready.append(turn.status)
            next(ticks, None)

    n = processes_for(count)
    with tempfile.TemporaryDirectory(prefix="e2docs-report-") as work:
        if n == 1:
            for index, turn in enumerate(turns):
                done(index, turn, _make_one(job, turn, Path(work), templates))
        else:
            _share(job, iter(turns), n, templates, done, Path(work), record)
        if ticks is not None:
            for _ in ticks:  # the progress bar ends
                pass


def _share(
    job: _Job,
    turns: Iterator[_Turn],
    n: int,
    templates: Templates,
    done: Callable[[int, _Turn, _Made], None],
    work: Path,
    record: _ClassRecord | None,
) -> None:
    """:func:`_make_all` over this process and ``n - 1`` spawned ones."""
    window: deque[_Slot] = deque()
    handed = 0  # candidates handed out
    failed = False  # this process raised on a chunk it took back: none after it is needed

    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(n - 1, spawn, processes.stop_with_parent) as pool:

        def hand_out() -> None:
            nonlocal handed, failed
            while not failed and len(window) < WINDOW:
                chunk: list[_Turn] = []
                unread: Exception | None = None
                try:
                    chunk.extend(itertools.islice(turns, CHUNK))
                except Exception as exc:  # the ledger read ahead: raised in the candidates' order, as one process
                    unread = exc
                if chunk:
                    window.append(_Slot(handed, chunk, pool.submit(_make_chunk, job, chunk, os.getpid())))
                    handed += len(chunk)
                if unread is not None:
                    window.append(_Slot(handed, [], None, error=unread))
                    failed = True
                if not chunk:
                    return

        try:
            hand_out()
            if record is not None:
                record.early()
            while window:
                head = window[0]
                if head.future is None or head.future.done():
                    window.popleft()
                    if head.error is not None:
                        raise head.error
                    made = head.made if head.future is None else head.future.result()
                    for k, (turn, m) in enumerate(zip(head.turns, made or (), strict=True)):
                        done(head.first + k, turn, m)
                    hand_out()
                    continue
                taken = None if failed else _take_back(window)
                if taken is None:  # every chunk handed out is started: wait for the first
                    wait([head.future], return_when=FIRST_COMPLETED)
                    continue
                try:
                    taken.made = [_make_one(job, turn, work, templates) for turn in taken.turns]
                except Exception as exc:  # raised once the chunks before it are settled
                    taken.error = exc
                    failed = True
                    while window[-1] is not taken:  # not needed: cancelled
                        dropped = window.pop()
                        if dropped.future is not None:
                            dropped.future.cancel()
        except BaseException:
            for slot in window:
                if slot.future is not None:
                    slot.future.cancel()
            raise


def _take_back(window: deque[_Slot]) -> _Slot | None:
    """The last chunk of ``window`` no spawned process has started, taken back from them (its future
    cancelled); ``None`` when they have started every one."""
    for slot in reversed(window):
        if slot.future is None:
            continue  # already taken back (and made)
        if slot.future.cancel():
            slot.future = None
            return slot
        return None  # started: so is every chunk before it
    return None


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


def _put_in_place(campaign: Campaign, result: ReportResult, stage: Path, docs: list[str], pdfs: list[str]) -> None:
    """Move the staged documents (names in ``stage``: Word, then PDF) into ``result.outdir`` without
    replacing anything e2docs did not write, then remove the documents of earlier runs not written now
    (only when unchanged). Fills ``written``, ``pdfs``, ``beside``, ``removed`` and ``kept`` of ``result``.

    Holds the names it is given and the documents that go beside a changed one, nothing per document
    besides: a report of tens of thousands of documents keeps its record on disk."""
    outdir = result.outdir
    moved_aside: dict[str, Path] = {}  # staged name → its target, for the documents that go beside
    taken = _Taken(stage, outdir)
    with Record.load(campaign.root) as record:
        for name in (*docs, *pdfs):
            if name.endswith(".pdf"):  # the PDF goes with its Word document, wherever that went
                docx = name.removesuffix(".pdf") + ".docx"
                wanted = moved_aside[docx].with_suffix(".pdf") if docx in moved_aside else outdir / name
            else:
                wanted = outdir / name
            taken.wanted = wanted
            target = free_target(record, wanted, taken)
            if target != outdir / name:  # beside a changed document, or the PDF of one that went beside
                moved_aside[name] = target
                taken.aside.add(target)
            if target != wanted:
                result.beside.append((wanted, target))
        pair = functools.partial(_staged_and_target, stage, outdir, moved_aside)  # made when read: only names held
        install(record, Mapped([*docs, *pdfs], pair), by="report")
        result.written = Mapped(docs, pair).then(operator.itemgetter(1))
        result.pdfs = Mapped(pdfs, pair).then(operator.itemgetter(1))
        for wanted, _ in result.beside:  # the changed documents kept are not stale: they are reported as such
            record.claim(wanted)
        result.removed, result.kept = remove_own(record, record.stale("report"))


class _Taken:
    """The targets :func:`~e2docs.app.written.free_target` may not choose for the document that would go to
    ``wanted``: the targets already chosen beside changed documents (``aside``), and the names of the other
    staged documents (in ``stage``), which go to ``outdir``. Answers from the staging folder, holding only
    ``aside``."""

    def __init__(self, stage: Path, outdir: Path) -> None:
        self.stage, self.outdir = stage, outdir
        self.aside: set[Path] = set()
        self.wanted = outdir

    def __contains__(self, path: object) -> bool:
        if path in self.aside:
            return True
        return (
            isinstance(path, Path)
            and path != self.wanted
            and path.parent == self.outdir
            and (self.stage / path.name).exists()
        )


def _staged_and_target(stage: Path, outdir: Path, aside: dict[str, Path], name: str) -> tuple[Path, Path]:
    """The staged document ``name`` and where it goes: its name in ``outdir``, or where ``aside`` says."""
    return stage / name, aside.get(name) or outdir / name


def _remove_leftovers(outdir: Path) -> None:
    """Remove the staging folders of ``report`` runs that were killed (their process is gone)."""
    for path in outdir.glob(f"{STAGING}*"):
        match = re.fullmatch(re.escape(STAGING) + r"(\d+)-.*", path.name)
        if match and path.is_dir() and not alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)
