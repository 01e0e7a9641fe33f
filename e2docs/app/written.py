"""What e2docs wrote, so that nothing it did not write is ever replaced or deleted.

A campaign keeps one record, the SQLite database ``.e2docs-ecrits.sqlite`` at its root, one row per
file (table ``files``)::

    key                                                         sha256   by       written_at
    rapports/NOM_Prénom_31214_2709411021_fiche-evaluation.docx  9f86…    report   2027-03-12T10:04:55+01:00
    /home/secretariat/Bureau/synthese.xlsx                      60303…   export   2027-03-12T10:06:02+01:00

Keys are paths relative to the campaign folder (``/`` separators) for the files inside it, so that a
campaign moved or copied elsewhere still knows its documents, and absolute paths for the files
outside it (an export to the desktop): the record stays in the campaign, and no hidden file is
dropped into the user's folders. ``sha256``: the SHA-256 (hex) of each content e2docs wrote there
and may still be on disk, space-separated (one, but between the two steps of a replacement). ``by``
names the command that wrote the file (``"report"``, ``"export"``). A file is *ours* when the SHA-256
of its content is one that e2docs wrote at that path; anything else (not listed, or changed since:
opened and saved in Word, edited by hand) is not ours, and is neither replaced nor deleted.

Safe to kill at any point: the new content's hash is added to the record (committed) before the file
is replaced, and only once the file is in place does its row keep the new hash alone. A run killed in
between leaves a file whose content, old or new, is listed: still ours; a transaction it left
unfinished is rolled back by SQLite the next time the record is opened.

The record is a database, not a document read whole, so that a report of tens of thousands of
documents holds none of it in memory. e2docs 0.1.0 kept no record; the development versions after it
kept it as one JSON document (``.e2docs-ecrits.json``, :data:`LEGACY_RECORD`): the first
:meth:`Record.load` copies it into the database and removes it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import sqlite3
from collections.abc import Container, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from e2docs.app.campaign import sqlite_fault
from e2docs.formats import atomic
from e2docs.formats.atomic import atomic_write
from e2docs.model.errors import SystemFault

RECORD = ".e2docs-ecrits.sqlite"
LEGACY_RECORD = ".e2docs-ecrits.json"  # the record as development versions after 0.1.0 kept it: migrated
VERSION = 1  # the record's schema, in PRAGMA user_version
NEW_VERSION = "nouvelle version"  # the new version of a changed document: « X (nouvelle version).docx »
_SCHEMA = """CREATE TABLE IF NOT EXISTS files (
 key TEXT PRIMARY KEY,
 sha256 TEXT NOT NULL,
 by TEXT NOT NULL,
 written_at TEXT NOT NULL
) WITHOUT ROWID"""
_CHUNK = 500  # rows read at a time by Record.stale
TIMEOUT = 10.0  # seconds to wait for another program that holds the record (an SQLite tool) to let it go


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


@dataclass(frozen=True)
class Entry:
    """One file of the record: ``sha256``, the hashes (hex) of the contents e2docs wrote there;
    ``by``, the command; ``written_at``, when (ISO 8601, local time with its offset)."""

    sha256: tuple[str, ...]
    by: str
    written_at: str


class Record:
    """The record of what e2docs wrote under ``root`` (a campaign folder), kept in
    ``root/.e2docs-ecrits.sqlite``; open it with :meth:`load`, change it with :meth:`expect`,
    :meth:`settle`, :meth:`forget`, then :meth:`save`; :meth:`close` it (or use ``with``).

    Changes not saved are lost when the record is closed or the process ends. The database is created
    at the first change: reading a campaign without one writes nothing. Every method that touches the
    database raises :class:`~e2docs.model.errors.SystemFault` (in French, naming the record, with what
    to do) when it cannot be read or written (disk full, read-only folder, locked by another program).
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self._db: sqlite3.Connection | None = None
        self._folders: dict[str, tuple[str, Path]] = {}  # folder as given → its key, resolved
        self._claimed = False  # whether the temporary table of claimed keys exists

    @classmethod
    def load(cls, root: Path) -> Record:
        """The record of ``root``. A damaged record (not a database, or failing SQLite's check) counts as
        empty and is replaced: every file is then not ours (nothing is replaced, new versions go beside).
        A JSON record left by an earlier development version is copied in, then removed. Raises
        :class:`~e2docs.model.errors.SystemFault` when the record cannot be opened (locked, read-only,
        written by a newer e2docs) or the copy cannot be written, ``OSError`` when the JSON record cannot
        be read."""
        record = cls(root)
        try:
            if record.path.exists():
                record._connect()
            if (record.root / LEGACY_RECORD).exists():
                record._migrate()
        except BaseException:
            record.close()
            raise
        return record

    @property
    def path(self) -> Path:
        """Where the record is kept."""
        return self.root / RECORD

    def close(self) -> None:
        """Close the database; what was not saved is dropped."""
        if self._db is not None:
            self._db.close()
            self._db = None
            self._claimed = False

    def __enter__(self) -> Record:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the database

    def _connect(self) -> sqlite3.Connection:
        """The open database, created (or replaced, when damaged) if need be."""
        if self._db is not None:
            return self._db
        for attempt in (1, 2):
            db = sqlite3.connect(self.path, timeout=TIMEOUT)
            try:
                db.execute("PRAGMA journal_mode = DELETE")  # one file, no -wal/-shm beside it (Windows, copies)
                db.execute("PRAGMA synchronous = FULL")
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if version > VERSION:
                    raise SystemFault(
                        f"relevé des fichiers écrits par une version plus récente d'e2docs (schéma {version}, "
                        f"cette version lit jusqu'au schéma {VERSION}).",
                        self.path,
                        "Mettez e2docs à jour (python3 -m pip install -U e2docs).",
                    )
                if version < VERSION:
                    with db:
                        db.execute(_SCHEMA)
                        db.execute(f"PRAGMA user_version = {VERSION}")
                elif db.execute("PRAGMA quick_check").fetchall() != [("ok",)]:  # pages damaged past the first
                    raise sqlite3.DatabaseError("database disk image is malformed")
            except sqlite3.OperationalError as exc:  # locked, read-only, disk full: not damaged
                db.close()
                raise self._fault(exc) from None
            except sqlite3.DatabaseError as exc:  # not a database, or malformed: e2docs' own file, replaced
                db.close()
                if attempt == 2:
                    raise self._fault(exc) from None
                for name in (RECORD, RECORD + "-journal"):
                    with contextlib.suppress(FileNotFoundError):
                        (self.root / name).unlink()
                continue
            except BaseException:
                db.close()
                raise
            self._db = db
            return db
        raise AssertionError("unreachable")

    def _fault(self, exc: sqlite3.Error) -> SystemFault:
        """``exc`` on the record, in French, with what to do."""
        return sqlite_fault(
            exc,
            self.path,
            "relevé des fichiers écrits",
            f"Supprimez {RECORD} : e2docs en refera un, et traitera comme modifiés les documents qu'il "
            "listait (leur nouvelle version sera écrite à côté).",
        )

    def _read(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of a query; none when there is no database yet."""
        if self._db is None:
            return []
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise self._fault(exc) from None

    def _write(self, sql: str, args: tuple[Any, ...] | Iterable[tuple[Any, ...]] = (), *, many: bool = False) -> None:
        db = self._connect()
        try:
            if many:
                db.executemany(sql, args)
            else:
                db.execute(sql, args)  # type: ignore[arg-type]
        except sqlite3.Error as exc:
            raise self._fault(exc) from None

    def _migrate(self) -> None:
        """Copy the JSON record of an earlier development version into the database (its entries of another
        shape are left out: their files are then not ours), then remove it. A run killed in between, or a
        JSON record that cannot be removed (read-only, held by another program), is copied again the next
        time: rows already there are kept. Raises ``OSError`` when it cannot be read."""
        legacy = self.root / LEGACY_RECORD
        try:
            data = json.loads(legacy.read_text(encoding="utf-8"))
            files = data["files"] if isinstance(data, dict) and isinstance(data.get("files"), dict) else {}
        except (UnicodeDecodeError, ValueError):
            files = {}  # damaged: as before, every file it listed counts as not ours
        rows = (
            (key, " ".join(v["sha256"]), v.get("by") or "", v.get("written_at") or "")
            for key, v in files.items()
            if isinstance(v, dict)
            and isinstance(v.get("sha256"), list)
            and all(isinstance(h, str) and h.isalnum() for h in v["sha256"])
        )
        self._write("INSERT OR IGNORE INTO files VALUES (?, ?, ?, ?)", rows, many=True)
        self.save()
        with contextlib.suppress(OSError):
            legacy.unlink(missing_ok=True)

    # -- keys

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

    # -- reading

    def entry(self, path: Path) -> Entry | None:
        """What the record says of the file at ``path``; ``None`` when it is not listed."""
        rows = self._read("SELECT sha256, by, written_at FROM files WHERE key = ?", (self.key(path),))
        if not rows:
            return None
        hashes, by, when = rows[0]
        return Entry(tuple(hashes.split()), by, when)

    def keys(self) -> list[str]:
        """Every key listed, sorted (for inspection and tests: a report's record lists thousands)."""
        return [k for (k,) in self._read("SELECT key FROM files ORDER BY key")]

    def owns(self, path: Path) -> bool:
        """Whether the file at ``path`` exists and holds exactly what e2docs wrote there."""
        entry = self.entry(path)
        if entry is None:
            return False
        digest = sha256_of(path)
        return digest is not None and digest in entry.sha256

    # -- changing

    def expect(self, path: Path, digest: str, by: str) -> None:
        """Record that ``by`` is about to write content with SHA-256 ``digest`` at ``path``; the hashes
        already listed stay until :meth:`settle` or :meth:`confirm`, ``digest`` listed last."""
        now = dt.datetime.now().astimezone().replace(microsecond=0).isoformat()
        self._write(
            "INSERT INTO files VALUES (?1, ?2, ?3, ?4) ON CONFLICT(key) DO UPDATE SET"
            " sha256 = ltrim(replace(' ' || sha256 || ' ', ' ' || ?2 || ' ', ' ') || ?2), by = ?3, written_at = ?4",
            (self.key(path), digest, by, now),
        )

    def confirm(self, path: Path) -> None:
        """After a write of what was last :meth:`expect`-ed at ``path``: keep that hash alone (the file is
        not read again; a SHA-256 in hex is 64 characters)."""
        self._write("UPDATE files SET sha256 = substr(sha256, -64) WHERE key = ?", (self.key(path),))

    def settle(self, path: Path) -> None:
        """After a write that may have failed: keep only the hash now on disk when it is listed; forget a
        file that is gone."""
        entry = self.entry(path)
        if entry is None:
            return
        digest = sha256_of(path)
        if digest is None:
            self.forget(path)
        elif digest in entry.sha256:
            self._write("UPDATE files SET sha256 = ? WHERE key = ?", (digest, self.key(path)))

    def forget(self, path: Path) -> None:
        """Drop ``path`` from the record."""
        if self._db is not None:
            self._write("DELETE FROM files WHERE key = ?", (self.key(path),))

    def save(self) -> None:
        """Commit the changes (:class:`~e2docs.model.errors.SystemFault` when they cannot be written)."""
        if self._db is None:
            return
        try:
            self._db.commit()
        except sqlite3.Error as exc:
            raise self._fault(exc) from None

    # -- a run's own files

    def claim(self, path: Path) -> None:
        """Count ``path`` as one of this run's files: :meth:`stale` leaves it out. Claims last until the
        record is closed, and are kept in a temporary table, not in memory."""
        if not self._claimed:
            self._write("CREATE TEMP TABLE IF NOT EXISTS claimed (key TEXT PRIMARY KEY) WITHOUT ROWID")
            self._claimed = True
        self._write("INSERT OR IGNORE INTO temp.claimed VALUES (?)", (self.key(path),))

    def stale(self, by: str) -> Iterator[Path]:
        """The files recorded as written by the command ``by`` and not claimed in this run (they may have
        changed or gone since), sorted by key, read a chunk at a time: the record may be changed
        (:meth:`forget`) between two of them."""
        after = ""
        claimed = "AND key NOT IN (SELECT key FROM temp.claimed)" if self._claimed else ""
        while True:
            rows = self._read(
                f"SELECT key FROM files WHERE by = ? AND key > ? {claimed} ORDER BY key LIMIT {_CHUNK}", (by, after)
            )
            for (key,) in rows:
                yield self.path_of(key)
            if len(rows) < _CHUNK:
                return
            after = rows[-1][0]


def free_target(record: Record, path: Path, taken: Container[Path] = frozenset()) -> Path:
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
    """Move each staged file onto its target (``moves``: (staged, target) pairs, same file system; read
    three times), recording them as written by ``by`` and claimed
    by this run (:meth:`Record.claim`). The targets must be free (:func:`free_target`). Raises
    :class:`~e2docs.model.errors.SystemFault` when the record cannot be written, ``OSError`` when a file
    cannot be moved; what was moved is then recorded."""
    for staged, target in moves:
        digest = sha256_of(staged)
        if digest is None:
            raise FileNotFoundError(staged)
        record.expect(target, digest, by)
        record.claim(target)
    record.save()
    moved = 0
    try:
        for staged, target in moves:
            atomic.replace(staged, target)
            moved += 1
    finally:
        for i, (_, target) in enumerate(moves):
            if i < moved:  # what was moved there is what was hashed: no need to read it again
                record.confirm(target)
            else:
                record.settle(target)
        record.save()


def write_file(record: Record, target: Path, data: bytes, by: str) -> Path:
    """Write ``data`` atomically at ``target`` and record it as written by ``by``; return ``target``.
    The caller has checked that ``target`` may be written. Raises ``OSError`` when the file cannot be
    written, :class:`~e2docs.model.errors.SystemFault` when the record cannot be."""
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
