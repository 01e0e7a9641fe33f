"""Reading and judging one returned workbook, in ``collect``'s process or in a process it spawned.

What :mod:`e2docs.app.collect` records for a file comes from here: :func:`check_plain` reads an
archived plain .xlsx and judges each candidate in it (:func:`judge`), giving small picklable
:class:`Verdict` values (or a :class:`Failure`) rather than whole readings. Kept apart from
:mod:`e2docs.app.collect` so that a spawned process imports only the reader and the rules.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Collection
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from e2docs.formats import evaluation_record, processes
from e2docs.formats.intake import ConversionError
from e2docs.formats.xlsx.evaluation import evaluation_of
from e2docs.formats.xlsx.fastread import StrictWorkbook
from e2docs.formats.xlsx.layout import CellRole
from e2docs.formats.xlsx.reader import Issue, Reading, read_workbook
from e2docs.model.errors import E2docsError
from e2docs.model.grid import Grid
from e2docs.model.states import ReturnState


def identity_changes(reading: Reading) -> list[Issue]:
    """The changes to the candidate's identity found in a workbook: an identity cell that no longer
    says what the signed metadata says (another candidate's grid under this metadata, or a name
    retyped). Never accepted, even with ``--accept-modified``."""
    identity = {(c.sheet, c.ref) for c in reading.layout.cells if c.role is CellRole.IDENTITY}
    return [i for i in reading.modified if (i.sheet, i.cell) in identity]


def judge(
    campaign_id: str, reading: Reading, roster: Collection[str], accept_modified: bool
) -> tuple[ReturnState, list[str]]:
    """The state of one candidate's return (complete, incomplete, blank or rejected) and the reasons
    (French) when it is rejected or blank, ``[]`` otherwise. ``campaign_id``: the campaign collecting
    (:attr:`~e2docs.app.campaign.Campaign.id`); ``roster``: its candidate numbers."""
    cand = reading.candidate
    other = str(reading.meta.get("campaign_id") or "")
    if not other:
        return ReturnState.REJECTED, [
            "classeur généré hors de toute campagne (e2docs generate -o) : il n'est pas signé "
            "pour cette campagne. Envoyez le classeur du dossier envoi/ de la campagne."
        ]
    if other != campaign_id:
        return ReturnState.REJECTED, [
            f"classeur d'une autre campagne (campagne {other[:8]}, attendue {campaign_id[:8]})."
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


@dataclass(frozen=True)
class Checks:
    """What reading and judging a return needs, sent once to each spawned process: the campaign's
    ``grids`` (by content hash), signing ``secret`` and ``campaign_id``, its candidate numbers
    (``roster``), the user's ``accept_modified``; ``parent``: the process to outlive (0: none)."""

    grids: dict[str, Grid]
    secret: bytes
    campaign_id: str
    roster: frozenset[str]
    accept_modified: bool
    parent: int = 0


@dataclass(frozen=True)
class Verdict:
    """What the checks made of one candidate of a workbook: everything ``collect`` records of it
    (small and picklable, unlike a :class:`Reading` with its layout). ``number``, ``full_name``: as the
    workbook says; ``trusted``: its identity is signed by this campaign; ``proposed``, ``final``:
    marks out of 20 (``None``: not computable); ``warnings``: French, the waived changes included;
    ``waived``: changes outside the input cells accepted (``--accept-modified``); ``saved_at``: ISO
    date-time of the last save by a person, ``None`` when never re-saved; ``record``: the evaluation read,
    kept for ``report`` (:func:`e2docs.formats.evaluation_record.encode`), ``None`` when the return is
    not accepted or holds a value the record cannot."""

    number: str
    full_name: str
    state: ReturnState
    reasons: tuple[str, ...]
    warnings: tuple[str, ...]
    trusted: bool
    proposed: float | None
    final: float | None
    missing: tuple[str, ...]
    levels: tuple[tuple[str, int | None], ...]
    modified: bool
    waived: bool
    saved_at: str | None
    record: bytes | None = None


@dataclass(frozen=True)
class Failure:
    """A file the reader could not use at all: the French ``reason`` (hint included) and whether it is
    to be read again by the next run (``retryable``: LibreOffice could not convert it here)."""

    reason: str
    retryable: bool


def failure(exc: E2docsError) -> Failure:
    """``exc``, raised by the reader or a conversion, as the :class:`Failure` recorded for the file."""
    reason = exc.message + (f" {exc.hint}" if exc.hint else "")
    retryable = isinstance(exc, ConversionError)
    if retryable:
        reason += " (Le fichier sera relu à la prochaine relève.)"
    return Failure(reason, retryable)


def verdicts(readings: list[Reading], checks: Checks) -> list[Verdict]:
    """Judge each candidate read (:func:`judge`), in the workbook's order."""
    out = []
    for reading in readings:
        state, reasons = judge(checks.campaign_id, reading, checks.roster, checks.accept_modified)
        res = reading.outcome
        warnings = [str(w) for w in reading.warnings]
        waived = bool(reading.modified) and checks.accept_modified and state.accepted
        if waived:
            warnings += [f"accepté malgré une modification — {i}" for i in reading.modified]
        out.append(
            Verdict(
                number=reading.candidate.number,
                full_name=reading.candidate.full_name,
                state=state,
                reasons=tuple(reasons),
                warnings=tuple(warnings),
                # an identity not signed by this campaign is not trusted: the file is kept, unattributed
                trusted=reading.signature_ok and reading.meta.get("campaign_id") == checks.campaign_id,
                proposed=_num(res.proposed_mark),
                final=_num(res.final_mark),
                missing=tuple(res.missing),
                levels=tuple(res.levels.items()),
                modified=bool(reading.modified),
                waived=waived,
                saved_at=reading.saved_at,
                record=_record(reading) if state.accepted else None,
            )
        )
    return out


def check_plain(checks: Checks, stored: Path) -> list[Verdict] | Failure | None:
    """Read and judge the archived plain .xlsx ``stored``, as ``collect`` reads any return; ``None`` for a
    Strict workbook (LibreOffice converts it, in the parent)."""
    try:
        readings = read_workbook(stored, checks.grids, secret=checks.secret, convert_strict=False)
    except StrictWorkbook:
        return None
    except E2docsError as exc:
        return failure(exc)
    except (OSError, zipfile.BadZipFile):
        return None  # the parent reads it, and says what is wrong, as a run in one process does
    return verdicts(readings, checks)


_WORKER_CHECKS: Checks | None = None
"""In a spawned process: the checks of the run it works for (set by :func:`start_worker`)."""


def start_worker(checks: Checks) -> None:
    """Initialise a spawned process (``ProcessPoolExecutor``'s ``initializer``): ``checks`` for every file;
    the process ends by itself once the run's process is gone
    (:func:`~e2docs.formats.processes.stop_with_parent`: a run killed by SIGKILL leaves no process
    reading, idle ones included)."""
    global _WORKER_CHECKS
    _WORKER_CHECKS = checks
    processes.stop_with_parent()


def check_shared(stored: Path) -> list[Verdict] | Failure | None:
    """:func:`check_plain` in a spawned process; it stops when the run's process is gone, so that a
    killed run does not keep reading."""
    checks = _WORKER_CHECKS
    assert checks is not None, "start_worker first"
    if checks.parent and os.name == "posix" and os.getppid() != checks.parent:
        raise SystemExit(1)
    return check_plain(checks, stored)


def _record(reading: Reading) -> bytes | None:
    """The evaluation of ``reading`` as kept for ``report``; ``None`` when a value cannot be kept."""
    try:
        return evaluation_record.encode(evaluation_of(reading))
    except evaluation_record.Unencodable:
        return None


def _num(value: Fraction | None) -> float | None:
    return None if value is None else float(value)
