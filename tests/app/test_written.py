"""Nothing e2docs did not write is replaced: its record of what it wrote, and ``e2docs export`` guarding
the campaign's folders and the user's files (``report`` is tested in test_documents.py, ``demo`` in
test_demo.py)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

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


def test_the_record_is_saved_as_readable_json_one_entry_a_few_lines(tmp_path):
    """The record is written piece by piece (a whole académie's lists tens of thousands of files): the
    same text as one ``json.dumps``, sorted, indented, UTF-8 (the README shows it)."""
    record = Record.load(tmp_path)
    for name in ("b.docx", "é/a.docx", "a.docx"):
        record.expect(tmp_path / name, hashlib.sha256(name.encode()).hexdigest(), "report")
    record.save()
    text = (tmp_path / RECORD).read_text(encoding="utf-8")
    data = {"version": 1, "files": dict(sorted(record.files.items()))}
    assert text == json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    assert list(json.loads(text)["files"]) == ["a.docx", "b.docx", "é/a.docx"]
    again = Record.load(tmp_path)
    assert again.files == record.files


def test_a_file_is_ours_only_with_the_content_e2docs_wrote(tmp_path):
    record = Record.load(tmp_path)
    doc = tmp_path / "rapports" / "fiche.docx"
    write_file(record, doc, b"version 1", by="report")
    again = Record.load(tmp_path)
    assert again.owns(doc)
    assert again.files["rapports/fiche.docx"]["sha256"] == [hashlib.sha256(b"version 1").hexdigest()]
    assert again.files["rapports/fiche.docx"]["by"] == "report"
    doc.write_bytes(b"version 1 + a correction")
    assert not again.owns(doc)
    assert not again.owns(tmp_path / "rapports" / "autre.docx")  # not listed
    outside = tmp_path.parent / f"{tmp_path.name}-dehors.csv"
    write_file(again, outside, b"x", by="export")
    keys = set(json.loads((tmp_path / RECORD).read_text(encoding="utf-8"))["files"])
    assert keys == {"rapports/fiche.docx", str(outside.resolve())}  # inside: relative; outside: absolute
    outside.unlink()


def test_a_moved_campaign_still_knows_its_files(tmp_path):
    write_file(Record.load(tmp_path / "a"), tmp_path / "a" / "rapports" / "fiche.docx", b"v1", by="report")
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    assert Record.load(tmp_path / "b").owns(tmp_path / "b" / "rapports" / "fiche.docx")


def test_an_unreadable_record_makes_every_file_not_ours(tmp_path):
    doc = tmp_path / "fiche.docx"
    write_file(Record.load(tmp_path), doc, b"v1", by="report")
    (tmp_path / RECORD).write_text("{ pas du json", encoding="utf-8")
    record = Record.load(tmp_path)
    assert not record.owns(doc)
    assert free_target(record, doc) == tmp_path / "fiche (nouvelle version).docx"


def test_new_version_names_sort_next_to_the_document_and_are_safe_on_windows():
    doc = Path("rapports") / "LE-GOFF_Maël_31214_2709411105_fiche-evaluation.docx"
    assert beside(doc).name == "LE-GOFF_Maël_31214_2709411105_fiche-evaluation (nouvelle version).docx"
    assert beside(doc, 2).name == "LE-GOFF_Maël_31214_2709411105_fiche-evaluation (nouvelle version 2).docx"
    assert not set('<>:"/\\|?*') & set(beside(doc, 2).name)


def test_install_killed_between_record_and_rename_leaves_a_file_still_ours(tmp_path):
    """The record lists the new content before the rename: old or new content on disk, both are ours."""
    target = tmp_path / "rapports" / "fiche.docx"
    record = Record.load(tmp_path)
    write_file(record, target, b"old", by="report")
    staged = tmp_path / "rapports" / ".stage" / "fiche.docx"
    staged.parent.mkdir()
    staged.write_bytes(b"new")
    record.expect(target, hashlib.sha256(b"new").hexdigest(), "report")
    record.save()  # ...and killed here, before the rename
    again = Record.load(tmp_path)
    assert again.owns(target)  # still the old content, still ours
    assert free_target(again, target) == target
    install(again, [(staged, target)], by="report")
    assert target.read_bytes() == b"new"
    assert Record.load(tmp_path).files["rapports/fiche.docx"]["sha256"] == [hashlib.sha256(b"new").hexdigest()]


def test_remove_own_removes_only_unchanged_files(tmp_path):
    record = Record.load(tmp_path)
    mine, edited, gone = (tmp_path / n for n in ("a.pdf", "b.pdf", "c.pdf"))
    for path in (mine, edited, gone):
        write_file(record, path, path.name.encode(), by="report")
    edited.write_bytes(b"annotated")
    gone.unlink()
    removed, kept = remove_own(record, [mine, edited, gone])
    assert removed == [mine] and kept == [edited]
    assert not mine.exists() and edited.read_bytes() == b"annotated"
    assert set(Record.load(tmp_path).files) == {"b.pdf"}


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
    record = Record.load(tmp_path)
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
