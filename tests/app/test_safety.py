"""Every run safe to kill or repeat: one writer per campaign, leftovers removed, campaign files checked.

Real parts: real ``python -m e2docs`` processes (started together, killed with
SIGKILL at random points), a real SQLite ledger, real OS locks.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from e2docs.app import campaign as campaign_module
from e2docs.app.campaign import (
    LOCK_INFO,
    STAGING,
    create_campaign,
    open_campaign,
    remove_stale_stagings,
)
from e2docs.app.generate import COMPLETE, recover_generations
from e2docs.cli import main
from e2docs.formats.atomic import remove_stale_temporaries
from e2docs.formats.xlsx.reader import read_workbook
from e2docs.model.errors import E2docsError
from tests.app.test_collect import INCOMPLETE, Setup, new_campaign, number, write_roster
from tests.helpers import PROJECT

POSIX = pytest.mark.skipif(os.name == "nt", reason="SIGKILL and /proc: POSIX")


def e2docs(*args: str) -> subprocess.Popen:
    """A real ``python -m e2docs`` process (output captured as text)."""
    return subprocess.Popen(
        [sys.executable, "-m", "e2docs", *args],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen, timeout: float = 300) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def dead_pid() -> int:
    """The id of a process that has ended."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def wait_for(predicate, timeout: float = 60, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        assert proc is None or proc.poll() is None, f"process ended first: {proc.communicate()}"
        time.sleep(0.01)


def holder_process(root: Path, command: str = "collect") -> subprocess.Popen:
    """A process that holds the campaign (``writing``) until killed; prints "held" once it does."""
    code = (
        "import sys, time\n"
        "from e2docs.app.campaign import writing\n"
        f"with writing({str(root)!r}, {command!r}):\n"
        "    print('held', flush=True)\n"
        "    time.sleep(600)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=PROJECT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)


def ledger_rows(root: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(root / "registre.sqlite") as db:
        return db.execute(sql).fetchall()


def tree(root: Path) -> list[str]:
    """Every path under ``root``, relative, sorted (SQLite's -wal/-shm companions left out)."""
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if not p.name.endswith(("-wal", "-shm", "-journal"))
    )


# ------------------------------------------------------------------ one writer at a time


@POSIX
def test_a_second_writer_is_told_in_french_who_holds_the_campaign_and_a_killed_holder_frees_it(tmp_path):
    campaign = new_campaign(tmp_path, 2)
    holder = holder_process(campaign.root, "collect")
    try:
        with pytest.raises(E2docsError) as caught, campaign.writing("generate"):
            pytest.fail("a second writer got in")
        text = str(caught.value)
        assert caught.value.exit_code == 2
        assert "campagne occupée" in text and "« e2docs collect »" in text
        assert f"processus {holder.pid}" in text and " depuis le " in text and " à " in text
        assert str(campaign.root) in text and "Attendez" in text
        info = json.loads((campaign.root / LOCK_INFO).read_text())
        assert info["command"] == "collect" and info["pid"] == holder.pid and info["host"] and info["started_at"]

        # read-only commands run beside the writer
        result = CliRunner().invoke(main, ["-C", str(campaign.root), "status", "--json"])
        assert result.exit_code == 0, result.output
        assert len(json.loads(result.output)["candidates"]) == 2
    finally:
        kill(holder)
    assert holder.returncode == -signal.SIGKILL
    with campaign.writing("generate"):  # the OS freed the lock with its process
        assert json.loads((campaign.root / LOCK_INFO).read_text())["pid"] == os.getpid()
    assert not (campaign.root / LOCK_INFO).exists()


def test_nested_writing_blocks_of_one_process_share_the_lock_and_the_ledger_is_read_only_outside(tmp_path):
    campaign = new_campaign(tmp_path, 1)
    with campaign.ledger() as ledger, pytest.raises(sqlite3.OperationalError, match="readonly"):
        ledger.new_batch("2027-01-01T00:00:00+00:00")
    with campaign.writing("collect"), campaign.writing("report"):
        with campaign.ledger() as ledger:
            ledger.new_batch("2027-01-01T00:00:00+00:00")
        assert json.loads((campaign.root / LOCK_INFO).read_text())["command"] == "collect"
    assert ledger_rows(campaign.root, "SELECT COUNT(*) FROM batches") == [(1,)]


def _two_at_once(root: Path, *args: str) -> tuple[tuple[int, str, str], tuple[int, str, str]]:
    """Start ``e2docs -C root ARGS``, and once it holds the campaign, the same command again.

    The first is paused (SIGSTOP) while the second runs, then resumed: the work is now faster than
    a Python start-up, so without the pause the first would be done before the second began."""
    info = root / LOCK_INFO
    first = e2docs("-C", str(root), *args)
    try:
        wait_for(info.exists, proc=first)
        first.send_signal(signal.SIGSTOP)
        try:
            second = e2docs("-C", str(root), *args)
            other = finish(second)
        finally:
            first.send_signal(signal.SIGCONT)
    finally:
        done = finish(first)
    return done, other


def test_two_concurrent_generate_one_writes_the_other_is_told_and_the_ledger_has_one_record_each(tmp_path):
    count = 60
    roster = write_roster(tmp_path / "liste.csv", count)
    campaign, _ = create_campaign(tmp_path / "campagne", roster, session="2027", school="LP", academie="Lyon")

    (code1, out1, err1), (code2, out2, err2) = _two_at_once(campaign.root, "generate")

    assert code1 == 0, out1 + err1
    assert code2 == 2, out2 + err2
    assert "campagne occupée" in err2 and "« e2docs generate »" in err2 and "Erreur inattendue" not in err2
    assert len(list((campaign.root / "envoi").glob("*.xlsx"))) == count
    rows = ledger_rows(campaign.root, "SELECT candidate FROM generated")
    assert sorted(r[0] for r in rows) == [number(i) for i in range(count)]  # one record per workbook


def test_two_concurrent_collect_one_records_the_other_is_told_and_the_ledger_has_one_record_each(tmp_path):
    count = 30
    setup = Setup(new_campaign(tmp_path, count), tmp_path / "arrivees")
    folder = setup.inbox / "lot"
    for i in range(count):
        setup.make(number(i), f"retour-{i:02d}.xlsx", folder=folder)

    (code1, out1, err1), (code2, out2, err2) = _two_at_once(setup.root, "collect", str(folder))

    assert code1 == 0, out1 + err1
    assert code2 == 2, out2 + err2
    assert "campagne occupée" in err2 and "« e2docs collect »" in err2
    rows = ledger_rows(setup.root, "SELECT candidate, state FROM returns")
    assert sorted(r[0] for r in rows) == [number(i) for i in range(count)]  # each file recorded once
    assert {r[1] for r in rows} == {"complete"}
    assert ledger_rows(setup.root, "SELECT COUNT(*) FROM files") == [(count,)]


# ------------------------------------------------------------------ killed at random points, then run again


def _kill_at(proc: subprocess.Popen, delay: float) -> bool:
    """SIGKILL ``proc`` after ``delay`` seconds; False when it had already ended by itself."""
    try:
        proc.wait(delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        return True
    proc.communicate()
    return False


def _timed(*args: str) -> float:
    start = time.monotonic()
    code, out, err = finish(e2docs(*args))
    assert code == 0, out + err
    return time.monotonic() - start


RUNS = 4  # random kill points per command


@POSIX
def test_new_killed_at_random_points_then_run_again_ends_as_an_uninterrupted_run(tmp_path):
    roster = write_roster(tmp_path / "liste.csv", 30)
    reference = tmp_path / "reference"
    duration = _timed("new", str(reference), "--roster", str(roster))
    rng = random.Random(8)
    killed = 0
    for run in range(RUNS):
        root = tmp_path / f"essai{run}"
        delay = rng.uniform(0.05, duration * 1.1)
        killed += _kill_at(e2docs("new", str(root), "--roster", str(roster)), delay)

        code, out, err = finish(e2docs("new", str(root), "--roster", str(roster)))

        assert code == 0 or "une campagne existe déjà" in err, (delay, out, err)
        assert tree(root) == tree(reference), delay
        assert not [p.name for p in tmp_path.iterdir() if ".creation-" in p.name], delay  # staging removed
        same = "SELECT number, last_name, birth_date, position FROM candidates ORDER BY position"
        assert ledger_rows(root, same) == ledger_rows(reference, same)
        open_campaign(root)  # every file checked
    assert killed, "no run was killed before it ended: the test proved nothing"


def test_the_staging_folder_of_a_killed_new_is_removed_only_once_its_process_is_gone(tmp_path):
    def staging(pid: int) -> Path:
        path = tmp_path / STAGING.format(name="campagne", pid=pid)
        (path / "liste").mkdir(parents=True)
        (path / "liste" / "eleves.csv").write_text("N° candidat;Nom\n", encoding="utf-8")
        (path / ".secret").write_text("ab" * 32, encoding="ascii")
        return path

    dead, living = staging(dead_pid()), staging(os.getpid())
    foreign = tmp_path / STAGING.format(name="photos", pid=dead_pid())  # not what e2docs writes: kept
    foreign.mkdir()
    (foreign / "vacances.jpg").write_bytes(b"\xff\xd8")

    assert remove_stale_stagings(tmp_path) == [dead]
    assert not dead.exists() and living.exists() and foreign.exists()
    create_campaign(tmp_path / "autre", write_roster(tmp_path / "liste.csv", 1))  # new also cleans up
    assert living.exists()


@POSIX
def test_generate_killed_at_random_points_then_run_again_ends_as_an_uninterrupted_run(tmp_path):
    count = 30
    roster = write_roster(tmp_path / "liste.csv", count)
    reference, _ = create_campaign(tmp_path / "reference", roster, session="2027")
    duration = _timed("-C", str(reference.root), "generate")
    expected = tree(reference.root / "envoi")
    rng = random.Random(27)
    killed = 0
    for run in range(RUNS):
        campaign, _ = create_campaign(tmp_path / f"essai{run}", roster, session="2027")
        delay = rng.uniform(0.2, duration * 1.1)
        killed += _kill_at(e2docs("-C", str(campaign.root), "generate"), delay)

        code, out, err = finish(e2docs("-C", str(campaign.root), "generate"))

        assert code == 0 or "existe(nt) déjà" in err, (delay, out, err)
        envoi = campaign.root / "envoi"
        assert tree(envoi) == expected, delay  # no staging folder, no temporary file, every workbook
        rows = ledger_rows(campaign.root, "SELECT candidate, file_name, signature FROM generated")
        assert sorted(r[0] for r in rows) == [number(i) for i in range(count)], delay  # one record each
        grids = {campaign.grid().content_hash: campaign.grid()}
        for _, name, _ in rows[:3]:
            (reading,) = read_workbook(envoi / name, grids, secret=campaign.secret)
            assert reading.signature_ok, (delay, name)
    assert killed, "no run was killed before it ended: the test proved nothing"


def test_what_a_killed_generation_left_is_finished_when_recorded_and_removed_otherwise(tmp_path):
    outdir = tmp_path / "envoi"
    outdir.mkdir()
    unfinished = outdir / f".generation-{dead_pid()}"
    unfinished.mkdir()
    (unfinished / "A.xlsx").write_bytes(b"partial")
    (unfinished / ".generated_at").write_text("2027-03-01T10:00:00+01:00")
    recorded = outdir / f".generation-{dead_pid()}"
    recorded.mkdir()
    (recorded / "B.xlsx").write_bytes(b"whole")
    (recorded / ".generated_at").write_text("2027-03-01T11:00:00+01:00")
    complete = outdir / f".generation-{dead_pid()}"
    complete.mkdir()
    (complete / "C.xlsx").write_bytes(b"whole too")
    (complete / COMPLETE).touch()
    running = outdir / f".generation-{os.getpid()}"
    running.mkdir()

    handled = recover_generations(outdir, lambda stamp: stamp == "2027-03-01T11:00:00+01:00")

    assert sorted(handled) == sorted([unfinished, recorded, complete])
    assert sorted(p.name for p in outdir.iterdir()) == sorted(["B.xlsx", "C.xlsx", running.name])
    assert (outdir / "B.xlsx").read_bytes() == b"whole"


def test_temporary_files_of_dead_writers_are_removed_and_others_kept(tmp_path):
    dead, me = dead_pid(), os.getpid()
    names = [
        f".e2docs-{dead}-abcd1234.tmp",  # atomic_write, default prefix
        f".NOM_Prénom_31214_2700000001_fiche.{dead}-x_9ab3k1.tmp",  # a report document
        f".arrivee-{dead}-{dead}-qqqqqqqq.tmp",  # collect's archive
    ]
    kept = [f".e2docs-{me}-abcd1234.tmp", f"notes-{dead}-abcd1234.tmp", f".e2docs-{dead}-abcd1234.xlsx"]
    for name in names + kept:
        (tmp_path / name).write_bytes(b"x")
    assert sorted(p.name for p in remove_stale_temporaries(tmp_path)) == sorted(names)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept)
    assert remove_stale_temporaries(tmp_path / "absent") == [] and not (tmp_path / "absent").exists()


@POSIX
def test_report_killed_at_random_points_then_run_again_ends_as_an_uninterrupted_run(tmp_path):
    count = 6
    setup = Setup(new_campaign(tmp_path / "a", count), tmp_path / "arrivees")
    for i in range(count - 1):
        setup.make(number(i), f"retour-{i}.xlsx", values=None if i % 2 else INCOMPLETE)
    assert setup.collect(setup.inbox).exit_code in (0, 1)
    reference = tmp_path / "reference"
    shutil.copytree(setup.root, reference)
    duration = _timed("-C", str(reference), "report")
    expected = tree(reference / "rapports")
    assert len(expected) > count
    rng = random.Random(5)
    killed = 0
    for run in range(RUNS):
        root = tmp_path / f"essai{run}"
        shutil.copytree(setup.root, root)
        delay = rng.uniform(0.2, duration * 1.1)
        killed += _kill_at(e2docs("-C", str(root), "report"), delay)

        code, out, err = finish(e2docs("-C", str(root), "report"))

        assert code == 0, (delay, out, err)
        assert tree(root / "rapports") == expected, delay  # no temporary file left, the same documents
    assert killed, "no run was killed before it ended: the test proved nothing"


# ------------------------------------------------------------------ campaign files checked when opened


def _settings(root: Path, old: str, new: str) -> None:
    path = root / "e2docs.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def _run(root: Path, *args: str):
    return CliRunner().invoke(main, ["-C", str(root), *args])


def test_an_unquoted_session_is_taken_as_its_digits_and_returns_still_verify(tmp_path):
    roster = write_roster(tmp_path / "liste.csv", 2)
    campaign, _ = create_campaign(tmp_path / "campagne", roster, session="2027")
    _settings(campaign.root, 'session = "2027"', "session = 2027")
    assert open_campaign(campaign.root).session == "2027"
    assert _run(campaign.root, "generate").exit_code == 0
    setup = Setup(open_campaign(campaign.root), tmp_path / "arrivees")
    setup.make(number(0), "retour.xlsx")
    _settings(campaign.root, "session = 2027", 'session = "2027"')  # the quotes back: nothing changes

    result = setup.collect(setup.inbox)

    assert result.exit_code == 0, result.output
    assert "signature invalide" not in result.output
    assert [r.state for r in setup.returns()] == ["complete"]


@pytest.mark.parametrize(
    ("old", "new", "key", "kind"),
    [
        ('mot_de_passe = "e2docs"', "mot_de_passe = 1234", "mot_de_passe", "un nombre"),
        ('session = "2027"', "session = 2027.5", "session", "un nombre"),
        ('etablissement = "LP Jean Moulin"', "etablissement = true", "etablissement", "un booléen"),
        ('academie = "Versailles"', "academie = 2027-03-01", "academie", "une date"),
    ],
)
def test_a_setting_of_the_wrong_type_is_named_with_what_to_do(tmp_path, old, new, key, kind):
    campaign = new_campaign(tmp_path, 1)
    _settings(campaign.root, old, new)
    for args in (["status"], ["generate", "--force"], ["report"]):
        result = _run(campaign.root, *args)
        assert result.exit_code == 2, result.output
        assert "Erreur inattendue" not in result.output
        assert f"e2docs.toml — clé « {key} » : {kind}" in result.output
        assert "au lieu d'un texte." in result.output
        assert "entre guillemets" in result.output


@pytest.mark.parametrize(
    ("content", "what"),
    [("", "vide"), ("ab" * 31, "62 caractère(s)"), ("zz" * 32, "64 caractère(s)"), ("é", "?")],
)
def test_a_damaged_secret_is_named_and_never_used(tmp_path, content, what):
    campaign = new_campaign(tmp_path, 1)
    (campaign.root / ".secret").write_text(content, encoding="utf-8")
    result = _run(campaign.root, "status")
    assert result.exit_code == 2, result.output
    assert f"{campaign.root / '.secret'} : clé de signature endommagée" in result.output
    if what != "?":
        assert what in result.output
    assert "Restaurez le fichier .secret depuis votre sauvegarde" in result.output


def test_a_missing_or_empty_ledger_is_named_and_never_recreated(tmp_path):
    campaign = new_campaign(tmp_path, 1)
    ledger = campaign.root / "registre.sqlite"
    ledger.unlink()
    before = tree(campaign.root)
    for args in (["status"], ["collect", str(tmp_path)], ["report"], ["export", "-o", str(tmp_path / "s.csv")]):
        result = _run(campaign.root, *args)
        assert result.exit_code == 2, result.output
        assert "registre (registre.sqlite) absent." in result.output and "sauvegarde" in result.output
    assert not ledger.exists() and tree(campaign.root) == before
    ledger.write_bytes(b"")
    result = _run(campaign.root, "status")
    assert result.exit_code == 2 and "registre vide (0 octet)" in result.output
    assert ledger.stat().st_size == 0


def test_reading_commands_create_no_campaign_file(tmp_path):
    setup = Setup(new_campaign(tmp_path, 2), tmp_path / "arrivees")
    made = setup.make(number(0), "retour.xlsx")
    shutil.rmtree(setup.root / "rapports")
    before = tree(setup.root)
    for args in (["status"], ["status", "--json"], ["inspect", str(made)], ["inspect", str(setup.sent(number(1)))]):
        result = _run(setup.root, *args)
        assert result.exit_code in (0, 1), result.output
    assert tree(setup.root) == before


# ------------------------------------------------------------------ system faults in French


def test_a_corrupt_ledger_is_named_in_french(tmp_path):
    campaign = new_campaign(tmp_path, 1)
    (campaign.root / "registre.sqlite").write_bytes(b"ceci n'est pas une base" * 300)
    for path in campaign.root.glob("registre.sqlite-*"):
        path.unlink()
    for args in (["status"], ["collect", str(tmp_path / "rien")], ["generate", "--force"]):
        result = _run(campaign.root, *args)
        assert result.exit_code == 2, result.output
        assert "registre.sqlite : le registre est endommagé" in result.output, result.output
        assert "Erreur inattendue" not in result.output and "Restaurez registre.sqlite" in result.output


def test_a_ledger_locked_by_another_program_is_named_in_french(tmp_path, monkeypatch):
    from e2docs.app import ledger as ledger_module

    setup = Setup(new_campaign(tmp_path, 2), tmp_path / "arrivees")
    setup.make(number(0), "retour.xlsx")
    monkeypatch.setattr(ledger_module, "TIMEOUT", 0.2)
    other = sqlite3.connect(setup.root / "registre.sqlite", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        result = setup.run("collect", str(setup.inbox))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert result.exit_code == 2, result.output
    assert "le registre est verrouillé par un autre programme" in result.output
    assert "registre.sqlite" in result.output and "Erreur inattendue" not in result.output
    assert setup.collect(setup.inbox).exit_code == 0


def test_a_missing_archived_original_is_named_in_french(tmp_path):
    setup = Setup(new_campaign(tmp_path, 2), tmp_path / "arrivees")
    made = setup.make(number(0), "retour.xlsx")
    assert setup.collect(made).exit_code == 0
    (archived,) = (setup.root / "retours").glob("*.xlsx")
    archived.unlink()

    result = setup.run("report")

    assert result.exit_code == 2, result.output
    assert f"{archived} : original archivé absent" in result.output
    assert "Restaurez-le depuis votre sauvegarde" in result.output and "Erreur inattendue" not in result.output


# -- on a small filesystem (root only)


@pytest.fixture
def small_disk(tmp_path):
    """A tiny tmpfs mounted at ``tmp_path/disque`` (root only; skipped otherwise, with the reason)."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("needs root on Linux to mount a small tmpfs")
    mount = tmp_path / "disque"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(mount: Path, leave: int) -> Path:
    """Fill the filesystem at ``mount`` until ``leave`` bytes remain free; return the filler file."""
    filler = mount / "remplissage"
    free = shutil.disk_usage(mount).free
    with open(filler, "wb") as fh:
        fh.write(b"\0" * max(0, free - leave))
    return filler


def test_collect_on_a_full_disk_says_what_was_recorded_and_a_rerun_completes_it(tmp_path, small_disk):
    count = 20
    setup = Setup(new_campaign(tmp_path / "a", count), tmp_path / "arrivees")
    folder = setup.inbox / "lot"
    sizes = [setup.make(number(i), f"retour-{i:02d}.xlsx", folder=folder).stat().st_size for i in range(count)]
    root = small_disk / "campagne"
    shutil.copytree(setup.root, root)
    filler = _fill(small_disk, leave=sum(sizes[:6]) + 64 * 1024)

    code, out, err = finish(e2docs("-C", str(root), "collect", str(folder)))

    assert code == 3, out + err
    assert "disque plein" in err and "Erreur inattendue" not in err
    assert f"{root}{os.sep}" in err.splitlines()[0]  # names the file (an original or the ledger)
    recorded = ledger_rows(root, "SELECT COUNT(*) FROM returns")[0][0]
    assert 0 < recorded < count
    assert f"Déjà enregistré avant l'arrêt : {recorded} retour(s) enregistré(s)" in err
    assert "Relancez ensuite la même commande" in err and "Libérez de la place" in err
    assert ledger_rows(root, "PRAGMA integrity_check") == [("ok",)]
    files = dict(ledger_rows(root, "SELECT sha256, stored_path FROM files"))
    assert all((root / stored).is_file() for stored in files.values())  # every record has its original

    filler.unlink()
    code, out, err = finish(e2docs("-C", str(root), "collect", str(folder)))

    assert code == 0, out + err
    rows = ledger_rows(root, "SELECT candidate FROM returns")
    assert sorted(r[0] for r in rows) == [number(i) for i in range(count)]  # each exactly once
    assert not [p for p in (root / "retours").iterdir() if p.name.startswith(".")]


def test_a_command_on_a_full_disk_before_recording_anything_exits_2(tmp_path, small_disk):
    setup = Setup(new_campaign(tmp_path / "a", 3), tmp_path / "arrivees")
    setup.make(number(0), "retour.xlsx")
    root = small_disk / "campagne"
    shutil.copytree(setup.root, root)
    _fill(small_disk, leave=0)

    code, out, err = finish(e2docs("-C", str(root), "collect", str(setup.inbox)))

    assert code == 2, out + err
    assert "disque plein" in err and "Erreur inattendue" not in err
    assert ledger_rows(root, "SELECT COUNT(*) FROM returns") == [(0,)]


def test_a_campaign_on_a_read_only_medium_is_read_and_writers_are_told(tmp_path, small_disk):
    setup = Setup(new_campaign(tmp_path / "a", 2), tmp_path / "arrivees")
    setup.make(number(0), "retour.xlsx")
    root = small_disk / "campagne"
    shutil.copytree(setup.root, root)
    done = subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot remount read-only: {done.stderr.decode(errors='replace')}")

    status = _run(root, "status", "--json")
    collect = _run(root, "collect", str(setup.inbox))

    assert status.exit_code == 0, status.output
    assert len(json.loads(status.output)["candidates"]) == 2
    assert collect.exit_code == 2, collect.output
    assert "support en lecture seule" in collect.output and "Erreur inattendue" not in collect.output
    assert str(root) in collect.output


def test_system_faults_inside_a_writer_say_whether_anything_was_recorded(tmp_path):
    campaign = new_campaign(tmp_path, 1)
    with pytest.raises(E2docsError) as nothing, campaign.writing("collect"):
        raise OSError(28, "No space left on device", str(campaign.root / "retours" / "x.xlsx"))
    assert nothing.value.exit_code == 2
    assert str(nothing.value).startswith(
        f"{campaign.root / 'retours' / 'x.xlsx'} : « e2docs collect » arrêté : disque plein. Rien n'a été enregistré."
    )

    with pytest.raises(E2docsError) as partial, campaign.writing("collect"):
        with campaign.ledger() as ledger:
            ledger.record_generated([(number(0), "x.xlsx", "sig", "2027-01-01T00:00:00+00:00")])
        raise sqlite3.OperationalError("database or disk is full")
    assert partial.value.exit_code == campaign_module.EXIT_PARTIAL == 3
    assert "Déjà enregistré avant l'arrêt : 1 classeur(s) enregistré(s) comme générés" in str(partial.value)


# ------------------------------------------------------------------ LibreOffice never outlives e2docs


def _group_of(pid: int) -> list[int]:
    """The processes whose parent is ``pid``, and the members of their process groups (Linux /proc)."""
    groups, members = set(), []
    stats = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats.append((int(entry.name), int(fields[1]), int(fields[2]), fields[0]))  # pid, ppid, pgrp, state
    groups = {pgrp for p, ppid, pgrp, _ in stats if ppid == pid}
    members = [p for p, _, pgrp, state in stats if pgrp in groups and state != "Z"]
    return members


def _libreoffice_runner() -> subprocess.Popen:
    """A Python process running a LibreOffice that never ends by itself (``soffice --headless``)."""
    code = "from e2docs.formats import libreoffice\nlibreoffice.run(['--headless'], 600)\n"
    return subprocess.Popen([sys.executable, "-c", code], cwd=PROJECT, stderr=subprocess.PIPE, text=True)


@pytest.mark.libreoffice
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG and /proc: Linux only")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_e2docs_leaves_no_libreoffice_running(sig):
    from tests.lo.availability import require_lo

    require_lo()
    proc = _libreoffice_runner()
    try:
        wait_for(lambda: len(_group_of(proc.pid)) >= 2, timeout=60, proc=proc)  # soffice started its tree
        tree_pids = _group_of(proc.pid)
        proc.send_signal(sig)
        proc.communicate(timeout=60)
        deadline = time.monotonic() + 15
        while any(Path(f"/proc/{p}").exists() and _state(p) != "Z" for p in tree_pids):
            assert time.monotonic() < deadline, f"LibreOffice still running after {sig.name}: {tree_pids}"
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == (-signal.SIGKILL if sig == signal.SIGKILL else 143)
    if sig == signal.SIGTERM:  # stopped in order: its profile folder is gone too
        assert not list(Path(tempfile.gettempdir()).glob(f"e2docs-lo-{proc.pid}-*"))


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def test_reading_commands_create_and_change_no_file_in_the_campaign(tmp_path):
    """status, status --json, status --history and inspect leave every file of the campaign as it was,
    SQLite's companions included (the ledger keeps a rollback journal, not WAL)."""
    import hashlib

    from click.testing import CliRunner

    from e2docs.cli import main

    campaign = new_campaign(tmp_path, 2)  # generated already
    runner = CliRunner()

    def snapshot() -> dict[str, str]:
        return {
            str(p.relative_to(campaign.root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in campaign.root.rglob("*")
            if p.is_file()
        }

    before = snapshot()
    assert not [name for name in before if name.endswith(("-wal", "-shm", "-journal"))]
    sent = sorted((campaign.root / "envoi").glob("*.xlsx"))[0]
    for args in (["status"], ["status", "--json"], ["status", "--history"], ["inspect", str(sent)]):
        result = runner.invoke(main, ["-C", str(campaign.root), *args])
        assert result.exit_code == 0, result.output
    assert snapshot() == before
