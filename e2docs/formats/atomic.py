"""Writing files so that nothing is ever half-written, and removing what a killed writer left.

A temporary file is named ``<prefix><pid>-<random>.tmp`` after the process
writing it, beside its target; once that process no longer runs (killed before
it could clean up), :func:`remove_stale_temporaries` deletes it.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from e2docs.formats import processes
from e2docs.model.errors import E2docsError

DEFAULT_PREFIX = ".e2docs-"

REPLACE_TRIES = 6
REPLACE_PAUSE = 0.5  # seconds between tries: an antivirus or an indexer holds a new file for a moment
_WINDOWS = os.name == "nt"
_UMASK: list[int] = []  # the process's umask, read once (reading it means setting it: not thread-safe)
_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    with _UMASK_LOCK:
        if not _UMASK:
            mask = os.umask(0)
            os.umask(mask)
            _UMASK.append(mask)
        return _UMASK[0]


class FileInUseError(E2docsError):
    """Windows refused to replace a file another program holds open (Word, Excel, a PDF viewer)."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            "le fichier est ouvert dans un autre programme (Word, Excel, une visionneuse PDF…) : "
            "il n'a pas été remplacé.",
            path,
            hint="Fermez-le dans ce programme, puis relancez la commande.",
        )


def replace(source: str | Path, target: str | Path) -> None:
    """Rename ``source`` over ``target`` (``os.replace``): the one place e2docs replaces a file.

    On Windows a file open in Word or Excel cannot be replaced (``PermissionError``,
    "sharing violation"): the rename is tried :data:`REPLACE_TRIES` times, then
    :class:`FileInUseError` (French, naming ``target``) is raised; ``source`` is left
    for the caller to remove. Elsewhere, and for other errors, ``OSError`` is raised
    at once with ``target`` as its file name.
    """
    for attempt in range(REPLACE_TRIES):
        try:
            os.replace(source, target)
            return
        except PermissionError as exc:
            if not (_WINDOWS and Path(target).exists()):
                exc.filename = str(target)
                raise
            if attempt == REPLACE_TRIES - 1:
                raise FileInUseError(Path(target)) from exc
            time.sleep(REPLACE_PAUSE)


# a hidden file ending in "<pid>-<mkstemp's random letters>.tmp", the pid not glued to a digit before it
_TEMPORARY = re.compile(r"^\.(?:.*\D)?(\d+)-[a-z0-9_]+\.tmp$")


def atomic_write(path: str | Path, data: bytes, prefix: str = DEFAULT_PREFIX) -> Path:
    """Write ``data`` to a temporary file beside ``path``, flush it to disk, then rename it.

    A reader sees the old file or the new one, never a part; if anything fails, the
    temporary file is removed and ``path`` is untouched. The file gets the usual
    permissions (umask, as the process had it at its first atomic write), not mkstemp's private 0600;
    safe to call from several threads at once. Missing parent folders are
    created. ``prefix`` starts the temporary file's name (hidden: it should start
    with a dot); the process id follows it (``<prefix><pid>-<random>.tmp``).
    Returns ``path``; raises ``OSError`` when the folder or the file cannot be written.
    """
    with atomic_stream(path, prefix) as fh:
        fh.write(data)
    return Path(path)


@contextlib.contextmanager
def atomic_stream(path: str | Path, prefix: str = DEFAULT_PREFIX) -> Iterator[BinaryIO]:
    """:func:`atomic_write` for a file written piece by piece: the ``with`` block writes into the
    open temporary file given; when the block ends normally the file is flushed to disk and
    renamed to ``path``, otherwise it is removed and ``path`` left untouched. Same errors."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f"{prefix}{os.getpid()}-", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None:
            exc.filename = str(path)  # a failed write names no file: name the one being written
        raise


def temporary_owner(name: str) -> int | None:
    """The process id in a temporary file's name made by :func:`atomic_write`, ``None`` when the
    name is not one."""
    match = _TEMPORARY.match(name)
    return int(match.group(1)) if match else None


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Delete the temporary files that :func:`atomic_write` left in ``folder`` (not below it) for
    processes that no longer run; return them. A missing folder is not an error (nothing is
    created); files of a process still running, or of this one, are kept."""
    removed: list[Path] = []
    try:
        entries = list(Path(folder).iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for path in entries:
        pid = temporary_owner(path.name)
        if pid is None or pid == os.getpid() or processes.alive(pid) or not path.is_file() or path.is_symlink():
            continue
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed
