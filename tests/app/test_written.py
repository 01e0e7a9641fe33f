"""Nothing e2docs did not write is replaced: its record of what it wrote, and ``e2docs export`` guarding
the campaign's folders and the user's files (``report`` is tested in test_documents.py, ``demo`` in
test_demo.py)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from e2docs.app import written
from e2docs.app.written import RECORD, Record, beside, free_target, install, remove_own, write_file
from tests.app.test_collect import Setup, new_campaign, number

A = number(0)


@pytest.fixture
def s(tmp_path) -> Setup:
    """Two candidates; A returned a complete grid (archived in retours/)."""
    setup = Setup(new_campaign(tmp_path, 2), tmp_path / "arrivees")
    assert setup.collect(setup.make(A, "A.xlsx")).exit_code == 0
    return setup


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path → bytes)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------ the record


def rows(root: Path) -> dict[str, tuple[str, str]]:
    """The record's rows as any SQLite tool shows them: key → (hashes, command)."""
    with contextlib.closing(sqlite3.connect(root / RECORD)) as db:
        return {k: (h, by) for k, h, by in db.execute("SELECT key, sha256, by FROM files")}


def test_the_record_is_a_sqlite_database_one_row_per_file(tmp_path):
    """The record is read a row at a time (a whole académie's lists tens of thousands of files), and
    readable with any SQLite tool (the README says so)."""
    with Record.load(tmp_path) as record:
        assert not (tmp_path / RECORD).exists()  # nothing written by merely reading
        for name in ("b.docx", "é/a.docx", "a.docx"):
            record.expect(tmp_path / name, hashlib.sha256(name.encode()).hexdigest(), "report")
        record.save()
    assert rows(tmp_path) == {
        n: (hashlib.sha256(n.encode()).hexdigest(), "report") for n in ("a.docx", "b.docx", "é/a.docx")
    }
    with Record.load(tmp_path) as again:
        assert again.keys() == ["a.docx", "b.docx", "é/a.docx"]
        entry = again.entry(tmp_path / "é" / "a.docx")
        assert entry is not None and entry.by == "report" and entry.written_at[:4].isdigit()


def test_changes_not_saved_are_lost_as_when_killed(tmp_path):
    with Record.load(tmp_path) as record:
        record.expect(tmp_path / "a.docx", "a" * 64, "report")
        record.save()
        record.expect(tmp_path / "b.docx", "b" * 64, "report")  # ...and killed before save
    with Record.load(tmp_path) as again:
        assert again.keys() == ["a.docx"]


def test_a_file_is_ours_only_with_the_content_e2docs_wrote(tmp_path):
    doc = tmp_path / "rapports" / "fiche.docx"
    with Record.load(tmp_path) as record:
        write_file(record, doc, b"version 1", by="report")
    with Record.load(tmp_path) as again:
        assert again.owns(doc)
        assert again.entry(doc) == written.Entry(
            (hashlib.sha256(b"version 1").hexdigest(),), "report", again.entry(doc).written_at
        )
        doc.write_bytes(b"version 1 + a correction")
        assert not again.owns(doc)
        assert not again.owns(tmp_path / "rapports" / "autre.docx")  # not listed
        outside = tmp_path.parent / f"{tmp_path.name}-dehors.csv"
        write_file(again, outside, b"x", by="export")
    assert set(rows(tmp_path)) == {"rapports/fiche.docx", str(outside.resolve())}  # inside: relative; outside: absolute
    outside.unlink()


def test_a_moved_campaign_still_knows_its_files(tmp_path):
    (tmp_path / "a").mkdir()
    with Record.load(tmp_path / "a") as record:
        write_file(record, tmp_path / "a" / "rapports" / "fiche.docx", b"v1", by="report")
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    with Record.load(tmp_path / "b") as record:
        assert record.owns(tmp_path / "b" / "rapports" / "fiche.docx")


def test_a_damaged_record_makes_every_file_not_ours_and_is_replaced(tmp_path):
    doc = tmp_path / "fiche.docx"
    with Record.load(tmp_path) as record:
        write_file(record, doc, b"v1", by="report")
    (tmp_path / RECORD).write_bytes(b"{ pas une base SQLite" * 100)
    with Record.load(tmp_path) as record:
        assert not record.owns(doc)
        assert free_target(record, doc) == tmp_path / "fiche (nouvelle version).docx"
        write_file(record, tmp_path / "autre.docx", b"v2", by="report")
    assert set(rows(tmp_path)) == {"autre.docx"}


def legacy_json(root: Path, files: dict) -> Path:
    """A record as earlier development versions (after 0.1.0) wrote it."""
    path = root / written.LEGACY_RECORD
    path.write_text(json.dumps({"version": 1, "files": files}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def test_a_json_record_of_an_earlier_version_is_copied_in_then_removed(tmp_path):
    """A campaign made by an earlier development version keeps knowing its documents: same keys, hashes and commands;
    an entry of another shape is left out (its file is then not ours, as before)."""
    (tmp_path / "rapports").mkdir()
    doc = tmp_path / "rapports" / "Élise_fiche.docx"
    doc.write_bytes(b"v1")
    h = hashlib.sha256(b"v1").hexdigest()
    outside = str((tmp_path.parent / "synthese.xlsx").resolve())
    legacy = legacy_json(
        tmp_path,
        {
            "rapports/Élise_fiche.docx": {"sha256": [h], "by": "report", "written_at": "2027-03-12T10:04:55+01:00"},
            outside: {"sha256": ["0" * 64, "1" * 64], "by": "export", "written_at": "2027-03-12T10:06:02+01:00"},
            "rapports/bizarre.docx": {"sha256": "pas une liste"},
        },
    )
    with Record.load(tmp_path) as record:
        assert record.owns(doc)
        assert record.entry(doc).written_at == "2027-03-12T10:04:55+01:00"
    assert not legacy.exists()
    assert rows(tmp_path) == {
        "rapports/Élise_fiche.docx": (h, "report"),
        outside: ("0" * 64 + " " + "1" * 64, "export"),
    }


def test_a_migration_killed_before_the_json_was_removed_is_finished_next_time(tmp_path):
    """Killed after the copy was committed and before the JSON was removed: the next load copies it
    again without undoing what was recorded since."""
    legacy_json(tmp_path, {"a.docx": {"sha256": ["a" * 64], "by": "report", "written_at": "x"}})
    with Record.load(tmp_path) as record:
        record.expect(tmp_path / "a.docx", "b" * 64, "report")
        record.confirm(tmp_path / "a.docx")
        record.save()
    legacy_json(tmp_path, {"a.docx": {"sha256": ["a" * 64], "by": "report", "written_at": "x"}})  # left by the kill
    with Record.load(tmp_path):
        pass
    assert rows(tmp_path) == {"a.docx": ("b" * 64, "report")}
    assert not (tmp_path / written.LEGACY_RECORD).exists()


def test_an_unreadable_json_record_makes_every_file_not_ours(tmp_path):
    doc = tmp_path / "fiche.docx"
    doc.write_bytes(b"v1")
    (tmp_path / written.LEGACY_RECORD).write_text("{ pas du json", encoding="utf-8")
    with Record.load(tmp_path) as record:
        assert not record.owns(doc)
        assert free_target(record, doc) == tmp_path / "fiche (nouvelle version).docx"


def test_expect_lists_the_new_hash_last_and_once(tmp_path):
    """Between the two steps of a replacement the record lists old and new hashes; confirm keeps the
    new one alone, settle the one on disk."""
    doc = tmp_path / "a.docx"
    with Record.load(tmp_path) as record:
        for digest in ("1" * 64, "2" * 64, "1" * 64):
            record.expect(doc, digest, "report")
        assert record.entry(doc).sha256 == ("2" * 64, "1" * 64)
        record.confirm(doc)
        assert record.entry(doc).sha256 == ("1" * 64,)
        doc.write_bytes(b"x")
        record.expect(doc, hashlib.sha256(b"x").hexdigest(), "report")
        record.expect(doc, "3" * 64, "report")
        record.settle(doc)  # the write of "3…" failed: what is on disk stays ours, alone
        assert record.entry(doc).sha256 == (hashlib.sha256(b"x").hexdigest(),)
        doc.unlink()
        record.settle(doc)
        assert record.entry(doc) is None


def test_stale_lists_the_files_of_a_command_not_claimed_reading_a_chunk_at_a_time(tmp_path, monkeypatch):
    """Removing files while reading the stale ones (a report removes thousands) misses none."""
    monkeypatch.setattr(written, "_CHUNK", 3)
    with Record.load(tmp_path) as record:
        names = [f"{i:02d}.docx" for i in range(10)]
        for name in names:
            write_file(record, tmp_path / name, name.encode(), by="report")
        write_file(record, tmp_path / "x.eml", b"x", by="send")
        record.claim(tmp_path / "04.docx")
        record.claim(tmp_path / "x.eml")
        removed, kept = remove_own(record, record.stale("report"))
    assert [p.name for p in removed] == [n for n in names if n != "04.docx"] and kept == []
    assert rows(tmp_path).keys() == {"04.docx", "x.eml"}


def test_new_version_names_sort_next_to_the_document_and_are_safe_on_windows():
    doc = Path("rapports") / "LE-GOFF_Maël_31214_2709411105_fiche-evaluation.docx"
    assert beside(doc).name == "LE-GOFF_Maël_31214_2709411105_fiche-evaluation (nouvelle version).docx"
    assert beside(doc, 2).name == "LE-GOFF_Maël_31214_2709411105_fiche-evaluation (nouvelle version 2).docx"
    assert not set('<>:"/\\|?*') & set(beside(doc, 2).name)


def test_install_killed_between_record_and_rename_leaves_a_file_still_ours(tmp_path):
    """The record lists the new content before the rename: old or new content on disk, both are ours."""
    target = tmp_path / "rapports" / "fiche.docx"
    with Record.load(tmp_path) as record:
        write_file(record, target, b"old", by="report")
        staged = tmp_path / "rapports" / ".stage" / "fiche.docx"
        staged.parent.mkdir()
        staged.write_bytes(b"new")
        record.expect(target, hashlib.sha256(b"new").hexdigest(), "report")
        record.save()  # ...and killed here, before the rename
    with Record.load(tmp_path) as again:
        assert again.owns(target)  # still the old content, still ours
        assert free_target(again, target) == target
        install(again, [(staged, target)], by="report")
    assert target.read_bytes() == b"new"
    assert rows(tmp_path) == {"rapports/fiche.docx": (hashlib.sha256(b"new").hexdigest(), "report")}


def test_remove_own_removes_only_unchanged_files(tmp_path):
    mine, edited, gone = (tmp_path / n for n in ("a.pdf", "b.pdf", "c.pdf"))
    with Record.load(tmp_path) as record:
        for path in (mine, edited, gone):
            write_file(record, path, path.name.encode(), by="report")
        edited.write_bytes(b"annotated")
        gone.unlink()
        removed, kept = remove_own(record, [mine, edited, gone])
    assert removed == [mine] and kept == [edited]
    assert not mine.exists() and edited.read_bytes() == b"annotated"
    assert set(rows(tmp_path)) == {"b.pdf"}


# ------------------------------------------------------------------ export


@pytest.mark.parametrize("force", [False, True])
def test_export_never_writes_over_a_teachers_return(s, force):
    (archived,) = [p for p in (s.root / "retours").rglob("*") if p.is_file()]
    before = snapshot(s.root)
    result = s.run("export", "-o", str(archived.with_suffix(".xlsx")), *(["--force"] if force else []))
    assert result.exit_code == 2
    assert "rien n'a été écrit" in result.output and "retours/" in result.output
    assert "Traceback" not in result.output
    assert snapshot(s.root) == before


@pytest.mark.parametrize(
    "target",
    [
        "retours/synthese.xlsx",
        "retours/nouveau-dossier/synthese.csv",
        "envoi/synthese.xlsx",
        "liste/synthese.csv",
        "e2docs.toml",
        "registre.sqlite",
        "registre.sqlite-journal",
        ".secret",
        "grille.toml",
        RECORD,
        "rapports/../retours/synthese.xlsx",
    ],
)
def test_export_refuses_the_campaigns_own_folders_and_files_even_with_force(s, target):
    before = snapshot(s.root)
    for args in ([], ["--force"]):
        result = s.run("export", "-o", str(s.root / target), *args)
        assert result.exit_code == 2, result.output
        assert "la synthèse ne peut pas être écrite" in result.output and "rien n'a été écrit" in result.output
        assert snapshot(s.root) == before


def test_export_through_a_link_to_retours_is_refused(s, tmp_path):
    link = tmp_path / "raccourci"
    try:
        link.symlink_to(s.root / "retours", target_is_directory=True)
    except OSError:
        pytest.skip("symbolic links are not allowed here (Windows without developer mode)")
    before = snapshot(s.root / "retours")
    result = s.run("export", "-o", str(link / "synthese.xlsx"), "--force")
    assert result.exit_code == 2 and "retours/" in result.output
    assert snapshot(s.root / "retours") == before


def test_export_refuses_an_existing_file_it_did_not_write_unless_forced(s, tmp_path):
    out = tmp_path / "bilan.csv"
    out.write_bytes(b"le tableau du proviseur")
    result = s.run("export", "-o", str(out))
    assert result.exit_code == 2
    assert "n'a pas été écrit par e2docs" in result.output and "--force" in result.output
    assert out.read_bytes() == b"le tableau du proviseur"
    forced = s.run("export", "-o", str(out), "--force")
    assert forced.exit_code == 0, forced.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbfN\xc2\xb0 candidat")
    # now e2docs' own: the next export replaces it without --force
    assert s.run("export", "-o", str(out)).exit_code == 0


def test_export_replaces_its_own_file_but_not_once_it_was_edited(s):
    out = s.root / "synthese.xlsx"
    assert s.run("export", "-o", str(out)).exit_code == 0
    first = out.stat().st_mtime_ns
    time.sleep(0.01)
    assert s.run("export", "-o", str(out)).exit_code == 0  # own, unchanged: replaced
    assert out.stat().st_mtime_ns != first
    with open(out, "ab") as fh:  # opened and saved by someone: not e2docs' any more
        fh.write(b"\0")
    edited = out.read_bytes()
    result = s.run("export", "-o", str(out))
    assert result.exit_code == 2 and "modifié depuis" in result.output
    assert out.read_bytes() == edited


def test_export_with_an_unknown_extension_records_nothing(s, tmp_path):
    assert s.run("export", "-o", str(tmp_path / "synthese.pdf")).exit_code == 2
    assert not (s.root / RECORD).exists()


def test_export_refusal_from_a_real_process_is_exit_2_in_french(s):
    (archived,) = [p for p in (s.root / "retours").rglob("*") if p.is_file()]
    done = subprocess.run(
        [sys.executable, "-m", "e2docs", "-C", str(s.root), "export", "-o", str(archived), "--force"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "dans le dossier retours/ (retours archivés)" in done.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges on Windows")
def test_a_file_s_key_is_the_resolved_path_whatever_way_it_is_named(tmp_path, monkeypatch):
    """Keys are worked out once per folder (a report records thousands of documents): the same keys
    as resolving each path, through a linked folder, at the campaign's root and outside it."""
    import os

    from e2docs.app.written import Record

    (tmp_path / "rapports").mkdir()
    os.symlink(tmp_path / "rapports", tmp_path / "lien")
    (tmp_path / "rapports" / "vrai.docx").write_bytes(b"x")
    os.symlink(tmp_path / "rapports" / "vrai.docx", tmp_path / "rapports" / "alias.docx")
    record = Record.load(tmp_path)  # no database: keys need none
    monkeypatch.chdir(tmp_path)
    for path, key in [
        (tmp_path / "rapports" / "a.docx", "rapports/a.docx"),
        (tmp_path / "lien" / "a.docx", "rapports/a.docx"),
        (tmp_path / "rapports" / "alias.docx", "rapports/vrai.docx"),
        (tmp_path / "x.txt", "x.txt"),
        (tmp_path / "rapports" / ".." / "y.txt", "y.txt"),
        (Path("rapports") / "b.docx", "rapports/b.docx"),
        (Path("z.docx"), "z.docx"),
        (tmp_path.parent / "ailleurs.docx", str((tmp_path.parent / "ailleurs.docx").resolve())),
    ]:
        assert record.key(path) == key, path


# ------------------------------------------------------------------ the record, when it fails


def test_a_record_damaged_past_its_first_page_is_replaced_too(tmp_path):
    """SQLite reads the first page when it opens a database: damage further in is found by its check."""
    doc = tmp_path / "fiche.docx"
    with Record.load(tmp_path) as record:
        for i in range(300):  # several pages
            write_file(record, tmp_path / f"{i:03d}-{'x' * 60}.docx", b"v", by="report")
        write_file(record, doc, b"v1", by="report")
    data = bytearray((tmp_path / RECORD).read_bytes())
    assert len(data) > 3 * 4096
    data[4096 : 2 * 4096] = b"A" * 4096
    (tmp_path / RECORD).write_bytes(bytes(data))
    with Record.load(tmp_path) as record:
        assert not record.owns(doc)
        write_file(record, tmp_path / "autre.docx", b"v2", by="report")
    assert set(rows(tmp_path)) == {"autre.docx"}


def test_a_record_of_a_newer_version_is_refused_in_french_and_nothing_is_written(s):
    out = s.root / "rapports"
    assert s.run("report").exit_code == 0
    before = snapshot(out)
    with contextlib.closing(sqlite3.connect(s.root / RECORD)) as db:
        db.execute("PRAGMA user_version = 7")
    result = s.run("report")
    assert result.exit_code == 2, result.output
    assert "relevé des fichiers écrits par une version plus récente d'e2docs (schéma 7" in result.output
    assert RECORD in result.output and "Mettez e2docs à jour" in result.output
    assert "Traceback" not in result.output
    assert snapshot(out) == before


def test_a_record_held_by_another_program_is_named_in_french(s, monkeypatch):
    monkeypatch.setattr(written, "TIMEOUT", 0.1)
    assert s.run("report").exit_code == 0
    with contextlib.closing(sqlite3.connect(s.root / RECORD, isolation_level=None)) as other:
        other.execute("BEGIN EXCLUSIVE")  # an SQLite tool in the middle of a change
        result = s.run("export", "-o", str(s.root / "synthese.csv"))
        other.execute("ROLLBACK")
    assert result.exit_code == 2, result.output
    assert "le relevé des fichiers écrits est verrouillé par un autre programme" in result.output
    assert RECORD in result.output and "Fermez le programme qui l'utilise" in result.output
    assert not (s.root / "synthese.csv").exists()


def test_a_json_record_that_cannot_be_removed_is_copied_again_next_time(tmp_path, monkeypatch):
    """Read-only, or held by a synchronisation tool on Windows: the campaign keeps working."""
    legacy = legacy_json(tmp_path, {"a.docx": {"sha256": ["a" * 64], "by": "report", "written_at": "x"}})
    real_unlink = Path.unlink

    def refuse(path: Path, missing_ok: bool = False) -> None:
        if path.name == written.LEGACY_RECORD:
            raise PermissionError(13, "Permission denied", str(path))
        real_unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", refuse)
    for _ in range(2):
        with Record.load(tmp_path) as record:
            assert record.keys() == ["a.docx"]
    assert legacy.exists()
