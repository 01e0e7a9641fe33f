"""Open only regular files, and only up to a size: how every command reads a path the user gives.

A path on the command line may name a directory, a named pipe (FIFO), a device
(``/dev/zero``) or a file far bigger than anything e2docs reads. Opening a FIFO
blocks until someone writes into it, reading ``/dev/zero`` never ends. So every
path from the user goes through this module:

* :func:`os.stat` first: anything but a regular file is refused before it is
  opened (opening a device can have effects of its own);
* its size is checked against the cap of what it should be, before reading;
* it is opened with ``O_NONBLOCK`` where the system has it, so that a FIFO put in
  its place after the check does not block, and the opened descriptor is checked
  again with :func:`os.fstat`;
* at most ``limit + 1`` bytes are read, so a file that grew in between is refused
  too.

Every refusal is the :class:`~e2docs.model.errors.E2docsError` subclass the caller
names (``RosterError``, ``GridError``…), in French, naming the file (exit code 2).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from e2docs.model import french
from e2docs.model.errors import E2docsError, os_error_fr, os_error_hint

__all__ = ["Expect", "check_regular", "open_regular", "read_regular"]

_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # absent on Windows, where a path cannot name a FIFO
_BINARY = getattr(os, "O_BINARY", 0)  # Windows only


@dataclass(frozen=True)
class Expect:
    """What a path should hold, for the checks and the French messages.

    ``what`` names it as a masculine noun phrase (« fichier de grille », « classeur »),
    ``limit`` is the largest size accepted, in bytes; ``hint`` says what to do when the
    path is missing or not a regular file (« Vérifiez le chemin passé à --grid. »);
    ``error`` is the :class:`E2docsError` subclass raised.
    """

    what: str
    limit: int
    hint: str
    error: type[E2docsError] = E2docsError


def check_regular(path: str | Path, expect: Expect) -> int:
    """The size in bytes of ``path``, a regular file of at most ``expect.limit`` bytes.

    Only :func:`os.stat` is used: for a library that opens the path itself. Prefer
    :func:`read_regular` or :func:`open_regular`, which also guard against a file
    swapped in after the check. Raises ``expect.error`` otherwise.
    """
    path = Path(path)
    try:
        info = os.stat(path)
    except OSError as exc:
        raise _os_failure(path, expect, exc) from None
    _check(path, info, expect)
    return info.st_size


def open_regular(path: str | Path, expect: Expect) -> BinaryIO:
    """``path`` opened for reading in binary mode, after checking it is a regular file of at most
    ``expect.limit`` bytes (before and after opening it). The caller closes it. Raises
    ``expect.error`` (French, naming the file) otherwise."""
    path = Path(path)
    check_regular(path, expect)
    try:
        fd = os.open(path, os.O_RDONLY | _NONBLOCK | _BINARY)
    except OSError as exc:
        raise _os_failure(path, expect, exc) from None
    try:
        _check(path, os.fstat(fd), expect)
        if _NONBLOCK:
            os.set_blocking(fd, True)  # no effect on a regular file's reads; restored for clarity
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | Path, expect: Expect) -> bytes:
    """The bytes of ``path``, a regular file of at most ``expect.limit`` bytes (checked before
    reading, and while reading for a file that grows). Raises ``expect.error`` otherwise."""
    path = Path(path)
    with open_regular(path, expect) as fh:
        try:
            data = fh.read(expect.limit + 1)
        except OSError as exc:
            raise _os_failure(path, expect, exc) from None
    if len(data) > expect.limit:
        raise _too_big(path, expect, len(data))
    return data


def _check(path: Path, info: os.stat_result, expect: Expect) -> None:
    """Raise unless ``info`` is a regular file's of at most ``expect.limit`` bytes."""
    if not stat.S_ISREG(info.st_mode):
        if stat.S_ISDIR(info.st_mode):
            message = f"{expect.what} illisible : c'est un dossier, pas un fichier ordinaire."
        else:
            message = f"{expect.what} illisible : ce n'est pas un fichier ordinaire ({_kind(info.st_mode)})."
        raise expect.error(
            message,
            path,
            hint=f"{expect.hint} Indiquez un fichier enregistré sur le disque, "
            "pas un dossier, un tube nommé ni un périphérique.",
        )
    if info.st_size > expect.limit:
        raise _too_big(path, expect, info.st_size)


def _kind(mode: int) -> str:
    """What a file that is not regular is, in French."""
    if stat.S_ISFIFO(mode):
        return "tube nommé"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "périphérique"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "fichier spécial"


def _too_big(path: Path, expect: Expect, size: int) -> E2docsError:
    return expect.error(
        f"{expect.what} trop volumineux ({french.data_size(size)} ; {french.data_size(expect.limit)} au plus).",
        path,
        hint="Vérifiez qu'il s'agit du bon fichier.",
    )


def _os_failure(path: Path, expect: Expect, exc: OSError) -> E2docsError:
    if isinstance(exc, FileNotFoundError):
        return expect.error(f"{expect.what} introuvable.", path, hint=expect.hint)
    if isinstance(exc, IsADirectoryError):
        return expect.error(
            f"{expect.what} illisible : c'est un dossier, pas un fichier ordinaire.", path, hint=expect.hint
        )
    return expect.error(f"{expect.what} illisible ({os_error_fr(exc)}).", path, hint=os_error_hint(exc) or expect.hint)
