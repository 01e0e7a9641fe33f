"""``e2docs collect``: archive every returned file, identify its candidate, check it, record it.

Order of work for each file, so that nothing is lost: (1) archive the original
bytes under ``retours/`` (content-addressed, written then renamed), (2) read and
check, (3) record the result in the ledger in one transaction. A run killed at
any point leaves either nothing or a complete record for each file; running it
again picks up the files not yet recorded, in the same run (the killed run is
resumed: :meth:`~e2docs.app.ledger.Ledger.new_batch`). Which return counts is
recomputed from everything recorded (:mod:`e2docs.app.returns`), so the re-run
ends in the state of one uninterrupted run, conflicts included.

For :data:`PARALLEL_FROM` files or more, the records are committed in groups of files
(:data:`GROUP_FILES`) and, when the machine has cores to spare, plain .xlsx returns are read
and judged by spawned processes (:mod:`e2docs.app.checks`); this process still archives each
file before it is read and records every file in the input order, so the report and the ledger
are those of a run in one process. A run killed then loses the records of its last group, not
their archived files: the next run records them, each exactly once.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import multiprocessing
import os
import tempfile
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TypedDict

from e2docs.app.campaign import EXIT_PARTIAL, Campaign, now, writes
from e2docs.app.checks import (
    Checks,
    Failure,
    Verdict,
    check_plain,
    check_shared,
    failure,
    start_worker,
    verdicts,
)
from e2docs.app.ledger import Ledger, MessageRow
from e2docs.app.returns import content, made_time
from e2docs.app.status import status_of
from e2docs.formats import atomic, evaluation_record, processes
from e2docs.formats.atomic import atomic_write
from e2docs.formats.imap import ImapError, ImapSession, ImapUrl, Listed, batches
from e2docs.formats.intake import (
    MAX_MESSAGE_BYTES,
    SEP,
    Item,
    Refusal,
    Skipped,
    gather,
    gather_message,
    kept_conversion,
    kept_copy,
    message_too_big,
    to_xlsx,
)
from e2docs.formats.xlsx.reader import read_workbook
from e2docs.model.errors import E2docsError, SystemFault
from e2docs.model.states import ReturnState


@dataclass
class FileOutcome:
    """What became of one file (or one candidate of a class workbook).

    ``origin``: where the file came from, in French (``"retours.zip › LEBLANC.xlsx"``);
    ``candidate``: ``"Full Name (number)"`` as the workbook says, ``""`` when the file was
    not read; ``reasons`` (why refused, rejected, in conflict or already imported) and
    ``warnings``: French texts; ``reply``: the message of ``send``/``remind`` the e-mail that
    brought the file answered, ``None`` when none.
    """

    origin: str
    state: ReturnState
    candidate: str = ""
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reply: MessageRow | None = None


@dataclass
class MailboxSummary:
    """What ``collect --imap`` did in the mailbox folder: ``url`` (without password), ``read``: messages
    read in this run, ``earlier``: messages already processed by an earlier run (not read again),
    ``moved``: messages moved to ``move_to`` (``None``: nothing moved, the server left as it was),
    ``left``: messages of this run left in the folder despite ``move_to`` because they brought no
    workbook (to be read by someone) or are to be read again, ``lost``: the connection broke (French
    reason; what was recorded before is kept), ``""`` else."""

    url: str
    read: int = 0
    earlier: int = 0
    move_to: str | None = None
    moved: int = 0
    left: int = 0
    lost: str = ""


@dataclass
class CollectReport:
    """Every file (or candidate of a class workbook) of a ``collect`` run, in the order met;
    ``mailbox``: with ``--imap``, what was done in the mailbox folder."""

    outcomes: list[FileOutcome] = field(default_factory=list)
    mailbox: MailboxSummary | None = None

    def count(self, state: ReturnState) -> int:
        """How many outcomes are in ``state``."""
        return sum(1 for o in self.outcomes if o.state == state)

    @property
    def exit_code(self) -> int:
        """0 when everything was accepted (or already there), 1 when something was rejected; with
        ``--imap``, when the connection broke: 3 (:data:`~e2docs.app.campaign.EXIT_PARTIAL`) when
        messages were recorded before, 2 when none was."""
        if self.mailbox is not None and self.mailbox.lost:
            return EXIT_PARTIAL if self.mailbox.read else 2
        return 1 if any(o.state.failed for o in self.outcomes) else 0


TEMP_PREFIX = ".arrivee-"

Progress = Callable[[Iterable[Item | Refusal | Skipped]], Iterable[Item | Refusal | Skipped]]
"""Wraps the stream of files found (to show a progress bar) and yields them unchanged."""


class _FileFields(TypedDict):
    """The file's part of :meth:`~e2docs.app.ledger.Ledger.record_return`'s arguments."""

    sha256: str
    stored_path: str
    original_name: str
    origin: str
    size: int  # bytes
    received_at: str | None
    sender: str | None
    batch: int


def archive(campaign: Campaign, item: Item, durable: bool = True) -> tuple[str, Path]:
    """Store the original bytes under ``retours/<sha256>.<ext>`` (once: a file already there with
    these bytes is kept; one with others, cut short by a power failure, is written again); return the
    hash (hex) and the absolute path. ``durable=False``: not flushed to disk yet
    (:func:`~e2docs.formats.atomic.atomic_write`; the caller flushes it before recording it)."""
    sha = hashlib.sha256(item.data).hexdigest()
    folder = campaign.folder("retours")
    target = folder / f"{sha}.{item.kind}"
    if not _holds(target, sha):
        atomic_write(target, item.data, prefix=f"{TEMP_PREFIX}{os.getpid()}-", durable=durable)
    return sha, target


def _holds(path: Path, sha: str) -> bool:
    """Whether the file at ``path`` exists with the content whose SHA-256 is ``sha``."""
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest() == sha
    except OSError:
        return False


def remove_leftovers(campaign: Campaign) -> list[Path]:
    """Delete the temporary files a killed ``collect`` left in ``retours/`` (never referenced by the ledger).

    A temporary file is named after the process writing it, so only those of
    processes no longer running are removed: a collect running at the same time
    keeps its own.
    """
    removed = []
    for path in campaign.folder("retours").glob(TEMP_PREFIX + "*"):
        pid = path.name[len(TEMP_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not processes.alive(int(pid)):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


@writes("collect")
def collect(
    campaign: Campaign,
    paths: Iterable[str | Path],
    *,
    accept_modified: bool = False,
    progress: Progress | None = None,
) -> CollectReport:
    """Import returned files into the campaign; see the module docstring for the guarantees.

    ``paths``: workbooks (.xlsx, .ods, .xls), folders, .zip archives, e-mails (.eml, .mbox, Outlook's .msg).
    A file that cannot be used is an outcome of the report (refused, rejected or blank), not
    an error; a message deleted in its mailbox is reported as skipped. Which return counts for each
    candidate is decided afterwards from everything recorded (:mod:`e2docs.app.returns`); the report
    says when a return of this run is in a conflict, less complete than the retained one, or older.
    A return brought by a reply to a message of ``send``/``remind`` is linked to it
    (:attr:`~e2docs.app.ledger.ReturnRow.reply_to`). Raises :class:`E2docsError` when the
    campaign's grid cannot be loaded.
    """
    report = CollectReport()
    paths = list(paths)
    with campaign.ledger() as ledger, tempfile.TemporaryDirectory(prefix="e2docs-collect-") as work:
        remove_leftovers(campaign)
        run = _Run(campaign, ledger, Path(work), accept_modified, report)
        run.batch = ledger.new_batch(now(), [str(Path(p).absolute()) for p in paths])
        entries = gather(paths)
        run.take_all(progress(entries) if progress else entries, files_in(paths, enough=PARALLEL_FROM))
        run.finish()
    return report


MailboxProgress = Callable[[Iterable[Listed]], Iterable[Listed]]
"""Wraps the stream of messages to read (to show a progress bar) and yields them unchanged."""


@writes("collect")
def collect_imap(
    campaign: Campaign,
    url: ImapUrl,
    password: str | None,
    *,
    move_to: str | None = None,
    accept_modified: bool = False,
    progress: MailboxProgress | None = None,
) -> CollectReport:
    """Import the returns brought by the messages of the IMAP folder ``url`` not processed yet, each
    message exactly as an ``.eml`` file given to :func:`collect`.

    The folder's UIDVALIDITY and the UIDs processed are remembered in the ledger
    (:meth:`~e2docs.app.ledger.Ledger.imap_processed`): a re-run reads only the new messages (all of
    them when the server changed the folder's UIDVALIDITY: their files already imported are then
    « déjà importé »). A message is remembered once its returns are recorded, in the same
    transaction (a run killed midway reads the rest next time, nothing twice); one whose workbook
    could not be converted on this machine is not, and is read again next time. Messages marked
    ``\\Deleted`` on the server are skipped.

    Nothing is changed on the server (read-only ``EXAMINE``, ``BODY.PEEK``) unless ``move_to`` names
    a folder (which must exist): the messages processed that brought at least one workbook — in
    this run or an earlier one — are then moved there; those without a workbook stay, to be read
    by someone. Raises :class:`~e2docs.formats.imap.ImapError` (exit 2, nothing recorded) when the
    server cannot be used or a folder is missing; a connection lost midway ends the run with what
    was recorded kept (:attr:`MailboxSummary.lost`).
    """
    if move_to is not None and move_to == url.folder:
        raise ImapError(
            f"--move-to désigne le dossier relevé lui-même (« {move_to} ») : rien n'a été relevé.",
            hint="Donnez un autre dossier, par exemple --move-to « Relevés E2 » (créé dans votre messagerie).",
        )
    report = CollectReport(mailbox=MailboxSummary(str(url), move_to=move_to))
    summary = report.mailbox
    assert summary is not None
    with (
        campaign.ledger() as ledger,
        tempfile.TemporaryDirectory(prefix="e2docs-collect-") as work,
        ImapSession(url, password) as imap,
    ):
        remove_leftovers(campaign)
        validity, count = imap.examine()
        if move_to is not None and not imap.exists(move_to):
            raise ImapError(
                f"dossier « {move_to} » introuvable sur le serveur {imap.where} : rien n'a été relevé.",
                hint="Créez-le dans votre messagerie (ou écrivez son nom tel qu'elle l'affiche, sous-dossier "
                "compris : INBOX/Relevés), puis relancez.",
            )
        listed = imap.listing(count)
        present = {m.uid for m in listed}
        done = {uid: v for uid, v in ledger.imap_processed(url.mailbox, validity).items() if uid in present}
        summary.earlier = sum(1 for m in listed if m.uid in done)
        todo = [m for m in listed if m.uid not in done]
        run = _Run(campaign, ledger, Path(work), accept_modified, report)
        if todo:
            run.batch = ledger.new_batch(now(), [str(url)])
        keep = [m for m in todo if "\\Deleted" not in m.flags]
        for m in todo:
            if "\\Deleted" in m.flags:
                report.outcomes.append(
                    FileOutcome(
                        _origin(url, m.uid),
                        ReturnState.SKIPPED,
                        reasons=["message marqué supprimé sur le serveur : non relevé."],
                    )
                )
        movable = [uid for uid, (workbooks, moved) in done.items() if workbooks and moved is None]
        pending = iter(progress(keep) if progress else keep)
        try:
            for group in batches(keep):
                big = [m for m in group if m.size > MAX_MESSAGE_BYTES]
                fetched = imap.fetch([m.uid for m in group if m.size <= MAX_MESSAGE_BYTES])
                for m in group:
                    next(pending, None)
                    origin = _origin(url, m.uid)
                    if m in big:
                        entries: Iterable[Item | Refusal | Skipped] = [message_too_big(origin, m.size)]
                    elif m.uid in fetched:
                        entries = gather_message(fetched[m.uid], origin)
                    else:
                        report.outcomes.append(
                            FileOutcome(
                                origin, ReturnState.SKIPPED, reasons=["message supprimé du serveur pendant la relève."]
                            )
                        )
                        continue
                    with ledger.transaction():  # the message's returns and its UID, or nothing
                        taken = [run.take(entry) for entry in entries]
                        workbooks = sum(t.workbooks for t in taken)
                        if any(t.retryable for t in taken):
                            summary.left += 1 if move_to is not None else 0
                        else:
                            ledger.record_imap(url.mailbox, validity, m.uid, run.batch, now(), workbooks)
                            if workbooks:
                                movable.append(m.uid)
                            elif move_to is not None:
                                summary.left += 1
                    summary.read += 1
            for _ in pending:  # the progress bar to its end
                pass
            if move_to is not None and movable:
                imap.move(sorted(movable), move_to)
                ledger.record_imap_moved(url.mailbox, validity, movable, move_to, now())
                summary.moved = len(movable)
        except ImapError as exc:
            if not imap.lost and not summary.read:
                raise
            summary.lost = exc.message
        if todo:
            run.finish()
    return report


def _origin(url: ImapUrl, uid: int) -> str:
    """Where a message of the folder comes from, in French: « INBOX › message n° 42 »."""
    return f"{url.folder}{SEP}message n° {uid}"


class _Run:
    """One ``collect`` run: what each entry found becomes (archived, read, judged, recorded)."""

    def __init__(
        self, campaign: Campaign, ledger: Ledger, work: Path, accept_modified: bool, report: CollectReport
    ) -> None:
        self.campaign = campaign
        self.ledger = ledger
        self.work = work
        self.accept_modified = accept_modified
        self.report = report
        grid = campaign.grid()
        self.grids = {grid.content_hash: grid}
        self.reader = evaluation_record.reader_key(grid)
        self.roster = {c.number for c in ledger.candidates()}
        self.checks = Checks(self.grids, campaign.secret, campaign.id, frozenset(self.roster), accept_modified)
        self.batch = 0  # set by the caller (Ledger.new_batch) before the first entry
        self.recorded: dict[str, list[tuple[int, FileOutcome]]] = defaultdict(list)

    def take(self, entry: Item | Refusal | Skipped) -> _Taken:
        """Deal with one entry found: report it, and record it when it is a workbook not yet imported."""
        report = self.report
        if isinstance(entry, Refusal):
            report.outcomes.append(
                FileOutcome(
                    entry.origin,
                    ReturnState.REFUSED,
                    reasons=[entry.reason + (f" {entry.hint}" if entry.hint else "")],
                )
            )
            return _Taken()
        if isinstance(entry, Skipped):
            report.outcomes.append(FileOutcome(entry.origin, ReturnState.SKIPPED, reasons=[entry.reason]))
            return _Taken()
        sha = hashlib.sha256(entry.data).hexdigest()
        if self.ledger.known_file(sha, accept_modified=self.accept_modified):
            archive(self.campaign, entry)  # its archive written again if it was damaged since (report refuses it)
            report.outcomes.append(FileOutcome(entry.origin, ReturnState.ALREADY, reasons=["déjà importé"]))
            return _Taken(workbooks=1)
        base, stored = self.store(entry)
        return self.record(entry, base, self.check(entry, stored))

    def take_all(self, entries: Iterable[Item | Refusal | Skipped], expected: int = 0) -> None:
        """:meth:`take` each entry in turn. When ``expected`` (files the paths hold, see :func:`files_in`)
        reaches :data:`PARALLEL_FROM`, from the start, else after the first :data:`PARALLEL_FROM`
        entries (archives, e-mails holding many workbooks), the records are committed in groups and the
        reading of plain .xlsx returns is shared with spawned processes when the machine has cores to
        spare (:func:`processes_for`); the report and the ledger are the same either way. Entries are
        taken as they come (a progress bar around ``entries`` follows the work)."""
        stream = iter(entries)
        if expected < PARALLEL_FROM:
            for entry in itertools.islice(stream, PARALLEL_FROM):
                self.take(entry)
        following = next(stream, None)
        if following is not None:
            count = max(expected, PARALLEL_FROM)
            _Shared(self, processes_for(count) - 1).take_all(itertools.chain([following], stream))

    def store(self, entry: Item, durable: bool = True) -> tuple[_FileFields, Path]:
        """Archive ``entry``'s bytes (:func:`archive`); the file's fields of its ledger rows, and where it
        is archived (absolute)."""
        sha, stored = archive(self.campaign, entry, durable)
        return _FileFields(
            sha256=sha,
            stored_path=str(stored.relative_to(self.campaign.root)),
            original_name=entry.name,
            origin=entry.origin,
            size=len(entry.data),
            received_at=entry.received_at,
            sender=entry.sender,
            batch=self.batch,
        ), stored

    def check(self, entry: Item, stored: Path) -> list[Verdict] | Failure:
        """Read and judge the archived ``stored`` in this process (an .ods, .xls or Strict return
        converted once by LibreOffice, the copy kept beside it for ``report``)."""
        try:
            kept = kept_copy(stored)
            xlsx = stored if entry.kind == "xlsx" else kept_conversion(kept, partial(to_xlsx, entry), self.work)
            readings = read_workbook(
                xlsx, self.grids, secret=self.campaign.secret, converted=xlsx != stored, keep_converted=kept
            )
        except E2docsError as exc:
            return failure(exc)
        return verdicts(readings, self.checks)

    def record(self, entry: Item, base: _FileFields, checked: list[Verdict] | Failure) -> _Taken:
        """Record what the checks made of the archived ``entry`` (one transaction per file) and report it."""
        ledger, report = self.ledger, self.report
        reply = ledger.replied(entry.replies_to) if entry.replies_to else None
        reply_to = reply.message_id if reply is not None else None
        if isinstance(checked, Failure):
            ledger.record_return(
                **base,
                when=now(),
                candidate=None,
                state=ReturnState.REJECTED,
                proposed=None,
                final=None,
                missing=[],
                reasons=[checked.reason],
                warnings=[],
                modified=False,
                accepted_modified=False,
                levels={},
                made_at=entry.received_at,
                retryable=checked.retryable,
                reply_to=reply_to,
            )
            report.outcomes.append(
                FileOutcome(entry.origin, ReturnState.REJECTED, reasons=[checked.reason], reply=reply)
            )
            return _Taken(workbooks=1, retryable=checked.retryable)
        with ledger.transaction():  # every candidate of a class workbook, or none
            for v in checked:
                rid = ledger.record_return(
                    **base,
                    when=now(),
                    candidate=v.number if v.trusted and v.number in self.roster else None,
                    state=v.state,
                    proposed=v.proposed,
                    final=v.final,
                    missing=list(v.missing),
                    reasons=list(v.reasons),
                    warnings=list(v.warnings),
                    modified=v.modified,
                    accepted_modified=v.waived,
                    levels=dict(v.levels),
                    made_at=v.saved_at or entry.received_at,
                    reply_to=reply_to,
                )
                if v.record is not None and v.trusted and v.number in self.roster:
                    sha = base["sha256"]
                    sealed = evaluation_record.seal(self.checks.secret, sha, v.number, self.reader, v.record)
                    ledger.record_evaluation(sha, v.number, self.reader, v.record, sealed)
                outcome = FileOutcome(
                    entry.origin, v.state, f"{v.full_name} ({v.number})", list(v.reasons), list(v.warnings), reply
                )
                report.outcomes.append(outcome)
                if v.state.accepted:
                    self.recorded[v.number].append((rid, outcome))
        return _Taken(workbooks=1)

    def finish(self) -> None:
        """Say what the rules made of this run's returns, and mark the run finished."""
        _explain_retention(self.ledger, self.recorded)
        self.ledger.finish_batch(self.batch, now())


@dataclass(frozen=True)
class _Taken:
    """What :meth:`_Run.take` did with an entry: ``workbooks`` found (0 for a refusal), and whether it
    was rejected because of this machine (``retryable``: to be read again by the next run)."""

    workbooks: int = 0
    retryable: bool = False


def _explain_retention(ledger: Ledger, recorded: dict[str, list[tuple[int, FileOutcome]]]) -> None:
    """Say, on the outcomes of this run's accepted returns, what the rules made of them: in a
    conflict (the outcome becomes ``conflict``), newer but less complete than the retained one
    (« à vérifier »), or not retained (older, or another one kept by the secretariat)."""
    if not recorded:
        return
    keeps = ledger.keeps()
    candidates = {c.number: c for c in ledger.candidates()}
    for number, items in recorded.items():
        status = status_of(candidates[number], ledger.returns(number), keeps.get(number))
        conflict = {r.id for r in status.conflict}
        newer = {r.id for r in status.newer}
        retained = status.retained
        for rid, outcome in items:
            if rid in conflict:
                outcome.state = ReturnState.CONFLICT
                outcome.reasons.append(status.conflict_reason)
            elif retained is None or rid == retained.id:
                continue
            elif rid in newer:
                outcome.warnings.append(
                    f"plus récent mais moins complet que le retour retenu (n° {retained.id}, "
                    f"{retained.original_name}) : candidat « à vérifier ». Gardez l'un ou l'autre avec "
                    f"« e2docs keep {number} N° »."
                )
            else:
                row = next(r for r in status.history if r.id == rid)
                if content(row) == content(retained):
                    continue  # the same grid in another file
                if status.kept:
                    why = "le secrétariat garde un autre retour (e2docs keep)"
                elif made_time(row) < made_time(retained):
                    why = "un retour fait plus tard reste retenu"
                else:
                    why = "un retour plus complet reste retenu"
                outcome.warnings.append(f"non retenu : {why} (n° {retained.id}, {retained.original_name}).")


# ------------------------------------------------------------------ checks shared with spawned processes

PARALLEL_FROM = 100
"""Files from which :meth:`_Run.take_all` commits the records in groups and shares the reading of
plain .xlsx returns with spawned processes. A spawned process takes about 1 s of a core to start
(this process goes on reading meanwhile: :meth:`_Shared.finish_head`); measured on the loaded 2-core
machine, splitting did not pay at 60 files and did at 120 (``benchmarks/bench_collect.py``)."""
MAX_PROCESSES = 4
GROUP_FILES = 32
GROUP_SECONDS = 1.0
"""When the reading is shared, the files recorded are committed to the ledger together, every
:data:`GROUP_FILES` files or :data:`GROUP_SECONDS` seconds (each commit waits for the disk several
times: measured 15 ms a file when committed one by one). A run killed midway loses the group's records,
not their archived files: the next run records them, each exactly once."""
WINDOW = 8
"""Files in flight per process (archived, being read, or read and waiting to be recorded): the
memory stays flat whatever the number of files."""


def files_in(paths: Iterable[str | Path], enough: int) -> int:
    """How many files ``paths`` name or hold in their folders (names only, nothing read), counted up to
    ``enough`` at least: an estimate of the entries to come, an archive or an e-mail counting as one."""
    count = 0
    for path in paths:
        if Path(path).is_dir():
            for _folder, _subfolders, names in os.walk(path):
                count += len(names)
                if count >= enough:
                    return count
        else:
            count += 1
        if count >= enough:
            return count
    return count


def processes_for(count: int) -> int:
    """How many processes read ``count`` returns, this one included
    (:func:`e2docs.formats.processes.share_count` from :data:`PARALLEL_FROM`, at most :data:`MAX_PROCESSES`)."""
    return processes.share_count(count, PARALLEL_FROM, MAX_PROCESSES)


@dataclass
class _Pending:
    """An entry of the window of :class:`_Shared`: ``future`` is its reading by a spawned process (the
    file archived: ``base``, ``stored``), ``None`` for an entry this process takes whole
    (:meth:`_Run.take`); ``stolen``: taken back from the processes and read here (``local``)."""

    entry: Item | Refusal | Skipped
    sha: str = ""
    base: _FileFields | None = None
    stored: Path | None = None
    future: Future[list[Verdict] | Failure | None] | None = None
    stolen: bool = False
    local: list[Verdict] | Failure | None = None


class _Shared:
    """The entries of a run, the reading and judging of plain .xlsx returns shared between this process
    and ``workers`` spawned ones (spawn: the same on Linux, macOS and Windows; 0: none, this process
    reads everything, its records committed in groups all the same). This process alone
    archives (before a file is read), writes the ledger and reports, entry after entry in the input
    order, exactly as :meth:`_Run.take` does one after the other. It takes whole, when its turn comes
    (everything before it recorded): refusals, skips, files already imported, .ods/.xls and Strict
    returns (LibreOffice), and a second copy of a file still in flight (« déjà importé »)."""

    def __init__(self, run: _Run, workers: int) -> None:
        self.run = run
        self.workers = workers
        self.flight: dict[str, int] = defaultdict(int)  # sha256 → entries of the window with these bytes
        self.group: contextlib.ExitStack | None = None  # holds the ledger transaction of the files recorded lately
        self.grouped = 0  # files recorded in it
        self.since = 0.0  # when it began (time.monotonic)
        self.flusher = atomic.Flusher()  # archives flushed to disk in the background

    def begin(self) -> None:
        """Record the next files in the current group, one ledger transaction (begun when none is)."""
        if self.group is None:
            self.group = contextlib.ExitStack()
            self.group.enter_context(self.run.ledger.transaction())
            self.grouped, self.since = 0, time.monotonic()

    def commit(self, *, force: bool = False) -> None:
        """Commit the group when it holds :data:`GROUP_FILES` files, is :data:`GROUP_SECONDS` old, or ``force``."""
        if self.group is None:
            return
        if force or self.grouped >= GROUP_FILES or time.monotonic() - self.since >= GROUP_SECONDS:
            self.flusher.wait()  # the files these records name are on disk first
            group, self.group = self.group, None
            group.close()

    def rollback(self) -> None:
        """Forget the group's records (their files stay archived: the next run records them)."""
        if self.group is not None:
            group, self.group = self.group, None
            group.__exit__(RuntimeError, RuntimeError("rollback"), None)

    def take_all(self, entries: Iterable[Item | Refusal | Skipped]) -> None:
        spawn = multiprocessing.get_context("spawn")
        checks = replace(self.run.checks, parent=os.getpid())
        window: deque[_Pending] = deque()
        limit = WINDOW * (self.workers + 1)
        pool = (
            ProcessPoolExecutor(self.workers, spawn, initializer=start_worker, initargs=(checks,))
            if self.workers
            else None
        )
        try:
            for entry in entries:
                window.append(self.start(pool, entry))
                while len(window) > limit:
                    self.finish_head(window)
            while window:
                self.finish_head(window)
            self.commit(force=True)
        finally:
            self.rollback()  # stopped midway (killed by SIGTERM, a system fault): maybe inside a file's records
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
            self.flusher.__exit__()

    def start(self, pool: ProcessPoolExecutor | None, entry: Item | Refusal | Skipped) -> _Pending:
        """Put ``entry`` in flight: a plain .xlsx not yet imported is archived and given to the processes
        (``pool``; ``None``: none spawned, this process reads everything)."""
        if pool is None or not isinstance(entry, Item):
            return _Pending(entry)
        sha = hashlib.sha256(entry.data).hexdigest()
        self.flight[sha] += 1
        pending = _Pending(entry, sha)
        if (
            entry.kind != "xlsx"
            or self.flight[sha] > 1
            or self.run.ledger.known_file(sha, accept_modified=self.run.accept_modified)
        ):
            return pending
        pending.base, pending.stored = self.run.store(entry, durable=False)
        self.flusher.add([pending.stored])  # on disk before its group of records is committed
        try:
            pending.future = pool.submit(check_shared, pending.stored)
        except BrokenProcessPool as exc:  # a process died: said when this entry's turn comes
            pending.future = Future()
            pending.future.set_exception(exc)
        return pending

    def finish_head(self, window: deque[_Pending]) -> None:
        """Record the first entry of ``window`` once read; while it is being read by a spawned process,
        read here those of the window no process has started yet."""
        head = window[0]
        if head.future is not None:
            while not head.future.done() and self.steal(window):
                pass
        window.popleft()
        if head.sha:
            self.flight[head.sha] -= 1
            if not self.flight[head.sha]:
                del self.flight[head.sha]
        if head.future is None:
            self.begin()
            self.run.take(head.entry)
        else:
            assert isinstance(head.entry, Item) and head.base is not None and head.stored is not None
            checked = head.local if head.stolen else self.result(head.future)
            if checked is None:  # Strict: converted by LibreOffice, here
                checked = self.run.check(head.entry, head.stored)
            self.begin()
            self.run.record(head.entry, head.base, checked)
        self.grouped += 1
        self.commit()

    def steal(self, window: deque[_Pending]) -> bool:
        """Read here the first entry of ``window`` no spawned process has started; False when none."""
        for pending in window:
            if pending.future is not None and not pending.stolen and pending.future.cancel():
                assert pending.stored is not None
                pending.local = check_plain(self.run.checks, pending.stored)
                pending.stolen = True
                return True
        return False

    def result(self, future: Future[list[Verdict] | Failure | None]) -> list[Verdict] | Failure | None:
        """What a spawned process made of a file; a process that died (killed, out of memory) stops the
        run with a French error, what was recorded before kept."""
        try:
            return future.result()
        except BrokenProcessPool:
            self.commit(force=True)  # between two files: what is recorded is whole
            raise SystemFault(
                "« e2docs collect » arrêté : un des processus qui lisaient les classeurs s'est arrêté "
                "brutalement (arrêté par le système, mémoire insuffisante ?). Les retours enregistrés "
                "avant restent enregistrés, aucun n'est enregistré à moitié.",
                self.run.campaign.root,
                "Relancez la même commande : elle reprend la relève là où elle s'est arrêtée.",
            ) from None
