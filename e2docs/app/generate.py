"""The main job: a class list in, one protected workbook per candidate (or per class) out.

Workbooks are first written into a hidden staging folder of the output folder
(``.generation-<pid>``), recorded (in a campaign), marked complete, then renamed
into place: a run killed while writing leaves the output folder as it was, and the
next run removes the staging folder; killed while renaming, the next run finishes
the renaming. Either way a re-run ends as one uninterrupted run would have.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import multiprocessing
import os
import re
import shutil
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from e2docs.app.campaign import now, writes
from e2docs.formats import atomic, processes
from e2docs.formats.atomic import atomic_write, remove_stale_temporaries
from e2docs.formats.gridfile import load_grid
from e2docs.formats.naming import candidate_stem, safe_part
from e2docs.formats.roster import Roster, read_roster
from e2docs.formats.spill import Spilled
from e2docs.formats.xlsx import integrity
from e2docs.formats.xlsx.template import Stamper
from e2docs.formats.xlsx.writer import DEFAULT_PASSWORD, Options, Written, stamped, write_class_workbook
from e2docs.model.academies import academie_of
from e2docs.model.candidate import Candidate, Context
from e2docs.model.errors import E2docsError, os_error_fr
from e2docs.model.examiner import Examiner
from e2docs.model.grid import Grid
from e2docs.model.sequences import Mapped

if TYPE_CHECKING:
    from e2docs.app.campaign import Campaign

STAGING = ".generation-{pid}"
_STAGING_NAME = re.compile(r"^\.generation-(\d+)$")
STAMP = ".generated_at"  # in the staging folder: the run's generated_at (ISO date-time)
COMPLETE = ".complete"  # in the staging folder: every workbook written (and recorded), to be renamed


@dataclass
class GenerationReport:
    """What a generation did: the roster read (with its ignored rows), the output folder, the workbooks written."""

    roster: Roster
    outdir: Path
    written: Sequence[Written] = field(default_factory=list)


def context_for(roster: Roster, session: str | None, school: str | None, academie: str | None) -> Context:
    """Session, school and académie: what the user said, else what the roster tells."""
    return Context(
        session=session or roster.session or "",
        school=school or roster.school or "",
        academie=academie if academie is not None else academie_of(roster.uai),
    )


def workbook_name(cand: Candidate, grid: Grid) -> str:
    """The file name of a candidate's workbook (``NOM_Prénom_31214_<numéro>.xlsx``)."""
    return candidate_stem(cand, grid.specialty) + ".xlsx"


def class_workbook_name(cands: Sequence[Candidate], grid: Grid, ctx: Context) -> str:
    """The file name of a class workbook (``Classe_<divisions>_<spécialité>_<session>.xlsx``)."""
    divisions = sorted({c.division for c in cands if c.division})
    label = safe_part("-".join(divisions) or "classe")
    return f"Classe_{label}_{grid.specialty}_{safe_part(ctx.session or 'session')}.xlsx"


def examiner_workbook_name(examiner: Examiner, grid: Grid, ctx: Context) -> str:
    """The file name of an examiner's workbook (``Examinateur_<nom>_<spécialité>_<session>.xlsx``)."""
    label = safe_part(examiner.name) or safe_part(examiner.email.split("@")[0]) or "examinateur"
    return f"Examinateur_{label}_{grid.specialty}_{safe_part(ctx.session or 'session')}.xlsx"


def examiner_workbook_groups(
    groups: Sequence[tuple[Examiner, Sequence[Candidate]]], grid: Grid, ctx: Context
) -> list[tuple[str, Sequence[Candidate]]]:
    """(file name, candidates) of each examiner's workbook; two examiners whose names give the same
    file name get « -2 », « -3 »… (examiners without candidates are left out)."""
    out: list[tuple[str, Sequence[Candidate]]] = []
    seen: set[str] = set()
    for examiner, members in groups:
        if not members:
            continue
        name, n = examiner_workbook_name(examiner, grid, ctx), 2
        stem = name.removesuffix(".xlsx")
        while name.casefold() in seen:
            name, n = f"{stem}-{n}.xlsx", n + 1
        seen.add(name.casefold())
        out.append((name, members))
    return out


def generate_workbooks(
    cands: Sequence[Candidate],
    grid: Grid,
    ctx: Context,
    outdir: Path,
    *,
    options: Options,
    per: str = "candidate",
    force: bool = False,
    record: Callable[[Sequence[Written]], None] | None = None,
    groups: Sequence[tuple[str, Sequence[Candidate]]] = (),
) -> Sequence[Written]:
    """Write the workbooks into ``outdir`` (``per``: ``"candidate"``, ``"class"`` or ``"examiner"``:
    one class workbook per group of ``groups``, (file name, its candidates)).

    All are written into a staging folder first, then ``record`` (when given) is called
    with them — paths as they will be —, then they are renamed into ``outdir``: see the
    module docstring. Raises :class:`E2docsError`, before writing anything, when a
    workbook already exists and ``force`` is false, or when ``outdir`` cannot be created;
    ``OSError`` when a workbook cannot be written (nothing is then renamed).

    Returns the workbooks written; one per candidate, a sequence made when read: its paths from the
    candidates, its metadata from a temporary file (memory does not grow with the class).
    """
    outdir = Path(outdir)
    targets: Sequence[Path]
    if per == "class":
        targets = [outdir / class_workbook_name(cands, grid, ctx)]
    elif per == "examiner":
        targets = [outdir / name for name, _ in groups]
    else:
        targets = candidate_workbooks(outdir, cands, grid)
    existing = (t for t in targets if t.exists()) if not force else iter(())
    first = list(itertools.islice(existing, 3))  # a whole académie's names are not held
    if first:
        count = len(first) + sum(1 for _ in existing)
        names = ", ".join(t.name for t in first) + (" …" if count > 3 else "")
        raise E2docsError(
            f"{count} classeur(s) existe(nt) déjà ({names}) : rien n'a été écrit.",
            outdir,
            hint="Choisissez un autre dossier, ou ajoutez --force pour les remplacer "
            "(les classeurs déjà remplis seraient perdus).",
        )
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise E2docsError(f"impossible de créer le dossier ({os_error_fr(exc)}).", outdir) from None
    staging = outdir / STAGING.format(pid=os.getpid())
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    complete = False
    written: Sequence[Written] = []
    metas: Spilled[dict[str, Any]] | None = None
    try:
        (staging / STAMP).write_text(options.generated_at, encoding="utf-8")
        if per == "class":
            done = write_class_workbook(staging / targets[0].name, grid, cands, ctx, options)
            written = [Written(targets[0], done.metas)]
        elif per == "examiner":
            written = []
            for (_, members), target in zip(groups, targets, strict=True):
                done = write_class_workbook(staging / target.name, grid, members, ctx, options)
                written.append(Written(target, done.metas))
        else:
            metas = write_candidates(grid, ctx, options, cands, candidate_workbooks(staging, cands, grid))
            paths = candidate_workbooks(outdir, cands, grid)
            written = Mapped(range(len(cands)), lambda i: Written(paths[i], (metas[i],)))
        if record is not None:
            record(written)
        complete = True
        (staging / COMPLETE).touch()
        _move_into(staging, outdir)
    finally:
        if not complete:
            shutil.rmtree(staging, ignore_errors=True)
            if metas is not None:
                metas.close()
    return written


def _workbook_path(folder: Path, grid: Grid, cand: Candidate) -> Path:
    return folder / workbook_name(cand, grid)


def candidate_workbooks(folder: Path, cands: Sequence[Candidate], grid: Grid) -> Mapped[Candidate, Path]:
    """The path of each candidate's workbook in ``folder`` (:func:`workbook_name`), made when read: a
    whole académie's campaign holds its candidates, not 5,000 paths more. Picklable; a slice is one too."""
    return Mapped(cands, functools.partial(_workbook_path, folder, grid))


PARALLEL_FROM = 1000
"""Candidates from which :func:`write_candidates` splits the work over processes. A spawned process
takes about 1.2 s to start (imports, its template) where one process writes a workbook in about
2.5 ms: splitting pays from about 2 × 1.2 s / 2.5 ms ≈ 1,000 workbooks on idle cores
(``benchmarks/bench_generate.py`` measures both ways)."""
MAX_PROCESSES = 4
WRITER_THREADS = 4
"""Threads writing the workbooks (each flushed to disk, ``fsync``) while the next are made: waiting
for the disk is most of a workbook's cost (measured: 9.6 ms a workbook in turn, 2.3 ms with 4 threads)."""


def processes_for(count: int) -> int:
    """How many processes write ``count`` workbooks (:func:`e2docs.formats.processes.share_count`
    from :data:`PARALLEL_FROM`, at most :data:`MAX_PROCESSES`)."""
    return processes.share_count(count, PARALLEL_FROM, MAX_PROCESSES)


def write_candidates(
    grid: Grid, ctx: Context, options: Options, cands: Sequence[Candidate], paths: Sequence[Path]
) -> Spilled[dict[str, Any]]:
    """Write each candidate's workbook to its path (atomically) and return their signed metadata, in
    the candidates' order, kept in a temporary file and read when used (:class:`~e2docs.formats.spill.Spilled`;
    close it when done, or let it be collected). Large batches (:func:`processes_for`) are split in
    contiguous shares: this process writes the first, spawned processes the others (spawn: the same on
    Linux, macOS and Windows), each writing its metadata to a temporary file beside its workbooks.
    ``options.generated_at`` is set first when empty, so every workbook shares it. Raises ``OSError``
    when a workbook cannot be written (the others may have been)."""
    options = stamped(options)
    metas: Spilled[dict[str, Any]] = Spilled(encode=_json_line, decode=json.loads)
    futures: list[Future[str]] = []
    try:
        n = processes_for(len(cands))
        if n == 1:
            _write_share(grid, ctx, options, cands, paths, metas.append)
            return metas
        size = -(-len(cands) // n)
        starts = range(0, len(cands), size)
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(len(starts) - 1, spawn, processes.stop_with_parent) as pool:
            futures = [
                pool.submit(_write_spawned, grid, ctx, options, cands[i : i + size], paths[i : i + size], os.getpid())
                for i in starts[1:]
            ]
            try:
                _write_share(grid, ctx, options, cands[:size], paths[:size], metas.append)
                for future in futures:
                    kept = Path(future.result())
                    try:
                        with open(kept, "rb") as fh:
                            for line in fh:
                                metas.append_encoded(line)
                    finally:
                        kept.unlink(missing_ok=True)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
    except BaseException:
        for future in futures:  # the pool has waited for the shares started: their metadata files go
            if future.done() and not future.cancelled() and future.exception() is None:
                Path(future.result()).unlink(missing_ok=True)
        metas.close()
        raise
    return metas


def _json_line(meta: dict[str, Any]) -> bytes:
    """A workbook's metadata as one line of JSON (how spawned processes hand it back)."""
    return json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _write_spawned(
    grid: Grid, ctx: Context, options: Options, cands: Sequence[Candidate], paths: Sequence[Path], parent: int
) -> str:
    """:func:`_write_share` in a spawned process (it stops when ``parent`` is gone, so a killed run does
    not keep writing); the metadata is written, one JSON line each, to a temporary file beside the
    first workbook (:func:`~e2docs.formats.atomic.scratch_file`), whose path is returned: the parent
    reads it and removes it."""
    fd, path = atomic.scratch_file(paths[0].parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            _write_share(grid, ctx, options, cands, paths, lambda meta: fh.write(_json_line(meta)), parent)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return str(path)


def _write_share(
    grid: Grid,
    ctx: Context,
    options: Options,
    cands: Sequence[Candidate],
    paths: Sequence[Path],
    keep: Callable[[dict[str, Any]], object],
    parent: int = 0,
) -> None:
    """Write some of the workbooks, giving each one's metadata to ``keep`` in order (in a spawned process
    when ``parent`` is given: it stops when that process is gone)."""
    stamper = Stamper(grid, ctx, options)
    pending: deque[Future[Path]] = deque()
    with ThreadPoolExecutor(WRITER_THREADS) as writers:
        try:
            for cand, path in zip(cands, paths, strict=True):
                if parent and os.name == "posix" and os.getppid() != parent:
                    raise SystemExit(1)
                data, meta = stamper.render(cand)
                pending.append(writers.submit(atomic_write, path, data))
                keep(meta)
                while len(pending) > 4 * WRITER_THREADS:
                    pending.popleft().result()
            while pending:
                pending.popleft().result()
        except BaseException:
            for future in pending:
                future.cancel()
            raise


def _move_into(staging: Path, outdir: Path) -> None:
    """Rename the workbooks of ``staging`` into ``outdir`` (replacing), then remove ``staging``."""
    for path in sorted(staging.glob("*.xlsx")):
        atomic.replace(path, outdir / path.name)
    shutil.rmtree(staging, ignore_errors=True)


def recover_generations(outdir: Path, recorded: Callable[[str], bool] | None = None) -> list[Path]:
    """Finish or undo what killed generations left in ``outdir``: a staging folder of a process that no
    longer runs is renamed into place when its run was complete (marked so, or ``recorded(generated_at)``
    says the ledger has it), removed otherwise. Returns the staging folders handled."""
    handled = []
    with contextlib.suppress(OSError):
        for path in list(Path(outdir).iterdir()):
            match = _STAGING_NAME.match(path.name)
            if not match or not path.is_dir() or path.is_symlink():
                continue
            pid = int(match.group(1))
            if pid == os.getpid() or processes.alive(pid):
                continue
            stamp = ""
            with contextlib.suppress(OSError, UnicodeDecodeError):
                stamp = (path / STAMP).read_text(encoding="utf-8").strip()
            if (path / COMPLETE).exists() or (stamp and recorded is not None and recorded(stamp)):
                _move_into(path, Path(outdir))
            else:
                shutil.rmtree(path, ignore_errors=True)
            handled.append(path)
    return handled


def generate_from_roster(
    roster_path: Path,
    outdir: Path,
    *,
    grid_path: Path | None = None,
    session: str | None = None,
    school: str | None = None,
    academie: str | None = None,
    per: str = "candidate",
    password: str | None = None,
    force: bool = False,
    secret: bytes | None = None,
    campaign_id: str = "",
    encoding: str | None = None,
) -> GenerationReport:
    """Read the roster and grid, then write the workbooks, outside any campaign.

    ``session``, ``school``, ``academie``: ``None`` to take them from the roster. ``secret``:
    the signing key, ``None`` for the public one; ``password``: ``None`` for the default;
    ``encoding``: the roster's text encoding, ``None`` to recognise it (see
    :func:`~e2docs.formats.roster.read_roster`).
    Raises :class:`E2docsError` (unreadable roster or grid, existing workbooks…) before any
    file is written.
    """
    grid = load_grid(grid_path)
    roster = read_roster(roster_path, specialty=grid.specialty, encoding=encoding)
    ctx = context_for(roster, session, school, academie)
    options = Options(
        password=password or DEFAULT_PASSWORD, secret=secret or integrity.PUBLIC_SECRET, campaign_id=campaign_id
    )
    report = GenerationReport(roster, Path(outdir))
    recover_generations(Path(outdir))
    remove_stale_temporaries(outdir)
    report.written = generate_workbooks(
        roster.candidates, grid, ctx, Path(outdir), options=options, per=per, force=force
    )
    return report


@writes("generate")
def generate_in_campaign(campaign: Campaign, *, per: str = "candidate", force: bool = False) -> GenerationReport:
    """Write the campaign's workbooks into ``envoi/``, signed with its secret, and record them in its
    ledger, holding the campaign (:func:`~e2docs.app.campaign.writing`). What a killed generation
    left is finished or undone first (:func:`recover_generations`). ``per``: ``"candidate"``,
    ``"class"`` or ``"examiner"`` (one workbook per examiner of ``e2docs assign``). Raises
    :class:`E2docsError` as :func:`generate_workbooks` does, and for ``per="examiner"`` without an
    assignment."""
    grid = campaign.grid()
    outdir = campaign.root / "envoi"
    with campaign.ledger() as ledger:

        def recorded(stamp: str) -> bool:
            return (
                ledger.db.execute("SELECT 1 FROM generated WHERE generated_at=? LIMIT 1", (stamp,)).fetchone()
                is not None
            )

        recover_generations(outdir, recorded)
        cands = ledger.candidates()
        options = Options(
            password=campaign.password, secret=campaign.secret, campaign_id=campaign.id, generated_at=now()
        )

        def record(written: Sequence[Written]) -> None:
            ledger.record_generated(
                (m["candidate_number"], w.path.name, m["signature"], m["generated_at"])
                for w in written
                for m in w.metas
            )

        groups: list[tuple[str, Sequence[Candidate]]] = []
        if per == "examiner":
            from e2docs.app.examiners import examiner_groups

            assigned = examiner_groups(ledger)
            if not assigned:
                raise E2docsError(
                    "aucun examinateur dans cette campagne : rien n'a été écrit.",
                    campaign.root,
                    hint="Importez d'abord la liste des examinateurs : e2docs assign examinateurs.csv",
                )
            groups = examiner_workbook_groups(assigned, grid, campaign.context)
        written = generate_workbooks(
            cands, grid, campaign.context, outdir, options=options, per=per, force=force, record=record, groups=groups
        )
    roster = Roster(campaign.root / campaign.settings.get("liste", ""), "campagne", tuple(cands))
    report = GenerationReport(roster, outdir)
    report.written = written
    return report
