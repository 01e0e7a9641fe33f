"""e2docs.formats.libreoffice: finding soffice, its command line, timeouts that stop the whole tree, profiles.

No real LibreOffice here: a small shell script stands in for soffice (POSIX only);
real conversions are tested in test_intake.py, test_reports.py and tests/lo/.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from docx import Document

from e2docs.formats import libreoffice
from e2docs.formats.intake import Item, to_xlsx
from e2docs.model.errors import E2docsError, WorkbookError
from e2docs.reports import ReportError, convert_to_pdf

pytestmark = pytest.mark.skipif(os.name == "nt", reason="the stand-in soffice is a shell script")


def fake_soffice(folder: Path, body: str = "") -> Path:
    """A stand-in soffice that writes its arguments, one a line, to ``args.txt`` next to it, then runs ``body``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "soffice"
    path.write_text(f'#!/bin/sh\nfor a in "$@"; do echo "$a"; done > "{folder}/args.txt"\n{body}\n')
    path.chmod(0o755)
    return path


def recorded_args(fake: Path) -> list[str]:
    return (fake.parent / "args.txt").read_text().splitlines()


def profile_of(args: list[str]) -> Path:
    """The profile folder named by -env:UserInstallation=file:///..."""
    [uri] = [a.split("=", 1)[1] for a in args if a.startswith("-env:UserInstallation=")]
    return Path(unquote(urlparse(uri).path))


def alive(pid: int) -> bool:
    """Whether ``pid`` still runs (zombies count as gone), waiting up to 5 s for it to go."""
    for _ in range(50):
        try:
            os.kill(pid, 0)
            state = (
                Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] if sys.platform == "linux" else ""
            )
        except (ProcessLookupError, FileNotFoundError):
            return False
        if state == "Z":
            return False
        time.sleep(0.1)
    return True


def wait_for_lines(path: Path, count: int) -> list[int]:
    """The first ``count`` pids written in ``path``, waiting for them."""
    for _ in range(100):
        if path.exists() and len(lines := path.read_text().split()) >= count:
            return [int(pid) for pid in lines[:count]]
        time.sleep(0.05)
    raise AssertionError(f"{path} never got {count} pids")


@pytest.fixture
def no_soffice_anywhere(tmp_path, monkeypatch) -> Path:
    """A PATH with no soffice and no install folder to find: returns the (empty) PATH folder."""
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("E2DOCS_SOFFICE", raising=False)
    monkeypatch.setattr(libreoffice, "install_places", lambda: [])
    return empty


# -- finding soffice ---------------------------------------------------------------------------


def test_e2docs_soffice_is_honoured_and_gets_the_headless_command_line(tmp_path, monkeypatch):
    fake = fake_soffice(tmp_path / "bin")
    monkeypatch.setenv("E2DOCS_SOFFICE", str(fake))
    assert libreoffice.find_soffice() == str(fake) and libreoffice.available()

    done = libreoffice.convert([tmp_path / "a b.docx"], "pdf:writer_pdf_Export", tmp_path / "out", 30)

    assert done.returncode == 0
    args = recorded_args(fake)
    profile = profile_of(args)
    assert args[0].startswith("-env:UserInstallation=file://")
    assert args[1:7] == list(libreoffice.HEADLESS_OPTIONS)
    assert "--norestore" in args and "--nolockcheck" in args and "--headless" in args
    assert args[7:] == [
        "--convert-to",
        "pdf:writer_pdf_Export",
        "--outdir",
        str(tmp_path / "out"),
        str(tmp_path / "a b.docx"),
    ]
    assert profile.name.startswith(f"{libreoffice.PROFILE_PREFIX}{os.getpid()}-")
    assert not profile.exists(), "the fresh profile folder is removed after the run"


def test_e2docs_soffice_may_name_a_command_on_the_path(tmp_path, monkeypatch):
    fake = fake_soffice(tmp_path / "bin")
    (tmp_path / "bin" / "mon-soffice").symlink_to(fake)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setenv("E2DOCS_SOFFICE", "mon-soffice")
    assert libreoffice.find_soffice() == str(tmp_path / "bin" / "mon-soffice")


def test_path_then_install_folders(tmp_path, monkeypatch, no_soffice_anywhere):
    assert libreoffice.find_soffice() is None and not libreoffice.available()
    installed = fake_soffice(tmp_path / "opt" / "libreoffice7.6" / "program")
    monkeypatch.setattr(libreoffice, "install_places", lambda: [tmp_path / "nowhere" / "soffice", installed])
    assert libreoffice.find_soffice() == str(installed)
    on_path = fake_soffice(no_soffice_anywhere)
    assert libreoffice.find_soffice() == str(on_path)


def test_a_missing_e2docs_soffice_is_ignored_but_named_when_nothing_is_found(
    tmp_path, monkeypatch, no_soffice_anywhere
):
    """Decision: a wrong E2DOCS_SOFFICE does not hide a LibreOffice found elsewhere; when none is found,
    the French hints name the variable and its wrong value."""
    wrong = str(tmp_path / "nulle-part" / "soffice")
    monkeypatch.setenv("E2DOCS_SOFFICE", wrong)
    on_path = fake_soffice(no_soffice_anywhere)
    assert libreoffice.find_soffice() == str(on_path)

    on_path.unlink()
    assert libreoffice.find_soffice() is None
    note = f"La variable E2DOCS_SOFFICE désigne « {wrong} », qui n'existe pas."
    with pytest.raises(libreoffice.LibreOfficeMissing) as missing:
        libreoffice.run(["--version"], 10)
    assert isinstance(missing.value, E2docsError) and "LibreOffice est introuvable" in str(missing.value)
    assert note in str(missing.value)
    with pytest.raises(WorkbookError, match="LibreOffice n'est pas installé") as intake_error:
        to_xlsx(Item(b"x", "g.ods", "g.ods", "ods"), tmp_path / "work")
    assert note in str(intake_error.value)
    doc = tmp_path / "a.docx"
    Document().save(doc)
    with pytest.raises(ReportError, match="LibreOffice est introuvable") as pdf_error:
        convert_to_pdf([doc], tmp_path / "pdf")
    assert note in str(pdf_error.value) and "libreoffice-writer" in str(pdf_error.value)


def test_a_soffice_that_cannot_start_is_a_french_error(tmp_path, monkeypatch):
    not_executable = tmp_path / "soffice"
    not_executable.write_text("not a program")
    monkeypatch.setenv("E2DOCS_SOFFICE", str(not_executable))
    with pytest.raises(libreoffice.LibreOfficeNotStarted, match="LibreOffice ne démarre pas"):
        libreoffice.run(["--version"], 10)


# -- stopping the whole tree ---------------------------------------------------------------------


def test_timeout_stops_the_whole_tree_and_removes_the_profile(tmp_path, monkeypatch):
    pids = tmp_path / "pids"
    # the child ignores SIGTERM (as a stuck soffice.bin may): SIGKILL must follow
    fake = fake_soffice(
        tmp_path / "bin", f"echo $$ > {pids}; sh -c \"trap '' TERM; exec sleep 60\" & echo $! >> {pids}; wait"
    )
    monkeypatch.setenv("E2DOCS_SOFFICE", str(fake))
    started = time.monotonic()
    with pytest.raises(libreoffice.LibreOfficeTimeout, match="n'a pas terminé en 1 s") as err:
        libreoffice.run(["--convert-to", "pdf", "x.docx"], 1)
    assert isinstance(err.value, E2docsError)
    assert time.monotonic() - started < 15
    parent, child = wait_for_lines(pids, 2)
    assert not alive(parent) and not alive(child), "soffice and what it started must all be gone"
    assert not profile_of(recorded_args(fake)).exists()


def test_an_interruption_stops_the_whole_tree_too(tmp_path, monkeypatch):
    pids = tmp_path / "pids"
    fake = fake_soffice(tmp_path / "bin", f"echo $$ > {pids}; sleep 60 & echo $! >> {pids}; wait")
    monkeypatch.setenv("E2DOCS_SOFFICE", str(fake))
    wait = subprocess.Popen.wait
    interrupted_once = []

    def interrupted(self, *args, **kwargs):  # Ctrl+C while LibreOffice works
        if self.args and self.args[0] == str(fake) and not interrupted_once:
            interrupted_once.append(True)
            wait_for_lines(pids, 2)
            raise KeyboardInterrupt
        return wait(self, *args, **kwargs)

    monkeypatch.setattr(subprocess.Popen, "wait", interrupted)
    with pytest.raises(KeyboardInterrupt):
        libreoffice.run(["--headless"], 60)
    parent, child = wait_for_lines(pids, 2)
    assert not alive(parent) and not alive(child)
    assert not profile_of(recorded_args(fake)).exists()


def test_a_run_that_ends_leaves_nothing_behind(tmp_path, monkeypatch):
    pids = tmp_path / "pids"
    fake = fake_soffice(tmp_path / "bin", f"sleep 60 & echo $! > {pids}; echo fini; echo 'Error: oops' >&2; exit 3")
    monkeypatch.setenv("E2DOCS_SOFFICE", str(fake))
    done = libreoffice.run(["--headless"], 30)
    assert (done.returncode, done.stdout, done.last_error_line()) == (3, b"fini\n", "Error: oops")
    [child] = wait_for_lines(pids, 1)
    assert not alive(child), "a background child of soffice is stopped with it"


# -- profiles ------------------------------------------------------------------------------------


def test_stale_profiles_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    prefix = libreoffice.PROFILE_PREFIX
    stale = tmp_path / f"{prefix}{dead.pid}-abc123"
    mine = tmp_path / f"{prefix}{os.getpid()}-def456"
    running = tmp_path / f"{prefix}1-ghi789"  # pid 1 always runs
    foreign = [tmp_path / f"{prefix}abcdefgh", tmp_path / f"{prefix}{dead.pid}", tmp_path / "autre-123-x"]
    for folder in (stale, mine, running, *foreign):
        (folder / "user").mkdir(parents=True)
    assert libreoffice.remove_stale_profiles(tmp_path) == [stale]
    assert not stale.exists()
    assert all(folder.exists() for folder in (mine, running, *foreign))


def test_new_profiles_are_named_after_the_process_and_clean_stale_ones(tmp_path, monkeypatch):
    monkeypatch.setattr(libreoffice.tempfile, "tempdir", str(tmp_path))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f"{libreoffice.PROFILE_PREFIX}{dead.pid}-x"
    stale.mkdir()
    profile = libreoffice.new_profile()
    try:
        assert profile.parent == tmp_path and profile.name.startswith(f"e2docs-lo-{os.getpid()}-")
        assert not stale.exists()
    finally:
        libreoffice.remove_profile(profile)
    assert not profile.exists()


def test_command_line():
    args = libreoffice.command("soffice", Path("/tmp/profil é"), "--convert-to", "pdf")
    assert args == [
        "soffice",
        f"-env:UserInstallation={Path('/tmp/profil é').resolve().as_uri()}",
        "--headless",
        "--invisible",
        "--nologo",
        "--nodefault",
        "--norestore",
        "--nolockcheck",
        "--convert-to",
        "pdf",
    ]
