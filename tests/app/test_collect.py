"""``e2docs collect``: every way a return arrives, every way it can be wrong, and nothing lost.

Returns are made the way a test can make them quickly: the campaign's own
workbooks (``envoi/``) filled with openpyxl through the layout's named cells.
Each bad input is collected beside a good return, and each test checks both the
French message (sheet and cell where it applies) and that nothing else was lost:
the good return is recorded, and the original bytes of every file read are
archived under ``retours/`` with their sha256 as name.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import io
import itertools
import json
import mailbox
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from email.message import EmailMessage
from fractions import Fraction
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from e2docs.app.campaign import Campaign, create_campaign
from e2docs.app.collect import TEMP_PREFIX, collect
from e2docs.app.generate import generate_in_campaign
from e2docs.cli import main
from e2docs.formats.gridfile import load_grid
from e2docs.formats.xlsx import names
from e2docs.formats.xlsx.layout import build_layout
from e2docs.formats.xlsx.reader import read_workbook
from e2docs.formats.xlsx.writer import Options, write_workbook
from e2docs.model.candidate import Candidate
from e2docs.model.scoring import evaluate
from tests.helpers import ALL_LEVEL_3, PROJECT, level_values

GRID = load_grid()
OBSERVATIONS = "Opération menée avec méthode & rigueur."
COMPLETE = level_values(ALL_LEVEL_3) | {"observations": OBSERVATIONS}  # proposed and final mark: 15
INCOMPLETE = level_values(ALL_LEVEL_3)  # observations missing
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


# ------------------------------------------------------------------ a campaign to collect into

SAVE_TIMES = (dt.datetime(2027, 3, 1, 8, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=n) for n in itertools.count())
"""The saved times of the workbooks tests make, one minute apart, in the order made."""


def set_saved_time(path: Path, when: dt.datetime) -> None:
    """Write ``when`` as the workbook's saved time (docProps/core.xml ``dcterms:modified``), as Excel or
    LibreOffice do on save (openpyxl writes the current time, the same for workbooks saved in one second)."""
    with zipfile.ZipFile(path) as zf:
        members = [(info, zf.read(info)) for info in zf.infolist()]
    stamp = when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in members:
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp.encode(), data)
            zf.writestr(info, data)


def number(i: int) -> str:
    return f"27{i:08d}"


def write_roster(path: Path, count: int) -> Path:
    lines = ["N° candidat;Nom;Prénom;Division;Date de naissance"]
    lines += [f"{number(i)};NOM{i};Prénom{i};TMCV{1 + i % 2};14/03/2009" for i in range(count)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def new_campaign(folder: Path, count: int, roster: Path | None = None) -> Campaign:
    folder.mkdir(parents=True, exist_ok=True)
    roster = roster or write_roster(folder / "liste.csv", count)
    campaign, _ = create_campaign(
        folder / "campagne", roster, session="2027", school="LP Jean Moulin", academie="Versailles"
    )
    generate_in_campaign(campaign)
    return campaign


class Setup:
    """A campaign with its generated workbooks, and helpers to make and collect returns."""

    def __init__(self, campaign: Campaign, inbox: Path):
        self.campaign = campaign
        self.root = campaign.root
        self.inbox = inbox
        inbox.mkdir(parents=True, exist_ok=True)
        with campaign.ledger() as ledger:
            self.candidates = {c.number: c for c in ledger.candidates()}

    def named(self, num: str):
        return build_layout(self.campaign.grid(), self.candidates[num], self.campaign.context).named

    def sent(self, num: str) -> Path:
        (path,) = (self.root / "envoi").glob(f"*_{num}.xlsx")
        return path

    def make(
        self,
        num: str,
        name: str,
        values: dict | None = None,
        edit: Callable[[openpyxl.Workbook, dict], None] | None = None,
        folder: Path | None = None,
        saved: dt.datetime | None = None,
    ) -> Path:
        """The candidate's workbook filled with ``values`` (named cells), saved as ``name`` at ``saved``
        (its docProps/core.xml modified time; default: a minute after the previous workbook made, as
        a teacher saving one grid after the other)."""
        named = self.named(num)
        wb = openpyxl.load_workbook(self.sent(num))
        for key, value in (COMPLETE if values is None else values).items():
            cell = named[key]
            wb[cell.sheet][cell.ref] = value
        if edit:
            edit(wb, named)
        out = (folder or self.inbox) / name
        out.parent.mkdir(parents=True, exist_ok=True)
        wb.save(out)
        set_saved_time(out, saved or next(SAVE_TIMES))
        return out

    def run(self, *args: str):
        return CliRunner().invoke(main, ["-C", str(self.root), *args], catch_exceptions=False)

    def collect(self, *paths: Path | str, accept_modified: bool = False):
        return self.run("collect", *(["--accept-modified"] if accept_modified else []), *map(str, paths))

    def returns(self, num: str | None = None):
        with self.campaign.ledger() as ledger:
            return ledger.returns(num)

    def status(self) -> dict:
        result = self.run("status", "--json")
        assert result.exit_code == 0, result.output
        return {c["number"]: c for c in json.loads(result.output)["candidates"]}

    def files(self) -> dict[str, sqlite3.Row]:
        with self.campaign.ledger() as ledger:
            return {r["sha256"]: r for r in ledger.db.execute("SELECT * FROM files")}

    def assert_archived(self, *datas: bytes) -> None:
        """Each original is under retours/, unchanged, named by its sha256, and recorded in the ledger."""
        files = self.files()
        for data in datas:
            sha = hashlib.sha256(data).hexdigest()
            (stored,) = (self.root / "retours").glob(f"{sha}.*")
            assert hashlib.sha256(stored.read_bytes()).hexdigest() == sha
            assert stored.read_bytes() == data
            assert sha in files and files[sha]["stored_path"] == f"retours/{stored.name}"


@pytest.fixture
def s(tmp_path) -> Setup:
    return Setup(new_campaign(tmp_path, 6), tmp_path / "arrivees")


A, B, C, D, E = (number(i) for i in range(5))


def sha(path: Path | bytes) -> str:
    return hashlib.sha256(path if isinstance(path, bytes) else path.read_bytes()).hexdigest()


def zip_of(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def mail(
    attachments: dict[str, bytes],
    sender: str = "Mme Martin <martin@lycee.example.fr>",
    date: dt.datetime = dt.datetime(2027, 3, 18, 9, 30, tzinfo=dt.UTC),
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "secretariat@lycee.example.fr"
    msg["Subject"] = "Grilles E2 remplies"
    msg["Date"] = email.utils.format_datetime(date)
    msg.set_content("Bonjour,\nVoici les grilles.\nCordialement")
    for name, data in attachments.items():
        msg.add_attachment(
            data, maintype="application", subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet", filename=name
        )
    return msg


# ------------------------------------------------------------------ invalid inputs and changes


def _clear_c1_1(named) -> dict:
    return {names.level("C1.1", lvl): None for lvl in range(1, 5)}


def _set(key: str, value):
    def edit(wb, named):
        cell = named[key]
        wb[cell.sheet][cell.ref] = value

    return edit


def _remove_protection(wb, named):
    wb["Grille E2"].protection.sheet = False


def _insert_rows(wb, named):
    """Two rows inserted above the candidate block, as Excel does it: the defined names move down."""
    wb["Grille E2"].insert_rows(3, 2)
    for dn in wb.defined_names.values():
        sheet, ref = next(iter(dn.destinations))
        col, row = re.fullmatch(r"\$([A-Z]+)\$(\d+)", ref).groups()
        if sheet == "Grille E2" and int(row) >= 3:
            dn.attr_text = f"'{sheet}'!${col}${int(row) + 2}"


# (id, values, edit, expected fragments given the named cells): each a return of candidate A
BAD_RETURNS = [
    (
        "texte-dans-une-case-X",
        lambda n: COMPLETE | _clear_c1_1(n) | {"niveau_C1_1_2": "Très bien"},
        None,
        lambda n: [
            f"saisie invalide — feuille « Grille E2 », cellule {n['niveau_C1_1_2'].ref} : "
            "Critère C1.1, niveau 2 (Débrouillé) : « Très bien » : seule possibilité X (ou cellule vide)."
        ],
    ),
    (
        "deux-X-sur-un-critere",
        lambda n: COMPLETE | {"niveau_C2_1_1": "X"},
        None,
        lambda n: [
            f"saisie invalide — feuille « Grille E2 », cellule {n['niveau_C2_1_1'].ref},"
            f"{n['niveau_C2_1_3'].ref} : critère C2.1 : plusieurs niveaux cochés (1, 3) ; une seule X "
            "par critère."
        ],
    ),
    (
        "note-de-21",
        lambda n: COMPLETE | {"note_commission": 21},
        None,
        lambda n: [
            f"saisie invalide — feuille « Grille E2 », cellule {n['note_commission'].ref} : Note attribuée "
            "par la commission : « 21 » : note de 0 à 20 par demi-point attendue."
        ],
    ),
    (
        "texte-dans-un-nombre",
        lambda n: COMPLETE | {"prosp_obj_contacts": "beaucoup", "prosp_moy_budget": "300 €"},
        None,
        lambda n: [
            f"saisie invalide — feuille « Opération de prospection », cellule {n['prosp_obj_contacts'].ref} : "
            "Objectif : contacts : « beaucoup » : nombre entier positif ou nul attendu.",
            f"feuille « Opération de prospection », cellule {n['prosp_moy_budget'].ref} : Budget (€) : "
            "« 300 € » : montant positif ou nul attendu",
        ],
    ),
    (
        "fin-avant-debut",
        lambda n: COMPLETE | {"prosp_debut": dt.datetime(2027, 3, 10), "prosp_fin": dt.datetime(2027, 3, 1)},
        None,
        lambda n: [
            f"saisie invalide — feuille « Opération de prospection », cellule {n['prosp_fin'].ref} : date de "
            "fin (01/03/2027) antérieure à la date de début (10/03/2027)."
        ],
    ),
    (
        "formule-modifiee",
        lambda n: COMPLETE,
        _set("note_proposee", "=20"),
        lambda n: [
            f"modifié hors des cellules de saisie — feuille « Grille E2 », cellule {n['note_proposee'].ref} : "
            "formule modifiée (attendu : =IF(COUNT(",
            "trouvé : =20).",
        ],
    ),
    (
        "identite-retapee",
        lambda n: COMPLETE,
        _set("candidat_nom", "DUPONT"),
        lambda n: [
            f"modifié hors des cellules de saisie — feuille « Grille E2 », cellule {n['candidat_nom'].ref} : "
            "identité du candidat modifiée (attendu : « NOM0 » ; trouvé : « DUPONT »)."
        ],
    ),
    (
        "lignes-inserees",
        lambda n: COMPLETE,
        _insert_rows,
        lambda n: [
            "modifié hors des cellules de saisie — feuille « Grille E2 », "
            f"cellule {n['note_commission'].ref} : "
            f"le nom « note_commission » pointe sur Grille E2!I{int(n['note_commission'].ref[1:]) + 2} au lieu "
            f"de {n['note_commission'].ref} (lignes ou colonnes insérées ?).",
            f"cellule {n['candidat_nom'].ref} : identité du candidat modifiée",
        ],
    ),
    (
        "protection-retiree",
        lambda n: COMPLETE,
        _remove_protection,
        lambda n: ["modifié hors des cellules de saisie — feuille « Grille E2 » : protection de la feuille retirée."],
    ),
]


@pytest.mark.parametrize(
    "values, edit, expected", [case[1:] for case in BAD_RETURNS], ids=[case[0] for case in BAD_RETURNS]
)
def test_bad_return_is_rejected_with_sheet_and_cell_and_nothing_else_is_lost(s, values, edit, expected):
    named = s.named(A)
    batch = s.inbox / "lot"
    bad = s.make(A, "grille-remplie.xlsx", values(named), edit, folder=batch)
    good = s.make(B, "autre-grille.xlsx", folder=batch)

    result = s.collect(batch)

    assert result.exit_code == 1, result.output
    for fragment in expected(named):
        assert fragment in result.output
    assert "rejeté — NOM0 Prénom0 (2700000000)" in result.output
    assert "accepté (complet) — NOM1 Prénom1 (2700000001)" in result.output
    assert "Bilan : 1 complet(s), 0 incomplet(s), 1 rejeté(s)" in result.output
    assert "Traceback" not in result.output
    (rejected,) = s.returns(A)
    assert rejected.state == "rejected" and rejected.sha256 == sha(bad)
    assert any(expected(named)[0] in reason for reason in rejected.reasons)
    (accepted,) = s.returns(B)
    assert accepted.state == "complete" and accepted.final_mark == 15
    s.assert_archived(bad.read_bytes(), good.read_bytes())
    status = s.status()
    assert status[A]["state"] == "rejected" and status[A]["final_mark"] is None
    assert status[B]["state"] == "complete" and status[B]["final_mark"] == 15


def test_modified_return_is_kept_then_accepted_with_accept_modified(s):
    named = s.named(A)
    path = s.make(A, "A.xlsx", edit=_set("note_proposee", "=20"))
    first = s.collect(path)
    assert first.exit_code == 1
    assert s.status()[A]["state"] == "rejected"
    s.assert_archived(path.read_bytes())

    again = s.collect(path, accept_modified=True)  # the same file, now accepted: not "déjà importé"

    assert again.exit_code == 0, again.output
    assert "accepté (complet) — NOM0 Prénom0" in again.output
    assert (
        f"! accepté malgré une modification — feuille « Grille E2 », cellule {named['note_proposee'].ref} : "
        "formule modifiée"
    ) in again.output
    history = s.returns(A)
    assert [(r.state, r.modified, r.accepted_modified) for r in history] == [
        ("rejected", True, False),
        ("complete", True, True),
    ]
    assert s.status()[A]["final_mark"] == 15  # recomputed: the edited "=20" is never believed
    assert "déjà importé" in s.collect(path, accept_modified=True).output


def test_accept_modified_does_not_accept_invalid_inputs_or_foreign_workbooks(s, tmp_path):
    invalid = s.make(A, "A.xlsx", COMPLETE | {"note_commission": 21}, _remove_protection)
    forged = s.make(B, "B.xlsx", edit=_forge(C))
    outside = tmp_path / "hors.xlsx"
    write_workbook(outside, GRID, s.candidates[D], s.campaign.context)

    result = s.collect(invalid, forged, outside, accept_modified=True)

    assert result.exit_code == 1
    assert "Bilan : 0 complet(s), 0 incomplet(s), 3 rejeté(s)" in result.output
    assert "note de 0 à 20 par demi-point attendue" in result.output
    assert "signature invalide" in result.output and "hors de toute campagne" in result.output


# ------------------------------------------------------------------ ways a return arrives


def test_candidate_comes_from_the_metadata_not_the_file_name(s):
    misleading = s.make(B, s.sent(A).name)  # B's grid under A's file name
    renamed = s.make(C, "scan final (2).XLSX")

    result = s.collect(misleading, renamed)

    assert result.exit_code == 0, result.output
    assert s.returns(A) == []
    (b,) = s.returns(B)
    (c,) = s.returns(C)
    assert b.original_name == s.sent(A).name and c.original_name == "scan final (2).XLSX"
    s.assert_archived(misleading.read_bytes(), renamed.read_bytes())


def _as_zip(s: Setup, a: bytes, b: bytes) -> list[Path]:
    path = s.inbox / "retours-classe.zip"
    path.write_bytes(zip_of({"TMCV1/martin.xlsx": a, "TMCV1/durand.xlsx": b}))
    return [path]


def _as_eml(s: Setup, a: bytes, b: bytes) -> list[Path]:
    path = s.inbox / "message.eml"
    path.write_bytes(bytes(mail({"grille A.xlsx": a, "grille B.xlsx": b})))
    return [path]


def _as_mbox(s: Setup, a: bytes, b: bytes) -> list[Path]:
    path = s.inbox / "boite.mbox"
    box = mailbox.mbox(path)
    box.add(mailbox.mboxMessage(bytes(mail({"A.xlsx": a}))))
    box.add(mailbox.mboxMessage(bytes(mail({"B.xlsx": b}, sender="prof2@lycee.example.fr"))))
    box.flush()
    box.close()
    return [path]


def _as_tree(s: Setup, a: bytes, b: bytes) -> list[Path]:
    root = s.inbox / "arborescence"
    (root / "TMCV1" / "semaine 12").mkdir(parents=True)
    (root / "TMCV1" / "semaine 12" / "a.xlsx").write_bytes(a)
    (root / "b.xlsx").write_bytes(b)
    (root / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (root / "~$b.xlsx").write_bytes(b"lock")
    return [root]


def _as_files(s: Setup, a: bytes, b: bytes) -> list[Path]:
    (s.inbox / "1.xlsx").write_bytes(a)
    (s.inbox / "2.xlsx").write_bytes(b)
    return [s.inbox / "1.xlsx", s.inbox / "2.xlsx"]


@pytest.mark.parametrize(
    "package", [_as_files, _as_zip, _as_eml, _as_mbox, _as_tree], ids=["fichiers", "zip", "eml", "mbox", "dossiers"]
)
def test_returns_arrive_in_any_container(s, tmp_path, package):
    work = tmp_path / "faits"
    a = s.make(A, "a.xlsx", folder=work).read_bytes()
    b = s.make(B, "b.xlsx", INCOMPLETE, folder=work).read_bytes()

    result = s.collect(*package(s, a, b))

    assert result.exit_code == 0, result.output
    assert (
        "Bilan : 1 complet(s), 1 incomplet(s), 0 rejeté(s), 0 en conflit, 0 déjà importé(s), 0 refusé(s)"
        in result.output
    )
    status = s.status()
    assert status[A]["state"] == "complete" and status[A]["final_mark"] == 15
    assert status[B]["state"] == "incomplete" and status[B]["missing"] == ["observations"]
    s.assert_archived(a, b)
    assert len(list((s.root / "retours").iterdir())) == 2


def test_mail_sender_and_date_are_recorded(s, tmp_path):
    a = s.make(A, "a.xlsx", folder=tmp_path).read_bytes()
    (path,) = _as_eml(s, a, s.make(B, "b.xlsx", folder=tmp_path).read_bytes())
    assert s.collect(path).exit_code == 0
    row = s.files()[sha(a)]
    assert row["sender"] == "Mme Martin <martin@lycee.example.fr>"
    assert row["received_at"].startswith("2027-03-18T09:30")
    assert row["origin"].startswith(str(path)) and row["origin"].endswith("pièce jointe grille A.xlsx")


def test_every_kind_of_input_in_one_batch(s, tmp_path):
    work = tmp_path / "faits"
    data = {n: s.make(n, f"{n}.xlsx", folder=work).read_bytes() for n in (A, B, C, D, E)}
    (s.inbox / "direct.xlsx").write_bytes(data[A])
    (s.inbox / "dossier" / "sous-dossier").mkdir(parents=True)
    (s.inbox / "dossier" / "sous-dossier" / "b.xlsx").write_bytes(data[B])
    (s.inbox / "archive.zip").write_bytes(zip_of({"c.xlsx": data[C]}))
    (s.inbox / "message.eml").write_bytes(bytes(mail({"d.xlsx": data[D]})))
    box = mailbox.mbox(s.inbox / "boite.mbox")
    box.add(mailbox.mboxMessage(bytes(mail({"e.xlsx": data[E]}))))
    box.close()

    result = s.collect(*(s.inbox / n for n in ("direct.xlsx", "dossier", "archive.zip", "message.eml", "boite.mbox")))

    assert result.exit_code == 0, result.output
    assert "Bilan : 5 complet(s)" in result.output
    assert {n: c["state"] for n, c in s.status().items()} == {
        A: "complete",
        B: "complete",
        C: "complete",
        D: "complete",
        E: "complete",
        number(5): "missing",
    }
    s.assert_archived(*data.values())


def test_class_workbook_gives_every_candidate_a_return(tmp_path):
    campaign = new_campaign(tmp_path, 3)
    for old in (campaign.root / "envoi").iterdir():
        old.unlink()
    generate_in_campaign(campaign, per="class")
    (book,) = (campaign.root / "envoi").iterdir()
    untouched = CliRunner().invoke(main, ["-C", str(campaign.root), "collect", str(book)])
    assert untouched.exit_code == 1, untouched.output  # the class workbook as sent: blank for everyone
    assert "Bilan : 0 complet(s), 0 incomplet(s)" in untouched.output and "3 vierge(s)" in untouched.output
    grid = campaign.grid()
    wb = openpyxl.load_workbook(book)
    for reading in read_workbook(book, {grid.content_hash: grid}, secret=campaign.secret):
        cell = reading.layout.named["observations"]
        wb[cell.sheet][cell.ref] = OBSERVATIONS
    filled = tmp_path / "classe remplie.xlsx"
    wb.save(filled)
    set_saved_time(filled, dt.datetime(2027, 3, 18, 9, 0, tzinfo=dt.UTC))
    result = CliRunner().invoke(main, ["-C", str(campaign.root), "collect", str(filled)])
    assert result.exit_code == 0, result.output
    with campaign.ledger() as ledger:
        rows = [r for r in ledger.returns() if r.sha256 == sha(filled)]
    assert sorted(r.candidate for r in rows) == [number(0), number(1), number(2)]
    assert {r.state for r in rows} == {"incomplete"}


# ------------------------------------------------------------------ the same file, later files, conflicts


def test_same_file_twice_is_already_imported(s, tmp_path):
    path = s.make(A, "A.xlsx")
    assert s.collect(path).exit_code == 0
    zipped = tmp_path / "encore.zip"
    zipped.write_bytes(zip_of({"copie renommée.xlsx": path.read_bytes()}))

    result = s.collect(path, zipped)

    assert result.exit_code == 0, result.output
    assert result.output.count("déjà importé") == 3  # two lines and the total
    assert "Bilan : 0 complet(s), 0 incomplet(s), 0 rejeté(s), 0 en conflit, 2 déjà importé(s)" in result.output
    assert len(s.returns(A)) == 1 and len(s.files()) == 1


def test_same_file_twice_in_one_batch_is_not_a_conflict(s):
    path = s.make(A, "A.xlsx")
    copy = s.inbox / "copie.xlsx"
    copy.write_bytes(path.read_bytes())
    result = s.collect(path, copy)
    assert result.exit_code == 0, result.output
    assert "accepté (complet)" in result.output and "déjà importé" in result.output
    assert [r.state for r in s.returns(A)] == ["complete"]


def test_later_return_supersedes_and_history_is_kept(s):
    first = s.make(A, "premier envoi.xlsx", INCOMPLETE)
    second = s.make(A, "second envoi.xlsx", COMPLETE | {"note_commission": 16.5})
    broken = s.make(A, "troisième envoi.xlsx", COMPLETE | {"note_commission": "seize"})

    assert s.collect(first).exit_code == 0
    assert s.status()[A]["state"] == "incomplete"
    assert s.collect(second).exit_code == 0
    status = s.status()[A]
    assert (status["state"], status["proposed_mark"], status["final_mark"]) == ("complete", 15, 16.5)
    assert s.collect(broken).exit_code == 1  # a later rejected file does not erase the accepted one
    status = s.status()[A]
    assert (status["state"], status["final_mark"], status["returns"]) == ("complete", 16.5, 3)

    text = s.run("status").output
    assert "retour plus récent rejeté (troisième envoi.xlsx)" in text
    history = s.run("status", "--history").output
    for line in ("premier envoi.xlsx (incomplet)", "second envoi.xlsx (complet)", "troisième envoi.xlsx (rejeté)"):
        assert line in history
    assert [r.state for r in s.returns(A)] == ["incomplete", "complete", "rejected"]
    s.assert_archived(first.read_bytes(), second.read_bytes(), broken.read_bytes())


SAME_TIME = dt.datetime(2027, 3, 20, 17, 45, tzinfo=dt.UTC)


def test_two_different_returns_made_at_the_same_time_are_a_conflict(s):
    earlier = s.make(A, "ancien.xlsx", INCOMPLETE)
    assert s.collect(earlier).exit_code == 0
    one = s.make(A, "version 1.xlsx", saved=SAME_TIME)
    two = s.make(
        A,
        "version 2.xlsx",
        level_values({c.id: 4 for c in GRID.criteria}) | {"observations": "Top."},
        saved=SAME_TIME,
    )
    other = s.make(B, "B.xlsx")

    result = s.collect(one, two, other)

    assert result.exit_code == 1
    assert "Bilan : 1 complet(s), 0 incomplet(s), 0 rejeté(s), 2 en conflit" in result.output
    local = f"{SAME_TIME.astimezone():%Y-%m-%d %H:%M:%S}"
    assert f"conflit : 2 retours différents pour ce candidat, faits au même moment ({local})" in result.output
    assert "Aucun n'est retenu" in result.output
    status = s.status()
    assert [h["state"] for h in status[A]["history"]] == ["incomplete", "conflict", "conflict"]
    assert [r.state for r in s.returns(A)] == ["incomplete", "complete", "complete"]  # as read; conflict derived
    assert status[A]["state"] == "incomplete"  # neither wins: the earlier return stays current
    assert status[A]["retained_return"] == status[A]["history"][0]["id"]
    assert status[B]["state"] == "complete"
    s.assert_archived(one.read_bytes(), two.read_bytes(), other.read_bytes())
    assert "déjà importé" in s.collect(two).output  # the same file again changes nothing

    two_id = status[A]["history"][2]["id"]
    again = s.run("keep", A, str(two_id))  # the secretariat picks the right one
    assert again.exit_code == 0, again.output
    assert f"retour n° {two_id} (version 2.xlsx), complet, note finale 20 retenu" in again.output
    assert s.status()[A]["state"] == "complete" and s.status()[A]["final_mark"] == 20


def test_conflict_without_earlier_return_leaves_the_candidate_rejected(s):
    one = s.make(A, "1.xlsx", saved=SAME_TIME)
    two = s.make(A, "2.xlsx", INCOMPLETE, saved=SAME_TIME)
    assert s.collect(one, two).exit_code == 1
    status = s.status()[A]
    assert status["state"] == "rejected" and status["final_mark"] is None
    assert "conflit" in status["reasons"][-1]


# ------------------------------------------------------------------ workbooks that are not this campaign's


def _forge(victim: str):
    def edit(wb, named):
        for row in wb["e2docs"].iter_rows():
            if row[0].value == "candidate_number":
                row[1].value = victim

    return edit


def test_workbook_of_another_campaign_is_rejected(s, tmp_path):
    other = new_campaign(tmp_path / "autre", 3)  # same candidate numbers, another campaign
    foreign = s.inbox / "A.xlsx"
    foreign.write_bytes(next((other.root / "envoi").glob(f"*_{A}.xlsx")).read_bytes())
    good = s.make(B, "B.xlsx")

    result = s.collect(foreign, good)

    assert result.exit_code == 1
    assert f"classeur d'une autre campagne (campagne {other.id[:8]}, attendue {s.campaign.id[:8]})." in result.output
    assert s.status()[A]["state"] == "missing"  # an identity signed elsewhere is not attributed
    assert s.status()[B]["state"] == "complete"
    (row,) = [r for r in s.returns() if r.sha256 == sha(foreign)]
    assert row.state == "rejected" and row.candidate is None
    s.assert_archived(foreign.read_bytes(), good.read_bytes())


def test_workbook_generated_outside_any_campaign_is_rejected(s, tmp_path):
    outside = tmp_path / "hors.xlsx"
    write_workbook(outside, GRID, s.candidates[A], s.campaign.context)
    good = s.make(B, "B.xlsx")
    result = s.collect(outside, good)
    assert result.exit_code == 1
    assert "classeur généré hors de toute campagne (e2docs generate -o)" in result.output
    assert s.status()[A]["state"] == "missing" and s.status()[B]["state"] == "complete"
    s.assert_archived(outside.read_bytes(), good.read_bytes())


def test_unknown_candidate_is_rejected(s, tmp_path):
    stranger = Candidate("2799999999", "INCONNU", "Jean", "TMCV1")
    path = tmp_path / "inconnu.xlsx"
    write_workbook(
        path,
        s.campaign.grid(),
        stranger,
        s.campaign.context,
        Options(secret=s.campaign.secret, campaign_id=s.campaign.id),
    )
    good = s.make(B, "B.xlsx")
    result = s.collect(path, good)
    assert result.exit_code == 1
    assert "candidat inconnu dans cette campagne : N° 2799999999 (INCONNU Jean)." in result.output
    assert s.status()[B]["state"] == "complete"
    s.assert_archived(path.read_bytes(), good.read_bytes())


def test_forged_metadata_is_rejected_and_not_attributed(s):
    forged = s.make(A, "A.xlsx", edit=_forge(C))  # A's grid claiming to be C's
    good = s.make(B, "B.xlsx")
    result = s.collect(forged, good)
    assert result.exit_code == 1
    assert "signature invalide : les métadonnées du classeur ont été modifiées." in result.output
    status = s.status()
    assert status[C]["state"] == "missing" and status[A]["state"] == "missing"
    assert status[B]["state"] == "complete"
    s.assert_archived(forged.read_bytes(), good.read_bytes())


def test_workbook_of_another_grid_version_is_rejected(s, tmp_path):
    text = (s.root / "grille.toml").read_text(encoding="utf-8")
    (tmp_path / "v2.toml").write_text(text.replace('version = "1"', 'version = "2"', 1), encoding="utf-8")
    path = tmp_path / "v2.xlsx"
    write_workbook(
        path,
        load_grid(tmp_path / "v2.toml"),
        s.candidates[A],
        s.campaign.context,
        Options(secret=s.campaign.secret, campaign_id=s.campaign.id),
    )
    good = s.make(B, "B.xlsx")
    result = s.collect(path, good)
    assert result.exit_code == 1
    assert "grille inconnue : « e2-mcv-b » version 2" in result.output
    assert s.status()[B]["state"] == "complete"
    s.assert_archived(path.read_bytes(), good.read_bytes())


# ------------------------------------------------------------------ what is not a workbook at all


def _truncated_zip(s: Setup, good: bytes) -> bytes:
    data = zip_of({"a.xlsx": good, "b.xlsx": s.sent(C).read_bytes()})
    return data[: len(data) // 2]


REFUSED = [
    (
        "pas-un-classeur",
        "grille.xlsx",
        lambda s, good: b"Bonjour, voici mes notes : 15/20",
        "ce fichier n'est pas un classeur. Seuls les classeurs (.xlsx, .ods, .xls)",
    ),
    (
        "chiffre",
        "grille.xlsx",
        lambda s, good: OLE_MAGIC + bytes(504) + "EncryptedPackage".encode("utf-16-le") + bytes(3000),
        "classeur protégé par un mot de passe à l'ouverture. Demandez à l'expéditeur de retirer le mot de passe",
    ),
    (
        "zip-tronque",
        "retours.zip",
        _truncated_zip,
        "archive endommagée ou tronquée. Demandez un nouvel envoi de l'archive",
    ),
    ("classeur-tronque", "grille.xlsx", lambda s, good: good[: len(good) // 2], "classeur endommagé ou tronqué."),
]


@pytest.mark.parametrize("name, content, message", [case[1:] for case in REFUSED], ids=[c[0] for c in REFUSED])
def test_unusable_file_is_refused_and_the_rest_imported(s, name, content, message):
    good = s.make(B, "B.xlsx")
    bad = s.inbox / name
    bad.write_bytes(content(s, s.make(A, "A.xlsx", folder=s.inbox / "fait").read_bytes()))

    result = s.collect(bad, good)

    assert result.exit_code == 1
    assert f"{bad.parent.name}/{bad.name}  refusé" in result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert s.status()[B]["state"] == "complete"
    assert set(s.files()) == {sha(good)}  # a refused file is not a return: nothing recorded for it
    s.assert_archived(good.read_bytes())


def test_all_accepted_exits_0(s):
    result = s.collect(s.make(A, "A.xlsx"), s.make(B, "B.xlsx", INCOMPLETE))
    assert result.exit_code == 0
    assert "Bilan : 1 complet(s), 1 incomplet(s), 0 rejeté(s)" in result.output


# ------------------------------------------------------------------ bad usage


def test_no_campaign_is_bad_usage(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.xlsx").write_bytes(b"x")
    result = CliRunner().invoke(main, ["collect", "a.xlsx"])
    assert result.exit_code == 2
    assert "aucune campagne ici" in result.output and "e2docs -C DOSSIER" in result.output
    result = CliRunner().invoke(main, ["-C", str(tmp_path), "collect", "a.xlsx"])
    assert result.exit_code == 2
    assert "n'est pas une campagne e2docs" in result.output and "e2docs new" in result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xlsx"]


def test_collect_without_paths_is_bad_usage(s):
    result = s.run("collect")
    assert result.exit_code == 2
    assert s.files() == {}


# ------------------------------------------------------------------ workbooks as office suites write them


@pytest.fixture
def campaign_0_1(tmp_path) -> Setup:
    """A copy of the 0.1.0 campaign whose key signs the field cases (tests/data/cases)."""
    from e2docs.app.campaign import open_campaign

    root = tmp_path / "campagne-0.1"
    shutil.copytree(PROJECT / "tests" / "data" / "cases" / "campagne-0.1", root)
    return Setup(open_campaign(root), tmp_path / "arrivees")


def test_office_suite_field_cases_are_accepted(campaign_0_1):
    """Case 01: BERNARD's return with every sheet's dimension "A1" (WPS), accepted 15/20; case 10:
    MARTIN's observations with Excel's _x000B_, accepted, and a line break in her documents."""
    cases = PROJECT / "tests" / "data" / "cases"
    (wps,) = (cases / "01-wps-dimension-a1").glob("*.xlsx")
    (escaped,) = (cases / "10-excel-escaped-control-char").glob("*.xlsx")
    result = campaign_0_1.collect(wps, escaped)
    assert result.exit_code == 0, result.output
    assert "métadonnées" not in result.output and "!" not in result.output
    status = campaign_0_1.status()
    bernard, martin = status["2709411021"], status["2709411121"]
    assert (bernard["state"], bernard["proposed_mark"], bernard["final_mark"]) == ("complete", 15, 15)
    assert martin["state"] == "complete"
    done = campaign_0_1.run("report")
    assert done.exit_code == 0, done.output
    (sheet,) = (campaign_0_1.root / "rapports").glob("MARTIN_*_fiche-evaluation.docx")
    from docx import Document

    cells = [c.text for t in Document(str(sheet)).tables for r in t.rows for c in r.cells]
    assert "Travail régulier.\nL'entreprise « Dupont & Fils <SARL> » souligne sa ponctualité." in cells
    assert not [c for c in cells if "_x000" in c]


def _strip_protection(path: Path) -> Path:
    """``path`` as Gnumeric re-saves it: sheets protected without password, no structure lock, metadata
    sheet shown."""
    with zipfile.ZipFile(path) as zf:
        members = [(info, zf.read(info)) for info in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in members:
            if info.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb'(<sheetProtection\b[^>]*?) password="[^"]*"', rb"\1", data)
            elif info.filename == "xl/workbook.xml":
                data = re.sub(rb"<workbookProtection\b[^>]*/>", b"", data)
                data = data.replace(b'state="hidden"', b'state="visible"')
            zf.writestr(info, data)
    return path


def test_return_that_lost_its_protection_is_accepted_with_a_french_warning(s):
    path = _strip_protection(s.make(A, "A.xlsx"))
    result = s.collect(path)
    assert result.exit_code == 0, result.output
    (line,) = [x for x in result.output.splitlines() if x.startswith("    ! ")]
    assert line.startswith("    ! classeur réenregistré par un tableur qui a perdu le mot de passe de protection")
    assert "le verrouillage de la structure du classeur" in line and "le masquage de la feuille « e2docs »" in line
    assert line.endswith("la signature d'e2docs est intacte : le retour reste valable.")
    (row,) = s.returns(A)
    assert row.state == "complete" and row.final_mark == 15 and row.warnings == [line[6:]]


def test_strict_open_xml_without_libreoffice_is_rejected_to_be_read_again(s, monkeypatch):
    from e2docs.formats import libreoffice
    from tests.helpers import to_strict

    strict = to_strict(s.make(A, "A.xlsx"), s.inbox / "A-strict.xlsx")
    good = s.make(B, "B.xlsx")
    monkeypatch.setattr(libreoffice, "find_soffice", lambda: None)
    first = s.collect(strict, good)
    assert first.exit_code == 1
    assert "classeur enregistré au format « Feuille de calcul Open XML Strict » d'Excel" in first.output
    assert "enregistrez-le au format Classeur Excel (*.xlsx)" in first.output
    assert "Le fichier sera relu à la prochaine relève." in first.output
    assert "n'a pas été généré par e2docs" not in first.output
    (row,) = [r for r in s.returns() if r.sha256 == sha(strict)]
    assert (row.state, row.retryable, row.candidate) == ("rejected", True, None)
    assert [r.state for r in s.returns(B)] == ["complete"]
    s.assert_archived(strict.read_bytes(), good.read_bytes())


@pytest.mark.libreoffice
def test_strict_open_xml_is_converted_by_libreoffice_and_collected(s):
    from tests.helpers import to_strict
    from tests.lo.availability import require_lo

    require_lo()
    strict = to_strict(s.make(A, "A.xlsx"), s.inbox / "A-strict.xlsx")
    result = s.collect(strict)
    assert result.exit_code == 0, result.output
    (row,) = s.returns(A)
    assert (row.state, row.proposed_mark, row.final_mark) == ("complete", 15, 15)
    assert row.stored_path.endswith(".xlsx") and (s.root / row.stored_path).read_bytes() == strict.read_bytes()
    done = s.run("report")  # documents are made from the conversion collect kept beside the original
    assert done.exit_code == 0, done.output
    assert len(list((s.root / "rapports").glob(f"*_{A}_fiche-evaluation.docx"))) == 1


# ------------------------------------------------------------------ an interrupted collect


def _ledger_counts(db: Path) -> tuple[int, int]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return (
            con.execute("SELECT COUNT(*) FROM returns").fetchone()[0],
            con.execute("SELECT COUNT(*) FROM files").fetchone()[0],
        )
    finally:
        con.close()


def _collect_process(root: Path, folder: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "e2docs", "-C", str(root), "collect", str(folder)],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_collect_killed_midway_leaves_a_consistent_state_and_running_again_completes_it(tmp_path):
    count = 60
    setup = Setup(new_campaign(tmp_path, count), tmp_path / "arrivees")
    folder = setup.inbox / "lot"
    originals = {}
    for i in range(count):
        path = setup.make(number(i), f"retour-{i:02d}.xlsx", folder=folder)
        originals[sha(path)] = path.read_bytes()
    db = setup.root / "registre.sqlite"

    proc = _collect_process(setup.root, folder)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if db.exists() and _ledger_counts(db)[0] >= 5:
                break
            time.sleep(0.01)
        assert proc.poll() is None, f"collect ended before it could be interrupted: {proc.communicate()}"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    # consistent after the kill: each recorded file has its return, each archived file is intact
    with setup.campaign.ledger() as ledger:
        files = {r["sha256"]: r for r in ledger.db.execute("SELECT * FROM files")}
        returns = ledger.db.execute("SELECT sha256, candidate, state FROM returns").fetchall()
    assert 5 <= len(files) < count
    assert {r["sha256"] for r in returns} == set(files)
    assert all(r["state"] == "complete" for r in returns) and len(returns) == len(files)
    retours = setup.root / "retours"
    archived = {p.name.split(".")[0]: p for p in retours.iterdir() if not p.name.startswith(".")}
    for digest, path in archived.items():
        assert path.suffix == ".xlsx" and sha(path) == digest and digest in originals
    assert set(files) <= set(archived)
    assert len(set(archived) - set(files)) <= 1  # at most the file being read when killed: harmless,
    #                                               archived again (skipped) and recorded by the next run
    temps = [p for p in retours.iterdir() if p.name.startswith(".")]
    assert all(p.name.startswith(f"{TEMP_PREFIX}{proc.pid}-") for p in temps)
    # a temporary file of a dead collect is removed by the next one; a living one's is kept
    dead = retours / f"{TEMP_PREFIX}{proc.pid}-abc123"
    dead.write_bytes(b"partial")
    living = retours / f"{TEMP_PREFIX}{os.getpid()}-def456"
    living.write_bytes(b"in progress")

    rerun = _collect_process(setup.root, folder)
    out, err = rerun.communicate(timeout=300)

    assert rerun.returncode == 0, out + err
    assert f"{len(files)} déjà importé(s)" in out
    assert f"Bilan : {count - len(files)} complet(s)" in out
    with setup.campaign.ledger() as ledger:
        rows = ledger.db.execute("SELECT candidate, sha256, state FROM returns").fetchall()
        n_files = ledger.db.execute("SELECT COUNT(*) FROM files").fetchone()[0]
    assert sorted(r["candidate"] for r in rows) == [number(i) for i in range(count)]  # each exactly once
    assert {r["sha256"] for r in rows} == set(originals) and {r["state"] for r in rows} == {"complete"}
    assert n_files == count
    assert not dead.exists() and living.exists()
    living.unlink()
    assert sorted(p.name for p in retours.iterdir()) == sorted(f"{d}.xlsx" for d in originals)
    assert all(sha(retours / f"{d}.xlsx") == d for d in originals)


# ------------------------------------------------------------------ property: marks agree with the rule


@pytest.fixture(scope="module")
def prop(tmp_path_factory):
    base = tmp_path_factory.mktemp("propriete")
    campaign = new_campaign(base, 1)
    (sent,) = (campaign.root / "envoi").iterdir()
    with campaign.ledger() as ledger:
        (cand,) = ledger.candidates()
    layout = build_layout(campaign.grid(), cand, campaign.context)
    return campaign, sent.read_bytes(), layout, base / "remplis"


_LEVEL = st.one_of(st.none(), st.integers(1, 4))
_FILLING = st.fixed_dictionaries(
    {
        "levels": st.fixed_dictionaries({c.id: _LEVEL for c in GRID.criteria}),
        "tick": st.sampled_from(["X", "x"]),
        "commission": st.one_of(st.none(), st.integers(0, 40).map(lambda n: n / 2 if n % 2 else n // 2)),
        "observations": st.one_of(
            st.none(),
            st.just("   "),
            st.text(st.characters(whitelist_categories=("L", "N", "Zs"), max_codepoint=0x17F), min_size=1, max_size=30),
        ),
        "contacts": st.one_of(st.none(), st.integers(0, 500)),
    }
)


@settings(max_examples=25, deadline=None)
@given(filling=_FILLING)
def test_random_valid_fillings_give_the_marks_of_the_rule(prop, filling):
    campaign, sent, layout, folder = prop
    named = layout.named
    wb = openpyxl.load_workbook(io.BytesIO(sent))
    cells = {}
    for cid, level in filling["levels"].items():
        if level:
            cells[names.level(cid, level)] = filling["tick"]
    cells["note_commission"] = filling["commission"]
    cells["observations"] = filling["observations"]
    cells["prosp_res_contacts"] = filling["contacts"]
    for key, value in cells.items():
        wb[named[key].sheet][named[key].ref] = value
    folder.mkdir(exist_ok=True)
    fd, name = tempfile.mkstemp(suffix=".xlsx", dir=folder)
    os.close(fd)
    path = Path(name)
    wb.save(path)
    set_saved_time(path, next(SAVE_TIMES))  # one grid after the other, each a later return

    expected = evaluate(
        GRID,
        {
            c.id: [filling["tick"] if filling["levels"][c.id] == lvl else None for lvl in range(1, 5)]
            for c in GRID.criteria
        },
        filling["commission"],
        filling["observations"],
    )

    (reading,) = read_workbook(path, {GRID.content_hash: GRID}, secret=campaign.secret)
    assert not reading.errors and not reading.modified and reading.signature_ok
    got = reading.outcome
    assert (got.levels, got.proposed_mark, got.final_mark, got.complete, got.missing) == (
        expected.levels,
        expected.proposed_mark,
        expected.final_mark,
        expected.complete,
        expected.missing,
    )

    blank = (
        not any(filling["levels"].values())
        and filling["commission"] is None
        and not (filling["observations"] or "").strip()
        and filling["contacts"] is None
    )
    report = collect(campaign, [path])
    assert [o.state for o in report.outcomes] in (["complete"], ["incomplete"], ["blank"], ["already"])
    with campaign.ledger() as ledger:
        row = [r for r in ledger.returns() if r.sha256 == sha(path)][-1]
    assert row.state == ("blank" if blank else "complete" if expected.complete else "incomplete")

    def as_float(m):
        return None if m is None else float(m)

    assert (row.proposed_mark, row.final_mark) == (as_float(expected.proposed_mark), as_float(expected.final_mark))
    assert row.levels == expected.levels and row.missing == expected.missing
    if expected.final_mark is not None:
        assert Fraction(row.final_mark) == expected.final_mark  # halves survive the ledger exactly


def test_an_archive_cut_short_by_a_power_failure_is_written_again(s):
    """Archives may reach the disk after their name (flushed in the background); a file already in
    retours/ under a return's hash but holding other bytes is replaced by the return's own."""
    path = s.make(A, "a.xlsx")
    data = path.read_bytes()
    stored = s.root / "retours" / f"{sha(data)}.xlsx"
    stored.parent.mkdir(exist_ok=True)
    stored.write_bytes(data[: len(data) // 3])  # named, not all written
    result = s.collect(path)
    assert result.exit_code == 0, result.output
    assert stored.read_bytes() == data
    assert [r.state for r in s.returns()] == ["complete"]
