"""Each command imports only what it uses (issue 12): a real ``collect`` loads no writer and no Word library,
and reads ordinary returns without openpyxl (kept for the files the fast reader cannot place); a real
``report`` loads the Word libraries but neither XlsxWriter nor openpyxl, and matplotlib only to draw a chart;
``status`` loads none of them.

Checked in a new interpreter, as a user starts it: ``e2docs collect --help``, then a real collect of
filled returns into a campaign; the modules loaded at the end are listed from ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys

from e2docs.formats.xlsx.layout import _rc, xl_cell_to_rowcol
from tests.app.test_collect import new_campaign
from tests.helpers import ALL_LEVEL_3, PROJECT, fill, level_values

WRITERS = {"xlsxwriter", "docx", "docxtpl", "jinja2", "matplotlib"}

# Runs the CLI in this interpreter, then prints the top-level packages loaded, as JSON.
PROBE = """
import contextlib, io, json, sys
from e2docs.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(sys.argv[1:])
    except SystemExit:
        pass
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def loaded(*args: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True, cwd=PROJECT, timeout=300
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_collect_help_and_a_real_collect_import_no_writer(tmp_path):
    assert not loaded("collect", "--help") & WRITERS
    campaign = new_campaign(tmp_path, 2)
    modules = loaded("-C", str(campaign.root), "collect", str(campaign.root / "envoi"))
    assert not modules & WRITERS, modules & WRITERS
    assert "e2docs" in modules and "lxml" in modules  # it did read the workbooks…
    assert "openpyxl" not in modules and "numpy" not in modules  # …without openpyxl, only the fallback
    with campaign.ledger() as ledger:
        assert len(ledger.returns()) == 2  # and recorded them (blank: nothing typed)


def test_report_imports_no_workbook_library_and_matplotlib_only_for_a_chart(tmp_path):
    from docx import Document

    from e2docs.reports import CLASS_RECORD

    assert not loaded("report", "--help") & (WRITERS | {"openpyxl"})
    campaign = new_campaign(tmp_path, 2)
    inbox = tmp_path / "retours"
    inbox.mkdir()
    for sent in (campaign.root / "envoi").glob("*.xlsx"):
        fill(sent, level_values(ALL_LEVEL_3), inbox / sent.name)  # every level ticked: complete grids
    assert not loaded("-C", str(campaign.root), "collect", str(inbox)) & WRITERS
    modules = loaded("-C", str(campaign.root), "report")
    assert len(list((campaign.root / "rapports").glob("*.docx"))) == 5  # 2 × 2 documents and the class record
    assert {"docx", "docxtpl", "jinja2", "matplotlib"} <= modules  # the class record's charts were drawn…
    assert not modules & {"xlsxwriter", "openpyxl"}  # …and the returns read without a workbook library
    # a class record template without charts: nothing draws, matplotlib (and numpy) stay out
    mine = tmp_path / "modeles"
    mine.mkdir()
    doc = Document()
    doc.add_paragraph("Récapitulatif de la session {{ session }}")
    doc.save(str(mine / CLASS_RECORD))
    modules = loaded("-C", str(campaign.root), "report", "--templates", str(mine))
    assert "docxtpl" in modules and not modules & {"xlsxwriter", "openpyxl", "matplotlib", "numpy"}


def test_status_imports_no_writer_and_no_reader(tmp_path):
    campaign = new_campaign(tmp_path, 2)
    modules = loaded("-C", str(campaign.root), "status")
    assert "e2docs" in modules and not modules & (WRITERS | {"openpyxl"})


def test_cell_references_as_xlsxwriter_writes_them():
    """The layout's own A1 helpers (so that reading does not import XlsxWriter) agree with XlsxWriter's."""
    from xlsxwriter.utility import xl_cell_to_rowcol as theirs_rowcol
    from xlsxwriter.utility import xl_rowcol_to_cell as theirs

    for row in (0, 1, 9, 99, 1_048_575):
        for col in [*range(0, 800), 16_383]:
            ref = theirs(row, col)
            assert _rc(row, col) == ref
            assert xl_cell_to_rowcol(ref) == theirs_rowcol(ref) == (row, col)
    assert xl_cell_to_rowcol("$AB$12") == (11, 27)
