"""Processes of the harness: the soffice the driver drives, the driver the tests run, ports, leftovers.

Shared by both sides (imported as a plain module, no relative imports): standard
library, plus :mod:`e2docs.formats.libreoffice`, which finds soffice, builds its
command line and stops its whole process tree -- the driver puts the project's
root on ``sys.path`` to import it under Debian's ``/usr/bin/python3``.

Driver side: :class:`Soffice` starts ``soffice --accept=...`` on a free TCP port
of 127.0.0.1 with the run's profile, and always stops it with all its children.

Test side: :func:`run_driver` starts ``/usr/bin/python3 driver.py`` and, as a
safety net, kills any process still using the run's profile afterwards
(:func:`pids_using`, Linux ``/proc``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from e2docs.formats import libreoffice

SYSTEM_PYTHON = "/usr/bin/python3"  # the interpreter that has Debian's python3-uno
DRIVER = Path(__file__).with_name("driver.py")
TERMINATE_GRACE = 5.0  # seconds soffice gets to exit by itself after desktop.terminate()


def free_port() -> int:
    """A TCP port of 127.0.0.1 free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def accept_argument(port: int) -> str:
    """soffice's option to listen for UNO connections on ``port``."""
    return f"--accept=socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext"


def uno_url(port: int) -> str:
    """The UNO URL that connects to a soffice started with :func:`accept_argument`."""
    return f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext"


class Soffice:
    """One headless soffice listening on ``port``, with the profile folder ``profile`` (driver side)."""

    def __init__(self, port: int, profile: str | os.PathLike[str]) -> None:
        self.port = port
        self.profile = Path(profile).resolve()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start soffice in a process group of its own (its output is discarded)."""
        exe = libreoffice.find_soffice()
        if exe is None:
            raise RuntimeError("LibreOffice (soffice) not found; set E2DOCS_SOFFICE")
        argv = libreoffice.command(exe, self.profile, accept_argument(self.port))
        self.proc = libreoffice.start(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def exit_code(self) -> int | None:
        """soffice's exit code, or None while it runs."""
        return self.proc.poll() if self.proc is not None else None

    def stop(self) -> None:
        """Give soffice :data:`TERMINATE_GRACE` seconds to exit, then stop its whole tree."""
        if self.proc is not None:
            libreoffice.stop(self.proc, grace=TERMINATE_GRACE)

    def kill_now(self) -> None:
        """Kill soffice and its children at once (watchdog, SIGTERM)."""
        if self.proc is not None:
            libreoffice.kill(self.proc)


def pids_using(profile: str | os.PathLike[str]) -> list[int]:
    """PIDs whose command line mentions the profile folder (as a path or file URL); Linux only."""
    markers = [str(profile), libreoffice.profile_uri(profile)]
    pids = []
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(m in cmdline for m in markers):
            pids.append(int(entry))
    return pids


def kill_pids(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


@dataclass
class DriverRun:
    """What a driver run left: its output (None on timeout) and the processes still using the profile, killed."""

    stdout: str | None
    stderr: str
    returncode: int | None
    leftovers: list[int] = field(default_factory=list)


def run_driver(options: list[str], stdin: str, profile: Path, timeout: float) -> DriverRun:
    """Run ``/usr/bin/python3 driver.py <options>`` with ``stdin``, at most ``timeout`` seconds (test side).

    Whatever happens, no process using ``profile`` survives the call: the
    driver stops its soffice itself; any leftover is recorded and killed.
    """
    cmd = [SYSTEM_PYTHON, str(DRIVER), *options]
    try:
        proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout, start_new_session=True)
        run = DriverRun(proc.stdout, proc.stderr, proc.returncode)
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr or ""
        run = DriverRun(None, stderr, None)
    leftovers = pids_using(profile)
    if leftovers:
        time.sleep(0.5)  # a process may still be exiting
        leftovers = pids_using(profile)
        kill_pids(leftovers)
    run.leftovers = leftovers
    return run
