"""``e2docs collect``: archive every returned file, identify its candidate, check it, record it.

Order of work for each file, so that nothing is lost: (1) archive the original
bytes under ``retours/`` (content-addressed, written then renamed), (2) read and
check, (3) record the result in the ledger in one transaction. A run killed at
any point leaves either nothing or a complete record for each file; running it
again picks up the files not yet recorded, in the same run (the killed run is
resumed: :meth:`~e2docs.app.ledger.Ledger.new_batch`). Which return counts is
recomputed from everything recorded (:mod:`e2docs.app.returns`), so the re-run
ends in the state of one uninterrupted run, conflicts included.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import TypedDict

from e2docs.app.campaign import EXIT_PARTIAL, Campaign, now, writes
from e2docs.app.ledger import Ledger, MessageRow
from e2docs.app.returns import content, made_time
from e2docs.app.status import status_of
from e2docs.formats import processes
from e2docs.formats.atomic import atomic_write
from e2docs.formats.imap import ImapError, ImapSession, ImapUrl, Listed, batches
from e2docs.formats.intake import (
    MAX_MESSAGE_BYTES,
    SEP,
    ConversionError,
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
from e2docs.formats.xlsx.layout import CellRole
from e2docs.formats.xlsx.reader import Issue, Reading, read_workbook
from e2docs.model.errors import E2docsError
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


def archive(campaign: Campaign, item: Item) -> tuple[str, Path]:
    """Store the original bytes under ``retours/<sha256>.<ext>`` (once); return the hash (hex) and the
    absolute path."""
    sha = hashlib.sha256(item.data).hexdigest()
    folder = campaign.folder("retours")
    target = folder / f"{sha}.{item.kind}"
    if not target.exists():
        atomic_write(target, item.data, prefix=f"{TEMP_PREFIX}{os.getpid()}-")
    return sha, target


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


def identity_changes(reading: Reading) -> list[Issue]:
    """The changes to the candidate's identity found in a workbook: an identity cell that no longer
    says what the signed metadata says (another candidate's grid under this metadata, or a name
    retyped). Never accepted, even with ``--accept-modified``."""
    identity = {(c.sheet, c.ref) for c in reading.layout.cells if c.role is CellRole.IDENTITY}
    return [i for i in reading.modified if (i.sheet, i.cell) in identity]


def judge(
    campaign: Campaign, reading: Reading, roster: set[str], accept_modified: bool
) -> tuple[ReturnState, list[str]]:
    """The state of one candidate's return (complete, incomplete, blank or rejected) and the reasons
    (French) when it is rejected or blank, ``[]`` otherwise. ``roster``: the campaign's candidate numbers."""
    cand = reading.candidate
    other = str(reading.meta.get("campaign_id") or "")
    if not other:
        return ReturnState.REJECTED, [
            "classeur généré hors de toute campagne (e2docs generate -o) : il n'est pas signé "
            "pour cette campagne. Envoyez le classeur du dossier envoi/ de la campagne."
        ]
    if other != campaign.id:
        return ReturnState.REJECTED, [
            f"classeur d'une autre campagne (campagne {other[:8]}, attendue {campaign.id[:8]})."
        ]
    if not reading.signature_ok:
        return ReturnState.REJECTED, ["signature invalide : les métadonnées du classeur ont été modifiées."]
    if cand.number not in roster:
        return ReturnState.REJECTED, [f"candidat inconnu dans cette campagne : N° {cand.number} ({cand.full_name})."]
    identity = identity_changes(reading)
    if identity and accept_modified:
        return ReturnState.REJECTED, [
            f"identité du candidat modifiée, jamais acceptée (même avec --accept-modified) — {issue}"
            for issue in identity
        ]
    if reading.blank:
        return ReturnState.BLANK, [
            "classeur vierge : rien n'y a été saisi (le classeur envoyé, pas encore rempli ?). "
            "Il ne remplace aucun retour ; demandez le classeur rempli."
        ]
    reasons = []
    if reading.modified and not accept_modified:
        reasons += [f"modifié hors des cellules de saisie — {issue}" for issue in reading.modified]
    reasons += [f"saisie invalide — {issue}" for issue in reading.errors]
    if reasons:
        return ReturnState.REJECTED, reasons
    return (ReturnState.COMPLETE if reading.outcome.complete else ReturnState.INCOMPLETE), []


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
        for entry in progress(entries) if progress else entries:
            run.take(entry)
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
        self.roster = {c.number for c in ledger.candidates()}
        self.batch = 0  # set by the caller (Ledger.new_batch) before the first entry
        self.recorded: dict[str, list[tuple[int, FileOutcome]]] = defaultdict(list)

    def take(self, entry: Item | Refusal | Skipped) -> _Taken:
        """Deal with one entry found: report it, and record it when it is a workbook not yet imported."""
        report, ledger, campaign = self.report, self.ledger, self.campaign
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
        if ledger.known_file(sha, accept_modified=self.accept_modified):
            report.outcomes.append(FileOutcome(entry.origin, ReturnState.ALREADY, reasons=["déjà importé"]))
            return _Taken(workbooks=1)
        sha, stored = archive(campaign, entry)
        base = _FileFields(
            sha256=sha,
            stored_path=str(stored.relative_to(campaign.root)),
            original_name=entry.name,
            origin=entry.origin,
            size=len(entry.data),
            received_at=entry.received_at,
            sender=entry.sender,
            batch=self.batch,
        )
        reply = ledger.replied(entry.replies_to) if entry.replies_to else None
        reply_to = reply.message_id if reply is not None else None
        try:
            # an .ods, .xls or Strict return is converted once, the copy kept beside it for `report`
            kept = kept_copy(stored)
            xlsx = stored if entry.kind == "xlsx" else kept_conversion(kept, partial(to_xlsx, entry), self.work)
            readings = read_workbook(
                xlsx, self.grids, secret=campaign.secret, converted=xlsx != stored, keep_converted=kept
            )
        except E2docsError as exc:
            reason = exc.message + (f" {exc.hint}" if exc.hint else "")
            retryable = isinstance(exc, ConversionError)
            if retryable:
                reason += " (Le fichier sera relu à la prochaine relève.)"
            ledger.record_return(
                **base,
                when=now(),
                candidate=None,
                state=ReturnState.REJECTED,
                proposed=None,
                final=None,
                missing=[],
                reasons=[reason],
                warnings=[],
                modified=False,
                accepted_modified=False,
                levels={},
                made_at=entry.received_at,
                retryable=retryable,
                reply_to=reply_to,
            )
            report.outcomes.append(FileOutcome(entry.origin, ReturnState.REJECTED, reasons=[reason], reply=reply))
            return _Taken(workbooks=1, retryable=retryable)
        with ledger.transaction():  # every candidate of a class workbook, or none
            for reading in readings:
                state, reasons = judge(campaign, reading, self.roster, self.accept_modified)
                number = reading.candidate.number
                # an identity not signed by this campaign is not trusted: the file is kept, unattributed
                trusted = reading.signature_ok and reading.meta.get("campaign_id") == campaign.id
                res = reading.outcome
                warnings = [str(w) for w in reading.warnings]
                waived = bool(reading.modified) and self.accept_modified and state.accepted
                if waived:
                    warnings += [f"accepté malgré une modification — {i}" for i in reading.modified]
                rid = ledger.record_return(
                    **base,
                    when=now(),
                    candidate=number if trusted and number in self.roster else None,
                    state=state,
                    proposed=_num(res.proposed_mark),
                    final=_num(res.final_mark),
                    missing=list(res.missing),
                    reasons=reasons,
                    warnings=warnings,
                    modified=bool(reading.modified),
                    accepted_modified=waived,
                    levels=dict(res.levels),
                    made_at=reading.saved_at or entry.received_at,
                    reply_to=reply_to,
                )
                outcome = FileOutcome(
                    entry.origin, state, f"{reading.candidate.full_name} ({number})", reasons, warnings, reply
                )
                report.outcomes.append(outcome)
                if state.accepted:
                    self.recorded[number].append((rid, outcome))
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


def _num(value: Fraction | None) -> float | None:
    return None if value is None else float(value)
