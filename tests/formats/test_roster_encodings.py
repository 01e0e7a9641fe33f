"""Rosters as spreadsheets save them: every text encoding, recognised or refused (never misread), and web
pages saved as .xls."""

from __future__ import annotations

import codecs
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from e2docs.formats.roster import read_roster
from e2docs.formats.textencoding import _plausible
from e2docs.model.errors import RosterError
from tests.helpers import DATA

MAC_CASE = DATA / "cases" / "06-mac-excel-csv-macroman" / "liste-classe-mac.csv"
UTF8_HINT = "Enregistrez la liste en « CSV UTF-8 »"

# French names with é è ê ë à â ç î ï ô œ ù û ü ÿ É È Œ Ÿ, in both cases; the title line has ù and à.
TITLE = "Élèves de TMCV2 — liste où figurent les candidats à jour"
HEADER = "N° candidat;Nom;Prénom;Classe;Né(e) le"
PEOPLE = [
    ("2709411001", "LECHÊNE", "Léa"),
    ("2709411002", "CŒURDEVEY", "Maël"),
    ("2709411003", "LOUŸS", "Éloïse"),
    ("2709411004", "BRÛLÉ", "Anaïs"),
    ("2709411005", "MÜLLER", "Françoise"),
    ("2709411006", "Lucà", "Benoît"),
    ("2709411007", "N’DIAYE", "Jérôme"),
    ("2709411008", "GRÂCE", "Ève"),
    ("2709411009", "Müller", "Loïc"),
    ("2709411010", "HÉLÈNE", "Zoë"),
    ("2709411011", "Louÿs", "Lætitia"),
]


def class_list(people: list[tuple[str, str, str]] = PEOPLE, newline: str = "\r\n") -> str:
    lines = [TITLE, HEADER] + [f"{number};{last};{first};TMCV2;03/02/2009" for number, last, first in people]
    return newline.join(lines) + newline


def read_names(path: Path, **kwargs: str) -> list[tuple[str, str, str]]:
    roster = read_roster(path, **kwargs)
    return [(c.number, c.last_name, c.first_name) for c in roster.candidates]


def refusal(path: Path, **kwargs: str) -> RosterError:
    with pytest.raises(RosterError) as info:
        read_roster(path, **kwargs)
    assert info.value.exit_code == 2 and info.value.path == path
    return info.value


ENCODED = {
    "utf-8": (lambda text: text.encode("utf-8"), "UTF-8"),
    "utf-8 avec BOM": (lambda text: text.encode("utf-8-sig"), "UTF-8"),
    "utf-16 LE avec BOM": (lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"), "UTF-16 LE"),
    "utf-16 BE avec BOM": (lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"), "UTF-16 BE"),
    "utf-16 LE sans BOM": (lambda text: text.encode("utf-16-le"), "UTF-16 LE"),
    "utf-16 BE sans BOM": (lambda text: text.encode("utf-16-be"), "UTF-16 BE"),
    "windows-1252": (lambda text: text.encode("cp1252"), "Windows-1252"),
    "mac roman": (lambda text: text.encode("mac_roman"), "Mac Roman"),
}


@pytest.mark.parametrize("encoding", ENCODED)
def test_french_names_in_every_encoding(tmp_path, encoding):
    encode, label = ENCODED[encoding]
    path = tmp_path / "liste.csv"
    path.write_bytes(encode(class_list()))
    roster = read_roster(path)
    assert [(c.number, c.last_name, c.first_name) for c in roster.candidates] == PEOPLE
    assert roster.encoding == label


@pytest.mark.parametrize("encoding", ["windows-1252", "mac roman"])
@pytest.mark.parametrize("person", PEOPLE, ids=lambda p: p[1])
def test_one_name_is_enough_evidence(tmp_path, encoding, person):
    """A list whose only accented letters are one person's names (header without accents)."""
    encode, _ = ENCODED[encoding]
    path = tmp_path / "liste.csv"
    path.write_bytes(encode(f"NUMERO;NOM;PRENOM\r\n{';'.join(person)}\r\n"))
    assert read_names(path) == [person]


def test_field_case_mac_excel_csv(tmp_path):
    """../shared/cases/06: a class list saved as CSV by Excel for Mac."""
    roster = read_roster(MAC_CASE)
    assert roster.encoding == "Mac Roman"
    assert [(c.last_name, c.first_name) for c in roster.candidates] == [
        ("BERNARD", "Lucas"),
        ("COLIN", "Léa"),
        ("GARCIA", "Chloé"),
        ("LE GOFF", "Maël"),
        ("LEROY", "Éloïse"),
        ("ROUSSEAU", "Anaïs"),
    ]


def test_field_case_mac_excel_csv_through_new_keeps_names_and_file(tmp_path):
    from click.testing import CliRunner

    from e2docs.app.campaign import locate_campaign
    from e2docs.cli import main

    roster = tmp_path / MAC_CASE.name
    shutil.copyfile(MAC_CASE, roster)
    result = CliRunner().invoke(main, ["new", str(tmp_path / "campagne"), "--roster", str(roster)])
    assert result.exit_code == 0, result.output
    assert "Encodage de la liste : Mac Roman." in result.output
    campaign = locate_campaign(tmp_path / "campagne")
    assert campaign is not None
    with campaign.ledger() as ledger:
        first_names = {c.first_name for c in ledger.candidates()}
    assert first_names == {"Lucas", "Léa", "Chloé", "Maël", "Éloïse", "Anaïs"}
    assert (tmp_path / "campagne" / "liste" / MAC_CASE.name).read_bytes() == MAC_CASE.read_bytes()


# --- Refusals: never a misreading ------------------------------------------------------------


def test_a_name_plausible_in_both_encodings_is_refused_with_its_line_and_both_readings(tmp_path):
    path = tmp_path / "liste.csv"
    # « éric » typed in lowercase on a Mac: byte 8E, « Žric » in Windows-1252.
    path.write_bytes(b"NUMERO;NOM;PRENOM\r\n2709411001;PETIT;Paul\r\n2709411002;MARTIN;\x8eric\r\n")
    err = refusal(path)
    text = str(err)
    assert text.startswith(f"{path} — ligne 3 : encodage incertain : ")
    assert "« Žric » (Windows-1252)" in text and "« éric » (Mac Roman)" in text
    assert "e2docs ne devine pas" in text
    assert UTF8_HINT in (err.hint or "") and "--encoding" in (err.hint or "")
    # … and read once the user says which
    assert read_names(path, encoding="mac-roman")[1] == ("2709411002", "MARTIN", "éric")
    assert read_names(path, encoding="windows-1252")[1] == ("2709411002", "MARTIN", "Žric")


def test_a_list_in_another_encoding_is_refused_at_the_first_doubtful_line(tmp_path):
    path = tmp_path / "liste.csv"  # Excel's « CSV (MS-DOS) »: code page 850
    path.write_bytes("NUMERO;NOM;PRENOM\r\n1;PETIT;Paul\r\n2;FAURE;Jérôme\r\n3;LEROY;Éloïse\r\n".encode("cp850"))
    err = refusal(path)
    assert err.place is not None and err.place.line == 3
    assert "encodage non reconnu" in err.message
    assert "ni en UTF-8, ni en Windows-1252, ni en Mac Roman" in err.message
    assert UTF8_HINT in (err.hint or "")


def test_utf8_with_a_stray_windows_byte_is_refused_at_that_line(tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes("NUMERO;NOM;PRENOM\n1;PETIT;Jérôme\n2;LEROY;Éloïse\n".encode() + "3;FAURE;Théo\n".encode("cp1252"))
    err = refusal(path)
    assert err.place is not None and err.place.line == 4
    assert err.message == (
        "caractères illisibles : le fichier est en UTF-8 mais contient des octets d'un autre encodage."
    )


def test_a_byte_order_mark_that_lies_is_refused_at_the_line(tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(codecs.BOM_UTF8 + "NUMERO;NOM;PRENOM\n1;PETIT;Paul\n2;FAURE;Théo\n".encode("cp1252"))
    err = refusal(path)
    assert err.place is not None and err.place.line == 3
    assert "n'est pas en UTF-8" in err.message


def test_forced_encoding_that_does_not_fit_is_refused_at_the_line(tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(b"NUMERO;NOM;PRENOM\r\n1;PETIT;Paul\r\n2;FAURE;Th\x81o\r\n")
    err = refusal(path, encoding="windows-1252")
    assert err.place is not None and err.place.line == 3
    assert "n'est pas en Windows-1252" in err.message


def test_utf16_of_odd_length_is_refused(tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(class_list().encode("utf-16-le") + b"x")
    assert "n'est pas en UTF-16 LE" in refusal(path).message


FRENCH_LETTERS = "abcdefghijklmnopqrstuvwxyzàâäçéèêëîïôöùûüÿœæ"


@st.composite
def french_name(draw: st.DrawFn) -> str:
    """A word of French letters, capitalised or in capitals, that reads as a French name may: never two
    accented letters in a row (« ÄŸ » would be valid UTF-8 in Windows-1252), « à » and « ù » only at
    the end, « œ » before u, i, e… (« AŒ » is no name: the rules turn it down, and with it the
    right reading)."""
    word = draw(st.text(alphabet=FRENCH_LETTERS, min_size=2, max_size=10))
    assume(not any(a > "z" and b > "z" for a, b in zip(word, word[1:], strict=False)))
    name = draw(st.sampled_from([word.upper(), word.capitalize()]))
    assume(all(_plausible(name, i) for i, char in enumerate(name) if char > "z"))
    return name


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(french_name(), min_size=1, max_size=5), codec=st.sampled_from(["cp1252", "mac_roman"]))
def test_a_list_is_read_as_written_or_refused_never_misread(tmp_path, names, codec):
    people = [(f"27094110{i:02d}", "NOM", name) for i, name in enumerate(names)]
    path = tmp_path / "liste.csv"
    path.write_bytes(
        f"NUMERO;NOM;PRENOM\r\n{''.join(f'{n};{a};{b}' + chr(13) + chr(10) for n, a, b in people)}".encode(codec)
    )
    try:
        assert read_names(path) == people
    except RosterError as exc:
        assert "encodage" in exc.message and exc.place is not None and exc.place.line is not None


# --- Web pages saved as .xls ------------------------------------------------------------------

WEB_PAGE = """<html xmlns:o="urn:schemas-microsoft-com:office:office"
xmlns:x="urn:schemas-microsoft-com:office:excel">
<head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252">
<title>Export</title></head>
<body>
<table><tr><td><img src="logo.png"></td><td>Lycée professionnel Jean Moulin</td></tr></table>
<table border="1">
<tr><td colspan="4">Liste des élèves — TMCV2</td></tr>
<tr><th>N° candidat</th><th>Nom</th><th>Prénom</th><th>Classe</th>
<tr><td>2709411001<td>D&#39;ALMEIDA<td>In&egrave;s</td><td>TMCV2</td></tr>
<tr><td>2709411002</td><td>LE&nbsp;GOFF</td><td>Maël<br>Louise</td><td>TMCV2</td></tr>
<tr><td>2709411003</td><td>CŒURDEVEY</td><td></td><td>TMCV2</td></tr>
</table></body></html>
"""


def test_a_web_page_saved_as_xls_is_read_from_its_table(tmp_path):
    path = tmp_path / "export.xls"
    good = WEB_PAGE.replace("<td></td><td>TMCV2</td></tr>\n</table>", "<td>Éloïse</td><td>TMCV2</td></tr>\n</table>")
    path.write_bytes(good.encode("cp1252"))
    roster = read_roster(path)
    assert roster.format == "html" and roster.encoding == "windows-1252".replace("windows-1252", "Windows-1252")
    assert [(c.number, c.last_name, c.first_name, c.division) for c in roster.candidates] == [
        ("2709411001", "D'ALMEIDA", "Inès", "TMCV2"),
        ("2709411002", "LE GOFF", "Maël Louise", "TMCV2"),
        ("2709411003", "CŒURDEVEY", "Éloïse", "TMCV2"),
    ]


def test_a_web_page_error_names_the_table_row(tmp_path):
    path = tmp_path / "export.xls"
    path.write_bytes(WEB_PAGE.encode("utf-8"))  # no meta-declared encoding fits: recognised as UTF-8
    err = refusal(path)
    assert err.message == "prénom manquant."
    assert err.place is not None and (err.place.line, err.place.column) == (5, "Prénom")


def test_a_web_page_without_a_table_is_refused_as_a_web_page(tmp_path):
    path = tmp_path / "export.xls"
    path.write_text("<!DOCTYPE html><html><body><p>Session expirée, reconnectez-vous.</p></body></html>")
    err = refusal(path)
    assert err.message == "page web enregistrée en .xls, sans tableau de candidats."
    assert "page web (export d'un site) nommée .xls" in (err.hint or "")
    assert "CSV UTF-8" in (err.hint or "")


def test_a_web_page_whose_tables_lack_the_columns_says_what_it_has(tmp_path):
    path = tmp_path / "export.xls"
    path.write_text("<html><table><tr><td>Date</td><td>Absences</td></tr><tr><td>1</td><td>2</td></tr></table>")
    err = refusal(path)
    assert "colonne(s) obligatoire(s) absente(s)" in err.message
    assert "« Date », « Absences »" in err.message


def test_an_excel_2003_xml_workbook_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "liste.xls"
    path.write_text(
        '<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n'
        '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="Liste"/></Workbook>'
    )
    err = refusal(path)
    assert "« XML 2003 » d'Excel" in err.message
    assert "CSV UTF-8" in (err.hint or "")
