"""``e2docs status`` (text and the ``--json`` contract) and ``e2docs export`` (.csv and .xlsx with charts)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile

import openpyxl
import pytest

from tests.app.test_collect import COMPLETE, INCOMPLETE, Setup, new_campaign, number
from tests.helpers import layout_of

A, B, C, D, E, F, G = (number(i) for i in range(7))
STATE_OF = {A: "complete", B: "complete", C: "complete", D: "complete", E: "incomplete", F: "rejected", G: "missing"}
FINALS = {A: 15, B: 12.5, C: 12.5, D: 12.5}  # mean 13.125: 13.13 as ROUND gives it (Python's round: 13.12)
CONTRACT = {
    "number",
    "last_name",
    "first_name",
    "division",
    "state",
    "proposed_mark",
    "final_mark",
    "missing",
    "returned_at",
}


@pytest.fixture(scope="module")
def s(tmp_path_factory) -> Setup:
    """Seven candidates: four complete, one incomplete, one rejected, one who sent nothing."""
    base = tmp_path_factory.mktemp("synthese")
    setup = Setup(new_campaign(base, 7), base / "arrivees")
    paths = [
        setup.make(A, "A.xlsx"),
        *(setup.make(n, f"{n}.xlsx", COMPLETE | {"note_commission": 12.5}) for n in (B, C, D)),
        setup.make(E, "E.xlsx", INCOMPLETE | {"niveau_C4_4_3": None}),
        setup.make(F, "F.xlsx", COMPLETE | {"note_commission": 21}),
    ]
    result = setup.collect(*paths)
    assert result.exit_code == 1, result.output  # F rejected
    return setup


def test_status_text_in_french(s):
    result = s.run("status")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["N°", "candidat", "Nom", "Division", "État", "Proposée", "Finale", "Retour"]
    today = dt.date.today().isoformat()

    def row(num: str) -> str:
        (line,) = [line for line in lines if line.startswith(num)]
        return line

    assert re.search(rf"NOM0 Prénom0\s+TMCV1\s+complet\s+15\s+15\s+{today}$", row(A))
    assert re.search(r"NOM1 Prénom1\s+TMCV2\s+complet\s+15\s+12,5\s+", row(B))
    assert re.search(r"NOM4 Prénom4\s+TMCV1\s+incomplet\s+—\s+—\s+", row(E))
    assert re.search(r"NOM5 Prénom5\s+TMCV2\s+rejeté\s+—\s+—\s+", row(F))
    assert re.search(r"NOM6 Prénom6\s+TMCV1\s+non rendu\s+—\s+—\s*$", row(G))
    text = result.output
    assert "manque : critère(s) C4.4 ; note finale ; observations" in text
    where = layout_of().named["note_commission"].ref  # I53 (I47 in layout version 1)
    assert (
        f"· saisie invalide — feuille « Grille E2 », cellule {where} : Note attribuée par la commission : « 21 »"
    ) in text
    assert lines[-1] == "Total : 7 candidat(s) — 4 complet, 1 incomplet, 1 rejeté, 1 non rendu"


def test_status_json_contract(s):
    result = s.run("status", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["totals"] == {"missing": 1, "incomplete": 1, "complete": 4, "rejected": 1, "review": 0}
    cands = data["candidates"]
    assert [c["number"] for c in cands] == [number(i) for i in range(7)]  # roster order
    for c in cands:
        assert set(c) >= CONTRACT
        assert c["state"] in ("missing", "incomplete", "complete", "rejected")
        assert c["state"] == STATE_OF[c["number"]]
    by = {c["number"]: c for c in cands}
    assert (by[A]["last_name"], by[A]["first_name"], by[A]["division"]) == ("NOM0", "Prénom0", "TMCV1")
    for num, final in FINALS.items():
        assert (by[num]["proposed_mark"], by[num]["final_mark"], by[num]["missing"]) == (15, final, [])
    assert by[E]["proposed_mark"] is None and by[E]["final_mark"] is None
    assert by[E]["missing"] == ["C4.4", "note_finale", "observations"]
    assert by[F]["final_mark"] is None and by[F]["missing"] == []
    assert by[G]["returned_at"] is None and by[G]["proposed_mark"] is None and by[G]["missing"] == []
    for num in (A, E, F):
        returned = dt.datetime.fromisoformat(by[num]["returned_at"])
        assert returned.tzinfo is not None and returned.date() == dt.date.today()


def test_status_json_totals_count_every_candidate(tmp_path):
    setup = Setup(new_campaign(tmp_path, 3), tmp_path / "arrivees")
    data = json.loads(setup.run("status", "--json").output)
    assert data["totals"] == {"missing": 3, "incomplete": 0, "complete": 0, "rejected": 0, "review": 0}
    assert {c["state"] for c in data["candidates"]} == {"missing"}


def test_status_without_campaign_is_bad_usage(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from e2docs.cli import main

    monkeypatch.chdir(tmp_path)
    for args in (["status"], ["status", "--json"], ["export", "-o", "x.csv"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2 and "aucune campagne ici" in result.output
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ export


def _csv_rows(path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: French Excel opens it directly
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))


def test_export_csv(s, tmp_path):
    out = tmp_path / "synthèse.csv"
    result = s.run("export", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert f"Synthèse écrite : {out}" in result.output
    rows = _csv_rows(out)
    head = rows[0]
    assert head[:7] == ["N° candidat", "Nom", "Prénom", "Division", "Note proposée", "Note finale", "État"]
    assert head[7:] == [f"Niveau {c}" for c in ("C1.1", "C2.1", "C2.2", "C3.1", "C3.2", "C4.1", "C4.2", "C4.3", "C4.4")]
    body = {r[0]: r for r in rows[1:8]}
    assert list(body) == [number(i) for i in range(7)]
    assert body[A][:7] == [A, "NOM0", "Prénom0", "TMCV1", "15", "15", "complet"]
    assert body[B][4:7] == ["15", "12,5", "complet"]  # decimal comma
    assert body[A][7:] == ["3"] * 9
    assert body[E][4:7] == ["", "", "incomplet"] and body[E][7:] == ["3"] * 8 + [""]
    assert body[F][4:] == ["", "", "rejeté"] + [""] * 9
    assert body[G][4:] == ["", "", "non rendu"] + [""] * 9
    assert rows[8] == []
    stats = {r[0]: r[5] for r in rows[9:]}
    assert stats == {"Moyenne": "13,13", "Minimum": "12,5", "Maximum": "15", "Nombre de notes": "4"}


def test_export_csv_without_any_mark(tmp_path):
    setup = Setup(new_campaign(tmp_path, 2), tmp_path / "arrivees")
    out = tmp_path / "vide.csv"
    assert setup.run("export", "-o", str(out)).exit_code == 0
    stats = {r[0]: r[5] for r in _csv_rows(out)[4:]}
    assert stats == {"Moyenne": "", "Minimum": "", "Maximum": "", "Nombre de notes": "0"}


def test_export_xlsx_rows_stats_and_charts(s, tmp_path):
    out = tmp_path / "synthese.xlsx"
    result = s.run("export", "-o", str(out))
    assert result.exit_code == 0, result.output

    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
    assert {"xl/charts/chart1.xml", "xl/charts/chart2.xml"} <= names

    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Synthèse", "Graphiques"]
    assert len(wb["Graphiques"]._charts) == 2
    ws = wb["Synthèse"]
    assert ws["A1"].value.startswith("Épreuve E2 — session 2027 — LP Jean Moulin")
    assert [c.value for c in ws[3]][:7] == [
        "N° candidat",
        "Nom",
        "Prénom",
        "Division",
        "Note proposée",
        "Note finale",
        "État",
    ]
    rows = {r[0]: r for r in ws.iter_rows(min_row=4, max_row=10, values_only=True)}
    assert list(rows) == [number(i) for i in range(7)]
    assert rows[A][1:7] == ("NOM0", "Prénom0", "TMCV1", 15, 15, "complet")
    assert rows[B][4:7] == (15, 12.5, "complet")
    assert rows[G][4:7] == (None, None, "non rendu")
    assert rows[A][7:16] == (3,) * 9
    formulas = {ws.cell(r, 5).value: ws.cell(r, 6).value for r in range(12, 16)}
    assert formulas["Moyenne"] == '=IF(COUNT(F4:F10)>0,ROUND(AVERAGE(F4:F10),2),"")'
    assert formulas["Nombre de notes"] == "=COUNT(F4:F10)"

    cached = openpyxl.load_workbook(out, data_only=True)["Synthèse"]
    stats = {cached.cell(r, 5).value: cached.cell(r, 6).value for r in range(12, 16)}
    assert stats == {"Moyenne": 13.13, "Minimum": 12.5, "Maximum": 15, "Nombre de notes": 4}

    charts = openpyxl.load_workbook(out, data_only=True)["Graphiques"]
    bands = {charts.cell(r, 1).value: charts.cell(r, 2).value for r in range(2, 12)}
    assert bands["12 à 14"] == 3 and bands["14 à 16"] == 1 and sum(bands.values()) == 4


@pytest.mark.parametrize("name", ["synthese.pdf", "synthese.ods", "synthese"])
def test_export_unknown_extension_is_bad_usage(s, tmp_path, name):
    out = tmp_path / name
    result = s.run("export", "-o", str(out))
    assert result.exit_code == 2
    assert "format d'export inconnu : utilisez un nom de fichier en .xlsx ou .csv." in result.output
    assert "Traceback" not in result.output
    assert not out.exists() and list(tmp_path.iterdir()) == []
