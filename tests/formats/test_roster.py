"""Tests for e2docs.roster: reading Cyclades exports, plain CSV and XLSX candidate lists."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from e2docs.formats.roster import IgnoredRow, Roster, read_roster
from e2docs.model.errors import RosterError
from tests.helpers import DATA, PROJECT

ROSTERS = DATA / "rosters"
SAMPLE_1 = ROSTERS / "cyclades-liste-simple-1.csv"
SAMPLE_2 = ROSTERS / "cyclades-liste-simple-2.csv"
DEMO = PROJECT / "samples" / "classe-demo.csv"

HEADER = "Nom;Prénom;N° candidat;Classe;Date de naissance"


def write(tmp_path: Path, text: str, name: str = "liste.csv", encoding: str = "utf-8") -> Path:
    """Write ``text`` byte for byte (newlines as given) in ``encoding`` and return the path."""
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def error_of(path: Path, **kwargs) -> str:
    """Read ``path``, expect a RosterError, check the CLI contract and return its full text."""
    with pytest.raises(RosterError) as info:
        read_roster(path, **kwargs)
    assert info.value.exit_code == 2
    assert info.value.hint, "every roster error must tell the user what to do"
    text = str(info.value)
    assert path.name in text
    return text


def names(roster: Roster) -> list[tuple[str, str, str]]:
    return [(c.last_name, c.first_name, c.division) for c in roster.candidates]


# --- Cyclades exports ------------------------------------------------------------------------


def test_cyclades_sample_1_keeps_only_specialty_31214():
    roster = read_roster(SAMPLE_1)
    assert roster.format == "cyclades"
    # The sample holds three 31214 rows: two in TMCV2 and one in TMCVA.
    assert names(roster) == [
        ("LEBLANC", "Capucine", "TMCV2"),
        ("LEJEUNE", "Alain", "TMCV2"),
        ("PERRIER", "Arthur", "TMCVA"),
    ]
    assert len(roster.ignored) == 13
    assert all(c.specialty == "31214" for c in roster.candidates)
    assert {row.candidate.specialty for row in roster.ignored} == {"31212", "31213", "31217"}


def test_cyclades_sample_1_candidate_fields():
    leblanc = read_roster(SAMPLE_1).candidates[0]
    assert leblanc.number == "2095557742"
    assert leblanc.birth_date == dt.date(2005, 6, 27)
    assert leblanc.ine == "830490862CK"
    assert leblanc.division == "TMCV2"  # quotes of 'TMCV2' removed


def test_cyclades_sample_1_metadata():
    roster = read_roster(SAMPLE_1)
    assert roster.session == "2023"
    assert roster.school == "LYC TEST – VILLEFICTIVE"
    assert roster.uai == "0921234A"


def test_cyclades_ignored_rows_say_line_and_reason():
    first = read_roster(SAMPLE_1).ignored[0]
    assert isinstance(first, IgnoredRow)
    assert first.line == 10  # header on line 9, first data row on line 10
    assert (first.candidate.last_name, first.candidate.first_name) == ("ALLARD", "Victoire")
    assert first.reason == "spécialité 31212 (Métiers de l'accueil), hors 31214"
    fouquet = next(row for row in read_roster(SAMPLE_1).ignored if row.candidate.last_name == "FOUQUET")
    assert fouquet.reason == "spécialité 31213 (Met.com.ven.op.A Ani.ges.esp.com.), hors 31214"


def test_cyclades_sample_2_has_no_31214_candidate():
    text = error_of(SAMPLE_2)
    assert "aucun candidat de la spécialité 31214" in text
    assert "5 ligne(s) ignorée(s)" in text
    assert "31224 (Équipier polyvalent du commerce)" in text
    assert "colonne « Code Spécialité »" in text


def test_cyclades_sample_2_read_for_its_own_specialty():
    roster = read_roster(SAMPLE_2, specialty="31224")
    assert len(roster.candidates) == 5
    assert roster.candidates[4].last_name == "RIVIÈRE"
    assert roster.candidates[4].first_name == "Éric"
    assert {c.division for c in roster.candidates} == {"TEPC"}
    assert roster.session == "2023"
    assert roster.ignored == ()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_cyclades_in_every_encoding(tmp_path, encoding):
    text = SAMPLE_1.read_bytes().decode("utf-8")  # keeps the CRLF line ends
    roster = read_roster(write(tmp_path, text, encoding=encoding))
    assert roster.format == "cyclades"
    assert roster.session == "2023"  # no BOM left in the first cell
    assert roster.school == "LYC TEST – VILLEFICTIVE"
    assert names(roster)[:2] == [("LEBLANC", "Capucine", "TMCV2"), ("LEJEUNE", "Alain", "TMCV2")]
    assert any(row.candidate.last_name == "LABBÉ" for row in roster.ignored)


def test_cyclades_detected_without_csv_extension(tmp_path):
    path = tmp_path / "export.txt"
    path.write_bytes(SAMPLE_1.read_bytes())
    assert read_roster(path).format == "cyclades"


def test_cyclades_error_line_counts_preamble(tmp_path):
    lines = SAMPLE_1.read_bytes().decode("utf-8").split("\r\n")
    assert ";LEBLANC;" in lines[17]  # line 18 in a text editor
    lines[17] = lines[17].replace("27/06/2005", "27/13/2005")
    text = error_of(write(tmp_path, "\r\n".join(lines)))
    assert "ligne 18" in text
    assert "colonne « Date de Naissance »" in text
    assert "27/13/2005" in text


def test_cyclades_keeps_official_last_name_not_usage_name():
    le_goff = next(c for c in read_roster(DEMO).candidates if c.number == "2709411105")
    assert le_goff.last_name == "LE GOFF"  # "Nom d'usage" KERVELLA is not used


# --- The demo list shipped in samples/ -----------------------------------------------------


def test_demo_sample_reads_as_a_class_of_twelve():
    roster = read_roster(DEMO)
    assert roster.format == "cyclades"
    assert len(roster.candidates) == 12
    assert len(roster.ignored) == 3
    assert {row.candidate.specialty for row in roster.ignored} == {"31213"}
    assert {c.division for c in roster.candidates} == {"TMCV2"}
    assert all(len(c.number) == 10 and c.number.isdigit() for c in roster.candidates)
    assert roster.session == "2027"
    assert roster.school == "LYCÉE PROFESSIONNEL JEAN MOULIN – VILLEFICTIVE"
    assert roster.uai == "0921234A"
    full_names = {c.full_name for c in roster.candidates}
    assert {"D'ALMEIDA Inès", "DUBOIS Marie-Ève", "LE GOFF Maël"} <= full_names


def test_demo_sample_is_a_bom_crlf_file():
    data = DEMO.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\r\n") == data.count(b"\n")


# --- Plain CSV -------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_plain_csv_delimiters_and_encodings(tmp_path, delimiter, encoding):
    rows = [
        ["Nom", "Prénom", "N° candidat", "Classe", "Date de naissance"],
        ["LÉGER", "Zoé", "0123456789", "TMCV2", "14/05/2005"],
        ["D'ALMEIDA", "Marie-Ève", "0123456790", "TMCV2", "01/12/2004"],
    ]
    text = "\r\n".join(delimiter.join(row) for row in rows) + "\r\n"
    roster = read_roster(write(tmp_path, text, encoding=encoding))
    assert roster.format == "csv"
    assert names(roster) == [("LÉGER", "Zoé", "TMCV2"), ("D'ALMEIDA", "Marie-Ève", "TMCV2")]
    assert roster.candidates[0].number == "0123456789"  # leading zero kept
    assert roster.candidates[1].birth_date == dt.date(2004, 12, 1)
    assert (roster.session, roster.school, roster.uai) == (None, None, None)
    assert roster.ignored == ()


@pytest.mark.parametrize(
    "header",
    [
        "NOM;PRÉNOM;NUMÉRO DE CANDIDAT;DIVISION;DATE DE NAISSANCE",
        "nom de famille;prenoms;n° de candidat;division de classe;né(e) le",
        "  Nom ; Prénom(s) ; N°  Candidat ; classe ; Date naissance ",
        "Nom;Prenom;Numero candidat;Classe;Née le",
        "Nom;Prénom;Numéro;Classe;Date de naissance",
    ],
)
def test_header_matching_ignores_case_accents_spaces_punctuation(tmp_path, header):
    roster = read_roster(write(tmp_path, f"{header}\nMARTIN;Zoé;2709411121;TMCV2;11/10/2009\n"))
    candidate = roster.candidates[0]
    assert (candidate.last_name, candidate.first_name, candidate.number) == ("MARTIN", "Zoé", "2709411121")
    assert candidate.division == "TMCV2"
    assert candidate.birth_date == dt.date(2009, 10, 11)


def test_columns_in_any_order_with_extra_columns(tmp_path):
    text = "Remarque;N° candidat;Prénom;Téléphone;Nom\nredoublant;12AB34;Jérôme;0600000000;PETIT\n"
    candidate = read_roster(write(tmp_path, text)).candidates[0]
    assert (candidate.number, candidate.first_name, candidate.last_name) == ("12AB34", "Jérôme", "PETIT")


def test_optional_columns_may_be_absent(tmp_path):
    candidate = read_roster(write(tmp_path, "Nom;Prénom;N° candidat\nPETIT;Jérôme;2709411147\n")).candidates[0]
    assert candidate.division == ""
    assert candidate.birth_date is None


def test_iso_dates_and_empty_optional_values(tmp_path):
    text = f"{HEADER}\nPETIT;Jérôme;1;;2009-02-07\nFAURE;Théo;2; -;\n"
    first, second = read_roster(write(tmp_path, text)).candidates
    assert first.birth_date == dt.date(2009, 2, 7)
    assert (second.division, second.birth_date) == ("", None)


def test_whitespace_stripped_and_collapsed_case_kept(tmp_path):
    text = f"{HEADER}\n  LE   GOFF ;  Maël  Anne ; 2709411105 ; TMCV2 ;02/03/2009\nde la Fontaine;jean;2;TMCV2;\n"
    first, second = read_roster(write(tmp_path, text)).candidates
    assert (first.last_name, first.first_name, first.number) == ("LE GOFF", "Maël Anne", "2709411105")
    assert (second.last_name, second.first_name) == ("de la Fontaine", "jean")


def test_title_line_and_blank_lines_before_header(tmp_path):
    text = f"Liste de la classe TMCV2\n\n{HEADER}\nPETIT;Jérôme;1;TMCV2;\n\nFAURE;Théo;2;TMCV2;\n"
    roster = read_roster(write(tmp_path, text))
    assert [c.last_name for c in roster.candidates] == ["PETIT", "FAURE"]


def test_plain_csv_with_specialty_column_is_filtered(tmp_path):
    text = "Nom;Prénom;N° candidat;Code spécialité\nPETIT;Jérôme;1;31214\nCOLIN;Léa;2;31213\n"
    roster = read_roster(write(tmp_path, text))
    assert roster.format == "csv"
    assert [c.last_name for c in roster.candidates] == ["PETIT"]
    assert [(row.line, row.candidate.last_name) for row in roster.ignored] == [(3, "COLIN")]
    assert roster.ignored[0].reason == "spécialité 31213, hors 31214"


# --- XLSX ------------------------------------------------------------------------------------


def make_xlsx(path: Path, rows: list[list], title: str = "Élèves") -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def test_xlsx_with_numbers_dates_and_header_below_empty_rows(tmp_path):
    path = make_xlsx(
        tmp_path / "classe.xlsx",
        [
            [],
            [None, None],
            ["N° Candidat", "NOM", "Prénom(s)", "Classe", "Né(e) le"],
            [2095557742, "LEBLANC", "Capucine", "TMCV2", dt.datetime(2005, 6, 27)],
            [2079557744.0, "LEJEUNE", "Alain", "TMCV2", "14/05/2005"],
            [None, None, None, None, None],
            ["0012", "  LE  GOFF ", "Anouk", None, None],
        ],
    )
    roster = read_roster(path)
    assert roster.format == "xlsx"
    assert [c.number for c in roster.candidates] == ["2095557742", "2079557744", "0012"]
    assert [c.birth_date for c in roster.candidates] == [dt.date(2005, 6, 27), dt.date(2005, 5, 14), None]
    assert roster.candidates[2].last_name == "LE GOFF"
    assert roster.session is None


def test_xlsx_detected_from_content_not_extension(tmp_path):
    path = make_xlsx(tmp_path / "classe.csv", [["Nom", "Prénom", "N° candidat"], ["PETIT", "Jérôme", 1]])
    assert read_roster(path).format == "xlsx"


def test_csv_named_xlsx_is_read_as_csv(tmp_path):
    path = write(tmp_path, "Nom;Prénom;N° candidat\nPETIT;Jérôme;1\n", name="classe.xlsx")
    assert read_roster(path).format == "csv"


def test_xlsx_error_gives_sheet_row_and_column(tmp_path):
    path = make_xlsx(
        tmp_path / "classe.xlsx",
        [
            ["Liste TMCV2"],
            ["Nom", "Prénom", "N° candidat"],
            ["PETIT", "Jérôme", 1],
            ["FAURE", None, 2],
        ],
    )
    text = error_of(path)
    assert "feuille « Élèves »" in text
    assert "ligne 4" in text
    assert "colonne « Prénom »" in text
    assert "prénom manquant" in text


def test_xlsx_bad_date_cell(tmp_path):
    path = make_xlsx(
        tmp_path / "classe.xlsx",
        [
            ["Nom", "Prénom", "N° candidat", "Date de naissance"],
            ["PETIT", "Jérôme", 1, "7 février 2009"],
        ],
    )
    text = error_of(path)
    assert "ligne 2" in text and "colonne « Date de naissance »" in text
    assert "« 7 février 2009 »" in text


def test_xlsx_empty_first_sheet(tmp_path):
    text = error_of(make_xlsx(tmp_path / "vide.xlsx", []))
    assert "vide" in text


# --- Errors: the file itself -----------------------------------------------------------------


def test_missing_file(tmp_path):
    text = error_of(tmp_path / "absent.csv")
    assert "introuvable" in text


def test_directory_is_not_a_file(tmp_path):
    folder = tmp_path / "classe.csv"
    folder.mkdir()
    assert "pas un fichier" in error_of(folder)


def test_empty_file(tmp_path):
    assert "vide" in error_of(write(tmp_path, ""))


def test_binary_file_is_neither_csv_nor_xlsx(tmp_path):
    path = tmp_path / "photo.csv"
    path.write_bytes(b"%PDF-1.7\n\x00\x01\x02binary\x00")
    assert "ni un CSV ni un classeur .xlsx" in error_of(path)


def test_old_xls_workbook(tmp_path):
    path = tmp_path / "classe.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    text = error_of(path)
    assert ".xls" in text and ".xlsx" in text


def test_zip_that_is_not_a_workbook(tmp_path):
    import zipfile

    path = tmp_path / "classe.ods"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    assert "n'est pas un classeur .xlsx" in error_of(path)


def test_undecodable_bytes_give_their_line(tmp_path):
    path = tmp_path / "liste.csv"
    # 0x81 is invalid in UTF-8 (alone) and undefined in Windows-1252.
    path.write_bytes(f"{HEADER}\nPETIT;Jérôme;1;;\n".encode() + b"FAURE;Th\x81o;2;;\n")
    text = error_of(path)
    assert "ligne 3" in text
    assert "encodage" in text


# --- Errors: the content ---------------------------------------------------------------------


def test_missing_required_columns_lists_missing_and_found(tmp_path):
    text = error_of(write(tmp_path, "Nom;Classe;Date de naissance\nPETIT;TMCV2;01/01/2009\n"))
    assert "ligne 1" in text
    assert "« prénom »" in text and "« numéro de candidat »" in text
    assert "Colonnes trouvées : « Nom », « Classe », « Date de naissance »" in text
    assert "« nom »" not in text.split("Colonnes trouvées")[0]


def test_unrecognised_header_lists_found_columns(tmp_path):
    text = error_of(write(tmp_path, "Name,First name,ID\nSMITH,John,1\n"))
    assert "« Name », « First name », « ID »" in text
    assert "« nom », « prénom », « numéro de candidat »" in text


def test_header_without_rows(tmp_path):
    text = error_of(write(tmp_path, f"{HEADER}\n\n;;;;\n"))
    assert "aucun candidat" in text
    assert "ligne 1" in text


def test_duplicate_candidate_number_names_both_lines(tmp_path):
    text = f"{HEADER}\nPETIT;Jérôme;2709411147;;\nFAURE;Théo;2709411063;;\nMARTIN;Zoé;2709411147;;\n"
    message = error_of(write(tmp_path, text))
    assert "« 2709411147 » en double" in message
    assert "ligne 4" in message and "ligne 2" in message
    assert "colonne « N° candidat »" in message


@pytest.mark.parametrize(
    "row, line_column",
    [
        ("; Jérôme ;1;;", "colonne « Nom »"),
        ("PETIT;;1;;", "colonne « Prénom »"),
        ("PETIT;Jérôme; ;;", "colonne « N° candidat »"),
        ("PETIT;Jérôme;-;;", "colonne « N° candidat »"),
    ],
)
def test_empty_required_value(tmp_path, row, line_column):
    text = error_of(write(tmp_path, f"{HEADER}\nFAURE;Théo;2;;\n{row}\n"))
    assert "ligne 3" in text
    assert line_column in text
    assert "manquant" in text


@pytest.mark.parametrize("value", ["31/02/2009", "2009/02/07", "7 février 2009", "07/02/09", "07-02-2009"])
def test_unparseable_date(tmp_path, value):
    text = error_of(write(tmp_path, f"{HEADER}\nFAURE;Théo;2;;\nPETIT;Jérôme;1;TMCV2;{value}\n"))
    assert "ligne 3" in text
    assert "colonne « Date de naissance »" in text
    assert f"« {value} »" in text
    assert "JJ/MM/AAAA" in text


@pytest.mark.parametrize("number", ["2709-411147", "2709 411147", "27094111.47", "n°12"])
def test_candidate_number_must_be_digits_and_letters(tmp_path, number):
    text = error_of(write(tmp_path, f"{HEADER}\nPETIT;Jérôme;{number};TMCV2;\n"))
    assert "ligne 2" in text
    assert "colonne « N° candidat »" in text
    assert f"« {number} »" in text


def test_line_numbers_follow_the_file_with_multiline_cells(tmp_path):
    text = 'Nom;Prénom;N° candidat;Remarque\nPETIT;Jérôme;1;"sur\ndeux lignes"\nFAURE;;2;\n'
    message = error_of(write(tmp_path, text))
    assert "ligne 4" in message


def test_error_text_starts_with_file_then_place(tmp_path):
    path = write(tmp_path, f"{HEADER}\nPETIT;;1;;\n")
    with pytest.raises(RosterError) as info:
        read_roster(path)
    assert str(info.value).startswith(f"{path} — ligne 2, colonne « Prénom » : prénom manquant.")


def test_oversized_cell_is_reported_with_its_line(tmp_path):
    text = f"{HEADER}\nPETIT;Jérôme;1;;\nFAURE;{'x' * 200_000};2;;\n"
    message = error_of(write(tmp_path, text))
    assert "ligne 3" in message


def test_damaged_xlsx(tmp_path):
    import zipfile

    good = make_xlsx(tmp_path / "bon.xlsx", [["Nom", "Prénom", "N° candidat"], ["PETIT", "Jérôme", 1]])
    damaged = tmp_path / "abime.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(damaged, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/"):
                content = content[: len(content) // 2]  # cut the sheet XML in the middle
            target.writestr(info, content)
    assert "illisible ou endommagé" in error_of(damaged)


# --- A Cyclades export opened and saved in Excel ----------------------------------------------


def as_excel_saves_it(path: Path, csv_path: Path) -> Path:
    """The Cyclades CSV opened in (French) Excel and saved as .xlsx, row for row: whole numbers become
    numbers, JJ/MM/AAAA dates become dates, empty cells stay empty, everything else is text as written
    (class names keep their quotes, « - » stays)."""
    import csv

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = csv_path.stem[:31]
    text = csv_path.read_bytes().decode("utf-8-sig")
    for cells in csv.reader(text.splitlines(), delimiter=";"):
        row: list[object] = []
        for cell in cells:
            day = cell.strip().split("/")
            if cell.strip().isdigit():
                row.append(int(cell))
            elif len(day) == 3 and all(part.isdigit() for part in day):
                row.append(dt.datetime(int(day[2]), int(day[1]), int(day[0])))
            else:
                row.append(cell or None)
        sheet.append(row)
    workbook.save(path)
    return path


@pytest.mark.parametrize(("sample", "specialty"), [(SAMPLE_1, "31214"), (SAMPLE_2, "31224")])
def test_cyclades_export_saved_as_xlsx_keeps_session_school_uai_and_academie(tmp_path, sample, specialty):
    xlsx = as_excel_saves_it(tmp_path / "liste.xlsx", sample)
    from_csv = read_roster(sample, specialty=specialty)
    roster = read_roster(xlsx, specialty=specialty)
    assert roster.format == "cyclades"
    assert roster.session == "2023"
    assert roster.school == "LYC TEST – VILLEFICTIVE"
    assert roster.uai == "0921234A"
    assert roster.academie == "Versailles"
    # the very same candidates as from the CSV: quotes off the class names, « - » empty, dates read
    assert roster.candidates == from_csv.candidates
    assert [row.candidate for row in roster.ignored] == [row.candidate for row in from_csv.ignored]
    assert (from_csv.session, from_csv.school, from_csv.uai, from_csv.academie) == (
        roster.session,
        roster.school,
        roster.uai,
        roster.academie,
    )


def test_a_list_without_preamble_has_no_session_school_or_academie(tmp_path):
    roster = read_roster(write(tmp_path, f"{HEADER}\nPETIT;Jérôme;1;TMCV2;01/02/2009\n"))
    assert (roster.session, roster.school, roster.uai, roster.academie) == (None, None, None, None)
