"""What e2docs wrote, so that nothing it did not write is ever replaced or deleted.

A campaign keeps one record, ``.e2docs-ecrits.json`` at its root::

    {"version": 1,
     "files": {"rapports/NOM_Prénom_31214_2709411021_fiche-evaluation.docx":
                   {"sha256": ["9f86…"], "by": "report", "written_at": "2027-03-12T10:04:55+01:00"},
               "/home/secretariat/Bureau/synthese.xlsx":
                   {"sha256": ["60303…"], "by": "export", "written_at": "…"}}}

Keys are paths relative to the campaign folder (``/`` separators) for the files inside it, so that a
campaign moved or copied elsewhere still knows its documents, and absolute paths for the files
outside it (an export to the desktop): the record stays in the campaign, and no hidden file is
dropped into the user's folders. ``by`` names the command that wrote the file (``"report"``,
``"export"``). A file is *ours* when the SHA-256 of its content is one that e2docs wrote at that
path; anything else (not listed, or changed since: opened and saved in Word, edited by hand) is
not ours, and is neither replaced nor deleted.

Safe to kill at any point: the new content's hash is added to the record (written atomically)
before the file is replaced, and only once the file is in place does its entry keep the new hash
alone. A run killed in between leaves a file whose content, old or new, is listed: still ours.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from e2docs.formats import atomic
from e2docs.formats.atomic import atomic_write

RECORD = ".e2docs-ecrits.json"
VERSION = 1
NEW_VERSION = "nouvelle version"  # the new version of a changed document: « X (nouvelle version).docx »


def sha256_of(path: Path) -> str | None:
    """The SHA-256 (hex) of the file at ``path``; ``None`` when there is no such file."""
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def beside(path: Path, n: int = 1) -> Path:
    """The ``n``-th name for a new version written beside ``path``: « X (nouvelle version).docx », then
    « X (nouvelle version 2).docx »… It sorts next to « X.docx » and is a valid name on Windows."""
    label = NEW_VERSION if n == 1 else f"{NEW_VERSION} {n}"
    return path.with_name(f"{path.stem} ({label}){path.suffix}")


@dataclass
class Record:
    """The record of what e2docs wrote under ``root`` (a campaign folder), as loaded from
    ``root/.e2docs-ecrits.json``; change it with :meth:`expect`, :meth:`settle`, :meth:`forget`, then
    :meth:`save`. ``files``: key (see the module's docstring) → ``{"sha256": [hex…], "by": str,
    "written_at": ISO 8601}``."""

    root: Path
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    _folders: dict[str, tuple[str, Path]] = field(default_factory=dict, repr=False, compare=False)  # → key, resolved
    _strings: dict[str, str] = field(default_factory=dict, repr=False, compare=False)  # see _shared

    @classmethod
    def load(cls, root: Path) -> Record:
        """The record of ``root``; empty when there is none yet, or when it cannot be read (then every
        file counts as not ours: nothing is replaced, new versions go beside)."""
        root = Path(root).resolve()
        try:
            data = json.loads((root / RECORD).read_text(encoding="utf-8"))
            files = data["files"] if isinstance(data, dict) and isinstance(data.get("files"), dict) else {}
        except (OSError, UnicodeDecodeError, ValueError):
            files = {}
        clean = {
            k: v for k, v in files.items() if isinstance(v, dict) and isinstance(v.get("sha256"), list)
        }  # an entry of another shape is ignored: its file is then not ours
        record = cls(root, clean)
        for entry in clean.values():
            for name in ("by", "written_at"):
                if isinstance(entry.get(name), str):
                    entry[name] = record._shared(entry[name])
        return record

    @property
    def path(self) -> Path:
        """Where the record is kept."""
        return self.root / RECORD

    def key(self, path: Path) -> str:
        """``path``'s key: relative to the campaign folder (``/`` separators) when inside it, else absolute
        (symbolic links resolved; each folder resolved once per record: a report puts thousands of
        documents in one folder)."""
        folder, name = os.path.split(os.fspath(path))
        if name in ("", ".", "..") or os.path.islink(path):
            return self._key_of(Path(path).resolve())
        base = self._folders.get(folder)
        if base is None:
            resolved = Path(folder or ".").resolve()
            base = self._folders[folder] = (self._key_of(resolved), resolved)
        key, resolved = base
        if not resolved.is_relative_to(self.root):
            return str(resolved / name)  # outside the campaign folder: absolute, as the system writes it
        return name if key == "." else f"{key}/{name}"

    def _key_of(self, full: Path) -> str:
        try:
            return full.relative_to(self.root).as_posix()
        except ValueError:
            return str(full)

    def path_of(self, key: str) -> Path:
        """The file a key stands for."""
        p = Path(key)
        return p if p.is_absolute() else self.root / p

    def owns(self, path: Path) -> bool:
        """Whether the file at ``path`` exists and holds exactly what e2docs wrote there."""
        entry = self.files.get(self.key(path))
        if entry is None:
            return False
        digest = sha256_of(path)
        return digest is not None and digest in entry["sha256"]

    def paths(self, by: str) -> Iterator[Path]:
        """The files recorded as written by the command ``by`` (they may have changed or gone since),
        one at a time (a report's record lists thousands). Do not change the record while reading them."""
        return (self.path_of(k) for k, v in self.files.items() if v.get("by") == by)

    def expect(self, path: Path, digest: str, by: str) -> None:
        """Record that ``by`` is about to write content with SHA-256 ``digest`` at ``path``; the hashes
        already listed stay until :meth:`settle`."""
        key = self.key(path)
        entry = self.files.get(key)
        hashes = list(entry["sha256"]) if entry else []
        if digest not in hashes:
            hashes.append(digest)
        now = dt.datetime.now().astimezone().replace(microsecond=0).isoformat()
        self.files[key] = {"sha256": hashes, "by": self._shared(by), "written_at": self._shared(now)}

    def _shared(self, text: str) -> str:
        """One string object for each command name and time the record holds (thousands of entries
        share a few)."""
        return self._strings.setdefault(text, text)

    def settle(self, path: Path) -> None:
        """After a write: keep only the hash now on disk when it is listed; forget a file that is gone."""
        key = self.key(path)
        entry = self.files.get(key)
        if entry is None:
            return
        digest = sha256_of(path)
        if digest is None:
            del self.files[key]
        elif digest in entry["sha256"]:
            entry["sha256"] = [digest]

    def forget(self, path: Path) -> None:
        """Drop ``path`` from the record."""
        self.files.pop(self.key(path), None)

    def save(self) -> None:
        """Write the record atomically (``OSError`` when it cannot be written). Written piece by piece:
        the record of a whole académie's campaign lists tens of thousands of files, and is not held a
        second time as one text."""
        data = {"version": VERSION, "files": dict(sorted(self.files.items()))}
        with atomic.atomic_stream(self.path) as fh:
            text = io.TextIOWrapper(fh, "utf-8", newline="\n")
            for piece in json.JSONEncoder(ensure_ascii=False, indent=1).iterencode(data):
                text.write(piece)
            text.write("\n")
            text.detach()  # flushed; the binary file is closed by atomic_stream, which flushes it to disk


def free_target(record: Record, path: Path, taken: AbstractSet[Path] = frozenset()) -> Path:
    """Where to write the new version of ``path``: ``path`` itself when it does not exist or is ours
    and unchanged, else the first of « X (nouvelle version).docx », « X (nouvelle version 2).docx »…
    that is free in the same sense. ``taken``: targets already chosen in this run."""
    n = 0
    candidate = path
    while candidate in taken or (candidate.exists() and not record.owns(candidate)):
        n += 1
        candidate = beside(path, n)
    return candidate


def install(record: Record, moves: Sequence[tuple[Path, Path]], by: str) -> None:
    """Move each staged file onto its target (``moves``: (staged, target) pairs, same file system),
    recording them as written by ``by``. The targets must be free (:func:`free_target`). Raises
    ``OSError`` when the record or a file cannot be written; what was moved is then recorded."""
    digests = []
    for staged, target in moves:
        digest = sha256_of(staged)
        if digest is None:
            raise FileNotFoundError(staged)
        record.expect(target, digest, by)
        digests.append(digest)
    record.save()
    moved = 0
    try:
        for staged, target in moves:
            atomic.replace(staged, target)
            moved += 1
    finally:
        for i, (_, target) in enumerate(moves):
            if i < moved:  # what was moved there is what was hashed: no need to read it again
                record.files[record.key(target)]["sha256"] = [digests[i]]
            else:
                record.settle(target)
        record.save()


def write_file(record: Record, target: Path, data: bytes, by: str) -> Path:
    """Write ``data`` atomically at ``target`` and record it as written by ``by``; return ``target``.
    The caller has checked that ``target`` may be written. Raises ``OSError``."""
    record.expect(target, hashlib.sha256(data).hexdigest(), by)
    record.save()
    try:
        atomic_write(target, data)
    finally:
        record.settle(target)
        record.save()
    return target


def remove_own(record: Record, paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """Delete those of ``paths`` that are ours and unchanged; return (removed, kept): kept are the
    files changed since e2docs wrote them, left in place. Files already gone are forgotten."""
    removed: list[Path] = []
    kept: list[Path] = []
    for path in paths:
        if record.owns(path):
            path.unlink()
            removed.append(path)
            record.forget(path)
        elif path.exists():
            kept.append(path)
        else:
            record.forget(path)
    record.save()
    return removed, kept
