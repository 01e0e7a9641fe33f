"""The campaign ledger: an SQLite file that remembers what was sent and what came back.

Every write is a transaction, so a ``collect`` killed half-way leaves the ledger as
it was before the file being processed; running it again completes the work.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from e2docs.model.candidate import Candidate
from e2docs.model.states import ReturnState

SCHEMA = """
CREATE TABLE IF NOT EXISTS candidates (
    number TEXT PRIMARY KEY, last_name TEXT NOT NULL, first_name TEXT NOT NULL,
    division TEXT NOT NULL DEFAULT '', birth_date TEXT NOT NULL DEFAULT '', ine TEXT NOT NULL DEFAULT '',
    specialty TEXT NOT NULL DEFAULT '', position INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS generated (
    id INTEGER PRIMARY KEY, candidate TEXT NOT NULL REFERENCES candidates(number),
    file_name TEXT NOT NULL, signature TEXT NOT NULL, generated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT
);
CREATE TABLE IF NOT EXISTS files (
    sha256 TEXT PRIMARY KEY, stored_path TEXT NOT NULL, original_name TEXT NOT NULL, origin TEXT NOT NULL,
    size INTEGER NOT NULL, received_at TEXT, sender TEXT, imported_at TEXT NOT NULL,
    batch INTEGER REFERENCES batches(id)
);
CREATE TABLE IF NOT EXISTS returns (
    id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL REFERENCES files(sha256),
    candidate TEXT REFERENCES candidates(number), batch INTEGER NOT NULL REFERENCES batches(id),
    imported_at TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('complete', 'incomplete', 'rejected', 'conflict')),
    proposed_mark REAL, final_mark REAL, missing TEXT NOT NULL DEFAULT '[]',
    reasons TEXT NOT NULL DEFAULT '[]', warnings TEXT NOT NULL DEFAULT '[]',
    modified INTEGER NOT NULL DEFAULT 0, accepted_modified INTEGER NOT NULL DEFAULT 0,
    levels TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS returns_candidate ON returns(candidate, id);
"""

TIMEOUT = 30.0
"""Seconds a connection waits for another one's write to end before "database is locked"."""

RECORDED = (ReturnState.COMPLETE, ReturnState.INCOMPLETE, ReturnState.REJECTED, ReturnState.CONFLICT)
"""The states a return may have in the ledger (the CHECK of ``returns.state``)."""


@dataclass(frozen=True)
class ReturnRow:
    """One recorded return (a file attributed, or not, to a candidate).

    * ``id``: the return's row id, increasing in import order; ``sha256``: the file's hash
      (hex), its name under ``retours/``; ``batch``: the ``collect`` run that recorded it.
    * ``candidate``: the candidate number, ``None`` when the file could not be attributed
      (unreadable, unknown candidate, not signed by this campaign).
    * ``imported_at``: ISO 8601 date-time with offset (:func:`e2docs.app.campaign.now`).
    * ``proposed_mark``, ``final_mark``: marks out of 20, ``None`` when there is none
      (incomplete grid, invalid commission mark, rejected file).
    * ``missing``: what the grid lacks — criterion ids (``"C2.1"``), then ``"note_finale"``
      and ``"observations"``; ``reasons`` (why rejected or in conflict) and ``warnings``:
      French texts.
    * ``modified``: changes were found outside the input cells; ``accepted_modified``: the
      return was accepted anyway (``collect --accept-modified``).
    * ``levels``: criterion id → level ticked (1 to 4), ``None`` when none or several;
      empty when the file could not be read.
    * ``original_name``, ``origin``, ``stored_path`` (relative to the campaign folder),
      ``received_at`` (ISO date-time of the e-mail that brought it, ``None`` when not
      from an e-mail): the file's details.
    """

    id: int
    sha256: str
    candidate: str | None
    batch: int
    imported_at: str
    state: ReturnState  # one of RECORDED
    proposed_mark: float | None
    final_mark: float | None
    missing: list[str]
    reasons: list[str]
    warnings: list[str]
    modified: bool
    accepted_modified: bool
    levels: dict[str, int | None]
    original_name: str = ""
    origin: str = ""
    stored_path: str = ""
    received_at: str | None = None


class Ledger:
    """A connection to the campaign's SQLite ledger (created with its tables if absent).

    ``readonly``: open an existing ledger for reading only — nothing is created or
    changed (SQLite's own ``-wal``/``-shm`` companions aside), a write raises
    :class:`sqlite3.OperationalError`. Raises :class:`sqlite3.Error` when the file
    cannot be opened as a database (``readonly``: also when it does not exist).
    """

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        if readonly:
            self.db = self._connect_readonly()
            self.db.row_factory = sqlite3.Row
            return
        self.db = sqlite3.connect(self.path, timeout=TIMEOUT, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = FULL")
        self.db.executescript(SCHEMA)

    def _connect_readonly(self) -> sqlite3.Connection:
        """A read-only connection; on a read-only medium (a CD, a locked USB key), where SQLite cannot
        make the ``-shm`` file a WAL ledger needs, an ``immutable`` one: nobody can write there."""
        uri = self.path.resolve().as_uri()
        db = sqlite3.connect(uri + "?mode=ro", uri=True, timeout=TIMEOUT, isolation_level=None)
        try:
            db.execute("SELECT 1 FROM sqlite_master LIMIT 1")  # "file is not a database" now, not later
        except sqlite3.OperationalError:
            db.close()
            if not self.path.is_file() or os.access(self.path.parent, os.W_OK):
                raise
            db = sqlite3.connect(uri + "?immutable=1", uri=True, timeout=TIMEOUT, isolation_level=None)
            db.execute("SELECT 1 FROM sqlite_master LIMIT 1")
        return db

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transaction(self) -> _Transaction:
        """``with ledger.transaction():`` — all or nothing; nested in another, it joins it."""
        return _Transaction(self.db)

    # --- candidates and generation

    def set_candidates(self, cands: Sequence[Candidate]) -> None:
        """Add or update the roster's candidates (keyed by number), remembering their order."""
        with self.transaction():
            for i, c in enumerate(cands):
                self.db.execute(
                    "INSERT INTO candidates VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(number) DO UPDATE SET "
                    "last_name=excluded.last_name, first_name=excluded.first_name, division=excluded.division, "
                    "birth_date=excluded.birth_date, ine=excluded.ine, specialty=excluded.specialty, "
                    "position=excluded.position",
                    (
                        c.number,
                        c.last_name,
                        c.first_name,
                        c.division,
                        c.birth_date.isoformat() if c.birth_date else "",
                        c.ine,
                        c.specialty,
                        i,
                    ),
                )

    def candidates(self) -> list[Candidate]:
        """The roster, in its order."""
        import datetime as dt

        rows = self.db.execute("SELECT * FROM candidates ORDER BY position").fetchall()
        return [
            Candidate(
                r["number"],
                r["last_name"],
                r["first_name"],
                r["division"],
                dt.date.fromisoformat(r["birth_date"]) if r["birth_date"] else None,
                r["ine"],
                r["specialty"],
            )
            for r in rows
        ]

    def record_generated(self, rows: Iterable[tuple[str, str, str, str]]) -> None:
        """(candidate, file name, signature, time) for each workbook written."""
        with self.transaction():
            self.db.executemany(
                "INSERT INTO generated (candidate, file_name, signature, generated_at) VALUES (?,?,?,?)", list(rows)
            )

    def generated(self) -> dict[str, sqlite3.Row]:
        """Candidate number → the latest ``generated`` row for it (``file_name``, ``signature``,
        ``generated_at``)."""
        rows = self.db.execute("SELECT * FROM generated ORDER BY id").fetchall()
        return {r["candidate"]: r for r in rows}

    # --- returns

    def new_batch(self, when: str) -> int:
        """Start a ``collect`` run at ``when`` (ISO date-time); return its id."""
        with self.transaction():
            return _inserted_id(self.db.execute("INSERT INTO batches (started_at) VALUES (?)", (when,)))

    def finish_batch(self, batch: int, when: str) -> None:
        """Mark the run ``batch`` as finished at ``when`` (ISO date-time)."""
        with self.transaction():
            self.db.execute("UPDATE batches SET finished_at=? WHERE id=?", (when, batch))

    def known_file(self, sha256: str, *, accept_modified: bool = False) -> bool:
        """True when this exact file was already recorded and need not be read again.

        A file left in a conflict may be collected again (alone, it no longer is one);
        so may a file rejected for changes outside the input cells, when the user now
        accepts such changes (``accept_modified``).
        """
        row = self.db.execute(
            "SELECT 1 FROM files f WHERE sha256=? AND NOT EXISTS (SELECT 1 FROM returns r "
            "WHERE r.sha256=f.sha256 AND r.state=? AND r.id = (SELECT MAX(id) FROM "
            "returns WHERE sha256=f.sha256))",
            (sha256, ReturnState.CONFLICT),
        ).fetchone()
        if row is None:
            return False
        if accept_modified:
            retry = self.db.execute(
                "SELECT 1 FROM returns o WHERE o.sha256=? AND o.state=? AND o.modified=1 "
                "AND o.accepted_modified=0 AND o.id = (SELECT MAX(id) FROM returns r "
                "WHERE r.sha256=o.sha256 AND r.candidate IS o.candidate)",
                (sha256, ReturnState.REJECTED),
            ).fetchone()
            return retry is None
        return True

    def record_return(
        self,
        *,
        sha256: str,
        stored_path: str,
        original_name: str,
        origin: str,
        size: int,
        received_at: str | None,
        sender: str | None,
        batch: int,
        when: str,
        candidate: str | None,
        state: ReturnState,
        proposed: float | None,
        final: float | None,
        missing: list[str],
        reasons: list[str],
        warnings: list[str],
        modified: bool,
        accepted_modified: bool,
        levels: Mapping[str, int | None],
    ) -> int:
        """Record a file (once per ``sha256``) and its return in one transaction; return the return's id.

        The arguments are the fields of :class:`ReturnRow` (``proposed``, ``final``: its marks
        out of 20; ``when``: its ``imported_at``) plus the file's ``size`` in bytes and
        ``sender`` (the e-mail's From header, ``None`` when not from an e-mail). ``state`` is
        one of :data:`RECORDED`.
        """
        with self.transaction():
            self.db.execute(
                "INSERT OR IGNORE INTO files VALUES (?,?,?,?,?,?,?,?,?)",
                (sha256, stored_path, original_name, origin, size, received_at, sender, when, batch),
            )
            cursor = self.db.execute(
                "INSERT INTO returns (sha256, candidate, batch, imported_at, state, proposed_mark, final_mark, "
                "missing, reasons, warnings, modified, accepted_modified, levels) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    sha256,
                    candidate,
                    batch,
                    when,
                    state,
                    proposed,
                    final,
                    json.dumps(missing, ensure_ascii=False),
                    json.dumps(reasons, ensure_ascii=False),
                    json.dumps(warnings, ensure_ascii=False),
                    int(modified),
                    int(accepted_modified),
                    json.dumps(levels),
                ),
            )
            return _inserted_id(cursor)

    def mark_conflict(self, return_ids: Sequence[int], reason: str) -> None:
        """Put these returns in the conflict state, adding ``reason`` (French) to their reasons."""
        with self.transaction():
            for rid in return_ids:
                row = self.db.execute("SELECT reasons FROM returns WHERE id=?", (rid,)).fetchone()
                reasons = json.loads(row["reasons"]) + [reason]
                self.db.execute(
                    "UPDATE returns SET state=?, reasons=? WHERE id=?",
                    (ReturnState.CONFLICT, json.dumps(reasons, ensure_ascii=False), rid),
                )

    def returns(self, candidate: str | None = None) -> list[ReturnRow]:
        """Returns in import order, with their file's details; all, or one candidate's."""
        sql = (
            "SELECT r.*, f.original_name, f.origin, f.stored_path, f.received_at FROM returns r "
            "JOIN files f ON f.sha256 = r.sha256"
        )
        args: tuple[str, ...] = ()
        if candidate is not None:
            sql += " WHERE r.candidate = ?"
            args = (candidate,)
        rows = self.db.execute(sql + " ORDER BY r.id", args).fetchall()
        return [_return_row(r) for r in rows]


def _inserted_id(cursor: sqlite3.Cursor) -> int:
    """The row id of the row an INSERT just added (sqlite3 types it optional: it is ``None`` before
    any INSERT)."""
    if cursor.lastrowid is None:
        raise sqlite3.InterfaceError("no row id after an INSERT")
    return cursor.lastrowid


def _return_row(r: sqlite3.Row) -> ReturnRow:
    return ReturnRow(
        r["id"],
        r["sha256"],
        r["candidate"],
        r["batch"],
        r["imported_at"],
        ReturnState(r["state"]),
        r["proposed_mark"],
        r["final_mark"],
        json.loads(r["missing"]),
        json.loads(r["reasons"]),
        json.loads(r["warnings"]),
        bool(r["modified"]),
        bool(r["accepted_modified"]),
        json.loads(r["levels"]),
        r["original_name"],
        r["origin"],
        r["stored_path"],
        r["received_at"],
    )


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        # Nested inside another transaction: join it (all or nothing with the outer one).
        self.outer = not self.db.in_transaction
        if self.outer:
            self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> Literal[False]:
        if self.outer:
            self.db.execute("ROLLBACK" if exc_type else "COMMIT")
        return False
