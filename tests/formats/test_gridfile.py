"""Tests for e2docs.grid: the bundled E2 option B grid and the checks on edited grid files."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import pytest

from e2docs.formats.gridfile import default_grid_path, load_grid
from e2docs.model.errors import E2docsError, GridError

SOURCE = Path("/work/shared/reference/000_882ff0377c533cbe.txt")
GRID = load_grid()
REAL_TEXT = default_grid_path().read_text(encoding="utf-8")


def source_text() -> str:
    """The official text without its HTML/✓ artefacts, whitespace collapsed."""
    raw = SOURCE.read_text(encoding="utf-8")
    raw = re.sub(r"<ul[^>]*>", " ", raw)
    raw = raw.replace("<p>", " ").replace("</p>", " ").replace("✓", " ")
    return re.sub(r"\s+", " ", raw).strip()


needs_source = pytest.mark.skipif(not SOURCE.exists(), reason="texte officiel de référence absent")


# ------------------------------------------------------------------ structure of the bundled grid


def test_bundled_grid_header():
    assert GRID.id == "e2-mcv-b"
    assert GRID.specialty == "31214"
    assert GRID.max_mark == 20
    assert GRID.rounding_step == Fraction(1, 2)


def test_five_metas_with_3_4_9_8_1_competences():
    assert [m.number for m in GRID.metas] == [1, 2, 3, 4, 5]
    assert [len(m.competences) for m in GRID.metas] == [3, 4, 9, 8, 1]
    assert len(GRID.competences) == 25


def test_competences_are_numbered_in_document_order():
    for meta in GRID.metas:
        assert [c.id for c in meta.competences] == [f"{meta.number}.{k}" for k in range(1, len(meta.competences) + 1)]
        assert all(c.meta == meta.number for c in meta.competences)


def test_nine_criteria_in_order():
    assert [c.id for c in GRID.criteria] == ["C1.1", "C2.1", "C2.2", "C3.1", "C3.2", "C4.1", "C4.2", "C4.3", "C4.4"]
    assert [c.meta for c in GRID.criteria] == [1, 2, 2, 3, 3, 4, 4, 4, 4]


def test_points_per_criterion_total_20():
    points = {c.id: c.points for c in GRID.criteria}
    assert points == {
        "C1.1": 3,
        "C2.1": 2,
        "C2.2": 2,
        "C3.1": Fraction(5, 2),
        "C3.2": Fraction(5, 2),
        "C4.1": 2,
        "C4.2": 2,
        "C4.3": 2,
        "C4.4": 2,
    }
    assert all(isinstance(p, Fraction) for p in points.values())
    assert GRID.total_points == 20 == GRID.max_mark


def test_scale_novice_to_expert():
    assert [(lvl.value, lvl.label, lvl.fraction) for lvl in GRID.scale] == [
        (1, "Novice", Fraction(1, 4)),
        (2, "Débrouillé", Fraction(1, 2)),
        (3, "Averti", Fraction(3, 4)),
        (4, "Expert", Fraction(1)),
    ]
    assert GRID.level(4).label == "Expert"
    with pytest.raises(KeyError):
        GRID.level(5)


def test_reperage_of_each_criterion():
    reperage = {c.id: c.competences for c in GRID.criteria}
    block = {m.number: tuple(c.id for c in m.competences) for m in GRID.metas}
    assert reperage["C1.1"] == ("1.1", "1.2", "1.3") == block[1]
    assert reperage["C2.1"] == block[2] == ("2.1", "2.2", "2.3", "2.4")
    assert reperage["C2.2"] == block[2]
    assert reperage["C3.1"] == ("3.1", "3.2")
    assert reperage["C3.2"] == ("3.3", "3.4", "3.5", "3.6", "3.7", "3.8", "3.9")
    for cid in ("C4.1", "C4.2", "C4.3", "C4.4"):
        assert reperage[cid] == block[4]
        assert len(reperage[cid]) == 8


def test_meta_3_split_between_its_two_criteria_without_overlap():
    c31, c32 = GRID.criteria_of(3)
    assert set(c31.competences) | set(c32.competences) == {c.id for c in GRID.metas[2].competences}
    assert not set(c31.competences) & set(c32.competences)


def test_meta_5_has_no_criterion():
    assert GRID.criteria_of(5) == ()
    assert GRID.metas[4].competences[0].id == "5.1"
    assert not any("5.1" in c.competences for c in GRID.criteria)


def test_every_competence_of_metas_1_to_4_is_evaluated():
    evaluated = {comp for c in GRID.criteria for comp in c.competences}
    assert evaluated == {c.id for c in GRID.competences if c.meta != 5}


# ------------------------------------------------------------------ wording identical to the official text


@needs_source
def test_source_has_exactly_the_25_ticked_competences():
    assert SOURCE.read_text(encoding="utf-8").count("✓") == len(GRID.competences) == 25


@needs_source
def test_every_wording_is_verbatim_in_the_official_text():
    text = source_text()
    missing = []
    for meta in GRID.metas:
        if f"{meta.number}. {meta.title}" not in text:
            missing.append(f"méta {meta.number}: {meta.title}")
        for comp in meta.competences:
            if comp.text not in text:
                missing.append(f"{comp.id}: {comp.text}")
    for crit in GRID.criteria:
        for label, wording in (("titre", crit.title), ("indicateur", crit.indicator)):
            if wording not in text:
                missing.append(f"{crit.id} {label}: {wording}")
    for wording in (GRID.diploma, GRID.epreuve, GRID.title):
        if wording not in text:
            missing.append(wording)
    assert missing == []


@needs_source
def test_competences_sit_in_their_meta_block_in_document_order():
    text = source_text()
    heads = [text.index(f"{m.number}. {m.title}") for m in GRID.metas] + [len(text)]
    assert heads == sorted(heads)
    previous = -1
    for meta, start, end in zip(GRID.metas, heads, heads[1:], strict=False):
        for comp in meta.competences:
            pos = text.index(comp.text, start)
            assert start < pos < end, comp.id
            assert pos > previous, comp.id
            previous = pos


@needs_source
def test_criteria_sit_in_their_meta_block_title_then_indicator():
    text = source_text()
    heads = [text.index(f"{m.number}. {m.title}") for m in GRID.metas] + [len(text)]
    previous = -1
    for crit in GRID.criteria:
        start, end = heads[crit.meta - 1], heads[crit.meta]
        title = text.index(crit.title, start)
        indicator = text.index(crit.indicator, title)
        assert start < title < indicator < end, crit.id
        assert title > previous, crit.id
        previous = indicator


@needs_source
def test_c3_2_starts_on_the_row_of_competence_3_3():
    """The repérage of méta 3 comes from the row each criterion starts on."""
    lines = SOURCE.read_text(encoding="utf-8").splitlines()
    c31, c32 = GRID.criteria_of(3)
    row = next(line for line in lines if c32.title in line)
    assert GRID.metas[2].competences[2].text in row  # 3.3 "Sélectionner et/ou concevoir…"
    row = next(line for line in lines if c31.title in line)
    assert row.startswith("3. ")  # on the méta heading, the first row being 3.1


# ------------------------------------------------------------------ content hash


def write_grid(tmp_path: Path, text: str, name: str = "grille.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def replace_after(text: str, anchor: str, old: str, new: str) -> str:
    """Replace the first ``old`` found after ``anchor`` (both must exist)."""
    start = text.index(anchor)
    pos = text.index(old, start)
    return text[:pos] + new + text[pos + len(old) :]


def test_hash_is_a_sha256_and_stable():
    again = load_grid()
    assert re.fullmatch(r"[0-9a-f]{64}", GRID.content_hash)
    assert again.content_hash == GRID.content_hash
    assert load_grid(default_grid_path()).content_hash == GRID.content_hash


def test_hash_does_not_depend_on_file_location(tmp_path):
    copy = write_grid(tmp_path, REAL_TEXT, "copie.toml")
    assert load_grid(copy).content_hash == GRID.content_hash


def test_comments_and_blank_lines_do_not_change_hash(tmp_path):
    text = "# Ma copie de la grille\n\n" + REAL_TEXT.replace("\n[[criterion]]\n", "\n\n# un critère\n[[criterion]]\n")
    text = text.replace('points = "3"', 'points = "3"  # trois points')
    text = re.sub(r"(?m)^# .*\n", "", text)  # and also without the original comments
    text = "# tout autre commentaire\n" + text
    assert text != REAL_TEXT
    assert load_grid(write_grid(tmp_path, text)).content_hash == GRID.content_hash


def test_same_number_written_differently_keeps_hash(tmp_path):
    text = replace_after(REAL_TEXT, 'id = "C3.1"', 'points = "2.5"', "points = 2.5")
    text = replace_after(text, 'id = "C3.2"', 'points = "2.5"', 'points = "2,50"')
    text = replace_after(text, "[grid]", 'max_mark = "20"', "max_mark = 20")
    grid = load_grid(write_grid(tmp_path, text))
    assert grid.criteria[3].points == grid.criteria[4].points == Fraction(5, 2)
    assert grid.content_hash == GRID.content_hash


def test_changing_points_changes_hash(tmp_path):
    text = replace_after(REAL_TEXT, 'id = "C1.1"', 'points = "3"', 'points = "2"')
    text = replace_after(text, 'id = "C2.1"', 'points = "2"', 'points = "3"')
    grid = load_grid(write_grid(tmp_path, text))
    assert grid.total_points == 20
    assert grid.content_hash != GRID.content_hash


def test_changing_a_wording_changes_hash(tmp_path):
    text = REAL_TEXT.replace('"Argumenter"', '"Argumenter avec des preuves"')
    assert text != REAL_TEXT
    assert load_grid(write_grid(tmp_path, text)).content_hash != GRID.content_hash


def test_changing_the_repérage_changes_hash(tmp_path):
    text = replace_after(REAL_TEXT, 'id = "C3.1"', 'competences = ["3.1", "3.2"]', 'competences = ["3.1"]')
    assert load_grid(write_grid(tmp_path, text)).content_hash != GRID.content_hash


# ------------------------------------------------------------------ broken grid files


def grid_error(path: Path) -> GridError:
    with pytest.raises(GridError) as info:
        load_grid(path)
    err = info.value
    assert isinstance(err, E2docsError) and err.exit_code == 2
    assert str(path) in str(err)
    return err


BROKEN = {
    # name: (transform of the real text, key named in the message, French wording)
    "grid-table-absente": (lambda t: t.replace("[grid]\n", "[grille]\n"), "grid", "table [grid] absente"),
    "id-absent": (lambda t: t.replace('id = "e2-mcv-b"\n', ""), "grid.id", "clé obligatoire absente"),
    "titre-vide": (
        lambda t: replace_after(t, "[grid]", 'title = "Repérage', 'title = "  " # "'),
        "grid.title",
        "texte non vide attendu",
    ),
    "points-en-lettres": (
        lambda t: replace_after(t, 'id = "C2.2"', 'points = "2"', 'points = "deux"'),
        "criterion[3].points",
        "« deux » n'est pas un nombre décimal",
    ),
    "points-booleen": (
        lambda t: replace_after(t, 'id = "C2.2"', 'points = "2"', "points = true"),
        "criterion[3].points",
        "nombre décimal attendu",
    ),
    "points-absents": (
        lambda t: replace_after(t, 'id = "C2.2"', 'points = "2"\n', ""),
        "criterion[3].points",
        "nombre décimal attendu",
    ),
    "points-negatifs": (
        lambda t: replace_after(t, 'id = "C2.2"', 'points = "2"', 'points = "-2"'),
        "criterion[3].points",
        "nombre positif attendu",
    ),
    "somme-differente": (
        lambda t: replace_after(t, 'id = "C2.2"', 'points = "2"', 'points = "2.5"'),
        "criterion.points",
        "la somme des points des critères (20,5) diffère de la note maximale",
    ),
    "competence-inconnue": (
        lambda t: replace_after(t, 'id = "C3.1"', '["3.1", "3.2"]', '["3.1", "9.9"]'),
        "criterion[4].competences",
        "compétence « 9.9 » inconnue",
    ),
    "competence-autre-meta": (
        lambda t: replace_after(t, 'id = "C1.1"', '"1.3"]', '"1.3", "2.1"]'),
        "criterion[1].competences",
        "n'appartient pas à la méta-compétence 1",
    ),
    "critere-mal-numerote": (
        lambda t: replace_after(t, "[[criterion]]", 'id = "C2.2"', 'id = "C2.3"'),
        "criterion[3].id",
        "identifiant C2.2 attendu",
    ),
    "meta-inconnue": (
        lambda t: replace_after(t, 'id = "C4.4"', "meta = 4", "meta = 6"),
        "criterion[9].meta",
        "méta-compétence 6 inconnue",
    ),
    "niveau-dans-le-desordre": (
        lambda t: t.replace('level = 1\nlabel = "Novice"', 'level = 2\nlabel = "Novice"'),
        "scale[1].level",
        "niveau 1 attendu",
    ),
    "fraction-superieure-a-1": (
        lambda t: t.replace('label = "Expert"\nfraction = "1"', 'label = "Expert"\nfraction = "1.25"'),
        "scale[4].fraction",
        "fraction entre 0 et 1 attendue",
    ),
    "meta-mal-numerotee": (
        lambda t: t.replace("number = 3\n", "number = 7\n"),
        "meta[3].number",
        "méta-compétence 3 attendue",
    ),
    "pas-arrondi-nul": (
        lambda t: t.replace('rounding_step = "0.5"', 'rounding_step = "0"'),
        "grid.rounding_step",
        "le pas d'arrondi doit être positif",
    ),
    "points-non-exacts": (
        lambda t: replace_after(t, 'id = "C4.4"', 'points = "2"', 'points = "1/3"'),
        "criterion[9].points",
        "au millionième",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_grid_names_file_and_key_in_french(tmp_path, case):
    transform, key, french = BROKEN[case]
    text = transform(REAL_TEXT)
    assert text != REAL_TEXT, "la variante n'a rien modifié"
    err = grid_error(write_grid(tmp_path, text))
    assert f"clé « {key} »" in str(err)
    assert french in err.message
    assert err.hint  # tells the teacher what to do


def test_invalid_toml_names_file_and_line(tmp_path):
    text = REAL_TEXT.replace('version = "1"', 'version = "1')
    line = text.splitlines().index('version = "1') + 1
    err = grid_error(write_grid(tmp_path, text))
    assert "syntaxe TOML invalide" in err.message
    assert f"ligne {line}" in str(err)
    assert "line" not in str(err)  # no English from the parser
    assert err.hint == "Corrigez le fichier à l'endroit indiqué."


def test_non_utf8_file(tmp_path):
    path = tmp_path / "grille-ansi.toml"  # "ANSI" as old Windows editors save it
    path.write_bytes(REAL_TEXT.encode("cp1252"))
    err = grid_error(path)
    assert "n'est pas en UTF-8" in err.message
    assert "UTF-8" in err.hint


def test_utf8_with_bom_is_accepted(tmp_path):
    path = tmp_path / "grille-bom.toml"
    path.write_bytes(REAL_TEXT.encode("utf-8-sig"))
    assert load_grid(path).content_hash == GRID.content_hash


def test_missing_file(tmp_path):
    err = grid_error(tmp_path / "absente.toml")
    assert "fichier de grille introuvable" in err.message
    assert "--grid" in err.hint


def test_directory_instead_of_file(tmp_path):
    err = grid_error(tmp_path)
    assert "fichier de grille illisible" in err.message
