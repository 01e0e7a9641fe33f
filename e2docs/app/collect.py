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

from e2docs.app.campaign import Campaign, now, writes
from e2docs.app.ledger import Ledger
from e2docs.app.returns import content, made_time
from e2docs.app.status import status_of
from e2docs.formats import processes
from e2docs.formats.atomic import atomic_write
from e2docs.formats.intake import ConversionError, Item, Refusal, Skipped, gather, kept_conversion, kept_copy, to_xlsx
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
    ``warnings``: French texts.
    """

    origin: str
    state: ReturnState
    candidate: str = ""
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class CollectReport:
    """Every file (or candidate of a class workbook) of a ``collect`` run, in the order met."""

    outcomes: list[FileOutcome] = field(default_factory=list)

    def count(self, state: ReturnState) -> int:
        """How many outcomes are in ``state``."""
        return sum(1 for o in self.outcomes if o.state == state)

    @property
    def exit_code(self) -> int:
        """0 when everything was accepted (or already there), 1 when something was rejected."""
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
    Raises :class:`E2docsError` when the campaign's grid cannot be loaded.
    """
    report = CollectReport()
    grid = campaign.grid()
    grids = {grid.content_hash: grid}
    paths = list(paths)
    with campaign.ledger() as ledger, tempfile.TemporaryDirectory(prefix="e2docs-collect-") as work:
        roster = {c.number for c in ledger.candidates()}
        remove_leftovers(campaign)
        batch = ledger.new_batch(now(), [str(Path(p).absolute()) for p in paths])
        recorded: dict[str, list[tuple[int, FileOutcome]]] = defaultdict(list)
        entries = gather(paths)
        for entry in progress(entries) if progress else entries:
            if isinstance(entry, Refusal):
                report.outcomes.append(
                    FileOutcome(
                        entry.origin,
                        ReturnState.REFUSED,
                        reasons=[entry.reason + (f" {entry.hint}" if entry.hint else "")],
                    )
                )
                continue
            if isinstance(entry, Skipped):
                report.outcomes.append(FileOutcome(entry.origin, ReturnState.SKIPPED, reasons=[entry.reason]))
                continue
            sha = hashlib.sha256(entry.data).hexdigest()
            if ledger.known_file(sha, accept_modified=accept_modified):
                report.outcomes.append(FileOutcome(entry.origin, ReturnState.ALREADY, reasons=["déjà importé"]))
                continue
            sha, stored = archive(campaign, entry)
            base = _FileFields(
                sha256=sha,
                stored_path=str(stored.relative_to(campaign.root)),
                original_name=entry.name,
                origin=entry.origin,
                size=len(entry.data),
                received_at=entry.received_at,
                sender=entry.sender,
                batch=batch,
            )
            try:
                # an .ods, .xls or Strict return is converted once, the copy kept beside it for `report`
                kept = kept_copy(stored)
                xlsx = stored if entry.kind == "xlsx" else kept_conversion(kept, partial(to_xlsx, entry), Path(work))
                readings = read_workbook(xlsx, grids, secret=campaign.secret, keep_converted=kept)
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
                )
                report.outcomes.append(FileOutcome(entry.origin, ReturnState.REJECTED, reasons=[reason]))
                continue
            with ledger.transaction():  # every candidate of a class workbook, or none
                for reading in readings:
                    state, reasons = judge(campaign, reading, roster, accept_modified)
                    number = reading.candidate.number
                    # an identity not signed by this campaign is not trusted: the file is kept, unattributed
                    trusted = reading.signature_ok and reading.meta.get("campaign_id") == campaign.id
                    res = reading.outcome
                    warnings = [str(w) for w in reading.warnings]
                    waived = bool(reading.modified) and accept_modified and state.accepted
                    if waived:
                        warnings += [f"accepté malgré une modification — {i}" for i in reading.modified]
                    rid = ledger.record_return(
                        **base,
                        when=now(),
                        candidate=number if trusted and number in roster else None,
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
                    )
                    outcome = FileOutcome(
                        entry.origin, state, f"{reading.candidate.full_name} ({number})", reasons, warnings
                    )
                    report.outcomes.append(outcome)
                    if state.accepted:
                        recorded[number].append((rid, outcome))
        _explain_retention(ledger, recorded)
        ledger.finish_batch(batch, now())
    return report


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
