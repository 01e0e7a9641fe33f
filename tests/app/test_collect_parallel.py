"""``collect`` sharing the reading of returns with spawned processes: the same report and ledger as one
process, safe to kill, and a reading process that dies stops the run cleanly.

Real parts: real spawned processes reading real files, a real SQLite ledger, a real ``python -m e2docs``
killed with SIGKILL. The parallel path is forced with a low threshold (the module's constants patched
in this process, or in the ``python -c`` that runs the command).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest

from e2docs.app import collect as collect_module
from e2docs.app.campaign import Campaign, open_campaign
from e2docs.app.collect import CollectReport, collect
from e2docs.app.generate import generate_in_campaign
from e2docs.formats import processes
from e2docs.formats.xlsx.reader import read_workbook
from e2docs.model.errors import E2docsError
from tests.app.test_collect import COMPLETE, INCOMPLETE, Setup, _remove_protection, new_campaign, number, sha
from tests.helpers import PROJECT

POSIX = pytest.mark.skipif(os.name == "nt", reason="SIGKILL: POSIX")


def force_parallel(monkeypatch: pytest.MonkeyPatch, *, steal: bool = True, window: int = 2, processes: int = 3) -> None:
    """Share the reading after the first 2 entries, between ``processes`` (this one included) whatever the
    machine's load; ``steal``: whether this process may read files no spawned process has started."""
    monkeypatch.setattr(collect_module, "PARALLEL_FROM", 2)
    monkeypatch.setattr(collect_module, "processes_for", lambda n: processes if n >= 2 else 1)
    monkeypatch.setattr(collect_module, "WINDOW", window)
    monkeypatch.setattr(collect_module, "GROUP_FILES", 3)
    if not steal:
        monkeypatch.setattr(collect_module._Shared, "steal", lambda self, window: False)


def mixed_folder(tmp_path: Path) -> tuple[Campaign, Path]:
    """A campaign of 8 and a folder of every kind of entry: complete, incomplete, blank, modified,
    invalid, the same file twice (side by side, and far apart from one recorded before the shared
    reading began), two returns of one candidate, a file that is no workbook, a text file, and a
    class workbook."""
    campaign = new_campaign(tmp_path, 8)
    generate_in_campaign(campaign, per="class")  # beside the candidates' workbooks
    s = Setup(campaign, tmp_path / "arrivees")
    folder = s.inbox / "lot"
    first = s.make(number(0), "01-complet.xlsx", folder=folder)
    s.make(number(1), "02-incomplet.xlsx", INCOMPLETE, folder=folder)
    shutil.copy(s.sent(number(2)), folder / "03-vierge.xlsx")
    s.make(number(3), "04-modifie.xlsx", COMPLETE, _remove_protection, folder=folder)
    s.make(number(4), "05-invalide.xlsx", COMPLETE | {"note_commission": 21}, folder=folder)
    shutil.copy(first, folder / "06-copie-du-01.xlsx")
    twin = s.make(number(5), "07-complet.xlsx", folder=folder)
    shutil.copy(twin, folder / "07b-copie-du-07.xlsx")  # in flight together with it
    s.make(number(5), "08-autre-retour-du-07.xlsx", INCOMPLETE, folder=folder)
    (folder / "09-pas-un-classeur.xlsx").write_bytes(b"ceci n'est pas un classeur")
    (folder / "10-notes.txt").write_text("à lire", encoding="utf-8")
    (book,) = (campaign.root / "envoi").glob("Classe_*.xlsx")
    grid = campaign.grid()
    wb = openpyxl.load_workbook(book)
    for reading in read_workbook(book, {grid.content_hash: grid}, secret=campaign.secret):
        cell = reading.layout.named["observations"]
        wb[cell.sheet][cell.ref] = "Vu en classe."
    wb.save(folder / "11-classe.xlsx")
    for i in range(6, 8):
        s.make(number(i), f"{12 + i}-complet.xlsx", folder=folder)
    shutil.copy(first, folder / "99-encore-le-01.xlsx")
    return campaign, folder


def outcomes(report: CollectReport) -> list[tuple]:
    return [(o.origin, o.state, o.candidate, o.reasons, o.warnings, o.reply) for o in report.outcomes]


def ledger_rows(root: Path) -> tuple[list[tuple], list[tuple]]:
    """The returns and files recorded, without the times of the run."""
    con = sqlite3.connect(f"file:{root / 'registre.sqlite'}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        returns = [
            tuple(v for k, v in zip(r.keys(), r, strict=True) if k not in ("imported_at",))
            for r in con.execute("SELECT * FROM returns ORDER BY id")
        ]
        files = [
            tuple(v for k, v in zip(r.keys(), r, strict=True) if k != "imported_at")
            for r in con.execute("SELECT * FROM files ORDER BY sha256")
        ]
    finally:
        con.close()
    return returns, files


def copies(campaign: Campaign, tmp_path: Path, *names: str) -> list[Campaign]:
    out = []
    for name in names:
        shutil.copytree(campaign.root, tmp_path / name)
        out.append(open_campaign(tmp_path / name))
    return out


@pytest.mark.parametrize(
    "steal, processes",
    [(False, 3), (True, 3), (True, 1)],
    ids=["read-by-spawned-processes", "shared-with-this-one", "no-core-to-spare-records-grouped"],
)
def test_the_parallel_path_gives_the_serial_report_and_ledger_on_a_mixed_folder(
    tmp_path, monkeypatch, steal, processes
):
    campaign, folder = mixed_folder(tmp_path / "base")
    serial, parallel = copies(campaign, tmp_path, "serie", "parallele")
    expected = collect(serial, [folder])  # in one process: fewer entries than PARALLEL_FROM
    assert len(expected.outcomes) < collect_module.PARALLEL_FROM
    force_parallel(monkeypatch, steal=steal, processes=processes)

    got = collect(parallel, [folder])

    assert outcomes(got) == outcomes(expected)
    assert ledger_rows(parallel.root) == ledger_rows(serial.root)
    states = [o.state for o in got.outcomes]
    assert states.count("complete") >= 4 and "blank" in states and "refused" in states
    assert "already" in states and "rejected" in states and "incomplete" in states
    assert sum(1 for o in got.outcomes if o.origin.endswith("11-classe.xlsx")) == 8  # every candidate of it
    assert sorted(p.name for p in (parallel.root / "retours").iterdir()) == sorted(
        p.name for p in (serial.root / "retours").iterdir()
    )
    assert not multiprocessing.active_children()  # the spawned processes ended with the run


def test_a_reading_process_that_dies_stops_the_run_in_french_with_nothing_half_recorded(tmp_path, monkeypatch):
    count = 24
    s = Setup(new_campaign(tmp_path, count), tmp_path / "arrivees")
    folder = s.inbox / "lot"
    for i in range(count):
        s.make(number(i), f"retour-{i:02d}.xlsx", folder=folder)
    force_parallel(monkeypatch, steal=False)
    killed: list[int] = []

    def progress(entries):
        for k, entry in enumerate(entries):
            if k == 8:
                deadline = time.monotonic() + 60
                while not multiprocessing.active_children() and time.monotonic() < deadline:
                    time.sleep(0.05)
                for child in multiprocessing.active_children():
                    os.kill(child.pid, signal.SIGKILL)
                    killed.append(child.pid)
            yield entry

    with pytest.raises(E2docsError) as caught:
        collect(s.campaign, [folder], progress=progress)

    assert killed
    error = caught.value
    assert "un des processus qui lisaient les classeurs s'est arrêté" in error.message
    assert "Relancez la même commande" in (error.hint or "")
    returns, files = ledger_rows(s.root)
    assert error.exit_code == (3 if returns else 2)
    with s.campaign.ledger() as ledger:
        rows = ledger.db.execute("SELECT sha256, candidate, state FROM returns").fetchall()
        recorded = {r["sha256"] for r in ledger.db.execute("SELECT sha256 FROM files")}
    assert {r["sha256"] for r in rows} == recorded and len(rows) == len(recorded) < count
    assert {r["state"] for r in rows} <= {"complete"}

    monkeypatch.undo()
    again = s.collect(folder)
    assert again.exit_code == 0, again.output
    assert f"Bilan : {count - len(rows)} complet(s)" in again.output
    assert sorted(r.candidate for r in s.returns()) == [number(i) for i in range(count)]  # each exactly once


_KILLABLE = """
import sys
from e2docs.app import collect
collect.PARALLEL_FROM = 2
collect.processes_for = lambda n: 3 if n >= 2 else 1
collect.GROUP_FILES = 4
from e2docs.cli import main
sys.argv = ["e2docs", "-C", sys.argv[1], "collect", sys.argv[2]]
main()
"""


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux: /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@POSIX
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="/proc: Linux")
def test_the_parallel_collect_killed_midway_then_run_again_records_every_return_exactly_once(tmp_path):
    count = 60
    s = Setup(new_campaign(tmp_path, count), tmp_path / "arrivees")
    folder = s.inbox / "lot"
    originals = {}
    for i in range(count):
        path = s.make(number(i), f"retour-{i:02d}.xlsx", folder=folder)
        originals[sha(path)] = path.read_bytes()
    db = s.root / "registre.sqlite"

    def recorded() -> int:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute("SELECT COUNT(*) FROM returns").fetchone()[0]
        finally:
            con.close()

    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLABLE, str(s.root), str(folder)],
        cwd=PROJECT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            workers = _children(proc.pid) or workers
            if workers and db.exists() and recorded() >= 8:
                break
            time.sleep(0.01)
        assert proc.poll() is None, "collect ended before it could be interrupted"
        workers = _children(proc.pid)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL and workers

    # the reading processes stop once their run is gone
    deadline = time.monotonic() + 30
    while any(processes.alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(processes.alive(w) for w in workers)

    # consistent after the kill: each recorded file has its whole return, each archived file is intact
    with s.campaign.ledger() as ledger:
        files = {r["sha256"] for r in ledger.db.execute("SELECT sha256 FROM files")}
        returns = ledger.db.execute("SELECT sha256, state FROM returns").fetchall()
    assert 8 <= len(files) < count
    assert {r["sha256"] for r in returns} == files and len(returns) == len(files)
    retours = s.root / "retours"
    archived = {p.name.split(".")[0]: p for p in retours.iterdir() if not p.name.startswith(".")}
    for digest, path in archived.items():
        assert path.suffix == ".xlsx" and sha(path) == digest and digest in originals
    assert files <= set(archived)

    rerun = s.collect(folder)

    assert rerun.exit_code == 0, rerun.output
    assert f"{len(files)} déjà importé(s)" in rerun.output
    assert f"Bilan : {count - len(files)} complet(s)" in rerun.output
    rows = s.returns()
    assert sorted(r.candidate for r in rows) == [number(i) for i in range(count)]  # each exactly once
    assert {r.sha256 for r in rows} == set(originals) and {r.state for r in rows} == {"complete"}
    assert sorted(p.name for p in retours.iterdir()) == sorted(f"{d}.xlsx" for d in originals)


def test_the_files_to_collect_are_counted_by_name_up_to_enough(tmp_path):
    folder = tmp_path / "lot"
    (folder / "sous-dossier").mkdir(parents=True)
    for name in ("a.xlsx", "b.xlsx", "sous-dossier/c.xlsx"):
        (folder / name).write_bytes(b"")
    archive = tmp_path / "retours.zip"
    archive.write_bytes(b"")
    assert collect_module.files_in([folder, archive], enough=100) == 4  # an archive counts as one
    assert collect_module.files_in([folder, archive], enough=2) >= 2  # stops once enough are seen
    assert collect_module.files_in([tmp_path / "absent.xlsx"], enough=100) == 1


def test_archives_are_flushed_to_disk_before_their_records_are_committed(tmp_path, monkeypatch):
    """On the shared path, each archived file is flushed by the flusher's threads, and every one of a
    group is on disk before the group's ledger transaction commits."""
    import threading

    from e2docs.app.ledger import Ledger
    from e2docs.formats import atomic

    campaign, folder = mixed_folder(tmp_path / "base")
    force_parallel(monkeypatch)
    flushed: set[str] = set()
    real_fsync = os.fsync

    def spy(fd):
        if threading.current_thread().name.startswith("e2docs-flush"):
            flushed.add(os.path.basename(os.readlink(f"/proc/self/fd/{fd}")) if sys.platform == "linux" else str(fd))
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    real_wait = atomic.Flusher.wait
    waits: list[int] = []

    def wait(self):
        real_wait(self)
        waits.append(len(flushed))

    monkeypatch.setattr(atomic.Flusher, "wait", wait)
    report = collect(campaign, [folder])
    assert report.exit_code in (0, 1)
    archived = {p.name for p in (campaign.root / "retours").iterdir() if p.suffix == ".xlsx"}
    with Ledger(campaign.root / "registre.sqlite", readonly=True) as ledger:
        recorded = {Path(r.stored_path).name for r in ledger.returns()}
    assert waits  # the flusher was waited for before commits
    if sys.platform == "linux":
        assert recorded <= flushed, recorded - flushed  # every recorded archive flushed by the threads
    assert recorded <= archived
