"""The command line under system faults and signals: French messages, exit codes that say what was recorded."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from e2docs.cli import main
from tests.app.test_collect import Setup, new_campaign, number, write_roster
from tests.helpers import PROJECT


def test_new_where_a_folder_cannot_be_made_says_so_in_french(tmp_path):
    roster = write_roster(tmp_path / "liste.csv", 1)
    blocker = tmp_path / "fichier"
    blocker.write_text("pas un dossier")

    result = CliRunner().invoke(main, ["new", str(blocker / "campagne"), "--roster", str(roster)])

    assert result.exit_code == 2, result.output
    assert "création de la campagne impossible : un élément du chemin n'est pas un dossier." in result.output
    assert "Erreur inattendue" not in result.output
    assert blocker.read_text() == "pas un dossier"


@pytest.mark.skipif(os.name == "nt", reason="SIGTERM: POSIX")
def test_collect_terminated_exits_143_and_a_rerun_completes_it(tmp_path):
    count = 40
    setup = Setup(new_campaign(tmp_path, count), tmp_path / "arrivees")
    folder = setup.inbox / "lot"
    for i in range(count):
        setup.make(number(i), f"retour-{i:02d}.xlsx", folder=folder)
    ledger = setup.root / "registre.sqlite"

    def recorded() -> int:
        with sqlite3.connect(ledger) as db:
            return db.execute("SELECT COUNT(*) FROM returns").fetchone()[0]

    proc = subprocess.Popen(
        [sys.executable, "-m", "e2docs", "-C", str(setup.root), "collect", str(folder)],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while recorded() < 3:
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)

    assert proc.returncode == 143
    assert not (setup.root / ".verrou.json").exists()  # ended in order: its lock note removed
    assert not [p for p in (setup.root / "retours").iterdir() if p.name.startswith(".")]
    assert 3 <= recorded() < count

    result = setup.collect(folder)

    assert result.exit_code == 0, result.output
    rows = [r.candidate for r in setup.returns()]
    assert sorted(rows) == [number(i) for i in range(count)]  # each exactly once
