"""``e2docs assign``, ``status`` by examiner, ``generate --per examiner``: on a real campaign and ledger.

The campaign has 6 candidates (``number(0)`` … ``number(5)``): even ones in TMCV1, odd ones in TMCV2.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import openpyxl
import pytest

from e2docs.app.ledger import SCHEMA_VERSION
from e2docs.formats.xlsx.reader import read_workbook
from tests.app.test_collect import COMPLETE, Setup, new_campaign, number

MARTIN = "Mme Martin;martin@lycee.example.fr"
DURAND = "M. Durand;durand@lycee.example.fr"


@pytest.fixture
def s(tmp_path) -> Setup:
    return Setup(new_campaign(tmp_path, 6), tmp_path / "arrivees")


def write(path: Path, *lines: str, header: str = "Examinateur;Courriel;N° candidat;Division", encoding="utf-8") -> Path:
    path.write_text("\n".join([header, *lines]) + "\n", encoding=encoding)
    return path


def ledger_tables(s: Setup) -> tuple[list, list]:
    db = sqlite3.connect(s.root / "registre.sqlite")
    try:
        return (
            db.execute("SELECT * FROM examiners ORDER BY position").fetchall(),
            db.execute("SELECT * FROM assignments ORDER BY candidate").fetchall(),
        )
    finally:
        db.close()


def by_examiner(s: Setup) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for num, c in s.status().items():
        out.setdefault(c["examiner"]["email"] if c["examiner"] else "", []).append(num)
    return out


def test_divisions_then_one_candidate_overriding_its_division(s, tmp_path):
    path = write(tmp_path / "examinateurs.csv", f"{MARTIN};;TMCV1", f"{DURAND};;TMCV2", f"{DURAND};{number(0)};")
    result = s.run("assign", str(path))
    assert result.exit_code == 0, result.output
    assert "2 examinateur(s), 6 candidat(s) attribué(s) (5 par division, 1 par numéro)" in result.output
    assert by_examiner(s) == {
        "martin@lycee.example.fr": [number(2), number(4)],
        "durand@lycee.example.fr": [number(0), number(1), number(3), number(5)],
    }
    status = s.status()
    assert status[number(2)]["examiner"] == {"name": "Mme Martin", "email": "martin@lycee.example.fr"}
    # the contract's keys are all still there
    assert {"number", "last_name", "first_name", "division", "state", "proposed_mark", "final_mark", "missing"} <= set(
        status[number(2)]
    )


def test_json_and_xlsx_with_loose_french_headers(s, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Nom de l'examinateur", "Adresse électronique", "Classe"])
    ws.append(["Mme Martin", "Mme Martin <martin@lycee.example.fr>", "TMCV1"])
    ws.append(["M. Durand", "durand@lycee.example.fr", "TMCV2"])
    wb.save(tmp_path / "examinateurs.xlsx")
    result = s.run("assign", "--json", str(tmp_path / "examinateurs.xlsx"))
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["candidates"] == 6 and data["replaced"] == 0
    assert [(e["email"], e["candidates"]) for e in data["examiners"]] == [
        ("martin@lycee.example.fr", [number(0), number(2), number(4)]),
        ("durand@lycee.example.fr", [number(1), number(3), number(5)]),
    ]


def test_windows_1252_comma_separated(s, tmp_path):
    path = tmp_path / "examinateurs.csv"
    path.write_bytes("Examinateur,E-mail,Division\nMme Hélène Martin,martin@lycee.example.fr,TMCV1\n".encode("cp1252"))
    path.write_bytes(path.read_bytes() + b"M. Durand,durand@lycee.example.fr,TMCV2\n")
    assert s.run("assign", str(path)).exit_code == 0
    assert s.status()[number(0)]["examiner"]["name"] == "Mme Hélène Martin"


BAD = [
    (
        "candidat-inconnu",
        [f"{MARTIN};;TMCV1", f"{DURAND};;TMCV2", f"{DURAND};2799999999;"],
        "ligne 4, colonne « N° candidat » : candidat inconnu : le numéro « 2799999999 »",
    ),
    (
        "division-inconnue",
        [f"{MARTIN};;TMCV1", f"{DURAND};;TMCV3"],
        "ligne 3, colonne « Division » : division inconnue : « TMCV3 » (divisions de la campagne : TMCV1, TMCV2).",
    ),
    (
        "adresse-invalide",
        [f"{MARTIN};;TMCV1", "M. Durand;durand@lycee;;TMCV2"],
        "ligne 3, colonne « Courriel » : adresse e-mail invalide : « durand@lycee ».",
    ),
    (
        "deux-adresses",
        [f"{MARTIN};;TMCV1", "M. Durand;durand@lycee.example.fr, x@lycee.example.fr;;TMCV2"],
        "ligne 3, colonne « Courriel » : adresse e-mail invalide",
    ),
    (
        "candidat-sans-examinateur",
        [f"{MARTIN};;TMCV1", f"{DURAND};{number(1)};"],
        f"2 candidat(s) sans examinateur : NOM3 Prénom3 ({number(3)}, TMCV2), NOM5 Prénom5 ({number(5)}, TMCV2).",
    ),
    (
        "candidat-deux-fois",
        [f"{MARTIN};;TMCV1", f"{DURAND};;TMCV2", f"{DURAND};{number(0)};", f"{MARTIN};{number(0)};"],
        f"ligne 5, colonne « N° candidat » : le candidat NOM0 Prénom0 ({number(0)}) est déjà attribué à M. Durand "
        "(ligne 4), ici à Mme Martin.",
    ),
    (
        "division-deux-fois",
        [f"{MARTIN};;TMCV1", f"{DURAND};;TMCV1"],
        "ligne 3, colonne « Division » : la division « TMCV1 » est déjà attribuée à Mme Martin (ligne 2)",
    ),
    (
        "ni-candidat-ni-division",
        [f"{MARTIN};;TMCV1", f"{DURAND};;"],
        "ligne 3, colonne « N° candidat » : ni numéro de candidat ni division",
    ),
    (
        "division-du-candidat",
        [f"{MARTIN};;TMCV1", f"{DURAND};;TMCV2", f"{DURAND};{number(0)};TMCV2"],
        f"ligne 4, colonne « Division » : le candidat NOM0 Prénom0 ({number(0)}) est en division « TMCV1 »",
    ),
    (
        "deux-noms-une-adresse",
        [f"{MARTIN};;TMCV1", "Mme Dupont;martin@lycee.example.fr;;TMCV2"],
        "ligne 3, colonne « Examinateur » : l'adresse « martin@lycee.example.fr » porte déjà le nom « Mme Martin »",
    ),
    (
        "nom-manquant",
        [f"{MARTIN};;TMCV1", ";durand@lycee.example.fr;;TMCV2"],
        "ligne 3, colonne « Examinateur » : nom de l'examinateur manquant.",
    ),
]


@pytest.mark.parametrize("lines, expected", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_each_error_names_line_and_column_and_changes_nothing(s, tmp_path, lines, expected):
    good = write(tmp_path / "bon.csv", f"{DURAND};;TMCV1", f"{DURAND};;TMCV2")
    assert s.run("assign", str(good)).exit_code == 0
    before = ledger_tables(s)
    path = write(tmp_path / "examinateurs.csv", *lines)
    result = s.run("assign", str(path))
    assert result.exit_code == 2
    assert f"Erreur : {path} — " in result.output or f"Erreur : {path} : " in result.output
    assert expected in result.output
    assert "→ " in result.output  # a hint says what to do
    assert ledger_tables(s) == before


def test_missing_column_is_named(s, tmp_path):
    path = write(tmp_path / "examinateurs.csv", "Mme Martin;TMCV1", header="Examinateur;Division")
    result = s.run("assign", str(path))
    assert result.exit_code == 2
    assert "ligne 1 : colonne(s) obligatoire(s) absente(s) : « adresse e-mail »" in result.output


def test_reimport_replaces_the_whole_assignment(s, tmp_path):
    first = write(tmp_path / "a.csv", f"{MARTIN};;TMCV1", f"{DURAND};;TMCV2")
    second = write(
        tmp_path / "b.csv", "Mme Petit;petit@lycee.example.fr;;TMCV1", "Mme Petit;petit@lycee.example.fr;;TMCV2"
    )
    assert s.run("assign", str(first)).exit_code == 0
    result = s.run("assign", str(second))
    assert result.exit_code == 0
    assert "L'attribution précédente (2 examinateur(s)) est remplacée." in result.output
    assert by_examiner(s) == {"petit@lycee.example.fr": [number(i) for i in range(6)]}
    examiners, _ = ledger_tables(s)
    assert [e[0] for e in examiners] == ["petit@lycee.example.fr"]


def test_status_shows_and_groups_by_examiner(s, tmp_path):
    assert s.run("assign", str(write(tmp_path / "e.csv", f"{MARTIN};;TMCV1", f"{DURAND};;TMCV2"))).exit_code == 0
    s.collect(s.make(number(0), "a.xlsx"))
    plain = s.run("status").output.splitlines()
    assert plain[0].endswith("Examinateur")
    assert any(line.startswith(number(1)) and line.endswith("M. Durand") for line in plain)
    grouped = s.run("status", "--by-examiner").output
    assert (
        "Mme Martin <martin@lycee.example.fr> — 3 candidat(s) : 1 complet, 0 incomplet, 0 rejeté, 2 non rendu"
        in grouped
    )
    assert (
        "M. Durand <durand@lycee.example.fr> — 3 candidat(s) : 0 complet, 0 incomplet, 0 rejeté, 3 non rendu" in grouped
    )
    martin = grouped.split("M. Durand <")[0]
    assert number(0) in martin and number(2) in martin and number(1) not in martin
    assert "Total : 6 candidat(s), 2 examinateur(s)" in grouped


def test_status_before_any_assignment(s):
    assert s.status()[number(0)]["examiner"] is None
    assert "Examinateur" not in s.run("status").output.splitlines()[0]
    assert "Aucun examinateur dans cette campagne" in s.run("status", "--by-examiner").output


def test_generate_per_examiner_then_collect_the_filled_workbook(s, tmp_path):
    assert s.run("assign", str(write(tmp_path / "e.csv", f"{MARTIN};;TMCV1", f"{DURAND};;TMCV2"))).exit_code == 0
    result = s.run("generate", "--per", "examiner")
    assert result.exit_code == 0, result.output
    martin = s.root / "envoi" / "Examinateur_Mme-Martin_31214_2027.xlsx"
    assert martin.is_file() and (s.root / "envoi" / "Examinateur_M.-Durand_31214_2027.xlsx").is_file()
    grid = s.campaign.grid()
    readings = read_workbook(martin, {grid.content_hash: grid}, secret=s.campaign.secret)
    assert [r.layout.candidate.number for r in readings] == [number(0), number(2), number(4)]
    # filled in for one candidate and returned: collect reads it as a class workbook
    wb = openpyxl.load_workbook(martin)
    (first,) = [r for r in readings if r.layout.candidate.number == number(0)]
    for key, value in COMPLETE.items():
        cell = first.layout.named[key]
        wb[cell.sheet][cell.ref] = value
    out = tmp_path / "retour.xlsx"
    wb.save(out)
    collected = s.collect(out)
    assert s.status()[number(0)]["state"] == "complete", collected.output
    assert s.status()[number(2)]["state"] == "missing"


def test_generate_per_examiner_without_assignment(s):
    result = s.run("generate", "--per", "examiner")
    assert result.exit_code == 2
    assert "aucun examinateur dans cette campagne" in result.output and "e2docs assign" in result.output


def test_a_version_1_ledger_opens_and_is_migrated(s):
    db = sqlite3.connect(s.root / "registre.sqlite")
    for table in ("messages", "assignments", "examiners", "imap_messages", "evaluations"):
        db.execute(f"DROP TABLE {table}")
    db.execute("ALTER TABLE returns DROP COLUMN reply_to")  # schema 3
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    assert s.status()[number(0)]["examiner"] is None  # read-only: migrated in memory
    db = sqlite3.connect(s.root / "registre.sqlite")
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    db.close()
    path = s.inbox / "e.csv"
    assert s.run("assign", str(write(path, f"{MARTIN};;TMCV1", f"{DURAND};;TMCV2"))).exit_code == 0
    db = sqlite3.connect(s.root / "registre.sqlite")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    db.close()


# --- The shared reader (formats/tabular.py): what the candidate list accepts, the examiners' file does too ---


def test_mac_roman_file_is_recognised(s, tmp_path):
    path = tmp_path / "examinateurs.csv"
    text = "Examinateur;Courriel;Division\r\nMme Hélène Mañé;martin@lycee.example.fr;TMCV1\r\n"
    path.write_bytes((text + f"{DURAND};TMCV2\r\n").encode("mac_roman"))
    result = s.run("assign", str(path))
    assert result.exit_code == 0, result.output
    assert s.status()[number(0)]["examiner"]["name"] == "Mme Hélène Mañé"


def test_encoding_in_doubt_is_refused_then_read_with_encoding_option(s, tmp_path):
    path = tmp_path / "examinateurs.csv"
    # « éric » typed in lowercase on a Mac: byte 8E, « Žric » in Windows-1252.
    path.write_bytes(b"Examinateur;Courriel;Division\r\nM. \x8eric;eric@lycee.example.fr;TMCV1\r\n" + DURAND.encode())
    path.write_bytes(path.read_bytes() + b";TMCV2\r\n")
    result = s.run("assign", str(path))
    assert result.exit_code == 2
    assert f"Erreur : {path} — ligne 2 : encodage incertain : " in result.output
    assert "« Žric » (Windows-1252) ou « éric » (Mac Roman)" in result.output
    assert "--encoding" in result.output
    assert ledger_tables(s) == ([], [])
    result = s.run("assign", "--encoding", "mac-roman", str(path))
    assert result.exit_code == 0, result.output
    assert s.status()[number(0)]["examiner"]["name"] == "M. éric"


def test_web_page_saved_as_xls(s, tmp_path):
    path = tmp_path / "examinateurs.xls"
    page = (
        '<html><head><meta charset="windows-1252"></head><body><table>'
        "<tr><th>Examinateur</th><th>Courriel</th><th>Division</th></tr>"
        "<tr><td>Mme H&eacute;l&egrave;ne Martin<td>martin@lycee.example.fr<td>TMCV1</tr>"
        "<tr><td>M. Durand<td>durand@lycee.example.fr<td>TMCV2</tr>"
        "</table></body></html>"
    )
    path.write_bytes(page.encode("cp1252"))
    result = s.run("assign", str(path))
    assert result.exit_code == 0, result.output
    assert by_examiner(s) == {
        "martin@lycee.example.fr": [number(0), number(2), number(4)],
        "durand@lycee.example.fr": [number(1), number(3), number(5)],
    }
    path.write_text("<html><body><p>Session expirée.</p></body></html>", encoding="utf-8")
    result = s.run("assign", str(path))
    assert result.exit_code == 2
    assert "page web enregistrée en .xls, sans tableau d'examinateurs." in result.output


@pytest.mark.parametrize(
    "content, expected",
    [
        (
            b'<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n'
            b'<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"/>',
            "ce fichier est un classeur « XML 2003 » d'Excel (souvent nommé .xls) : il ne peut pas être lu.",
        ),
        (b"Examinateur;Courriel\x00\x01\x02;Division\n", "ce fichier n'est ni un CSV ni un classeur .xlsx."),
    ],
    ids=["xml-2003", "binaire"],
)
def test_unreadable_files_are_refused_in_french(s, tmp_path, content, expected):
    path = tmp_path / "examinateurs.xls"
    path.write_bytes(content)
    result = s.run("assign", str(path))
    assert result.exit_code == 2
    assert f"Erreur : {path} : {expected}" in result.output or f"Erreur : {path} — {expected}" in result.output
    assert "→ " in result.output


def test_missing_file_is_named_as_the_examiners_list(s, tmp_path):
    result = s.run("assign", str(tmp_path / "absent.csv"))
    assert result.exit_code == 2
    assert "fichier de la liste des examinateurs introuvable." in result.output
