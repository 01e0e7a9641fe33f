"""Text from outside (roster names, zip member names, mail attachments) never reaches the terminal or
file names with terminal escapes or bidi controls; CSV cells never start a formula."""

from __future__ import annotations

import csv
import io

import openpyxl

from e2docs.app.campaign import create_campaign
from e2docs.app.generate import generate_in_campaign
from tests.app.test_collect import Setup, mail, number, zip_of

RLO_NAME = "Ali\u202exslx.exe"  # shown as "Aliexe.xlsx" once reversed
FORMULA_NAME = '=HYPERLINK("http://x";"clic")'
BAD = ("\x1b", "\u202e", "\u2066", "\u200f", "\x9b", "\r")


def _campaign(tmp_path) -> Setup:
    roster = tmp_path / "liste.csv"
    rows = [
        "N° candidat;Nom;Prénom;Division;Date de naissance",
        f"{number(0)};DUPONT\u2066\u200f;Léa;TMCV1;14/03/2009",  # (escape bytes make a roster refused as binary)
        f"{number(1)};{RLO_NAME};Maël;TMCV1;14/03/2009",
        f"{number(2)};{FORMULA_NAME.replace(';', ',')};-Marie;@TMCV1;14/03/2009",
    ]
    roster.write_text("\n".join(rows) + "\n", encoding="utf-8")
    campaign, _ = create_campaign(tmp_path / "campagne", roster, session="2027", school="LP", academie="Versailles")
    generate_in_campaign(campaign)
    return Setup(campaign, tmp_path / "arrivees")


def _clean(text: str) -> bool:
    return not any(b in text for b in BAD)


def test_file_names_hold_no_escape_or_bidi_control(tmp_path):
    s = _campaign(tmp_path)
    names = sorted(p.name for p in (s.root / "envoi").iterdir())
    assert all(_clean(n) for n in names), names
    assert any(n.startswith("Alixslx.exe_Maël_") for n in names), names  # the override is gone, the letters stay
    assert any(n.startswith("DUPONT_Léa_") for n in names), names


def test_status_and_collect_output_are_cleaned(tmp_path):
    s = _campaign(tmp_path)
    status = s.run("status")
    assert status.exit_code == 0, status.output
    assert _clean(status.output)
    assert "DUPONT" in status.output and "Alixslx.exe" in status.output
    # a zip whose member name carries escapes, and a mail whose attachment name does
    grid = s.make(number(0), "grille.xlsx").read_bytes()
    member = "\x1b[2K\x1b[1Aaccepté\u202e.xlsx"
    (s.inbox / "envoi.zip").write_bytes(zip_of({member: grid}))
    msg = mail({"\x1b]0;titre\x07piece\u202e.xlsx": grid}, sender="\x1b[31mPirate\u202e <p@example.fr>")
    msg.replace_header("Subject", "\x1b[2Krefusé\u202e")
    (s.inbox / "message.eml").write_bytes(bytes(msg))
    result = s.collect(s.inbox / "envoi.zip", s.inbox / "message.eml")
    assert _clean(result.output), repr(result.output)
    assert "accepté.xlsx" in result.output, result.output  # the member is still named, cleaned
    history = s.run("status", "--history")
    assert _clean(history.output), repr(history.output)


def test_csv_export_neutralises_formulas_and_xlsx_keeps_strings(tmp_path):
    s = _campaign(tmp_path)
    out = tmp_path / "synthese.csv"
    assert s.run("export", "-o", str(out)).exit_code == 0
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig")), delimiter=";"))
    row = next(r for r in rows if r and r[0] == number(2))
    assert row[1] == "'" + FORMULA_NAME.replace(";", ",")
    assert row[2] == "'-Marie"
    assert row[3] == "'@TMCV1"
    normal = next(r for r in rows if r and r[0] == number(1))
    assert normal[2] == "Maël"  # nothing added to an ordinary cell
    xlsx = tmp_path / "synthese.xlsx"
    assert s.run("export", "-o", str(xlsx)).exit_code == 0
    ws = openpyxl.load_workbook(xlsx)["Synthèse"]
    cells = [c for r in ws.iter_rows() for c in r if c.value == FORMULA_NAME.replace(";", ",")]
    assert cells and all(c.data_type == "s" for c in cells)  # a string, never a formula
    marie = [c for r in ws.iter_rows() for c in r if c.value == "-Marie"]
    assert marie and marie[0].data_type == "s"
