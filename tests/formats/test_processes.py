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
