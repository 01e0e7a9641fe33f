"""Whether another process still runs, on every system.

Temporary files and LibreOffice profile folders are named after the process
that writes them (``…-<pid>-…``); the leftovers of a process killed before it
could clean up are removed once that process is gone. Only the standard
library is used: the LibreOffice test driver imports this under Debian's
``/usr/bin/python3``.
"""

from __future__ import annotations

import os

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
