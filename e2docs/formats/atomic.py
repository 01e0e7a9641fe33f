"""Writing files so that nothing is ever half-written."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path: str | Path, data: bytes, prefix: str = ".e2docs-") -> Path:
    """Write ``data`` to a temporary file beside ``path``, flush it to disk, then rename it.

    A reader sees the old file or the new one, never a part; if anything fails, the
    temporary file is removed and ``path`` is untouched. The file gets the usual
    permissions (umask), not mkstemp's private 0600. Missing parent folders are
    created. ``prefix`` starts the temporary file's name (hidden by default).
    Returns ``path``; raises ``OSError`` when the folder or the file cannot be written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
