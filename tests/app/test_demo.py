"""``e2docs demo`` replaces only its own demo campaign, and a demo killed at any point leaves the
previous demo campaign or the new one (the whole pipeline is tested in tests/cli/test_cli.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from e2docs.app.demo import DEMO_ID, is_demo_campaign
from e2docs.cli import main
from tests.helpers import PROJECT


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path → bytes)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def dead_pid() -> int:
    """The id of a process that has ended."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


@pytest.fixture(scope="module")
def demo_made(tmp_path_factory) -> Path:
    """A demo campaign, made once; tests copy it."""
    base = tmp_path_factory.mktemp("demo")
    assert run("demo", str(base)).exit_code == 0
    return base / "campagne-demo"


def test_demo_refuses_a_real_campaign_and_touches_nothing(tmp_path):
    root = tmp_path / "campagne-demo"
    made = run("new", str(root), "--roster", str(PROJECT / "samples" / "classe-demo.csv"))
    assert made.exit_code == 0, made.output
    assert run("-C", str(root), "generate").exit_code == 0
    before = snapshot(tmp_path)
    assert ".secret" in {Path(k).name for k in before}
    result = run("demo", str(tmp_path))
    assert result.exit_code == 2
    assert "n'est pas celle de la démonstration : rien n'a été touché" in result.output
    assert "e2docs demo AUTRE-DOSSIER" in result.output
    assert snapshot(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["campagne-demo"]


def test_demo_refuses_a_campaign_whose_settings_cannot_be_read(tmp_path, demo_made):
    root = tmp_path / "campagne-demo"
    shutil.copytree(demo_made, root)
    (root / "e2docs.toml").write_text('id = "demo0000000000000000000000000000"\nsession = \n', encoding="utf-8")
    before = snapshot(tmp_path)
    assert run("demo", str(tmp_path)).exit_code == 2
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("kind", ["folder", "file"])
def test_demo_refuses_anything_else_at_its_place(tmp_path, kind):
    root = tmp_path / "campagne-demo"
    if kind == "folder":
        root.mkdir()
        (root / "notes.txt").write_text("à garder", encoding="utf-8")
    else:
        root.write_text("à garder", encoding="utf-8")
    before = snapshot(tmp_path)
    result = run("demo", str(tmp_path))
    assert result.exit_code == 2
    assert "n'est pas une campagne de démonstration : rien n'a été touché" in result.output
    assert snapshot(tmp_path) == before


def test_demo_replaces_its_own_campaign(tmp_path, demo_made, monkeypatch):
    root = tmp_path / "campagne-demo"
    shutil.copytree(demo_made, root)
    (root / "rapports" / "trace.txt").write_text("ancienne démonstration", encoding="utf-8")
    monkeypatch.chdir(tmp_path.parent)  # a folder given relative to the current one
    result = run("demo", tmp_path.name)
    assert result.exit_code == 0, result.output
    assert not (root / "rapports" / "trace.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["campagne-demo"]  # nothing left beside
    assert is_demo_campaign(root)
    assert len(list((root / "rapports").glob("*.docx"))) == 17
    # the paths the demo prints are those of the campaign in place, not of the one built beside
    shown = Path(tmp_path.name) / "campagne-demo" / "synthese.xlsx"
    assert f"5. Synthèse établissement : {shown}" in result.output
    assert ".campagne-demo.nouvelle" not in result.output


def test_leftovers_of_a_killed_demo_are_removed_but_nothing_else(tmp_path, demo_made):
    dead = dead_pid()
    for name in (f".campagne-demo.nouvelle-{dead}", f".campagne-demo.ancienne-{dead}"):
        shutil.copytree(demo_made, tmp_path / name)
    creating = tmp_path / f"..campagne-demo.nouvelle-{dead}.creation-{dead}"
    (creating / "liste").mkdir(parents=True)
    running = tmp_path / f".campagne-demo.nouvelle-{os.getppid()}"  # our parent process runs
    shutil.copytree(demo_made, running)
    real = tmp_path / f".campagne-demo.ancienne-{dead + 1}"  # the name, but not a demo campaign
    shutil.copytree(demo_made, real)
    settings = (real / "e2docs.toml").read_text(encoding="utf-8").replace(DEMO_ID, "f" * 32)
    (real / "e2docs.toml").write_text(settings, encoding="utf-8")
    assert run("demo", str(tmp_path)).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["campagne-demo", running.name, real.name])


def test_demo_killed_at_any_point_then_run_again_ends_as_one_run(tmp_path, demo_made):
    root = tmp_path / "campagne-demo"
    shutil.copytree(demo_made, root)
    command = [sys.executable, "-m", "e2docs", "demo", str(tmp_path)]
    for delay in (2.0, 5.0, 8.0):  # seconds: while building the new campaign, its reports, the swap
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.kill()  # SIGKILL: no clean-up runs
        proc.wait()
        # the previous demo campaign or the new one, whole (or, for an instant between two renames, none)
        if root.exists():
            assert is_demo_campaign(root)
            assert len(list((root / "rapports").glob("*.docx"))) == 17, delay
    result = run("demo", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["campagne-demo"]
    status = json.loads(run("-C", str(root), "status", "--json").output)
    assert status["totals"] == {"missing": 3, "incomplete": 1, "complete": 7, "rejected": 1, "review": 0}
    assert len(list((root / "rapports").glob("*.docx"))) == 17
