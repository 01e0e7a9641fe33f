"""generate over several processes: the same workbooks, in the same order, safe to kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from e2docs.app import generate
from e2docs.app.generate import generate_from_roster, processes_for, write_candidates
from e2docs.formats import processes
from e2docs.formats.xlsx.writer import Options
from e2docs.model.candidate import Candidate
from tests.helpers import CTX, GRID, PROJECT

OPTIONS = Options(generated_at="2027-01-15T09:30:00+00:00")


def roster(path: Path, n: int) -> Path:
    lines = ["Numéro de candidat;Nom;Prénom;Division"]
    lines += [f"{2700000000 + i};NOM-{i};Prénom {i};TMCV{1 + i % 3}" for i in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_processes_only_for_large_batches_and_idle_cores(monkeypatch):
    monkeypatch.setattr(processes, "cores", lambda: 2)
    monkeypatch.setattr(processes, "load", lambda: 0.3)
    assert processes_for(1) == processes_for(generate.PARALLEL_FROM - 1) == 1
    assert processes_for(generate.PARALLEL_FROM) == 2
    monkeypatch.setattr(processes, "load", lambda: 1.5)  # the other core is busy
    assert processes_for(10 * generate.PARALLEL_FROM) == 1
    monkeypatch.setattr(processes, "cores", lambda: 1)
    monkeypatch.setattr(processes, "load", lambda: 0.0)
    assert processes_for(10 * generate.PARALLEL_FROM) == 1


def test_shares_written_by_spawned_processes_are_the_workbooks_of_one_process(tmp_path, monkeypatch):
    cands = [Candidate(str(2700000000 + i), f"NOM-{i}", "Zoé", "TMCV1") for i in range(9)]
    one = [tmp_path / "un" / f"{c.number}.xlsx" for c in cands]
    alone = write_candidates(GRID, CTX, OPTIONS, cands, one)
    monkeypatch.setattr(generate, "PARALLEL_FROM", 4)
    monkeypatch.setattr(processes, "cores", lambda: 3)
    monkeypatch.setattr(processes, "load", lambda: 0.0)
    assert processes_for(len(cands)) == 3  # this process and two spawned ones
    two = [tmp_path / "deux" / f"{c.number}.xlsx" for c in cands]
    split = write_candidates(GRID, CTX, OPTIONS, cands, two)
    assert split == alone  # metadata in the candidates' order
    assert [p.read_bytes() for p in two] == [p.read_bytes() for p in one]


SCRIPT = """
import sys
from pathlib import Path
from e2docs.app import generate
from e2docs.formats import processes
generate.PARALLEL_FROM = 10
processes.cores = lambda: 2
processes.load = lambda: 0.0
assert generate.processes_for(400) == 2  # the run below is split, as the test means
generate.generate_from_roster(Path(sys.argv[1]), Path(sys.argv[2]))
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_a_run_killed_while_processes_write_leaves_nothing_and_reruns_whole(tmp_path):
    n = 400
    liste = roster(tmp_path / "liste.csv", n)
    out = tmp_path / "envoi"
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(liste), str(out)], env=env)
    deadline = time.monotonic() + 120
    staged: list[Path] = []
    while time.monotonic() < deadline and proc.poll() is None:
        staged = list(out.glob(".generation-*/*.xlsx"))
        if len(staged) > 20:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert list(out.glob("*.xlsx")) == []  # nothing renamed into place
    time.sleep(2)  # the orphaned writer notices its parent is gone
    report = generate_from_roster(liste, out)
    assert len(report.written) == n
    time.sleep(2)
    assert [p.name for p in out.iterdir()] != [] and not list(out.glob(".*"))  # no staging, no temporaries
    assert len(list(out.glob("*.xlsx"))) == n


def test_workbooks_written_over_processes_are_listed_as_before_and_leave_no_metadata_file(tmp_path, monkeypatch):
    """The spawned processes hand their metadata back through files beside the workbooks, read back and
    removed; the report lists every workbook, in the roster's order, with its metadata."""
    monkeypatch.setattr(generate, "PARALLEL_FROM", 4)
    monkeypatch.setattr(processes, "cores", lambda: 3)
    monkeypatch.setattr(processes, "load", lambda: 0.0)
    liste = roster(tmp_path / "liste.csv", 10)
    out = tmp_path / "envoi"
    report = generate_from_roster(liste, out)
    numbers = [str(2700000000 + i) for i in range(10)]
    assert [w.metas[0]["candidate_number"] for w in report.written] == numbers
    assert [w.path.name for w in report.written] == [
        f"NOM-{i}_Prénom-{i}_31214_{n}.xlsx" for i, n in enumerate(numbers)
    ]
    assert sorted(p.name for p in out.iterdir()) == sorted(w.path.name for w in report.written)  # nothing else
    assert report.written[-2:] == list(report.written)[8:] and len(report.written) == 10
    signatures = {w.metas[0]["signature"] for w in report.written}
    assert len(signatures) == 10 and all(isinstance(s, str) and s for s in signatures)


def test_a_failed_share_leaves_no_metadata_file_of_the_shares_that_ended(tmp_path, monkeypatch):
    """This process fails on its own share while the spawned ones write theirs: once they are done,
    the files they handed their metadata back in are removed, not left beside their workbooks."""
    monkeypatch.setattr(generate, "PARALLEL_FROM", 4)
    monkeypatch.setattr(processes, "cores", lambda: 3)
    monkeypatch.setattr(processes, "load", lambda: 0.0)
    cands = [Candidate(str(2700000000 + i), f"NOM-{i}", "Zoé", "TMCV1") for i in range(9)]
    out = tmp_path / "envoi"
    out.mkdir()

    def fails_once_the_others_write(*args, **kwargs) -> None:  # this process only: spawned ones import anew
        deadline = time.monotonic() + 60
        while not list(out.glob("*.tmp")) and time.monotonic() < deadline:
            time.sleep(0.01)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(generate, "_write_share", fails_once_the_others_write)
    with pytest.raises(OSError):
        write_candidates(GRID, CTX, OPTIONS, cands, [out / f"{c.number}.xlsx" for c in cands])
    assert sorted(p.name for p in out.iterdir()) == [f"{c.number}.xlsx" for c in cands[3:]]  # no .tmp left
