"""The command line as a user meets it: messages in French, exit codes, nothing half-written."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import openpyxl
from click.testing import CliRunner

from e2docs.cli import main
from tests.helpers import ALL_LEVEL_3, DATA, fill, layout_of, level_values, make_workbook

CYCLADES = DATA / "rosters" / "cyclades-liste-simple-1.csv"


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_generate_from_cyclades_export(tmp_path):
    result = run("generate", str(CYCLADES), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert "LEBLANC_Capucine_31214_2095557742.xlsx" in names
    assert all(n.endswith(".xlsx") and "_31214_" in n for n in names)
    assert "ligne(s) ignorée(s)" in result.output
    wb = openpyxl.load_workbook(tmp_path / "out" / "LEBLANC_Capucine_31214_2095557742.xlsx")
    ws = wb["Grille E2"]
    values = [c.value for row in ws.iter_rows(max_row=12) for c in row]
    assert "2023" in values and "LYC TEST – VILLEFICTIVE" in values and "Versailles" in values


def test_generate_refuses_to_overwrite_then_force(tmp_path):
    out = tmp_path / "out"
    assert run("generate", str(CYCLADES), "-o", str(out)).exit_code == 0
    target = out / "LEBLANC_Capucine_31214_2095557742.xlsx"
    before = target.read_bytes()
    result = run("generate", str(CYCLADES), "-o", str(out))
    assert result.exit_code == 2
    assert "existe(nt) déjà" in result.output and "--force" in result.output
    assert target.read_bytes() == before
    assert run("generate", str(CYCLADES), "-o", str(out), "--force").exit_code == 0


def test_generate_bad_roster_writes_nothing(tmp_path):
    roster = tmp_path / "liste.csv"
    roster.write_text("Nom;Prénom\nDUPONT;Jean\n", encoding="utf-8")
    result = run("generate", str(roster), "-o", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "liste.csv" in result.output and "numéro de candidat" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_generate_per_class(tmp_path):
    result = run("generate", str(CYCLADES), "-o", str(tmp_path), "--per", "class", "--session", "2027")
    assert result.exit_code == 0, result.output
    (book,) = list(tmp_path.glob("*.xlsx"))
    assert book.name.startswith("Classe_") and "2027" in book.name
    assert openpyxl.load_workbook(book).sheetnames[0] == "Récapitulatif"


def test_generate_with_a_broken_grid_names_file_and_key(tmp_path):
    grid = tmp_path / "grille.toml"
    grid.write_text("[grid]\nid = 'x'\n", encoding="utf-8")
    result = run("generate", str(CYCLADES), "-o", str(tmp_path / "out"), "--grid", str(grid))
    assert result.exit_code == 2
    assert "grille.toml" in result.output and "clé" in result.output


def test_inspect_json_contract(tmp_path):
    path = fill(make_workbook(tmp_path), level_values(ALL_LEVEL_3) | {"observations": "Très bien."})
    result = run("inspect", str(path), "--json")
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.output)["files"]
    assert entry["ok"] is True and entry["errors"] == []
    assert entry["candidate"] == {
        "number": "2709411047",
        "last_name": "D'ALMEIDA",
        "first_name": "Inès",
        "division": "TMCV2",
    }
    assert entry["grid"]["id"] == "e2-mcv-b" and entry["grid"]["version"] == "1"
    levels = [i for i in entry["inputs"] if i["kind"] == "level"]
    assert len(levels) == 36
    c31 = next(i for i in levels if i["criterion"] == "C3.1" and i["level"] == 3)
    assert c31["value"] == "X" and c31["sheet"] == "Grille E2" and c31["name"] == "niveau_C3_1_3"
    comps = [i for i in entry["inputs"] if i["kind"] == "competence"]
    assert {i["competence"] for i in comps} >= {"1.1", "3.9", "5.1"}
    outputs = {o["name"]: o for o in entry["outputs"]}
    assert outputs["note_proposee"]["value"] == 15 and outputs["etat_grille"]["value"] == "Grille complète"
    assert {"note_proposee", "note_finale", "etat_grille"} <= outputs.keys()
    assert entry["results"]["proposed_mark"] == 15.0 and entry["results"]["final_mark"] == 15.0
    assert entry["results"]["complete"] is True and entry["results"]["missing"] == []


def test_inspect_reports_problems_and_exits_1(tmp_path):
    good = make_workbook(tmp_path, name="bon.xlsx")
    bad = fill(make_workbook(tmp_path, name="mauvais.xlsx"), {"niveau_C1_1_1": "Très bien"})
    junk = tmp_path / "notes.xlsx"
    junk.write_text("pas un classeur")
    result = run("inspect", str(good), str(bad), str(junk))
    assert result.exit_code == 1
    where = layout_of().named["niveau_C1_1_1"].ref  # E26 (E20 in layout version 1)
    assert "seule possibilité X" in result.output and f"cellule {where}" in result.output
    assert "n'est pas un classeur .xlsx" in result.output
    data = json.loads(run("inspect", "--json", str(good), str(bad), str(junk)).output)
    assert [f["ok"] for f in data["files"]] == [True, False, False]
    err = data["files"][1]["errors"][0]
    assert err["sheet"] == "Grille E2" and err["cell"] == where


def test_demo_runs_the_whole_pipeline(tmp_path):
    result = run("demo", str(tmp_path))
    assert result.exit_code == 0, result.output
    root = tmp_path / "campagne-demo"
    assert len(list((root / "envoi").glob("*.xlsx"))) == 12
    # the bundled returns (typed in LibreOffice) still belong to the demo campaign and read cleanly
    assert "7 complet(s), 1 incomplet(s), 1 rejeté(s)" in result.output
    assert "plusieurs niveaux cochés (2, 3)" in result.output
    status = json.loads(run("-C", str(root), "status", "--json").output)
    assert status["totals"] == {"missing": 3, "incomplete": 1, "complete": 7, "rejected": 1, "review": 0}
    le_goff = next(c for c in status["candidates"] if c["last_name"] == "LE GOFF")
    assert (le_goff["proposed_mark"], le_goff["final_mark"]) == (17.5, 16.0)
    reports = sorted(p.name for p in (root / "rapports").glob("*.docx"))
    assert "LE-GOFF_Maël_31214_2709411105_fiche-evaluation.docx" in reports
    assert "recapitulatif-classe_TMCV2.docx" in reports
    assert (root / "synthese.xlsx").is_file()
    again = run("demo", str(tmp_path))  # a second run replaces the demo campaign
    assert again.exit_code == 0, again.output


def test_module_entry_point_and_help_in_french():
    out = subprocess.run([sys.executable, "-m", "e2docs", "--help"], capture_output=True, text=True, check=True)
    assert "Génère" in out.stdout and "inspect" in out.stdout


def test_unexpected_errors_have_no_traceback_without_debug(tmp_path):
    result = CliRunner().invoke(main, ["inspect", str(tmp_path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "dossier" in result.output


def test_inspect_verifies_a_campaign_workbook_with_its_campaign_key(tmp_path):
    assert run("demo", str(tmp_path)).exit_code == 0
    root = tmp_path / "campagne-demo"
    book = next((root / "envoi").glob("BERNARD_*.xlsx"))
    inside = json.loads(run("inspect", "--json", str(book)).output)["files"][0]
    assert inside["ok"] is True, inside["errors"]
    copy = tmp_path / "copie.xlsx"
    copy.write_bytes(book.read_bytes())
    assert json.loads(run("-C", str(root), "inspect", "--json", str(copy)).output)["files"][0]["ok"] is True
    result = run("inspect", str(copy))
    assert result.exit_code == 1
    assert "vérifiez-le depuis le dossier de cette campagne" in result.output


# ------------------------------------------------------------------ rosters: what the list says, or a note


def test_new_from_a_cyclades_export_saved_as_xlsx_keeps_what_its_preamble_says(tmp_path):
    import tomllib

    from tests.formats.test_roster import as_excel_saves_it

    roster = as_excel_saves_it(tmp_path / "liste.xlsx", CYCLADES)
    result = run("new", str(tmp_path / "campagne"), "--roster", str(roster))
    assert result.exit_code == 0, result.output
    assert "session 2023, LYC TEST – VILLEFICTIVE" in result.output
    assert "Note" not in result.output
    settings = tomllib.loads((tmp_path / "campagne" / "e2docs.toml").read_text(encoding="utf-8"))
    assert (settings["session"], settings["etablissement"], settings["uai"], settings["academie"]) == (
        "2023",
        "LYC TEST – VILLEFICTIVE",
        "0921234A",
        "Versailles",
    )


def test_a_roster_without_session_or_school_makes_new_and_generate_say_how_to_give_them(tmp_path):
    roster = tmp_path / "liste.csv"
    roster.write_text("N° candidat;Nom;Prénom;Division\n2700000001;DUPONT;Jean;TMCV1\n", encoding="utf-8")
    root = tmp_path / "campagne"
    made = run("new", str(root), "--roster", str(roster))
    assert made.exit_code == 0, made.output  # a note, not an error
    assert "Note : ni la liste ni les options ne donnent la session, l'établissement ni l'académie" in made.output
    assert str(root / "e2docs.toml") in made.output
    assert 'session = "2027"' in made.output and "--session, --school, --academie" in made.output

    generated = run("-C", str(root), "generate")
    assert generated.exit_code == 0, generated.output
    assert "Note : les réglages de la campagne ne donnent pas la session" in generated.output
    assert str(root / "e2docs.toml") in generated.output and "generate --force" in generated.output

    alone = run("generate", str(roster), "-o", str(tmp_path / "out"), "--session", "2027")
    assert alone.exit_code == 0, alone.output
    assert "ne donnent l'établissement ni l'académie" in alone.output and "la session" not in alone.output
    assert "relancez avec --school, --academie" in alone.output

    given = run(
        "generate",
        str(roster),
        "-o",
        str(tmp_path / "out2"),
        "--session",
        "2027",
        "--school",
        "LP Jean Moulin",
        "--academie",
        "Versailles",
    )
    assert given.exit_code == 0 and "Note" not in given.output
    full = run(
        "new",
        str(tmp_path / "c2"),
        "--roster",
        str(roster),
        "--session",
        "2027",
        "--school",
        "LP",
        "--academie",
        "Nice",
    )
    assert full.exit_code == 0 and "Note" not in full.output


def test_history_keep_and_undo_on_the_demo_campaign(tmp_path):
    assert run("demo", str(tmp_path)).exit_code == 0
    root = tmp_path / "campagne-demo"
    status = json.loads(run("-C", str(root), "status", "--json").output)
    le_goff = next(c for c in status["candidates"] if c["last_name"] == "LE GOFF")
    (only,) = le_goff["history"]
    assert le_goff["retained_return"] == only["id"] and only["retained"] is True
    assert only["made_at"] is not None and only["made_at"] < only["collected_at"]  # saved in LibreOffice before
    assert set(only) >= {"id", "state", "made_at", "collected_at", "origin", "proposed_mark", "final_mark"}

    history = run("-C", str(root), "status", "--history").output
    made = dt.datetime.fromisoformat(only["made_at"]).astimezone()
    assert f"→ n° {only['id']:<4} fait {made:%Y-%m-%d %H:%M}" in history
    assert "relevé " in history

    helps = {name: run(name, "--help").output for name in ("keep", "undo")}
    assert "Choisit le retour qui compte" in helps["keep"] and "--auto" in helps["keep"]
    assert "Annule la dernière relève" in helps["undo"]

    undone = run("-C", str(root), "undo")
    assert undone.exit_code == 0 and "ses 9 retour(s) ne comptent plus" in undone.output
    totals = json.loads(run("-C", str(root), "status", "--json").output)["totals"]
    assert totals == {"missing": 12, "incomplete": 0, "complete": 0, "rejected": 0, "review": 0}
    bad = run("-C", str(root), "keep", le_goff["number"], str(only["id"]))  # its run is cancelled
    assert bad.exit_code == 2 and "retours possibles : aucun" in bad.output


def test_report_lists_at_most_twenty_names_per_line(tmp_path):
    """A whole académie has hundreds of incomplete grids: report names the first twenty and says how
    many more, where status lists them all."""
    from e2docs.app.documents import ReportResult
    from e2docs.cli.console import report_lines

    few = ReportResult(tmp_path, provisional=[f"NOM-{i} Prénom" for i in range(20)])
    assert "… et" not in "\n".join(report_lines(few))
    assert "NOM-19 Prénom" in "\n".join(report_lines(few))
    many = ReportResult(tmp_path, provisional=[f"NOM-{i} Prénom" for i in range(523)])
    line = next(x for x in report_lines(many) if x.startswith("Documents marqués PROVISOIRE"))
    assert "NOM-0 Prénom" in line and "NOM-19 Prénom" in line and "NOM-20 Prénom" not in line
    assert line.endswith("… et 503 autre(s) (liste complète : e2docs status)")
