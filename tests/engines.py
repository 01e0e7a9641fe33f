"""Spreadsheet engines other than LibreOffice in the tests: ONLYOFFICE Document Builder and Gnumeric's ssconvert.

* ONLYOFFICE: the PyPI package ``document-builder`` (``pip install '.[engines]'``),
  ONLYOFFICE's own spreadsheet engine as a library. :class:`OnlyOffice` runs
  tests/onlyoffice_worker.py in a process of its own (the engine is loaded by
  ``import docbuilder`` and crashes at interpreter exit), with a timeout and a
  HOME and temporary folder inside the test's folder.
* Gnumeric: the Debian package ``gnumeric`` (``apt-get install --no-install-recommends
  gnumeric``); :func:`ssconvert` converts a workbook .xlsx → .xlsx with ``--recalc``.

Tests using them carry the ``onlyoffice`` / ``gnumeric`` marker (pyproject.toml;
the ``onlyoffice`` and ``ssconvert`` fixtures of tests/conftest.py add it) and skip
with the reason when the engine is absent -- fail instead on CI (``CI`` set), like
LibreOffice's tests (:func:`tests.lo.availability.skip_or_fail`).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from e2docs.formats.xlsx import names
from e2docs.formats.xlsx.reader import Reading
from e2docs.model import scoring
from e2docs.model.grid import Grid

from .lo.availability import skip_or_fail

ONLYOFFICE = "onlyoffice"
GNUMERIC = "gnumeric"
WORKER = Path(__file__).with_name("onlyoffice_worker.py")
_WINDOWS = sys.platform == "win32"


class EngineError(AssertionError):
    """An engine run that failed: its exit code, or a timeout, and what it printed."""


def _run(cmd: list[str], folder: Path, timeout: float) -> tuple[int, str]:
    """Run ``cmd`` with HOME and the temporary folder inside ``folder``; (exit code, stderr).

    The command runs in a process group of its own: on timeout the whole group is
    killed (SIGKILL; Windows: the process) and :class:`EngineError` raised; after a
    normal exit, any process it left in its group is killed too.
    """
    home, tmp = folder / "home", folder / "tmp"
    home.mkdir(parents=True, exist_ok=True)
    tmp.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, HOME=str(home), USERPROFILE=str(home), TMPDIR=str(tmp), TEMP=str(tmp), TMP=str(tmp))
    group: dict[str, Any] = (
        {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
        if _WINDOWS
        else {"start_new_session": True}
    )
    with tempfile.TemporaryFile(dir=folder) as err:  # a file: a leftover child cannot keep a pipe open
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=err, stderr=subprocess.STDOUT, env=env, **group)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            err.seek(0)
            raise EngineError(
                f"{Path(cmd[1] if cmd[0] == sys.executable else cmd[0]).name} did not finish in {timeout} s:\n"
                + err.read().decode("utf-8", "replace")[-3000:]
            ) from None
        _kill(proc)
        err.seek(0)
        return proc.returncode, err.read().decode("utf-8", "replace")


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if _WINDOWS:
        with contextlib.suppress(OSError):
            proc.kill()
    else:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(10)


class OnlyOffice:
    """ONLYOFFICE Document Builder run by steps (tests/onlyoffice_worker.py describes them).

    Each :meth:`run` is one fresh process, in a new sub-folder of ``folder``.
    ``output`` is what the last run printed (the engine writes its notes there).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.runs = 0
        self.output = ""

    def run(self, steps: list[dict[str, Any]], timeout: float = 180) -> list[dict[str, Any]]:
        """Run ``steps``; their results, one per step. Raises :class:`EngineError` when the
        engine fails, times out, cannot open a file or cannot save one."""
        self.runs += 1
        work = self.folder / f"onlyoffice-{self.runs}"
        work.mkdir(parents=True)
        job, out = work / "job.json", work / "results.json"
        job.write_text(json.dumps({"tmp": str(work / "tmp"), "steps": steps}, ensure_ascii=False), encoding="utf-8")
        rc, self.output = _run([sys.executable, str(WORKER), str(job), str(out)], work, timeout)
        results: list[dict[str, Any]] = json.loads(out.read_text(encoding="utf-8")) if out.exists() else []
        if rc != 0 or len(results) != len(steps):
            raise EngineError(
                f"ONLYOFFICE worker exited with {rc} after {len(results)}/{len(steps)} steps:\n{self.output[-3000:]}"
            )
        for step, result in zip(steps, results, strict=True):
            if step["op"] in ("open", "save") and result["rc"] != 0:
                raise EngineError(f"ONLYOFFICE: {step['op']} {step['path']} failed ({result['rc']}):\n{self.output}")
        return results


@functools.cache
def onlyoffice_unavailable_reason() -> str | None:
    """None when ONLYOFFICE Document Builder can be started, else why not."""
    if importlib.util.find_spec("docbuilder") is None:
        return "ONLYOFFICE Document Builder is not installed (python3 -m pip install '.[engines]')"
    with tempfile.TemporaryDirectory() as tmp:
        engine = OnlyOffice(Path(tmp))
        try:
            engine.run([], timeout=120)
        except EngineError as exc:
            lines = engine.output.strip().splitlines() or str(exc).splitlines()
            return f"ONLYOFFICE Document Builder does not start: {lines[-1]}"
    return None


def gnumeric_unavailable_reason() -> str | None:
    """None when Gnumeric's ssconvert is on PATH, else why not."""
    if shutil.which("ssconvert") is None:
        return "Gnumeric's ssconvert is not installed (apt-get install --no-install-recommends gnumeric)"
    return None


def _require(node: pytest.Item, marker: str, reason: str | None) -> None:
    if node.get_closest_marker(marker) is None:
        pytest.fail(f"this test runs {marker}: mark it @pytest.mark.{marker} (see pyproject.toml)")
    if reason is not None:
        skip_or_fail(reason)


def require_onlyoffice(node: pytest.Item) -> None:
    """Skip the test ``node`` when ONLYOFFICE is absent -- fail instead on CI, or when it lacks its marker."""
    _require(node, ONLYOFFICE, onlyoffice_unavailable_reason())


def require_gnumeric(node: pytest.Item) -> None:
    """Skip the test ``node`` when ssconvert is absent -- fail instead on CI, or when it lacks its marker."""
    _require(node, GNUMERIC, gnumeric_unavailable_reason())


def ssconvert(source: Path, target: Path, folder: Path, timeout: float = 120) -> str:
    """Open ``source`` in Gnumeric, recalculate every cell and save it as ``target`` (Excel 2010 .xlsx).

    Returns what ssconvert printed (its notes on what it did not understand); raises
    :class:`EngineError` when it fails or times out.
    """
    cmd = ["ssconvert", "--recalc", "--export-type=Gnumeric_Excel:xlsx2", str(source), str(target)]
    rc, output = _run(cmd, Path(folder), timeout)
    if rc != 0 or not Path(target).exists():
        raise EngineError(f"ssconvert exited with {rc}:\n{output[-3000:]}")
    return output


# ------------------------------------------------------------ random fillings


@dataclass(frozen=True)
class Filling:
    """What a teacher types in one grid: ``values`` maps every level cell, the commission
    mark and the observations (defined names) to the value typed, ``None`` for a cell left
    empty. ``valid``: e2docs must accept every input (one X at most per criterion, nothing
    but X in level cells, a commission mark from 0 to 20 by half points or none)."""

    values: dict[str, object]
    valid: bool

    def typed(self) -> dict[str, object]:
        """The cells holding something (what openpyxl writes into a fresh workbook)."""
        return {k: v for k, v in self.values.items() if v is not None}

    def expected(self, grid: Grid) -> scoring.Outcome:
        """The scoring rule applied to what was typed."""
        levels = {c.id: [self.values[names.level(c.id, lvl.value)] for lvl in grid.scale] for c in grid.criteria}
        return scoring.evaluate(grid, levels, self.values[names.COMMISSION_MARK], self.values[names.OBSERVATIONS])

    def assert_read_as_the_rule(self, reading: Reading, grid: Grid) -> None:
        """e2docs read, from an engine's file, the levels, marks, completeness and status line the rule gives."""
        expected, out = self.expected(grid), reading.outcome
        got = (out.levels, out.proposed_mark, out.final_mark, out.complete, out.status_text)
        want = (expected.levels, expected.proposed_mark, expected.final_mark, expected.complete, expected.status_text)
        assert got == want, self


COMMISSION_MARKS: list[object] = [None] * 8 + [12.5, 14, 9.5, 0, 20] + [21, 13.25, -1, "quatorze"]
OBSERVATIONS: list[object] = [
    None,
    "   ",
    "Prospection menée avec méthode & rigueur.",
    "Fichier à jour ; relances\nà mieux planifier — « bon » contact.",
]


def random_filling(rng: random.Random, grid: Grid) -> Filling:
    """A filling drawn with ``rng``, of one of three kinds: every criterion ticked once (half
    the fillings), some criteria ticked, or a messy one where a criterion may also get two X
    or a stray text (sometimes beside an X). Ticks are "X", sometimes "x". A commission
    mark among :data:`COMMISSION_MARKS` (none, valid or not), observations among
    :data:`OBSERVATIONS` (mostly written in a fully ticked grid)."""
    kind = rng.choice(["complete", "complete", "partial", "messy"])
    values: dict[str, object] = {}
    valid = True
    for cr in grid.criteria:
        cells: dict[int, object] = {lvl.value: None for lvl in grid.scale}
        choice: object = rng.choice(sorted(cells))
        if kind == "partial" and rng.random() < 0.3:
            choice = None
        elif kind == "messy":
            choice = rng.choice([None, choice, choice, "two", "stray"])
        if choice == "two":
            for lvl in rng.sample(sorted(cells), 2):
                cells[lvl] = "X"
            valid = False
        elif choice == "stray":
            a, b = rng.sample(sorted(cells), 2)
            cells[a] = rng.choice(["V", "ok", "XX"])
            if rng.random() < 0.5:
                cells[b] = "X"
            valid = False
        elif isinstance(choice, int):
            cells[choice] = rng.choice(["X", "X", "x"])
        for lvl, value in cells.items():
            values[names.level(cr.id, lvl)] = value
    values[names.COMMISSION_MARK] = commission = rng.choice(COMMISSION_MARKS)
    valid = valid and (commission is None or scoring.commission_mark_ok(commission, grid))
    written = kind == "complete" and rng.random() < 0.8
    values[names.OBSERVATIONS] = rng.choice(OBSERVATIONS[2:] if written else OBSERVATIONS)
    return Filling(values, valid)


def same_shown(engine: object, e2docs: object) -> bool:
    """Whether an engine's value for an output cell is e2docs' computed one ("" = an empty result)."""
    if e2docs == "":
        return engine in ("", None)
    if isinstance(e2docs, (int, float)) and isinstance(engine, (int, float)):
        return abs(float(e2docs) - float(engine)) < 1e-9
    return engine == e2docs


def cached_mismatches(path: Path, reading: Reading) -> list[str]:
    """Formula cells of ``reading``'s candidate whose result stored in ``path`` (what the engine
    computed and saved, as openpyxl reads it) is not e2docs' computation -- a missing result
    counts, unlike in e2docs' own check (which compares only the results a file holds)."""
    wanted: dict[str, dict[str, str]] = {}
    for c in reading.layout.outputs:
        wanted.setdefault(c.sheet, {})[c.ref] = c.key
    stored: dict[str, object] = {}
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        for sheet, refs in wanted.items():
            for row in wb[sheet].iter_rows():
                for cell in row:
                    key = refs.get(getattr(cell, "coordinate", ""))
                    if key:
                        stored[key] = cell.value
    finally:
        wb.close()
    return [
        f"{c.key} {c.sheet}!{c.ref}: stored {stored.get(c.key)!r} / e2docs {reading.outputs[c.key]!r}"
        for c in reading.layout.outputs
        if not same_shown(stored.get(c.key), reading.outputs[c.key])
    ]
