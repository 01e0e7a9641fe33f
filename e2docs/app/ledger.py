"""The campaign ledger: an SQLite file that remembers what was sent and what came back.

Every write is a transaction, so a ``collect`` killed half-way leaves the ledger as
it was before the file being processed; running it again completes the work.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from e2docs.formats import processes
from e2docs.model.candidate import Candidate
from e2docs.model.errors import E2docsError
from e2docs.model.examiner import Examiner
from e2docs.model.states import ReturnState

SCHEMA_VERSION = 4
"""The ledger's schema version, kept in ``PRAGMA user_version``: 0 is the schema of e2docs 0.1.0
(:data:`SCHEMA_0_1`), 1 that of undo and keep, 2 that of examiners and messages, 3 that of replies
linked to the messages sent and messages read from IMAP folders, 4 the current one (:data:`SCHEMA`:
the evaluations read by ``collect``, kept for ``report``). An older
ledger is migrated forward when opened, in one transaction (a migration killed midway leaves the
old ledger intact)."""

_RETURNS = """
CREATE TABLE {name} (
    id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL REFERENCES files(sha256),
    candidate TEXT REFERENCES candidates(number), batch INTEGER NOT NULL REFERENCES batches(id),
    imported_at TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('complete', 'incomplete', 'rejected', 'blank')),
    proposed_mark REAL, final_mark REAL, missing TEXT NOT NULL DEFAULT '[]',
    reasons TEXT NOT NULL DEFAULT '[]', warnings TEXT NOT NULL DEFAULT '[]',
    modified INTEGER NOT NULL DEFAULT 0, accepted_modified INTEGER NOT NULL DEFAULT 0,
    levels TEXT NOT NULL DEFAULT '{{}}', made_at TEXT, retryable INTEGER NOT NULL DEFAULT 0
)"""

_COMMON = """
CREATE INDEX returns_candidate ON returns(candidate, id);
CREATE INDEX returns_file ON returns(sha256, id);
CREATE TABLE keeps (
    id INTEGER PRIMARY KEY, candidate TEXT NOT NULL REFERENCES candidates(number),
    return_id INTEGER REFERENCES returns(id), decided_at TEXT NOT NULL
);
"""

_EXAMINERS = """
CREATE TABLE examiners (
    email TEXT PRIMARY KEY COLLATE NOCASE, name TEXT NOT NULL, position INTEGER NOT NULL
);
CREATE TABLE assignments (
    candidate TEXT PRIMARY KEY REFERENCES candidates(number),
    examiner TEXT NOT NULL REFERENCES examiners(email), line INTEGER
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY, message_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('send', 'remind')),
    examiner TEXT NOT NULL COLLATE NOCASE, examiner_name TEXT NOT NULL,
    transport TEXT NOT NULL CHECK (transport IN ('draft', 'smtp')),
    status TEXT NOT NULL CHECK (status IN ('drafted', 'sent', 'failed')),
    created_at TEXT NOT NULL, sent_at TEXT, deadline TEXT, subject TEXT NOT NULL,
    candidates TEXT NOT NULL DEFAULT '[]', attachments TEXT NOT NULL DEFAULT '[]',
    draft_path TEXT, error TEXT
);
CREATE INDEX messages_examiner ON messages(examiner, kind, id)
"""

_REPLIES_AND_IMAP = """
ALTER TABLE returns ADD COLUMN reply_to TEXT;
CREATE TABLE imap_messages (
    mailbox TEXT NOT NULL, uidvalidity INTEGER NOT NULL, uid INTEGER NOT NULL,
    batch INTEGER NOT NULL REFERENCES batches(id), processed_at TEXT NOT NULL,
    workbooks INTEGER NOT NULL DEFAULT 0, moved_to TEXT, moved_at TEXT,
    PRIMARY KEY (mailbox, uidvalidity, uid)
)
"""

_EVALUATIONS = """
CREATE TABLE evaluations (
    sha256 TEXT NOT NULL REFERENCES files(sha256), candidate TEXT NOT NULL, reader TEXT NOT NULL,
    record BLOB NOT NULL, seal BLOB NOT NULL, PRIMARY KEY (sha256, candidate)
)
"""

SCHEMA = (
    """
CREATE TABLE candidates (
    number TEXT PRIMARY KEY, last_name TEXT NOT NULL, first_name TEXT NOT NULL,
    division TEXT NOT NULL DEFAULT '', birth_date TEXT NOT NULL DEFAULT '', ine TEXT NOT NULL DEFAULT '',
    specialty TEXT NOT NULL DEFAULT '', position INTEGER NOT NULL
);
CREATE TABLE generated (
    id INTEGER PRIMARY KEY, candidate TEXT NOT NULL REFERENCES candidates(number),
    file_name TEXT NOT NULL, signature TEXT NOT NULL, generated_at TEXT NOT NULL
);
CREATE TABLE batches (
    id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT,
    undone_at TEXT, pid INTEGER, paths TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE files (
    sha256 TEXT PRIMARY KEY, stored_path TEXT NOT NULL, original_name TEXT NOT NULL, origin TEXT NOT NULL,
    size INTEGER NOT NULL, received_at TEXT, sender TEXT, imported_at TEXT NOT NULL,
    batch INTEGER REFERENCES batches(id)
);"""
    + _RETURNS.format(name="returns")
    + ";"
    + _COMMON
    + ";"
    + _EXAMINERS
    + ";"
    + _REPLIES_AND_IMAP
    + ";"
    + _EVALUATIONS
)
"""The current schema (version :data:`SCHEMA_VERSION`), as a new ledger gets it.

* ``batches``: one row per ``collect`` run; ``undone_at`` is set by ``e2docs undo`` (its
  returns stop counting); ``pid`` and ``paths`` (JSON list of the paths given) let a run
  killed midway be resumed by the same command run again.
* ``returns.state``: one of :data:`RECORDED`; ``made_at``: when the return was made (the
  workbook's saved time, else the e-mail's date; ``NULL`` when neither is known);
  ``retryable``: rejected because of this machine (LibreOffice missing, conversion failed
  or too slow): the same file is read again by the next ``collect``.
* ``keeps``: the secretariat's decisions (``e2docs keep``), newest last per candidate;
  ``return_id`` ``NULL`` means "back to the rules" (``--auto``).
* ``returns.reply_to``: the ``Message-ID`` of the message of ``messages`` the e-mail that brought
  the return answered (``NULL``: not a reply to one of them, or not from an e-mail).
* ``imap_messages``: the messages of IMAP folders ``collect --imap`` has processed: ``mailbox``
  (``user@host:port/FOLDER``), the folder's ``uidvalidity`` and the message's ``uid``, the run
  (``batch``), ``workbooks``: how many workbooks it brought; ``moved_to``/``moved_at`` once
  moved by ``--move-to``.
* ``evaluations``: what ``collect`` read of each candidate of an accepted file, for ``report``
  (:mod:`e2docs.formats.evaluation_record`): the ``record`` (compressed JSON), the ``reader`` it is
  valid for (:func:`~e2docs.formats.evaluation_record.reader_key`) and its ``seal`` (HMAC-SHA256 under
  the campaign's secret). Only a cache: a missing, stale or unsealed row means the file is read again.
"""

SCHEMA_0_1 = """
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
"""The schema of e2docs 0.1.0 (``user_version`` 0), for the record and the migration tests."""

TIMEOUT = 30.0
"""Seconds a connection waits for another one's write to end before "database is locked"."""

MIGRATIONS: dict[int, str] = {
    # 0.1.0 → 1: batches can be undone and resumed; returns gain made_at and retryable, lose the
    # stored "conflict" (now derived: a 0.1.0 conflict row becomes the complete or incomplete
    # return it was) and may be blank; the secretariat's keep decisions.
    1: """
ALTER TABLE batches ADD COLUMN undone_at TEXT;
ALTER TABLE batches ADD COLUMN pid INTEGER;
ALTER TABLE batches ADD COLUMN paths TEXT NOT NULL DEFAULT '[]';
"""
    + _RETURNS.format(name="returns_v1")
    + """;
INSERT INTO returns_v1 (id, sha256, candidate, batch, imported_at, state, proposed_mark, final_mark, missing,
    reasons, warnings, modified, accepted_modified, levels, made_at, retryable)
SELECT r.id, r.sha256, r.candidate, r.batch, r.imported_at,
    CASE WHEN r.state = 'conflict' THEN (CASE WHEN r.missing = '[]' THEN 'complete' ELSE 'incomplete' END)
         ELSE r.state END,
    r.proposed_mark, r.final_mark, r.missing, r.reasons, r.warnings, r.modified, r.accepted_modified, r.levels,
    f.received_at,
    CASE WHEN r.state = 'rejected' AND r.candidate IS NULL AND r.reasons LIKE '%LibreOffice%' THEN 1 ELSE 0 END
FROM returns r LEFT JOIN files f ON f.sha256 = r.sha256;
DROP TABLE returns;
ALTER TABLE returns_v1 RENAME TO returns;
"""
    + _COMMON,
    # 1 → 2: examiners, their candidates, the messages prepared for them.
    2: _EXAMINERS,
    # 2 → 3: replies linked to the messages sent; the messages read from IMAP folders.
    3: _REPLIES_AND_IMAP,
    # 3 → 4: the evaluations collect read, kept for report.
    4: _EVALUATIONS,
}
"""Version → the SQL statements that bring a ledger from the version before to it."""

RECORDED = (ReturnState.COMPLETE, ReturnState.INCOMPLETE, ReturnState.REJECTED, ReturnState.BLANK)
"""The states a return may have in the ledger (the CHECK of ``returns.state``)."""


def _statements(script: str) -> list[str]:
    """The statements of a script of :data:`SCHEMA`/:data:`MIGRATIONS` (no ``;`` inside them)."""
    return [part.strip() for part in script.split(";") if part.strip()]


def open_schema(db: sqlite3.Connection, path: Path) -> None:
    """Give the ledger the current schema: create it in a new file, migrate an older one forward.

    All in one ``BEGIN IMMEDIATE`` transaction, the version read again once it is held (two
    processes opening an old ledger at once migrate it once). Raises :class:`E2docsError` for a
    ledger written by a newer e2docs (``user_version`` above :data:`SCHEMA_VERSION`).
    """
    if db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise E2docsError(
                f"registre écrit par une version plus récente d'e2docs (schéma {version}, "
                f"cette version lit jusqu'au schéma {SCHEMA_VERSION}).",
                path,
                hint="Mettez e2docs à jour (python3 -m pip install -U e2docs).",
            )
        if version < SCHEMA_VERSION:
            fresh = db.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'returns'").fetchone()[0] == 0
            if fresh:
                for statement in _statements(SCHEMA):
                    db.execute(statement)
            else:
                for target in range(version + 1, SCHEMA_VERSION + 1):
                    for statement in _statements(MIGRATIONS[target]):
                        db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:  # SQLite may have rolled back already (disk full): keep the first error
            db.execute("ROLLBACK")
        raise


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
    * ``made_at``: when the return was made, ISO date-time — the workbook's saved time, else
      the e-mail's date; ``None`` when neither is known. ``collected_at``: when its
      ``collect`` run started (ISO date-time), the time that orders returns without
      ``made_at``. ``retryable``: rejected because of this machine (LibreOffice), read again
      by the next ``collect``. ``undone``: its ``collect`` run was cancelled (``e2docs
      undo``): it does not count. ``reply_to``: the ``Message-ID`` of the message sent by
      ``send``/``remind`` (:class:`MessageRow`) that the e-mail bringing it answered, ``None``
      when it answered none of them.
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
    made_at: str | None = None
    collected_at: str = ""
    retryable: bool = False
    undone: bool = False
    reply_to: str | None = None


@dataclass(frozen=True)
class BatchRow:
    """One ``collect`` run: ``id``, ``started_at``, ``finished_at`` (``None`` while running, or
    when killed), ``undone_at`` (``None`` unless cancelled by ``e2docs undo``): ISO date-times;
    ``returns``: how many returns it recorded."""

    id: int
    started_at: str
    finished_at: str | None
    undone_at: str | None
    returns: int


@dataclass(frozen=True)
class MessageRow:
    """One message prepared for an examiner (a row of ``messages``, see :data:`SCHEMA`).

    ``message_id``: its ``Message-ID`` header, angle brackets included; ``kind``: ``"send"`` or
    ``"remind"``; ``examiner``, ``examiner_name``: to whom; ``transport``: ``"draft"`` or
    ``"smtp"``; ``status``: ``"drafted"``, ``"sent"`` or ``"failed"``; ``created_at``,
    ``sent_at`` (``None`` unless sent): ISO date-times; ``deadline``: ISO date or ``None``;
    ``candidates``: ``[{"number": …, "state": …}]`` (the state when the message was made);
    ``attachments``: ``[{"name": …, "path": …, "sha256": …}]``; ``draft_path``: the ``.eml``
    written (``None`` for SMTP); ``error``: why the server refused it (French), ``None`` else.
    """

    message_id: str
    kind: str
    examiner: str
    examiner_name: str
    transport: str
    status: str
    created_at: str
    sent_at: str | None
    deadline: str | None
    subject: str
    candidates: list[dict[str, str]]
    attachments: list[dict[str, str]]
    draft_path: str | None = None
    error: str | None = None
    id: int = 0


class Ledger:
    """A connection to the campaign's SQLite ledger (created with its tables if absent).

    ``readonly``: open an existing ledger for reading only — no file is created or
    changed (an older schema is migrated on a copy in memory), a write raises
    :class:`sqlite3.OperationalError`. Raises :class:`sqlite3.Error` when the file
    cannot be opened as a database (``readonly``: also when it does not exist).
    """

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        if readonly:
            self.db = self._connect_readonly()
            if self.db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                # An older ledger (e2docs 0.1.0) read without writing it: migrated on a copy in memory,
                # the file itself is migrated by the next command that writes.
                copy = sqlite3.connect(":memory:", isolation_level=None)
                self.db.backup(copy)
                self.db.close()
                open_schema(copy, self.path)
                self.db = copy
            self.db.row_factory = sqlite3.Row
            return
        self.db = sqlite3.connect(self.path, timeout=TIMEOUT, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA foreign_keys = ON")
        # A rollback journal, not WAL: a reader then creates no file beside the ledger (WAL readers need
        # a -shm file), and the -journal file exists only while a write is being committed.
        self.db.execute("PRAGMA journal_mode = DELETE")
        self.db.execute("PRAGMA synchronous = FULL")
        open_schema(self.db, self.path)

    def _connect_readonly(self) -> sqlite3.Connection:
        """A read-only connection; on a read-only medium (a CD, a locked USB key), where SQLite cannot
        make the ``-shm`` file a WAL ledger needs, an ``immutable`` one: nobody can write there."""
        with contextlib.suppress(OSError), self.path.open("rb") as fh:
            header = fh.read(100)
            wal_mode = header.startswith(b"SQLite format 3\x00") and header[18:20] == b"\x02\x02"
            if wal_mode and not Path(f"{self.path}-wal").exists():
                # A WAL ledger (e2docs 0.1.0) with nothing pending: opening it would create -wal and
                # -shm files beside it, so it is read from a copy in memory, marked as a rollback-journal
                # database (file header bytes 18-19, "file format versions": 1 legacy, 2 WAL).
                data = bytearray(header + fh.read())
                data[18:20] = b"\x01\x01"
                memory = sqlite3.connect(":memory:", isolation_level=None)
                memory.deserialize(bytes(data))
                return memory
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
        return [c for batch in self.candidate_batches() for c in batch]

    def candidate_batches(self, size: int = 500) -> Iterator[list[Candidate]]:
        """The roster in its order (:meth:`candidates`), ``size`` candidates at a time, each batch read
        from the file when asked for: a run over a whole académie does not hold its roster twice. No
        statement stays open between batches (the ledger is not locked meanwhile)."""
        after: tuple[int, int] = (-(2**63), -(2**63))  # (position, rowid) of the last candidate given
        while True:
            rows = self.db.execute(
                "SELECT rowid AS rid, * FROM candidates WHERE (position, rowid) > (?, ?) "
                "ORDER BY position, rowid LIMIT ?",
                (*after, size),
            ).fetchall()
            if not rows:
                return
            yield [_candidate(r) for r in rows]
            after = (rows[-1]["position"], rows[-1]["rid"])

    def candidate_count(self) -> int:
        """How many candidates the roster has."""
        count: int = self.db.execute("SELECT COUNT(*) FROM candidates").fetchone()[0]
        return count

    def divisions(self) -> list[str]:
        """The roster's divisions (classes), sorted, without the empty one."""
        rows = self.db.execute("SELECT DISTINCT division FROM candidates WHERE division != ''").fetchall()
        return sorted(r[0] for r in rows)

    def record_generated(self, rows: Iterable[tuple[str, str, str, str]]) -> None:
        """(candidate, file name, signature, time) for each workbook written, in one transaction (``rows``
        is read once, as it goes: a whole académie's are not held)."""
        with self.transaction():
            self.db.executemany(
                "INSERT INTO generated (candidate, file_name, signature, generated_at) VALUES (?,?,?,?)", rows
            )

    def generated(self) -> dict[str, sqlite3.Row]:
        """Candidate number → the latest ``generated`` row for it (``file_name``, ``signature``,
        ``generated_at``)."""
        rows = self.db.execute("SELECT * FROM generated ORDER BY id").fetchall()
        return {r["candidate"]: r for r in rows}

    # --- returns

    def new_batch(self, when: str, paths: Sequence[str] = ()) -> int:
        """Start a ``collect`` run at ``when`` (ISO date-time) on ``paths`` (as given); return its id.

        The same command run again after a run killed midway resumes that run (same id, same
        start time) instead of starting a new one: its latest run is unfinished, not undone,
        on the same paths, and its process is gone. An interrupted run and its re-run are then
        one run, exactly as if it had not been interrupted.
        """
        text = json.dumps(list(paths), ensure_ascii=False)
        with self.transaction():
            last = self.db.execute(
                "SELECT id, pid, paths FROM batches WHERE finished_at IS NULL AND undone_at IS NULL "
                "AND id = (SELECT MAX(id) FROM batches)"
            ).fetchone()
            if (
                last is not None
                and last["paths"] == text
                and last["pid"] is not None
                and last["pid"] != os.getpid()
                and not processes.alive(last["pid"])
            ):
                self.db.execute("UPDATE batches SET pid=? WHERE id=?", (os.getpid(), last["id"]))
                return int(last["id"])
            return _inserted_id(
                self.db.execute(
                    "INSERT INTO batches (started_at, pid, paths) VALUES (?,?,?)", (when, os.getpid(), text)
                )
            )

    def finish_batch(self, batch: int, when: str) -> None:
        """Mark the run ``batch`` as finished at ``when`` (ISO date-time)."""
        with self.transaction():
            self.db.execute("UPDATE batches SET finished_at=? WHERE id=?", (when, batch))

    def batches(self) -> list[BatchRow]:
        """Every ``collect`` run, oldest first."""
        rows = self.db.execute(
            "SELECT b.*, (SELECT COUNT(*) FROM returns r WHERE r.batch = b.id) AS n FROM batches b ORDER BY b.id"
        ).fetchall()
        return [BatchRow(r["id"], r["started_at"], r["finished_at"], r["undone_at"], r["n"]) for r in rows]

    def undo_last_batch(self, when: str) -> BatchRow | None:
        """Cancel the latest ``collect`` run not yet cancelled, at ``when`` (ISO date-time): its
        returns stop counting and its files may be collected again; the archived files stay.
        Returns the run as it was before, ``None`` when there is none to cancel."""
        with self.transaction():
            row = self.db.execute(
                "SELECT b.*, (SELECT COUNT(*) FROM returns r WHERE r.batch = b.id) AS n FROM batches b "
                "WHERE undone_at IS NULL ORDER BY id DESC LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            self.db.execute("UPDATE batches SET undone_at=? WHERE id=?", (when, row["id"]))
            return BatchRow(row["id"], row["started_at"], row["finished_at"], row["undone_at"], row["n"])

    def known_file(self, sha256: str, *, accept_modified: bool = False) -> bool:
        """True when this exact file was already recorded and need not be read again.

        Not known: a file whose records are all in cancelled runs (``e2docs undo``); a file
        whose latest record is a rejection caused by this machine (``retryable``); a file
        rejected for changes outside the input cells, when the user now accepts such changes
        (``accept_modified``).
        """
        rows = self.db.execute(
            "SELECT r.state, r.candidate, r.modified, r.accepted_modified, r.retryable FROM returns r "
            "JOIN batches b ON b.id = r.batch WHERE r.sha256 = ? AND b.undone_at IS NULL ORDER BY r.id",
            (sha256,),
        ).fetchall()
        if not rows:
            return False
        if rows[-1]["retryable"]:
            return False
        if accept_modified:
            latest = {r["candidate"]: r for r in rows}  # per candidate of the workbook
            return not any(
                r["state"] == ReturnState.REJECTED and r["modified"] and not r["accepted_modified"]
                for r in latest.values()
            )
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
        made_at: str | None = None,
        retryable: bool = False,
        reply_to: str | None = None,
    ) -> int:
        """Record a file (once per ``sha256``) and its return in one transaction; return the return's id.

        The arguments are the fields of :class:`ReturnRow` (``proposed``, ``final``: its marks
        out of 20; ``when``: its ``imported_at``) plus the file's ``size`` in bytes and
        ``sender`` (the e-mail's From header, ``None`` when not from an e-mail). ``state`` is
        one of :data:`RECORDED`. A file already recorded (in a cancelled run, or retried)
        keeps its first ``files`` row.
        """
        with self.transaction():
            self.db.execute(
                "INSERT OR IGNORE INTO files VALUES (?,?,?,?,?,?,?,?,?)",
                (sha256, stored_path, original_name, origin, size, received_at, sender, when, batch),
            )
            cursor = self.db.execute(
                "INSERT INTO returns (sha256, candidate, batch, imported_at, state, proposed_mark, final_mark, "
                "missing, reasons, warnings, modified, accepted_modified, levels, made_at, retryable, reply_to) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
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
                    made_at,
                    int(retryable),
                    reply_to,
                ),
            )
            return _inserted_id(cursor)

    # --- the secretariat's decisions

    def record_keep(self, candidate: str, return_id: int | None, when: str) -> None:
        """Make ``return_id`` the candidate's retained return from now on (``None``: back to the rules)."""
        with self.transaction():
            self.db.execute(
                "INSERT INTO keeps (candidate, return_id, decided_at) VALUES (?,?,?)", (candidate, return_id, when)
            )

    def keeps(self) -> dict[str, int]:
        """Candidate number → the return the secretariat keeps (its latest decision, when not ``--auto``)."""
        rows = self.db.execute("SELECT candidate, return_id FROM keeps ORDER BY id").fetchall()
        latest = {r["candidate"]: r["return_id"] for r in rows}
        return {number: rid for number, rid in latest.items() if rid is not None}

    # --- examiners and messages

    def set_assignment(self, examiners: Sequence[Examiner], assignment: Mapping[str, tuple[str, int | None]]) -> None:
        """Replace the whole assignment, in one transaction: ``examiners`` in the file's order,
        ``assignment``: candidate number → (examiner's address, line of the file that assigned it)."""
        with self.transaction():
            self.db.execute("DELETE FROM assignments")
            self.db.execute("DELETE FROM examiners")
            self.db.executemany(
                "INSERT INTO examiners (email, name, position) VALUES (?,?,?)",
                [(e.email, e.name, i) for i, e in enumerate(examiners)],
            )
            self.db.executemany(
                "INSERT INTO assignments (candidate, examiner, line) VALUES (?,?,?)",
                [(number, email, line) for number, (email, line) in assignment.items()],
            )

    def examiners(self) -> list[Examiner]:
        """The examiners of the current assignment, in the order of its file; ``[]`` before ``assign``."""
        rows = self.db.execute("SELECT name, email FROM examiners ORDER BY position").fetchall()
        return [Examiner(r["name"], r["email"]) for r in rows]

    def assignment(self, candidates: Sequence[str] | None = None) -> dict[str, Examiner]:
        """Candidate number → its examiner (candidates without one are left out); all, or those of
        ``candidates`` (numbers)."""
        sql = "SELECT a.candidate, e.name, e.email FROM assignments a JOIN examiners e ON e.email = a.examiner"
        rows = self.db.execute(*_among(sql, "a.candidate", candidates)).fetchall()
        return {r["candidate"]: Examiner(r["name"], r["email"]) for r in rows}

    def record_message(self, message: MessageRow) -> int:
        """Record a message prepared for an examiner (``id`` ignored); return its row id."""
        with self.transaction():
            return _inserted_id(
                self.db.execute(
                    "INSERT INTO messages (message_id, kind, examiner, examiner_name, transport, status, created_at, "
                    "sent_at, deadline, subject, candidates, attachments, draft_path, error) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        message.message_id,
                        message.kind,
                        message.examiner,
                        message.examiner_name,
                        message.transport,
                        message.status,
                        message.created_at,
                        message.sent_at,
                        message.deadline,
                        message.subject,
                        json.dumps(message.candidates, ensure_ascii=False),
                        json.dumps(message.attachments, ensure_ascii=False),
                        message.draft_path,
                        message.error,
                    ),
                )
            )

    def messages(self, examiner: str | None = None) -> list[MessageRow]:
        """Messages recorded, oldest first: all, or those for the address ``examiner`` (without case)."""
        sql = "SELECT * FROM messages"
        args: tuple[str, ...] = ()
        if examiner is not None:
            sql, args = sql + " WHERE examiner = ? COLLATE NOCASE", (examiner,)
        rows = self.db.execute(sql + " ORDER BY id", args).fetchall()
        return [
            MessageRow(
                r["message_id"],
                r["kind"],
                r["examiner"],
                r["examiner_name"],
                r["transport"],
                r["status"],
                r["created_at"],
                r["sent_at"],
                r["deadline"],
                r["subject"],
                json.loads(r["candidates"]),
                json.loads(r["attachments"]),
                r["draft_path"],
                r["error"],
                r["id"],
            )
            for r in rows
        ]

    def replied(self, message_ids: Sequence[str]) -> MessageRow | None:
        """The first of ``message_ids`` (a reply's In-Reply-To, then References) that is a message
        recorded as drafted or sent, ``None`` when there is none."""
        for message_id in message_ids:
            row = self.db.execute(
                "SELECT id FROM messages WHERE message_id = ? AND status IN ('drafted', 'sent')", (message_id,)
            ).fetchone()
            if row is not None:
                return next(m for m in self.messages() if m.id == row["id"])
        return None

    # --- IMAP folders

    def imap_processed(self, mailbox: str, uidvalidity: int) -> dict[int, tuple[int, str | None]]:
        """UID → (workbooks it brought, folder it was moved to or ``None``) for the messages of the IMAP
        folder ``mailbox`` (:attr:`~e2docs.formats.imap.ImapUrl.mailbox`) already processed, under
        this ``uidvalidity`` (another one: ``{}``, every message is new again), runs cancelled
        by ``e2docs undo`` left out."""
        rows = self.db.execute(
            "SELECT i.uid, i.workbooks, i.moved_to FROM imap_messages i JOIN batches b ON b.id = i.batch "
            "WHERE i.mailbox = ? AND i.uidvalidity = ? AND b.undone_at IS NULL",
            (mailbox, uidvalidity),
        ).fetchall()
        return {r["uid"]: (r["workbooks"], r["moved_to"]) for r in rows}

    def record_imap(self, mailbox: str, uidvalidity: int, uid: int, batch: int, when: str, workbooks: int) -> None:
        """Remember that the message ``uid`` of ``mailbox`` was processed by the run ``batch`` at
        ``when`` (ISO date-time), bringing ``workbooks`` workbooks (a re-run replaces the record of a
        cancelled run)."""
        with self.transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO imap_messages (mailbox, uidvalidity, uid, batch, processed_at, workbooks) "
                "VALUES (?,?,?,?,?,?)",
                (mailbox, uidvalidity, uid, batch, when, workbooks),
            )

    def record_imap_moved(self, mailbox: str, uidvalidity: int, uids: Sequence[int], target: str, when: str) -> None:
        """Remember that the messages ``uids`` of ``mailbox`` were moved to the folder ``target`` at ``when``."""
        with self.transaction():
            self.db.executemany(
                "UPDATE imap_messages SET moved_to = ?, moved_at = ? WHERE mailbox = ? AND uidvalidity = ? AND uid = ?",
                [(target, when, mailbox, uidvalidity, uid) for uid in uids],
            )

    def record_evaluation(self, sha256: str, candidate: str, reader: str, record: bytes, seal: bytes) -> None:
        """Keep what ``collect`` read of ``candidate`` in the file ``sha256`` (recorded in ``files`` first):
        ``record`` valid for ``reader``, sealed by ``seal`` (:mod:`e2docs.formats.evaluation_record`).
        A row already there for the same file and candidate is replaced."""
        with self.transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO evaluations (sha256, candidate, reader, record, seal) VALUES (?,?,?,?,?)",
                (sha256, candidate, reader, record, seal),
            )

    def evaluation(self, reader: str, sha256: str, candidate: str) -> tuple[bytes, bytes] | None:
        """The record kept for ``reader`` of ``candidate`` in the file ``sha256``: (record, seal);
        ``None`` when none is (or a row edited by hand, as :meth:`evaluations` leaves out)."""
        row = self.db.execute(
            "SELECT record, seal FROM evaluations WHERE sha256 = ? AND candidate = ? AND reader = ?",
            (sha256, candidate, reader),
        ).fetchone()
        if row is None or not isinstance(row[0], bytes) or not isinstance(row[1], bytes):
            return None
        return row[0], row[1]

    def evaluations(self, reader: str) -> dict[tuple[str, str], tuple[bytes, bytes]]:
        """The records kept for ``reader``: (file's sha256, candidate number) → (record, seal)."""
        rows = self.db.execute("SELECT sha256, candidate, record, seal FROM evaluations WHERE reader = ?", (reader,))
        # a row edited by hand into text is left out, as a broken seal would be: the file is read again
        return {(r[0], r[1]): (r[2], r[3]) for r in rows if isinstance(r[2], bytes) and isinstance(r[3], bytes)}

    def returns(self, candidate: str | None = None, *, candidates: Sequence[str] | None = None) -> list[ReturnRow]:
        """Returns in import order, with their file's and run's details; all, one ``candidate``'s, or
        those of ``candidates`` (numbers) (cancelled ones included: see :attr:`ReturnRow.undone`)."""
        sql = (
            "SELECT r.*, f.original_name, f.origin, f.stored_path, f.received_at, b.started_at AS collected_at, "
            "b.undone_at FROM returns r JOIN files f ON f.sha256 = r.sha256 JOIN batches b ON b.id = r.batch"
        )
        if candidate is not None:
            candidates = [candidate]
        query, args = _among(sql, "r.candidate", candidates)
        rows = self.db.execute(query + " ORDER BY r.id", args).fetchall()
        return [_return_row(r) for r in rows]


def _among(sql: str, column: str, values: Sequence[str] | None) -> tuple[str, tuple[str, ...]]:
    """``sql`` (a SELECT without WHERE) limited to the rows whose ``column`` is one of ``values``
    (``None``: all rows), and its parameters."""
    if values is None:
        return sql, ()
    return f"{sql} WHERE {column} IN ({','.join('?' * len(values))})", tuple(values)


def _candidate(r: sqlite3.Row) -> Candidate:
    import datetime as dt

    birth = dt.date.fromisoformat(r["birth_date"]) if r["birth_date"] else None
    return Candidate(r["number"], r["last_name"], r["first_name"], r["division"], birth, r["ine"], r["specialty"])


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
        r["made_at"],
        r["collected_at"],
        bool(r["retryable"]),
        r["undone_at"] is not None,
        r["reply_to"],
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
            if not exc_type:
                self.db.execute("COMMIT")
            elif self.db.in_transaction:  # SQLite may have rolled back already (disk full): keep the first error
                self.db.execute("ROLLBACK")
        return False
