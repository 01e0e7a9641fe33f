"""The states of returns and candidates: values are the stored/JSON contract, every member has its labels."""

from __future__ import annotations

import re

import pytest

from e2docs.app import ledger
from e2docs.model.states import CANDIDATE_LABELS, RETURN_LABELS, CandidateState, ReturnState


def test_return_state_values() -> None:
    assert [s.value for s in ReturnState] == [
        "complete",
        "incomplete",
        "rejected",
        "conflict",
        "already",
        "refused",
        "blank",
        "skipped",
    ]
    assert ReturnState.COMPLETE == "complete"
    assert ReturnState("conflict") is ReturnState.CONFLICT


def test_candidate_state_values_are_the_status_json_contract_in_order() -> None:
    assert [s.value for s in CandidateState] == ["missing", "incomplete", "complete", "rejected", "review"]
    assert CandidateState.MISSING == "missing"
    assert str(CandidateState.REJECTED) == "rejected"


def test_recorded_states_are_the_ledger_check() -> None:
    check = re.search(r"state IN \(([^)]*)\)", ledger.SCHEMA)
    assert check is not None
    assert set(re.findall(r"'(\w+)'", check.group(1))) == set(ledger.RECORDED)


def test_label_tables_cover_every_member() -> None:
    assert set(RETURN_LABELS) == set(ReturnState)
    assert set(CANDIDATE_LABELS) == set(CandidateState)


@pytest.mark.parametrize("state", list(ReturnState))
def test_every_return_state_has_its_labels(state: ReturnState) -> None:
    assert state.label and state.outcome_label and state.tally_label


@pytest.mark.parametrize("state", list(CandidateState))
def test_every_candidate_state_has_its_labels(state: CandidateState) -> None:
    assert state.label and state.grid_label


def test_french_labels() -> None:
    assert [s.label for s in CandidateState] == ["non rendu", "incomplet", "complet", "rejeté", "à vérifier"]
    assert [s.grid_label for s in CandidateState] == ["non rendue", "incomplète", "complète", "rejetée", "à vérifier"]
    assert [s.outcome_label for s in ReturnState] == [
        "accepté (complet)",
        "accepté (incomplet)",
        "rejeté",
        "conflit",
        "déjà importé",
        "refusé",
        "vierge (rien de saisi, ignoré)",
        "ignoré (message supprimé)",
    ]
    assert [s.tally_label for s in ReturnState] == [
        "complet(s)",
        "incomplet(s)",
        "rejeté(s)",
        "en conflit",
        "déjà importé(s)",
        "refusé(s)",
        "vierge(s)",
        "ignoré(s)",
    ]
    assert [s.label for s in ReturnState][:4] == ["complet", "incomplet", "rejeté", "conflit"]


def test_accepted_and_failed() -> None:
    assert {s for s in ReturnState if s.accepted} == {ReturnState.COMPLETE, ReturnState.INCOMPLETE}
    assert {s for s in ReturnState if s.failed} == {
        ReturnState.REJECTED,
        ReturnState.CONFLICT,
        ReturnState.REFUSED,
        ReturnState.BLANK,
    }
