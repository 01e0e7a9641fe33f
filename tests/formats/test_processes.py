"""Whether another process still runs: leftovers are removed only once their writer is gone."""

from __future__ import annotations

import os
import subprocess
import sys

from e2docs.formats import processes


def test_a_running_process_is_alive_and_a_finished_one_is_not():
    assert processes.alive(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not processes.alive(child.pid)


# A parent that starts a pool process (spawn, as generate and report do), prints its pid, then is
# killed without any clean-up (SIGKILL on POSIX, TerminateProcess on Windows).
KILLED_PARENT = """
import os, signal, sys
from concurrent.futures import ProcessPoolExecutor
import multiprocessing
from e2docs.formats import processes
if __name__ == "__main__":
    pool = ProcessPoolExecutor(1, multiprocessing.get_context("spawn"), processes.stop_with_parent)
    print(pool.submit(os.getpid).result(), flush=True)
    os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
"""


def test_a_pool_process_ends_when_its_parent_is_killed(tmp_path):
    import time

    script = tmp_path / "parent.py"
    script.write_text(KILLED_PARENT, encoding="utf-8")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    worker = int(out.stdout.split()[0])
    deadline = time.monotonic() + 20
    while processes.alive(worker) and time.monotonic() < deadline:  # without the watch: waits for ever
        time.sleep(0.1)
    assert not processes.alive(worker)


def test_stop_with_parent_does_nothing_in_a_process_not_started_by_multiprocessing():
    import threading

    before = threading.active_count()
    processes.stop_with_parent()
    assert threading.active_count() == before


def test_a_core_counts_as_idle_when_at_most_forty_percent_of_it_is_taken(monkeypatch):
    monkeypatch.setattr(processes, "cores", lambda: 2)
    for load, count in [(0.0, 2), (1.03, 2), (1.39, 2), (1.41, 1), (2.4, 1)]:
        monkeypatch.setattr(processes, "load", lambda load=load: load)
        assert processes.share_count(1000, 100) == count, load
    assert processes.share_count(99, 100) == 1  # below the threshold, whatever the cores
    monkeypatch.setattr(processes, "cores", lambda: 8)
    monkeypatch.setattr(processes, "load", lambda: 0.0)
    assert processes.share_count(1000, 100) == 4  # at most ``most``
    assert processes.share_count(150, 100) == 3  # at most one per 50 items


def test_the_cores_busy_now_are_measured_between_none_and_all():
    busy = processes.load()
    assert 0.0 <= busy <= (os.cpu_count() or 1)
