"""Workbooks as office suites write them (issue 9, item 2): what e2docs must not take on trust.

* stored sheet dimensions (WPS writes ``<dimension ref="A1"/>`` for every sheet);
* Strict Open XML (Excel's "Strict Open XML Spreadsheet"), converted by LibreOffice or refused;
* Excel's ``_xHHHH_`` escapes (``_x000B_``: a line break pasted from Word);
* openpyxl's English warnings (files re-saved by Gnumeric or ONLYOFFICE);
* a re-save that dropped the sheet passwords, the structure lock or the hidden metadata sheet.

The field cases (``tests/data/cases/01-wps-dimension-a1`` and ``10-excel-escaped-control-char``,
copied from ``../shared/cases``) are returns typed into the 0.1.0 campaign ``campagne-0.1``,
whose key signs them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from e2docs.formats import libreoffice, sniff
from e2docs.formats.intake import ConversionError
from e2docs.formats.xlsx.layout import META_SHEET
from e2docs.formats.xlsx.package import cell_text, read_package
from e2docs.formats.xlsx.reader import IssueKind, read_workbook
from tests.helpers import ALL_LEVEL_3, DATA, PROJECT, fill, level_values, make_workbook, rewrite_parts, to_strict
from tests.lo.availability import require_lo

CASES = DATA / "cases"
SECRET = bytes.fromhex((CASES / "campagne-0.1" / ".secret").read_text(encoding="ascii").strip())
(WPS,) = (CASES / "01-wps-dimension-a1").glob("*.xlsx")
(ESCAPED,) = (CASES / "10-excel-escaped-control-char").glob("*.xlsx")
COMPLETE = level_values(ALL_LEVEL_3) | {"observations": "Prospection menée avec méthode.", "note_commission": 14}


def campaign_grids():
    from e2docs.app.campaign import open_campaign

    grid = open_campaign(CASES / "campagne-0.1").grid()
    return {grid.content_hash: grid}


@pytest.fixture(scope="module")
def returned(tmp_path_factory) -> Path:
    """A complete return as e2docs generated it, filled with openpyxl (which keeps every protection)."""
    tmp = tmp_path_factory.mktemp("retour")
    return fill(make_workbook(tmp), COMPLETE, out=tmp / "rempli.xlsx")


def edited(src: Path, dst: Path, part: str, change) -> Path:
    """``src`` with the text of one part changed by ``change(text) -> text`` (which must change it)."""

    def edit(name: str, data: bytes) -> bytes:
        if name != part:
            return data
        new = change(data.decode("utf-8")).encode("utf-8")
        assert new != data, f"{part} unchanged"
        return new

    return rewrite_parts(src, dst, edit)


# ------------------------------------------------------------------ stored dimensions


def test_wps_case_every_sheet_dimension_a1_is_accepted_15_out_of_20():
    """Case 01: BERNARD's complete return re-saved by a suite writing <dimension ref="A1"/> everywhere."""
    with zipfile.ZipFile(WPS) as zf:
        dims = {n: re.findall(rb"<dimension [^>]*>", zf.read(n)) for n in zf.namelist() if "worksheets/sheet" in n}
    assert len(dims) == 3 and all(d == [b'<dimension ref="A1"/>'] for d in dims.values())
    (reading,) = read_workbook(WPS, campaign_grids(), secret=SECRET)
    assert reading.ok and not reading.warnings, (reading.errors, reading.modified, reading.warnings)
    assert reading.candidate.last_name == "BERNARD" and reading.candidate.number == "2709411021"
    assert reading.outcome.complete
    assert reading.outcome.proposed_mark == 15 and reading.outcome.final_mark == 15


def test_a_workbook_whose_dimensions_say_a1_reads_as_the_original(returned, tmp_path):
    def one_cell(name: str, data: bytes) -> bytes:
        if name.startswith("xl/worksheets/sheet"):
            data, count = re.subn(rb"<dimension ref=\"[^\"]*\"/>", b'<dimension ref="A1"/>', data)
            assert count == 1
        return data

    shrunk = rewrite_parts(returned, tmp_path / "a1.xlsx", one_cell)
    (before,), (after,) = read_workbook(returned), read_workbook(shrunk)
    assert after.ok and not after.warnings, (after.modified, after.warnings)
    assert after.values == before.values and after.outputs == before.outputs
    assert after.outcome.proposed_mark == 15 and after.outcome.final_mark == 14
    assert read_package(shrunk).sheets == read_package(returned).sheets  # every cell, every sheet


# ------------------------------------------------------------------ _xHHHH_ escapes


def test_escaped_control_character_case_reads_a_line_break():
    """Case 10: MARTIN's observations hold Excel's _x000B_ (a line break typed in Word and pasted)."""
    with zipfile.ZipFile(ESCAPED) as zf:
        assert b"_x000B_" in zf.read("xl/sharedStrings.xml")
    (reading,) = read_workbook(ESCAPED, campaign_grids(), secret=SECRET)
    assert reading.ok and reading.candidate.last_name == "MARTIN"
    text = reading.values["observations"]
    assert text == "Travail régulier.\nL'entreprise « Dupont & Fils <SARL> » souligne sa ponctualité."
    assert "_x" not in json.dumps(
        {k: str(v) for k, v in reading.values.items()}, ensure_ascii=False
    )  # no escape anywhere in what is read


@pytest.mark.parametrize(
    ("stored", "read"),
    [
        ("Ligne_x000B_suivante", "Ligne\nsuivante"),
        ("fin de ligne_x000D_\nsuite", "fin de ligne\r\nsuite"),
        ("_x005F_x000B_ reste écrit tel quel", "_x000B_ reste écrit tel quel"),  # _x005F_ escapes the "_"
        ("saut de page_x000C_suite", "saut de page\nsuite"),
        ("tab_x0009_et cloche_x0007_!", "tab\tet cloche!"),  # tab kept, other control characters removed
        ("émoji _xD83D__xDE00_ et seul _xD800_", "émoji 😀 et seul \ufffd"),
        ("_x00e9_t_x00E9_", "été"),
        ("_x12_ _xGGGG_ x000B", "_x12_ _xGGGG_ x000B"),  # not escapes
    ],
)
def test_cell_text_decodes_excel_escapes(stored, read):
    assert cell_text(stored) == read


def test_escapes_in_typed_text_are_decoded_in_every_sheet(returned, tmp_path):
    """The prospecting sheet's texts too, in inline strings (openpyxl writes those; case 10 has shared ones)."""

    def escape(name: str, data: bytes) -> bytes:
        if name.startswith("xl/worksheets/"):
            data = data.replace(b"Prospection men", b"Prospection_x000B_men")
            data = data.replace(b"Dupont et Fils", b"Dupont_x000D_\net_x0009_Fils")
        return data

    fill(returned, {"prosp_organisation": "Dupont et Fils"}, out=tmp_path / "a.xlsx")
    (reading,) = read_workbook(rewrite_parts(tmp_path / "a.xlsx", tmp_path / "b.xlsx", escape))
    assert reading.values["observations"] == "Prospection\nmenée avec méthode."
    assert reading.values["prosp_organisation"] == "Dupont\r\net\tFils"


# ------------------------------------------------------------------ openpyxl's warnings


def gnumeric_like(src: Path, dst: Path) -> Path:
    """``src`` as Gnumeric or ONLYOFFICE re-save it, for openpyxl: styles without named cell styles
    ("Workbook contains no default style") and a data validation extension ("… not supported")."""
    ext = (
        b'<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
        b'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
        b'<x14:dataValidations count="0"/></ext></extLst>'
    )

    def edit(name: str, data: bytes) -> bytes:
        if name == "xl/styles.xml":
            data = re.sub(rb"<cellStyles\b.*?</cellStyles>", b"", data, flags=re.S)
        elif name.startswith("xl/worksheets/sheet"):
            data = data.replace(b"</worksheet>", ext + b"</worksheet>")
        return data

    return rewrite_parts(src, dst, edit)


def test_openpyxl_warnings_never_reach_the_terminal(returned, tmp_path):
    """A real run of ``e2docs inspect`` (a new interpreter, Python's default warning filters) on a file
    that makes openpyxl warn: nothing on stderr, French only on stdout."""
    path = gnumeric_like(returned, tmp_path / "gnumeric.xlsx")
    probe = subprocess.run(  # the file does make openpyxl warn
        [sys.executable, "-c", f"import openpyxl; openpyxl.load_workbook({str(path)!r}, read_only=True)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Workbook contains no default style" in probe.stderr
    for args in (["inspect", str(path)], ["inspect", "--json", str(path)]):
        done = subprocess.run(
            [sys.executable, "-m", "e2docs", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(PROJECT), "PYTHONWARNINGS": "default"},
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stderr == ""
        assert not re.search(r"Warning|warn\(|not supported|default style", done.stdout), done.stdout
    assert (
        "✓ Classeur valide."
        in subprocess.run(
            [sys.executable, "-m", "e2docs", "inspect", str(path)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(PROJECT)},
            timeout=120,
        ).stdout
    )


def test_reading_a_file_openpyxl_warns_about_emits_no_warning(returned, tmp_path, recwarn):
    read_workbook(gnumeric_like(returned, tmp_path / "g.xlsx"))
    assert [str(w.message) for w in recwarn] == []


# ------------------------------------------------------------------ protections lost on re-save


def _no_sheet_passwords(text: str) -> str:
    return re.sub(r'(<sheetProtection\b[^>]*?) password="[^"]*"', r"\1", text)


def _no_structure_lock(text: str) -> str:
    return re.sub(r"<workbookProtection\b[^>]*/>", "", text)


def _meta_shown(text: str) -> str:
    return re.sub(rf'(<sheet\b[^>]*\bname="{META_SHEET}"[^>]*?) state="hidden"', r'\1 state="visible"', text)


STRIPS = {
    "sheet passwords": (
        "xl/worksheets/*",
        _no_sheet_passwords,
        "le mot de passe de protection des feuilles « Grille E2 », « Opération de prospection », « e2docs »",
    ),
    "structure lock": ("xl/workbook.xml", _no_structure_lock, "le verrouillage de la structure du classeur"),
    "hidden metadata sheet": ("xl/workbook.xml", _meta_shown, f"le masquage de la feuille « {META_SHEET} »"),
}


def stripped(src: Path, dst: Path, *kinds: str) -> Path:
    def edit(name: str, data: bytes) -> bytes:
        for kind in kinds:
            part, change, _ = STRIPS[kind]
            if name == part or (part.endswith("*") and name.startswith(part[:-1]) and name.endswith(".xml")):
                new = change(data.decode("utf-8")).encode("utf-8")
                assert new != data, (kind, name)
                data = new
        return data

    return rewrite_parts(src, dst, edit)


def test_a_workbook_as_generated_has_every_protection_and_no_warning(returned):
    pkg = read_package(returned)
    assert pkg.structure_locked and pkg.sheets[META_SHEET].state == "hidden"
    assert all(s.protected and s.password for s in pkg.sheets.values())
    (reading,) = read_workbook(returned)
    assert reading.ok and reading.warnings == []


@pytest.mark.parametrize("kind", list(STRIPS))
def test_each_lost_protection_is_accepted_with_a_french_warning(returned, tmp_path, kind):
    (reading,) = read_workbook(stripped(returned, tmp_path / "resave.xlsx", kind))
    assert reading.ok and not reading.errors and not reading.modified, reading.modified
    assert reading.outcome.proposed_mark == 15 and reading.outcome.final_mark == 14
    (warning,) = reading.warnings
    assert warning.kind is IssueKind.PROTECTION and warning.sheet is None and warning.cell is None
    assert STRIPS[kind][2] in warning.message
    for other in set(STRIPS) - {kind}:  # only what was lost is named
        assert STRIPS[other][2].split(" « ")[0] not in warning.message, warning.message
    assert warning.message.startswith("classeur réenregistré par un tableur qui a perdu ")
    assert warning.message.endswith(
        "Rien à faire : le contenu a été vérifié cellule par cellule et la signature d'e2docs est intacte : "
        "le retour reste valable."
    )


def test_all_three_lost_make_one_warning_naming_each(returned, tmp_path):
    (reading,) = read_workbook(stripped(returned, tmp_path / "gnumeric.xlsx", *STRIPS))
    assert reading.ok
    (warning,) = reading.warnings
    assert all(STRIPS[k][2] in warning.message for k in STRIPS), warning.message


def test_protection_removed_altogether_is_still_a_modification(returned, tmp_path):
    """Losing a password is a warning; a sheet left without protection is a change, as before."""
    path = edited(
        returned,
        tmp_path / "open.xlsx",
        "xl/worksheets/sheet1.xml",
        lambda t: re.sub(r"<sheetProtection\b[^>]*/>", "", t),
    )
    (reading,) = read_workbook(path)
    assert not reading.ok
    assert [(i.sheet, i.message) for i in reading.modified] == [("Grille E2", "protection de la feuille retirée.")]


def test_libreoffice_empty_workbook_protection_counts_as_kept(returned, tmp_path):
    """LibreOffice writes <workbookProtection/> without attributes (case retours-0.1): no warning."""
    path = edited(
        returned,
        tmp_path / "lo.xlsx",
        "xl/workbook.xml",
        lambda t: re.sub(r"<workbookProtection\b[^>]*/>", "<workbookProtection/>", t),
    )
    (reading,) = read_workbook(path)
    assert reading.ok and reading.warnings == []


def test_inspect_shows_the_lost_protection_warning_in_french_and_in_json(returned, tmp_path):
    from click.testing import CliRunner

    from e2docs.cli import main

    path = stripped(returned, tmp_path / "exceljs.xlsx", "structure lock", "hidden metadata sheet")
    text = CliRunner().invoke(main, ["inspect", str(path)], catch_exceptions=False)
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    (line,) = [x for x in lines if x.startswith("  ! ")]
    assert line.startswith("  ! classeur réenregistré par un tableur qui a perdu le verrouillage de la structure")
    assert "feuille « None »" not in text.output and "  ✓ Classeur valide." in lines
    out = CliRunner().invoke(main, ["inspect", "--json", str(path)], catch_exceptions=False)
    (entry,) = json.loads(out.output)["files"]
    assert entry["ok"] is True and entry["errors"] == []
    (warning,) = entry["warnings"]
    assert set(warning) == {"kind", "sheet", "cell", "message"}
    assert warning["kind"] == "protection" and warning["sheet"] is None and warning["cell"] is None


# ------------------------------------------------------------------ Strict Open XML


def test_strict_ooxml_is_recognised_from_the_workbook_part(returned, tmp_path):
    strict = to_strict(returned, tmp_path / "strict.xlsx")
    prefixed = edited(  # the same, with a prefixed root element (any prefix is valid XML)
        strict,
        tmp_path / "prefixed.xlsx",
        "xl/workbook.xml",
        lambda t: re.sub(r"<(/?)(?!\?)(\w+)([ />])", r"<\1x:\2\3", t).replace(
            'xmlns="http://purl', 'xmlns:x="http://purl', 1
        ),
    )
    for path, expected in ((returned, False), (strict, True), (prefixed, True)):
        with zipfile.ZipFile(path) as zf:
            assert sniff.is_strict_ooxml(zf) is expected, path.name
    assert read_package(strict).sheets == {}  # what openpyxl makes of it: no sheet at all


def test_strict_without_libreoffice_is_refused_with_what_to_do(returned, tmp_path, monkeypatch):
    monkeypatch.setattr(libreoffice, "find_soffice", lambda: None)
    strict = to_strict(returned, tmp_path / "Strict.xlsx")
    with pytest.raises(ConversionError) as caught:
        read_workbook(strict)
    err = caught.value
    assert err.path == strict and err.exit_code == 2
    assert err.message.startswith("classeur enregistré au format « Feuille de calcul Open XML Strict » d'Excel")
    assert "LibreOffice, qui le convertit, n'est pas installé" in err.message
    assert "enregistrez-le au format Classeur Excel (*.xlsx)" in (err.hint or "")
    assert "généré par e2docs" not in err.message  # not blamed on its origin any more


@pytest.mark.libreoffice
def test_strict_ooxml_is_converted_by_libreoffice_and_read_like_the_original(returned, tmp_path):
    require_lo()
    strict = to_strict(returned, tmp_path / "Grille stricte.xlsx")
    (original,), (reading,) = read_workbook(returned), read_workbook(strict)
    assert reading.path == strict
    assert reading.ok, (reading.errors, reading.modified)
    assert reading.values == original.values and reading.outcome == original.outcome
    assert reading.outcome.proposed_mark == 15 and reading.outcome.final_mark == 14
    assert reading.saved_at == original.saved_at
    assert [w.kind for w in reading.warnings] in ([], [IssueKind.PROTECTION])  # whatever LibreOffice keeps
