"""Which return counts: blank workbooks, the order returns were made in, « à vérifier », conflicts,
``keep`` and ``undo``, machine faults retried, identity never waived, and a killed ``collect``.

Returns are made as in test_collect (the campaign's own workbooks filled with openpyxl), each
with the saved time a spreadsheet application would write (docProps/core.xml ``modified``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import signal
import stat
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from e2docs.app.campaign import open_campaign
from e2docs.app.status import candidate_statuses
from e2docs.formats.libreoffice import ENV_VARIABLE
from e2docs.formats.xlsx.layout import META_SHEET
from tests.app.test_collect import (
    COMPLETE,
    INCOMPLETE,
    Setup,
    _collect_process,
    _ledger_counts,
    mail,
    new_campaign,
    number,
    set_saved_time,
    sha,
)
from tests.helpers import ALL_LEVEL_3, level_values

A, B, C = (number(i) for i in range(3))
T = dt.datetime(2027, 3, 18, 8, 0, tzinfo=dt.UTC)
FEWER = level_values({cid: lvl for cid, lvl in list(ALL_LEVEL_3.items())[:5]})  # 5 criteria only


@pytest.fixture
def s(tmp_path) -> Setup:
    return Setup(new_campaign(tmp_path, 4), tmp_path / "arrivees")


def history(s: Setup, num: str) -> list[dict]:
    return s.status()[num]["history"]


def by_name(s: Setup, num: str) -> dict[str, dict]:
    return {h["original_name"]: h for h in history(s, num)}


# ------------------------------------------------------------------ blank workbooks


def test_blank_workbook_is_not_a_return_and_changes_nothing(s):
    final = s.make(A, "grille finale.xlsx")
    assert s.collect(final).exit_code == 0
    untouched = s.inbox / "pièce jointe par erreur.xlsx"
    untouched.write_bytes(s.sent(A).read_bytes())

    result = s.collect(untouched)

    assert result.exit_code == 1, result.output
    assert "vierge (rien de saisi, ignoré) — NOM0 Prénom0 (2700000000)" in result.output
    assert "classeur vierge : rien n'y a été saisi" in result.output and "1 vierge(s)" in result.output
    status = s.status()[A]
    assert (status["state"], status["final_mark"]) == ("complete", 15)
    assert status["retained_return"] == by_name(s, A)["grille finale.xlsx"]["id"]
    assert by_name(s, A)[untouched.name]["state"] == "blank"
    assert "déjà importé" in s.collect(final).output  # the good file was never lost


def test_collecting_the_sent_folder_changes_nothing(s):
    assert s.collect(s.make(A, "A.xlsx"), s.make(B, "B.xlsx", INCOMPLETE)).exit_code == 0
    before = s.status()

    result = s.collect(s.root / "envoi")

    assert result.exit_code == 1
    assert "Bilan : 0 complet(s), 0 incomplet(s), 0 rejeté(s), 0 en conflit" in result.output
    assert "4 vierge(s)" in result.output
    after = s.status()
    for num in (A, B, C, number(3)):
        keys = ("state", "proposed_mark", "final_mark", "missing", "retained_return")
        assert [after[num][k] for k in keys] == [before[num][k] for k in keys]
    assert after[C]["state"] == "missing"  # a blank is not a return


def test_spaces_are_nothing_typed(s):
    spaces = s.make(A, "A.xlsx", {"observations": "   "})
    result = s.collect(spaces)
    assert "vierge" in result.output and s.status()[A]["state"] == "missing"


# ------------------------------------------------------------------ the order returns were made in


def test_older_draft_collected_after_the_final_grid_does_not_replace_it(s):
    draft = s.make(A, "brouillon.xlsx", INCOMPLETE, saved=T)
    final = s.make(A, "finale.xlsx", COMPLETE | {"note_commission": 16.5}, saved=T + dt.timedelta(hours=2))
    assert s.collect(final).exit_code == 0

    result = s.collect(draft)  # e-mailed again later: collected last, made first

    assert result.exit_code == 0, result.output
    assert "non retenu : un retour fait plus tard reste retenu" in result.output
    status = s.status()[A]
    assert (status["state"], status["final_mark"]) == ("complete", 16.5)
    names = by_name(s, A)
    assert status["retained_return"] == names["finale.xlsx"]["id"]
    assert names["brouillon.xlsx"]["made_at"] == "2027-03-18T08:00:00+00:00"
    assert names["finale.xlsx"]["made_at"] == "2027-03-18T10:00:00+00:00"
    assert [h["retained"] for h in history(s, A)] == [True, False]


def test_newer_return_replaces_the_retained_one(s):
    first = s.make(A, "v1.xlsx", COMPLETE | {"note_commission": 12}, saved=T)
    second = s.make(A, "v2.xlsx", COMPLETE | {"note_commission": 14}, saved=T + dt.timedelta(minutes=5))
    assert s.collect(first).exit_code == 0
    assert s.collect(second).exit_code == 0
    status = s.status()[A]
    assert status["final_mark"] == 14 and status["retained_return"] == by_name(s, A)["v2.xlsx"]["id"]


def test_newer_but_less_complete_return_is_to_review_with_both_shown(s):
    complete = s.make(A, "complete.xlsx", saved=T)
    partial = s.make(A, "partielle.xlsx", FEWER, saved=T + dt.timedelta(days=1))
    assert s.collect(complete).exit_code == 0

    result = s.collect(partial)

    assert result.exit_code == 0, result.output
    assert "plus récent mais moins complet que le retour retenu" in result.output
    status = s.status()[A]
    names = by_name(s, A)
    assert status["state"] == "review"
    assert status["retained_return"] == names["complete.xlsx"]["id"]  # never silently replaced
    assert status["final_mark"] == 15
    assert {h["original_name"]: h["state"] for h in status["history"]} == {
        "complete.xlsx": "complete",
        "partielle.xlsx": "incomplete",
    }
    text = s.run("status").output
    assert "à vérifier" in text
    assert f"le retour plus récent n° {names['partielle.xlsx']['id']} (partielle.xlsx) est moins complet" in text
    assert "1 à vérifier" in text.splitlines()[-1]
    shown = s.run("status", "--history").output
    assert f"→ n° {names['complete.xlsx']['id']}" in shown and "partielle.xlsx (incomplet)" in shown

    # the secretariat decides: the partial grid is the right one after all
    kept = s.run("keep", A, str(names["partielle.xlsx"]["id"]))
    assert kept.exit_code == 0, kept.output
    status = s.status()[A]
    assert (status["state"], status["kept"]) == ("incomplete", True)
    assert status["retained_return"] == names["partielle.xlsx"]["id"]
    # back to the rules: to review again
    auto = s.run("keep", A, "--auto")
    assert auto.exit_code == 0, auto.output
    assert "retour retenu selon les règles" in auto.output
    assert s.status()[A]["state"] == "review" and s.status()[A]["kept"] is False


def test_without_saved_time_the_mail_date_orders_returns(s, tmp_path):
    def unsaved(name: str, values: dict) -> bytes:
        path = s.make(A, name, values, folder=tmp_path / "faits")
        with zipfile.ZipFile(s.sent(A)) as zf:
            core = zf.read("docProps/core.xml").decode()
        created = core.split("<dcterms:created", 1)[1].split(">", 1)[1].split("<", 1)[0]
        set_saved_time(path, dt.datetime.fromisoformat(created))  # modified == created: never re-saved
        return path.read_bytes()

    late = s.inbox / "tard.eml"
    late.write_bytes(bytes(mail({"A.xlsx": unsaved("a2.xlsx", COMPLETE | {"note_commission": 18})}, date=T)))
    early = s.inbox / "tot.eml"
    early.write_bytes(bytes(mail({"A.xlsx": unsaved("a1.xlsx", COMPLETE)}, date=T - dt.timedelta(days=2))))
    assert s.collect(late).exit_code == 0
    assert s.collect(early).exit_code == 0  # collected last, sent first
    status = s.status()[A]
    assert status["final_mark"] == 18
    made = [h["made_at"] for h in status["history"]]
    assert made[0].startswith("2027-03-18T08:00") and made[1].startswith("2027-03-16T08:00")


# ------------------------------------------------------------------ keep and undo


def test_keep_stays_whatever_comes_later_until_auto(s):
    one = s.make(A, "un.xlsx", COMPLETE | {"note_commission": 11}, saved=T)
    two = s.make(A, "deux.xlsx", COMPLETE | {"note_commission": 13}, saved=T + dt.timedelta(hours=1))
    three = s.make(A, "trois.xlsx", COMPLETE | {"note_commission": 17}, saved=T + dt.timedelta(hours=2))
    assert s.collect(one, two).exit_code == 0
    one_id = by_name(s, A)["un.xlsx"]["id"]

    kept = s.run("keep", A, str(one_id))
    assert kept.exit_code == 0, kept.output
    assert "Il le reste jusqu'au prochain « e2docs keep »" in kept.output
    result = s.collect(three)  # newer, but the secretariat has chosen
    assert "non retenu : le secrétariat garde un autre retour (e2docs keep)" in result.output
    status = s.status()[A]
    assert (status["final_mark"], status["retained_return"], status["kept"]) == (11, one_id, True)
    assert f"retour n° {one_id} choisi par le secrétariat" in s.run("status").output

    assert s.run("keep", A, "--auto").exit_code == 0
    assert s.status()[A]["final_mark"] == 17


@pytest.mark.parametrize(
    "args, message",
    [
        (["2799999999", "1"], "candidat inconnu dans cette campagne : N° 2799999999."),
        ([B, "RETURN_A"], "n'est pas un retour accepté de NOM1 Prénom1 (N° 2700000001)"),
        ([A, "REJECTED_A"], "n'est pas un retour accepté de NOM0 Prénom0"),
        ([A], "indiquez soit un n° de retour, soit --auto"),
        ([A, "RETURN_A", "--auto"], "indiquez soit un n° de retour, soit --auto"),
    ],
    ids=["candidat-inconnu", "retour-d-un-autre", "retour-rejete", "rien", "les-deux"],
)
def test_keep_refuses_what_cannot_be_kept(s, args, message):
    assert s.collect(s.make(A, "A.xlsx")).exit_code == 0
    assert s.collect(s.make(A, "A-faux.xlsx", COMPLETE | {"note_commission": 25})).exit_code == 1
    ids = {h["state"]: h["id"] for h in history(s, A)}
    args = [{"RETURN_A": str(ids["complete"]), "REJECTED_A": str(ids["rejected"])}.get(a, a) for a in args]
    before = s.status()

    result = s.run("keep", *args)

    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert s.status() == before


def test_undo_cancels_the_last_collect_and_its_files_can_be_collected_again(s):
    first = s.make(A, "premier.xlsx", INCOMPLETE)
    second = s.make(A, "second.xlsx")
    other = s.make(B, "B.xlsx")
    assert s.collect(first).exit_code == 0
    assert s.collect(second, other).exit_code == 0
    assert s.status()[A]["state"] == "complete"

    result = s.run("undo")

    assert result.exit_code == 0, result.output
    assert "annulée : ses 2 retour(s) ne comptent plus" in result.output
    status = s.status()
    assert status[A]["state"] == "incomplete" and status[B]["state"] == "missing"
    assert [h["undone"] for h in status[A]["history"]] == [False, True]
    assert "relève annulée" in s.run("status", "--history").output
    s.assert_archived(first.read_bytes(), second.read_bytes(), other.read_bytes())  # the files stay

    again = s.collect(second, other)  # no longer "déjà importé"
    assert again.exit_code == 0, again.output
    assert "Bilan : 2 complet(s)" in again.output
    status = s.status()
    assert status[A]["state"] == "complete" and status[B]["state"] == "complete"
    assert len(status[A]["history"]) == 3

    assert s.run("undo").exit_code == 0
    assert s.status()[A]["state"] == "incomplete"
    assert s.run("undo").exit_code == 0  # then the run before it (the second one is already undone)
    nothing = s.run("undo")
    assert nothing.exit_code == 2 and "aucune relève à annuler" in nothing.output
    assert {c["state"] for c in s.status().values()} == {"missing"}


# ------------------------------------------------------------------ faults of this machine are retried


def _fake_soffice(folder: Path) -> Path:
    """A LibreOffice that fails every conversion (exit code 1), as a broken installation does."""
    path = folder / "soffice"
    path.write_text("#!/bin/sh\necho 'Error: source file could not be loaded' >&2\nexit 1\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.mark.skipif(sys.platform == "win32", reason="the failing LibreOffice stand-in is a shell script")
def test_rejection_caused_by_libreoffice_is_retried_at_the_next_collect(s, tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VARIABLE, str(_fake_soffice(tmp_path)))
    ods = s.inbox / "grille.ods"
    with zipfile.ZipFile(ods, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", "<office:document-content/>")
    bad = s.make(A, "A.xlsx", COMPLETE | {"note_commission": 25})

    first = s.collect(ods, bad)
    assert first.exit_code == 1
    assert "conversion en .xlsx impossible (LibreOffice, code 1" in first.output
    assert "Le fichier sera relu à la prochaine relève." in first.output

    second = s.collect(ods, bad)  # the conversion is tried again; the invalid grid is not
    assert "conversion en .xlsx impossible" in second.output
    assert "Bilan : 0 complet(s), 0 incomplet(s), 1 rejeté(s), 0 en conflit, 1 déjà importé(s)" in second.output
    with s.campaign.ledger() as ledger:
        rows = [r for r in ledger.returns() if r.sha256 == sha(ods)]
    assert [(r.state, r.retryable, r.candidate) for r in rows] == [("rejected", True, None)] * 2


@pytest.mark.libreoffice
def test_ods_rejected_while_libreoffice_failed_is_accepted_once_it_works(s, tmp_path, monkeypatch):
    real = shutil.which("soffice")
    if real is None:
        pytest.skip("LibreOffice is needed to make and convert the .ods")
    filled = s.make(A, "A.xlsx", folder=tmp_path / "fait")
    import subprocess

    subprocess.run(
        [
            real,
            f"-env:UserInstallation={(tmp_path / 'profil').as_uri()}",
            "--headless",
            "--convert-to",
            "ods",
            "--outdir",
            str(s.inbox),
            str(filled),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    ods = s.inbox / "A.ods"
    monkeypatch.setenv(ENV_VARIABLE, str(_fake_soffice(tmp_path)))
    assert s.collect(ods).exit_code == 1
    assert s.status()[A]["state"] == "missing"

    monkeypatch.setenv(ENV_VARIABLE, real)  # LibreOffice repaired
    result = s.collect(ods)
    assert result.exit_code == 0, result.output
    assert "accepté (complet)" in result.output
    assert s.status()[A]["state"] == "complete"


# ------------------------------------------------------------------ identity is never waived


def _meta_of(s: Setup, victim: str):
    """Put the victim's signed metadata (its e2docs sheet, copied from its own workbook) in the grid."""
    source = openpyxl.load_workbook(s.sent(victim))[META_SHEET]

    def edit(wb, named):
        sheet = wb[META_SHEET]
        for row in source.iter_rows():
            for cell in row:
                sheet[cell.coordinate] = cell.value

    return edit


def _retype_name(wb, named):
    cell = named["candidat_nom"]
    wb[cell.sheet][cell.ref] = "DUPONT"


def test_accept_modified_never_waives_an_identity_change(s):
    grafted = s.make(A, "A-avec-metadonnees-de-C.xlsx", edit=_meta_of(s, C))  # A's grid, C's signed identity
    retyped = s.make(B, "B-nom-retape.xlsx", edit=_retype_name)
    good = s.make(number(3), "D.xlsx")

    result = s.collect(grafted, retyped, good, accept_modified=True)

    assert result.exit_code == 1, result.output
    assert "identité du candidat modifiée, jamais acceptée (même avec --accept-modified)" in result.output
    assert "trouvé : « NOM0 »" in result.output and "trouvé : « DUPONT »" in result.output
    assert "Bilan : 1 complet(s), 0 incomplet(s), 2 rejeté(s)" in result.output
    status = s.status()
    assert status[C]["state"] == "rejected" and status[C]["retained_return"] is None  # never credited to C
    assert status[A]["state"] == "missing"
    assert status[B]["state"] == "rejected" and status[number(3)]["state"] == "complete"


# ------------------------------------------------------------------ a killed collect, run again


def _outcome(root: Path) -> list[tuple]:
    """What the ledger says of each candidate, by file: state, retained file, every return's shown state."""
    with open_campaign(root).ledger() as ledger:
        statuses = candidate_statuses(ledger)
    return [
        (
            st.candidate.number,
            str(st.state),
            st.retained.sha256 if st.retained else None,
            sorted((h.sha256, str(st.shown_state(h)), h.undone) for h in st.history),
        )
        for st in statuses
    ]


def test_collect_killed_at_random_points_then_run_again_equals_one_uninterrupted_run(tmp_path):
    count = 24
    setup = Setup(new_campaign(tmp_path, count), tmp_path / "arrivees")
    folder = setup.inbox / "lot"
    for i in range(2, count):
        setup.make(number(i), f"m-{i:02d}.xlsx", folder=folder)
    # two different returns of candidate 0 made at the same time, first and last of the batch
    same = T + dt.timedelta(days=3)
    setup.make(A, "a-conflit-1.xlsx", COMPLETE, folder=folder, saved=same)
    setup.make(
        A,
        "z-conflit-2.xlsx",
        level_values({c: 4 for c in ALL_LEVEL_3}) | {"observations": "Top."},
        folder=folder,
        saved=same,
    )
    # two different returns of candidate 1 never re-saved (no made time), ordered by their collect run
    with zipfile.ZipFile(setup.sent(B)) as zf:
        core = zf.read("docProps/core.xml").decode()
    created = dt.datetime.fromisoformat(core.split("<dcterms:created", 1)[1].split(">", 1)[1].split("<", 1)[0])
    setup.make(B, "b-sans-date-1.xlsx", COMPLETE, folder=folder, saved=created)
    setup.make(B, "y-sans-date-2.xlsx", INCOMPLETE, folder=folder, saved=created)
    copy = tmp_path / "copie"
    shutil.copytree(setup.root, copy)

    uninterrupted = _collect_process(copy, folder)
    out, err = uninterrupted.communicate(timeout=300)
    assert uninterrupted.returncode == 1, out + err  # the conflicts
    expected = _outcome(copy)
    states = {number: state for number, state, _, _ in expected}
    assert states[A] == "rejected" and states[B] == "rejected"  # both in conflict, nothing earlier
    assert {h[1] for h in expected[0][3]} == {"conflict"}

    seed = int(os.environ.get("E2DOCS_KILL_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    db = setup.root / "registre.sqlite"
    total = count + 2
    for _ in range(2):  # killed twice at random points, then run to the end
        done = _ledger_counts(db)[0] if db.exists() else 0
        if done >= total - 1:
            break
        target = rng.randrange(done + 1, total)
        proc = _collect_process(setup.root, folder)
        deadline = time.monotonic() + 120
        try:
            while time.monotonic() < deadline and proc.poll() is None:
                if _ledger_counts(db)[0] >= target:
                    break
                time.sleep(0.005)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
        finally:
            proc.wait(timeout=30)
            proc.stdout.close()
            proc.stderr.close()
    rerun = _collect_process(setup.root, folder)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode in (0, 1) and "Traceback" not in err, out + err  # 0: all recorded before the kill

    assert _outcome(setup.root) == expected, f"seed {seed}"
    with open_campaign(setup.root).ledger() as ledger:
        assert _ledger_counts(db) == (total, total)
        assert len([b for b in ledger.batches() if b.returns]) == 1  # the killed run was resumed, not doubled
    status = json.loads(setup.run("status", "--json").output)
    assert status["totals"]["rejected"] == 2
