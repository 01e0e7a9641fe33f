"""Workbooks already in teachers' hands keep working: a campaign made by e2docs 0.1.0.

``tests/data/cases/campagne-0.1`` is ``../shared/cases/campagne-0.1`` (``new`` on the
demo roster then ``generate``, by 0.1.0) and ``retours-0.1`` the 8 returns typed into
its workbooks by LibreOffice Calc (fr-FR): 7 complete, HOARAU incomplete.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from e2docs.app.campaign import LEDGER, open_campaign
from e2docs.app.collect import collect
from e2docs.app.ledger import SCHEMA_VERSION
from e2docs.app.status import candidate_statuses
from e2docs.formats.xlsx.reader import read_workbook
from tests.helpers import DATA, PROJECT

CASES = DATA / "cases"


@pytest.fixture
def campaign(tmp_path):
    root = tmp_path / "campagne-0.1"
    shutil.copytree(CASES / "campagne-0.1", root)
    return open_campaign(root)


@pytest.mark.parametrize("path", sorted((CASES / "campagne-0.1" / "envoi").glob("*.xlsx")), ids=lambda p: p.stem)
def test_workbook_generated_by_0_1_reads_back_unmodified(campaign, path):
    grid = campaign.grid()
    (reading,) = read_workbook(path, {grid.content_hash: grid}, secret=campaign.secret)
    assert reading.signature_ok
    assert reading.modified == [] and reading.errors == [] and reading.warnings == []
    assert path.stem.endswith(reading.candidate.number)
    assert reading.outcome.proposed_mark is None and not reading.outcome.complete


def test_returns_of_a_0_1_campaign_are_collected(campaign):
    returns = sorted((CASES / "retours-0.1").glob("*.xlsx"))
    report = collect(campaign, returns)
    states = {o.origin.rsplit("/", 1)[-1].split("_")[0]: o.state for o in report.outcomes}
    assert states.pop("HOARAU") == "incomplete"
    assert set(states.values()) == {"complete"} and len(states) == 7
    assert all(not o.warnings and not o.reasons for o in report.outcomes)


# ------------------------------------------------------------------ the 0.1.0 ledger, migrated forward


def _version(db: Path) -> tuple[int, int]:
    """(user_version, schema_version) of a ledger, read without e2docs."""
    con = sqlite3.connect(db)
    try:
        return con.execute("PRAGMA user_version").fetchone()[0], con.execute("PRAGMA schema_version").fetchone()[0]
    finally:
        con.close()


def _returns_sql(db: Path) -> str:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT sql FROM sqlite_master WHERE name = 'returns'").fetchone()[0]
    finally:
        con.close()


def test_0_1_ledger_is_migrated_once_and_its_returns_collect_as_before(tmp_path):
    root = tmp_path / "campagne-0.1"
    shutil.copytree(CASES / "campagne-0.1", root)
    db = root / LEDGER
    assert _version(db)[0] == 0 and "'conflict'" in _returns_sql(db)

    campaign = open_campaign(root)
    with campaign.writing("collect"), campaign.ledger() as ledger:  # a writing command migrates the file
        assert len(ledger.candidates()) == 12
    version, schema = _version(db)
    assert version == SCHEMA_VERSION and "made_at" in _returns_sql(db) and "'blank'" in _returns_sql(db)
    with campaign.writing("collect"), campaign.ledger():
        pass
    assert _version(db) == (version, schema)  # opened again: not migrated again

    report = collect(campaign, sorted((CASES / "retours-0.1").glob("*.xlsx")))
    assert sorted(str(o.state) for o in report.outcomes) == ["complete"] * 7 + ["incomplete"]
    with campaign.ledger() as ledger:
        statuses = {s.candidate.last_name: s for s in candidate_statuses(ledger)}
    assert statuses["HOARAU"].state == "incomplete" and statuses["BERNARD"].state == "complete"
    assert statuses["BERNARD"].retained.made_at == "2026-11-29T08:00:16+00:00"  # saved by LibreOffice
    assert sum(s.state == "missing" for s in statuses.values()) == 4


def test_0_1_conflict_and_libreoffice_rows_are_migrated(tmp_path):
    """A 0.1.0 ledger holding a conflict (stored then as a state) and a rejection by a missing LibreOffice."""
    root = tmp_path / "campagne-0.1"
    shutil.copytree(CASES / "campagne-0.1", root)
    con = sqlite3.connect(root / LEDGER, isolation_level=None)
    number = con.execute("SELECT number FROM candidates ORDER BY position").fetchone()[0]
    con.execute("INSERT INTO batches VALUES (1, '2026-12-01T10:00:00+01:00', '2026-12-01T10:01:00+01:00')")
    rows = [
        ("a" * 64, number, "conflict", 15.0, 15.0, "[]", '["conflit : 2 retours différents"]'),
        ("b" * 64, number, "conflict", None, None, '["observations"]', '["conflit : 2 retours différents"]'),
        ("c" * 64, None, "rejected", None, None, "[]", '["LibreOffice n\'est pas installé : ouvrez le fichier"]'),
    ]
    for digest, cand, state, proposed, final, missing, reasons in rows:
        con.execute(
            "INSERT INTO files VALUES (?, ?, ?, ?, 10, NULL, NULL, '2026-12-01T10:00:30+01:00', 1)",
            (digest, f"retours/{digest}.xlsx", f"{digest[0]}.xlsx", f"{digest[0]}.xlsx"),
        )
        con.execute(
            "INSERT INTO returns (sha256, candidate, batch, imported_at, state, proposed_mark, final_mark, missing, "
            "reasons) VALUES (?, ?, 1, '2026-12-01T10:00:30+01:00', ?, ?, ?, ?, ?)",
            (digest, cand, state, proposed, final, missing, reasons),
        )
    con.close()

    with open_campaign(root).ledger() as ledger:
        migrated = ledger.returns()
        statuses = {s.candidate.number: s for s in candidate_statuses(ledger)}
        assert not ledger.known_file("c" * 64)  # retried at the next collect
        assert ledger.known_file("a" * 64)
    assert [(r.state, r.retryable) for r in migrated] == [
        ("complete", False),
        ("incomplete", False),
        ("rejected", True),
    ]
    status = statuses[number]
    assert status.state == "rejected" and {r.sha256[0] for r in status.conflict} == {"a", "b"}  # still a conflict


def test_migration_killed_midway_leaves_the_0_1_ledger_as_it_was(tmp_path):
    root = tmp_path / "campagne-0.1"
    shutil.copytree(CASES / "campagne-0.1", root)
    db = root / LEDGER
    before = _version(db)
    script = (
        "import os, signal, sqlite3, sys\n"
        "from pathlib import Path\n"
        "from e2docs.app.ledger import open_schema\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('PRAGMA journal_mode = WAL')\n"
        "def trace(sql):\n"
        "    if sql.startswith('DROP TABLE returns'):\n"
        "        os.kill(os.getpid(), getattr(signal, 'SIGKILL', signal.SIGTERM))\n"
        "db.set_trace_callback(trace)\n"
        "open_schema(db, Path(sys.argv[1]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, str(db)], cwd=PROJECT, capture_output=True, timeout=60)
    assert proc.returncode != 0, proc.stderr  # killed inside the migration's transaction

    assert _version(db) == before and "'conflict'" in _returns_sql(db)  # nothing of it was kept
    campaign = open_campaign(root)
    with campaign.writing("collect"), campaign.ledger() as ledger:  # migrated in full now
        assert len(ledger.candidates()) == 12 and ledger.keeps() == {}
    assert _version(db)[0] == SCHEMA_VERSION


def test_status_reads_a_0_1_campaign_without_writing_its_ledger(tmp_path):
    """A read-only command on a campaign made by 0.1.0: the ledger is read as migrated, the file untouched."""
    import hashlib

    from click.testing import CliRunner

    from e2docs.cli import main

    root = tmp_path / "campagne-0.1"
    shutil.copytree(CASES / "campagne-0.1", root)
    ledger = root / "registre.sqlite"
    before = hashlib.sha256(ledger.read_bytes()).hexdigest()
    result = CliRunner().invoke(main, ["-C", str(root), "status", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["totals"]["missing"] == 12
    assert hashlib.sha256(ledger.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in root.iterdir() if p.name.startswith("registre")) == ["registre.sqlite"]
