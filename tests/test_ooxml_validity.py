"""Every .docx and .xlsx e2docs writes passes the OOXML schema validator (tests/ooxml.py).

Word "repairs" or refuses a document whose elements break the schema (properties in
the wrong order are enough); other readers silently drop what they do not understand.
Checked here: the three Word templates (and that they are exactly what
tools/make_templates.py builds), a campaign's workbooks (one per candidate and one per
class), ``synthese.xlsx``, each report and the merged document, all made through the CLI
as a user makes them.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import zipfile
from types import ModuleType

import pytest
from click.testing import CliRunner

from e2docs.cli import main
from e2docs.formats.bundled import bundled
from e2docs.reports import TEMPLATE_NAMES
from tests.app.test_collect import COMPLETE, INCOMPLETE, Setup, new_campaign, number
from tests.helpers import PROJECT
from tests.ooxml import findings

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
TRICKY = (
    "Très bonne analyse pour « Dupont & Fils <SARL> » ; 5 < 7 & 7 > 5.\n"
    "Deuxième ligne, avec une tabulation\tet des guillemets \"droits\" et 'simples'. "
)


def _builder() -> ModuleType:
    """tools/make_templates.py, imported from its file (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location("make_templates", PROJECT / "tools" / "make_templates.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------ templates


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_shipped_templates_are_valid(name):
    assert findings(bundled("templates", "docx", name)) == []


def test_shipped_templates_are_what_the_builder_makes(tmp_path):
    """The templates in templates/docx/ were regenerated with the schema-order builder:
    rebuilding them gives the same parts, byte for byte (the builder is reproducible)."""
    for built in _builder().build(tmp_path):
        with zipfile.ZipFile(built) as new, zipfile.ZipFile(bundled("templates", "docx", built.name)) as shipped:
            assert new.namelist() == shipped.namelist(), built.name
            changed = [n for n in new.namelist() if new.read(n) != shipped.read(n)]
            assert changed == [], f"{built.name}: rerun python tools/make_templates.py ({changed})"
            assert not any("stylesWithEffects" in n for n in new.namelist())


def test_builder_inserts_properties_in_schema_order():
    """Whatever order the builder sets properties in, they land in the schema's order."""
    from docx.oxml import OxmlElement

    mt = _builder()
    ppr = OxmlElement("w:pPr")
    for tag in ("w:jc", "w:spacing", "w:tabs", "w:pBdr", "w:keepNext", "w:shd", "w:pStyle"):
        mt._set(ppr, tag)
    assert [c.tag.removeprefix(W) for c in ppr] == ["pStyle", "keepNext", "pBdr", "shd", "tabs", "spacing", "jc"]
    tblpr = OxmlElement("w:tblPr")
    for tag in ("w:tblLook", "w:tblCellMar", "w:tblLayout", "w:tblBorders", "w:jc", "w:tblW", "w:tblStyle"):
        mt._set(tblpr, tag)
    assert [c.tag.removeprefix(W) for c in tblpr] == [
        "tblStyle",
        "tblW",
        "jc",
        "tblBorders",
        "tblLayout",
        "tblCellMar",
        "tblLook",
    ]
    mar = OxmlElement("w:tblCellMar")
    for side in ("right", "bottom", "left", "top"):
        mt._set(mar, f"w:{side}")
    assert [c.tag.removeprefix(W) for c in mar] == ["top", "left", "bottom", "right"]
    tcpr = OxmlElement("w:tcPr")
    for tag in ("w:vAlign", "w:shd", "w:tcW"):
        mt._set(tcpr, tag)
    assert [c.tag.removeprefix(W) for c in tcpr] == ["tcW", "shd", "vAlign"]
    with pytest.raises(KeyError):
        mt._set(tcpr, "w:pStyle")  # not a cell property: refused, not appended


# ------------------------------------------------------------------ what a campaign writes


@pytest.fixture(scope="module")
def campaign(tmp_path_factory) -> Setup:
    """Four candidates over two divisions: complete (with awkward text), incomplete, rejected,
    nothing returned; then export, reports merged, and a class workbook."""
    base = tmp_path_factory.mktemp("ooxml")
    setup = Setup(new_campaign(base, 4), base / "arrivees")
    a, b, c = number(0), number(1), number(2)
    complete = COMPLETE | {
        "observations": (TRICKY * 12)[:1500],
        "commission_date": dt.datetime(2027, 3, 12),
        "prosp_organisation": "Dupont & Fils <SARL>",
        "prosp_obj_contacts": 100,
        "prosp_res_contacts": 80,
        "prosp_causes_ecarts": TRICKY,
    }
    two_x = COMPLETE | {"niveau_C1_1_1": "X"}  # two levels on one criterion: rejected
    result = setup.collect(
        setup.make(a, "a.xlsx", complete), setup.make(b, "b.xlsx", INCOMPLETE), setup.make(c, "c.xlsx", two_x)
    )
    assert result.exit_code == 1, result.output  # c rejected
    for args in (("export", "-o", str(setup.root / "synthese.xlsx")), ("report", "--merge")):
        result = setup.run(*args)
        assert result.exit_code == 0, result.output
    (roster,) = (setup.root / "liste").iterdir()
    result = CliRunner().invoke(
        main, ["generate", str(roster), "-o", str(setup.root / "classe"), "--per", "class"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return setup


WRITTEN = {
    "workbook per candidate": "envoi/*.xlsx",
    "workbook per class": "classe/*.xlsx",
    "synthese.xlsx": "synthese.xlsx",
    "evaluation sheet": "rapports/*_fiche-evaluation.docx",
    "prospecting summary": "rapports/*_synthese-prospection.docx",
    "class record": "rapports/recapitulatif-classe_*.docx",
    "merged evaluation sheets": "rapports/fiches-evaluation_*.docx",
}


@pytest.mark.parametrize("pattern", WRITTEN.values(), ids=WRITTEN.keys())
def test_every_file_a_campaign_writes_is_valid(campaign, pattern):
    paths = sorted(campaign.root.glob(pattern))
    assert paths, f"nothing written as {pattern}"
    bad = {p.name: f for p in paths if (f := findings(p))}
    assert bad == {}
