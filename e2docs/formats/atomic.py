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
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from concurrent.futures import Future

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


def atomic_write(path: str | Path, data: bytes, prefix: str = DEFAULT_PREFIX, durable: bool = True) -> Path:
    """Write ``data`` to a temporary file beside ``path``, flush it to disk, then rename it.

    A reader sees the old file or the new one, never a part; if anything fails, the
    temporary file is removed and ``path`` is untouched. The file gets the usual
    permissions (umask, as the process had it at its first atomic write), not mkstemp's private 0600;
    safe to call from several threads at once. Missing parent folders are
    created. ``prefix`` starts the temporary file's name (hidden: it should start
    with a dot); the process id follows it (``<prefix><pid>-<random>.tmp``).
    Returns ``path``; raises ``OSError`` when the folder or the file cannot be written.
    """
    with atomic_stream(path, prefix, durable) as fh:
        fh.write(data)
    return Path(path)


@contextlib.contextmanager
def atomic_stream(path: str | Path, prefix: str = DEFAULT_PREFIX, durable: bool = True) -> Iterator[BinaryIO]:
    """:func:`atomic_write` for a file written piece by piece: the ``with`` block writes into the
    open temporary file given; when the block ends normally the file is flushed to disk and
    renamed to ``path``, otherwise it is removed and ``path`` left untouched. Same errors.
    ``durable=False``: not flushed to disk, for a file the caller flushes later with others
    (:class:`Flusher`: thousands of staged documents, whose flushes one by one were waits)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f"{prefix}{os.getpid()}-", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None:
            exc.filename = str(path)  # a failed write names no file: name the one being written
        raise


class Flusher:
    """Files written with ``durable=False`` flushed to disk by background threads (the system call
    releases the GIL: the waits overlap the work of the process and each other's): :meth:`add` them
    as they are written, :meth:`wait` before relying on them. A context manager; its threads end
    with it."""

    THREADS = 4

    def __init__(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(self.THREADS, thread_name_prefix="e2docs-flush")
        self._lock = threading.Lock()
        self._added = 0  # files added so far: the order of their errors
        self._pending: dict[Future[None], int] = {}  # flushes not known to succeed; a successful one is let go

    def add(self, paths: Iterable[str | Path]) -> None:
        """Flush ``paths`` to disk, in the background."""
        for path in paths:
            future = self._pool.submit(_flush, Path(path))
            with self._lock:
                self._pending[future] = self._added
                self._added += 1
            future.add_done_callback(self._finished)  # called at once when already finished

    def _finished(self, future: Future[None]) -> None:
        if not future.cancelled() and future.exception() is None:  # a failed one waits for wait()
            with self._lock:
                self._pending.pop(future, None)

    def wait(self) -> None:
        """Return once every file added is on disk; ``OSError`` (naming the file) when one could not be:
        that of the first file added that could not. Read from the flushes themselves, not from their
        callbacks (which may run after the waiting ends)."""
        from concurrent.futures import wait

        with self._lock:
            pending = list(self._pending.items())
        wait([future for future, _ in pending])
        failed = sorted(
            ((order, future) for future, order in pending if not future.cancelled() and future.exception()),
            key=lambda item: item[0],
        )
        with self._lock:
            for future, _ in pending:
                self._pending.pop(future, None)
        error = failed[0][1].exception() if failed else None
        if error is not None:
            raise error

    def __enter__(self) -> Flusher:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _flush(path: Path) -> None:
    # Windows' FlushFileBuffers needs a handle open for writing; elsewhere reading is enough.
    mode = os.O_RDWR | getattr(os, "O_BINARY", 0) if os.name == "nt" else os.O_RDONLY
    try:
        fd = os.open(path, mode)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        exc.filename = exc.filename or str(path)
        raise


def scratch_file(folder: str | Path, prefix: str = DEFAULT_PREFIX) -> tuple[int, Path]:
    """A new temporary file of this process in ``folder``, named as :func:`atomic_write` names its own
    (``<prefix><pid>-<random>.tmp``), so that :func:`remove_stale_temporaries` deletes it once this
    process is gone: (open descriptor, path). The caller writes it, reads it and removes it. Raises
    ``OSError``."""
    fd, name = tempfile.mkstemp(prefix=f"{prefix}{os.getpid()}-", suffix=".tmp", dir=folder)
    return fd, Path(name)


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
