"""Every command that takes a path opens only regular files, up to a cap: a directory, a named pipe,
/dev/zero or a huge sparse file is refused at once, in French, naming the file (exit 2; ``inspect``
reports it as an unreadable file, exit 1, as for any file it cannot read)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.app.test_collect import new_campaign, write_roster
from tests.helpers import PROJECT

KINDS = ["dossier", "tube", "peripherique", "enorme"]


def special(kind: str, path: Path) -> Path:
    """A path of ``kind`` at ``path``; skips where the system has no such thing."""
    if kind == "dossier":
        path.mkdir()
    elif kind == "tube":
        if not hasattr(os, "mkfifo"):
            pytest.skip("named pipes: POSIX")
        os.mkfifo(path)
    elif kind == "peripherique":  # a link to /dev/zero, so that it can stand where a file is looked for
        if not Path("/dev/zero").exists():
            pytest.skip("/dev/zero: POSIX")
        path.symlink_to("/dev/zero")
    else:
        with open(path, "wb") as fh:
            fh.truncate(8 * 2**30)  # 8 GB announced, nothing on disk
    return path


def expected_message(kind: str) -> str:
    return {
        "dossier": "c'est un dossier, pas un fichier ordinaire.",
        "tube": "ce n'est pas un fichier ordinaire (tube nommé).",
        "peripherique": "ce n'est pas un fichier ordinaire (périphérique).",
        "enorme": "trop volumineux (8 192 Mo ;",
    }[kind]


def e2docs(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run e2docs in a process of its own: a command blocked on a pipe fails the test instead of hanging it."""
    try:
        return subprocess.run(
            [sys.executable, "-m", "e2docs", *map(str, args)],
            cwd=PROJECT,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONPATH": str(PROJECT)},
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"e2docs {' '.join(map(str, args))} blocked")


def refused(done: subprocess.CompletedProcess[str], path: Path, kind: str, code: int = 2) -> None:
    assert done.returncode == code, done.stdout + done.stderr
    out = done.stdout + done.stderr
    assert str(path) in out and expected_message(kind) in out, out
    assert "Traceback" not in out and "Erreur inattendue" not in out


@pytest.mark.parametrize("kind", KINDS)
def test_new_roster(tmp_path, kind):
    roster = special(kind, tmp_path / "liste.csv")
    done = e2docs("new", tmp_path / "campagne", "--roster", roster)
    if kind == "dossier":  # click refuses it before e2docs sees it (dir_okay=False)
        assert done.returncode == 2 and "liste.csv" in done.stderr
    else:
        refused(done, roster, kind)
        assert "fichier de la liste des candidats" in done.stderr
    assert not (tmp_path / "campagne").exists()


@pytest.mark.parametrize("kind", ["tube", "peripherique", "enorme"])
def test_generate_roster(tmp_path, kind):
    roster = special(kind, tmp_path / "liste.csv")
    refused(e2docs("generate", roster, "-o", tmp_path / "sortie"), roster, kind)
    assert not any((tmp_path / "sortie").glob("*.xlsx"))


@pytest.mark.parametrize("kind", ["tube", "peripherique", "enorme"])
@pytest.mark.parametrize("command", ["new", "generate", "inspect"])
def test_grid_option(tmp_path, kind, command):
    grid = special(kind, tmp_path / "grille.toml")
    roster = write_roster(tmp_path / "liste.csv", 2)
    args: dict[str, list[str | Path]] = {
        "new": ["new", tmp_path / "campagne", "--roster", roster, "--grid", grid],
        "generate": ["generate", roster, "-o", tmp_path / "sortie", "--grid", grid],
        "inspect": ["inspect", roster, "--grid", grid],
    }
    done = e2docs(*args[command])
    refused(done, grid, kind)
    assert "fichier de grille" in done.stderr


def test_check_template_on_dev_zero_itself():
    done = e2docs("check-template", "/dev/zero") if Path("/dev/zero").exists() else pytest.skip("POSIX")
    refused(done, Path("/dev/zero"), "peripherique")


@pytest.mark.parametrize("kind", ["tube", "peripherique", "enorme"])
def test_check_template(tmp_path, kind):
    template = special(kind, tmp_path / "modele.docx")
    done = e2docs("check-template", template)
    refused(done, template, kind)
    assert "modèle Word" in done.stderr


@pytest.mark.parametrize("kind", KINDS)
def test_inspect(tmp_path, kind):
    book = special(kind, tmp_path / "retour.xlsx")
    done = e2docs("inspect", book)
    refused(done, book, kind, code=1)  # an unreadable file among the inputs: exit 1, as for any other


@pytest.mark.parametrize("kind", KINDS)
def test_report_templates(tmp_path, kind):
    campaign = new_campaign(tmp_path, 2)
    own = tmp_path / "modeles"
    own.mkdir()
    template = special(kind, own / "recapitulatif-classe.docx")
    done = e2docs("-C", campaign.root, "report", "--templates", own)
    refused(done, template, kind)
    assert not any((campaign.root / "rapports").glob("*.docx"))


@pytest.mark.parametrize("kind", KINDS)
def test_assign(tmp_path, kind):
    campaign = new_campaign(tmp_path, 2)
    examiners = special(kind, tmp_path / "examinateurs.csv")
    done = e2docs("-C", campaign.root, "assign", examiners)
    if kind == "dossier":  # click refuses it before e2docs sees it (dir_okay=False)
        assert done.returncode == 2 and "examinateurs.csv" in done.stderr
    else:
        refused(done, examiners, kind)
        assert "fichier de la liste des examinateurs" in done.stderr


@pytest.mark.parametrize("kind", ["tube", "peripherique"])
def test_collect_refuses_and_goes_on(tmp_path, kind):
    campaign = new_campaign(tmp_path, 2)
    thing = special(kind, tmp_path / "retour.xlsx")
    done = e2docs("-C", campaign.root, "collect", thing)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "ce n'est pas un fichier ordinaire." in done.stdout + done.stderr
