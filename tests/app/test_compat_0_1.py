"""Workbooks already in teachers' hands keep working: a campaign made by e2docs 0.1.0.

``tests/data/cases/campagne-0.1`` is ``../shared/cases/campagne-0.1`` (``new`` on the
demo roster then ``generate``, by 0.1.0) and ``retours-0.1`` the 8 returns typed into
its workbooks by LibreOffice Calc (fr-FR): 7 complete, HOARAU incomplete.
"""

from __future__ import annotations

import shutil

import pytest

from e2docs.app.campaign import open_campaign
from e2docs.app.collect import collect
from e2docs.formats.xlsx.reader import read_workbook
from tests.helpers import DATA

CASES = DATA / "cases"


@pytest.fixture
def campaign(tmp_path):
    root = tmp_path / "campagne-0.1"
    shutil.copytree(CASES / "campagne-0.1", root)
    return open_campaign(root)


@pytest.mark.parametrize("path", sorted((CASES / "campagne-0.1" / "envoi").glob("*.xlsx")), ids=lambda p: p.stem)
def test_workbook_generated_by_0_1_reads_back_unmodified(campaign, path):
    grid = campaign.grid()
    (reading,) = read_workbook(path, {grid.content_hash: grid}, secret=campaign.secret)
    assert reading.signature_ok
    assert reading.modified == [] and reading.errors == [] and reading.warnings == []
    assert path.stem.endswith(reading.candidate.number)
    assert reading.outcome.proposed_mark is None and not reading.outcome.complete


def test_returns_of_a_0_1_campaign_are_collected(campaign):
    returns = sorted((CASES / "retours-0.1").glob("*.xlsx"))
    report = collect(campaign, returns)
    states = {o.origin.rsplit("/", 1)[-1].split("_")[0]: o.state for o in report.outcomes}
    assert states.pop("HOARAU") == "incomplete"
    assert set(states.values()) == {"complete"} and len(states) == 7
    assert all(not o.warnings and not o.reasons for o in report.outcomes)
