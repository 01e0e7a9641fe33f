"""Processes: whether another one still runs, children that die with us, SIGTERM as an exit.

Temporary files and LibreOffice profile folders are named after the process
that writes them (``…-<pid>-…``); the leftovers of a process killed before it
could clean up are removed once that process is gone (:func:`alive`).
A child started with :func:`die_with_parent` as ``preexec_fn`` gets SIGTERM
when we die, even by SIGKILL (Linux only); :func:`guard` does the same elsewhere (a watchdog
process on macOS, a job object on Windows). :func:`terminate_as_exit` turns
SIGTERM into :class:`SystemExit`, so that ``finally`` blocks (stopping
LibreOffice, removing temporary files) run. Only the standard library is used:
the LibreOffice test driver imports this under Debian's ``/usr/bin/python3``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType

_WINDOWS = os.name == "nt"


def alive(pid: int) -> bool:
    """Whether process ``pid`` still runs; ``True`` when unsure (someone else's process), so that
    nothing belonging to a running process is ever removed."""
    if _WINDOWS:
        return _alive_windows(pid)
    try:
        os.kill(pid, 0)  # signal 0: a check, nothing sent (POSIX only)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _alive_windows(pid: int) -> bool:
    """Windows: ``os.kill(pid, 0)`` would terminate the process, so ask the kernel."""
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined,unused-ignore]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return bool(kernel32.GetLastError() == 5)  # ERROR_ACCESS_DENIED: exists, someone else's
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


TERMINATED = 128 + 15
"""The exit code after SIGTERM (as a shell reports a process it ended)."""


def _raise_exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(TERMINATED)


@contextlib.contextmanager
def terminate_as_exit() -> Iterator[None]:
    """Within this block, SIGTERM raises ``SystemExit(143)`` in the main thread instead of ending the
    process at once, so that cleanups run. Does nothing outside the main thread, on Windows (where
    nothing sends SIGTERM: a process is ended by ``TerminateProcess``, which nothing can catch), or
    when a handler other than the default one is already installed."""
    if _WINDOWS or threading.current_thread() is not threading.main_thread():
        yield
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _raise_exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` for :class:`subprocess.Popen` that makes the child receive SIGTERM when this
    process ends, however it ends (SIGKILL included); ``None`` where the system cannot do that.

    Linux only (``prctl(PR_SET_PDEATHSIG)``): the signal comes when the *thread* that started the
    child ends, so start children from a thread that waits for them. On macOS and Windows there is
    no such thing: a child outlives a parent killed by SIGKILL or ``TerminateProcess``.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up now: nothing is loaded after fork
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG; a failure leaves the child as it was
        if os.getppid() != parent:  # the parent died before the prctl: nothing will tell the child
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


# A watchdog for systems without PR_SET_PDEATHSIG (macOS): it holds the read end of a pipe whose
# write end only e2docs holds. When e2docs ends, however it ends (SIGKILL included), the system closes
# the write end and the watchdog reads end-of-file: it then stops the watched process group. A normal
# end writes one byte first: the watchdog leaves quietly.
_WATCHDOG = """
import os, signal, sys, time
group = int(sys.argv[1])
if sys.stdin.buffer.read(1) == b"":
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(group, sig)
        except OSError:
            break
        time.sleep(3)
"""


@dataclass
class Guard:
    """What keeps a child process group from outliving e2docs (see :func:`guard`); :meth:`release` it
    once the group has been stopped normally."""

    _fd: int | None = None
    _job: int | None = None

    def release(self) -> None:
        """The group ended normally: stop watching it (idempotent)."""
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.write(self._fd, b"x")
                os.close(self._fd)
            self._fd = None
        if self._job is not None:
            import ctypes

            ctypes.windll.kernel32.CloseHandle(self._job)  # type: ignore[attr-defined,unused-ignore]
            self._job = None


def guard(proc: subprocess.Popen[bytes], *, watchdog: bool | None = None) -> Guard:
    """Make sure the process group led by ``proc`` (started in a new session) ends with this process.

    Linux does it with :func:`die_with_parent` at start; elsewhere on POSIX (macOS), or when
    ``watchdog`` is true, a small watchdog process stops the group when this process ends, even
    killed; on Windows, ``proc`` is put in a job object that the system closes, killing its
    processes, when this process ends. Best effort: a system refusal leaves ``proc`` as it was.
    """
    if os.name == "nt":
        return Guard(_job=_windows_job(proc))
    if watchdog is None:
        watchdog = not sys.platform.startswith("linux")
    if not watchdog:
        return Guard()
    read, write = os.pipe()
    try:
        subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, str(proc.pid)],
            stdin=read,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError:
        os.close(write)
        return Guard()
    finally:
        os.close(read)
    return Guard(_fd=write)


def _windows_job(proc: subprocess.Popen[bytes]) -> int | None:
    """A job object holding ``proc``, with "kill on job close": its processes end with this one."""
    try:
        import ctypes
        from ctypes import wintypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined,unused-ignore]

        class _Limits(ctypes.Structure):
            _fields_ = [  # JOBOBJECT_EXTENDED_LIMIT_INFORMATION
                ("PerProcessUserTimeLimit", ctypes.c_int64),
                ("PerJobUserTimeLimit", ctypes.c_int64),
                ("LimitFlags", wintypes.DWORD),
                ("MinimumWorkingSetSize", ctypes.c_size_t),
                ("MaximumWorkingSetSize", ctypes.c_size_t),
                ("ActiveProcessLimit", wintypes.DWORD),
                ("Affinity", ctypes.c_size_t),
                ("PriorityClass", wintypes.DWORD),
                ("SchedulingClass", wintypes.DWORD),
                ("IoInfo", ctypes.c_uint64 * 6),
                ("ProcessMemoryLimit", ctypes.c_size_t),
                ("JobMemoryLimit", ctypes.c_size_t),
                ("PeakProcessMemoryUsed", ctypes.c_size_t),
                ("PeakJobMemoryUsed", ctypes.c_size_t),
            ]

        job = kernel32.CreateJobObjectW(None, None)
        if not job:
            return None
        limits = _Limits()
        limits.LimitFlags = 0x2000  # JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
        ok = kernel32.SetInformationJobObject(job, 9, ctypes.byref(limits), ctypes.sizeof(limits))
        handle = getattr(proc, "_handle", None)  # the process handle subprocess keeps on Windows
        if not ok or handle is None or not kernel32.AssignProcessToJobObject(job, int(handle)):
            kernel32.CloseHandle(job)
            return None
        return int(job)
    except (OSError, AttributeError, ValueError):
        return None


def stop_with_parent() -> None:
    """In a process started by :mod:`multiprocessing` (the ``initializer`` of a process pool): a thread
    that ends this process as soon as the process that started it is gone, however it ended (SIGKILL,
    ``TerminateProcess`` included). Without it, a pool's process whose parent was killed waits for
    its next task for ever. Does nothing in a process not started by :mod:`multiprocessing`."""
    import multiprocessing
    import multiprocessing.connection

    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])  # ready when the parent is gone
        os._exit(TERMINATED)

    threading.Thread(target=watch, name="e2docs-parent-watch", daemon=True).start()


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def load() -> float:
    """The cores busy now, 0 to the machine's count: its processor use measured over
    :data:`LOAD_SAMPLE` seconds by psutil (this process sleeps meanwhile, so what is measured is the
    others' work). Not the load average: a command started right after another (``collect`` then
    ``report``) would see the previous one's minute of work as busy cores. psutil is imported here
    only (this module is otherwise standard library: see the module docstring)."""
    import psutil  # noqa: PLC0415 — only when a large batch asks

    logical = psutil.cpu_count() or cores()
    return float(psutil.cpu_percent(interval=LOAD_SAMPLE)) / 100 * logical


LOAD_SAMPLE = 0.2
"""Seconds over which :func:`load` measures the processor use (spent only by batches large enough to share)."""


def share_count(count: int, parallel_from: int, most: int = 4) -> int:
    """How many processes share ``count`` items of work: one below ``parallel_from``; else this one
    and one per idle core (cores less those busy now, :func:`load`, a core counting as idle when at most
    40 % of it is taken; at most ``most``
    in all, at most one per ``parallel_from // 2`` items). On busy cores a spawned process only adds its
    start-up (measured for ``generate``: 1.3 s lost at any size with the machine's two cores already busy)."""
    if count < parallel_from:
        return 1
    idle = int(cores() - load() + 0.4)
    return max(1, min(cores(), most, count // max(1, parallel_from // 2), 1 + idle))
