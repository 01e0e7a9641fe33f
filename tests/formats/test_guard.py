"""A child process group never outlives e2docs, even killed: the watchdog used where Linux's
PR_SET_PDEATHSIG does not exist (macOS), exercised here on Linux."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from e2docs.formats import processes
from tests.helpers import PROJECT

POSIX = pytest.mark.skipif(os.name != "posix", reason="process groups and SIGKILL: POSIX")

PARENT = """
import subprocess, sys, time
from e2docs.formats import processes
child = subprocess.Popen(["sleep", "300"], start_new_session=True)
processes.guard(child, watchdog=True)
print(child.pid, flush=True)
time.sleep(300)
"""


def _gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


@POSIX
def test_the_watchdog_stops_the_group_when_its_parent_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True, cwd=PROJECT)
    try:
        child = int(parent.stdout.readline())
        assert not _gone(child, 0.5)  # running while its parent runs
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        assert _gone(child, 10), "the guarded child outlived its SIGKILLed parent"
    finally:
        parent.kill()


@POSIX
def test_a_released_guard_leaves_the_watchdog_quiet():
    proc = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        guard = processes.guard(proc, watchdog=True)
        guard.release()
        guard.release()  # idempotent
        time.sleep(1)
        assert not _gone(proc.pid, 0.5), "a released watchdog must not stop the group"
    finally:
        proc.kill()
        proc.wait()
