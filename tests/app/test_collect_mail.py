"""``e2docs collect`` on mail as mail clients write it: the field cases of ../shared/cases, end to end."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from e2docs.app.campaign import Campaign, create_campaign, open_campaign
from e2docs.app.collect import collect
from e2docs.app.demo import DEMO_ID, DEMO_SECRET, sample_path
from e2docs.app.status import candidate_statuses
from e2docs.cli import main
from e2docs.model.states import ReturnState
from tests.formats.test_intake_mail import nested_multiparts
from tests.helpers import DATA

CASES = DATA / "cases"


@pytest.fixture
def campaign_0_1(tmp_path) -> Campaign:
    root = tmp_path / "campagne-0.1"
    shutil.copytree(CASES / "campagne-0.1", root)
    return open_campaign(root)


@pytest.fixture
def demo_campaign(tmp_path) -> Campaign:
    """A campaign with the demo's id and key: the one the 8-bit From case's grid is signed for."""
    campaign, _ = create_campaign(
        tmp_path / "demo", sample_path("classe-demo.csv"), campaign_id=DEMO_ID, secret=DEMO_SECRET
    )
    return campaign


def statuses(campaign: Campaign) -> dict:
    with campaign.ledger() as ledger:
        return {s.candidate.last_name: s for s in candidate_statuses(ledger)}


def assert_ledger_knows_every_archived_file(campaign: Campaign) -> None:
    with campaign.ledger() as ledger:
        known = {row["stored_path"] for row in ledger.db.execute("SELECT stored_path FROM files")}
    archived = {f"retours/{p.name}" for p in (campaign.root / "retours").iterdir()}
    assert archived == known


def test_outlook_rich_text_mail_gives_faures_grid(campaign_0_1):
    report = collect(campaign_0_1, [CASES / "03-outlook-winmail-dat" / "grille-outlook-rtf.eml"])
    [outcome] = report.outcomes
    assert outcome.state == ReturnState.COMPLETE and outcome.candidate == "FAURE Théo (2709411063)"
    assert outcome.origin.endswith("› pièce jointe winmail.dat › pièce jointe FAURE_Théo_31214_2709411063.xlsx")
    assert report.exit_code == 0 and statuses(campaign_0_1)["FAURE"].state == "complete"
    assert_ledger_knows_every_archived_file(campaign_0_1)


def test_thunderbird_folder_skips_the_deleted_message_and_keeps_the_corrected_grid(campaign_0_1):
    result = CliRunner().invoke(
        main, ["-C", str(campaign_0_1.root), "collect", str(CASES / "05-thunderbird-expunged-mbox" / "Retours E2")]
    )
    assert result.exit_code == 0, result.output
    assert "message 1 (de yann.kerherve@ac-exemple.fr, 02/04/2027)  ignoré (message supprimé)" in result.output
    assert "message supprimé dans la boîte mail" in result.output
    assert "1 complet(s), 0 incomplet(s), 0 rejeté(s), 0 en conflit" in result.output and "1 ignoré(s)" in result.output
    status = statuses(campaign_0_1)["LE GOFF"]
    assert status.state == "complete" and not status.conflict and not status.newer
    assert len(status.history) == 1 and status.retained.origin.startswith(
        str(CASES / "05-thunderbird-expunged-mbox" / "Retours E2") + " › message 2"
    )
    assert_ledger_knows_every_archived_file(campaign_0_1)


def test_raw_8bit_byte_in_from_never_stops_the_run(demo_campaign):
    other = sample_path("retours") / "MARTIN_Zoé_31214_2709411121.xlsx"
    report = collect(demo_campaign, [CASES / "mail-8bit-from" / "latin1-from.eml", other])
    assert [(o.state, o.candidate) for o in report.outcomes] == [
        (ReturnState.COMPLETE, "BERNARD Lucas (2709411021)"),
        (ReturnState.COMPLETE, "MARTIN Zoé (2709411121)"),
    ]
    assert "fr\ufffdd\ufffdric@example.fr" in report.outcomes[0].origin
    with demo_campaign.ledger() as ledger:
        senders = [row["sender"] for row in ledger.db.execute("SELECT sender FROM files ORDER BY origin")]
    assert senders == [None, "fr\ufffdd\ufffdric@example.fr"]  # the .xlsx given directly, then the mail
    assert_ledger_knows_every_archived_file(demo_campaign)


def test_depth_bomb_is_refused_and_the_next_input_collected(demo_campaign, tmp_path):
    bomb = tmp_path / "bombe.eml"
    bomb.write_bytes(nested_multiparts(1000))
    other = sample_path("retours") / "MARTIN_Zoé_31214_2709411121.xlsx"
    report = collect(demo_campaign, [bomb, other])
    assert [o.state for o in report.outcomes] == [ReturnState.REFUSED, ReturnState.COMPLETE]
    assert "imbriqué trop profondément" in report.outcomes[0].reasons[0]
    assert report.exit_code == 1
    assert_ledger_knows_every_archived_file(demo_campaign)
