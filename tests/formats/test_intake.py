"""Tests for e2docs.intake: finding candidate workbooks in files, folders, archives and e-mails, safely."""

from __future__ import annotations

import base64
import datetime as dt
import io
import mailbox
import os
import time
import tracemalloc
import zipfile
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from e2docs.formats import intake, libreoffice, sniff
from e2docs.formats.intake import Item, Refusal, gather, libreoffice_available, to_xlsx
from e2docs.model.errors import WorkbookError
from tests.lo.lo import require_tools

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


# -- fixtures built on the fly ---------------------------------------------------------------------


def xlsx_bytes(text: str = "DUPONT") -> bytes:
    """A small real workbook made by XlsxWriter, with ``text`` in A1."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    workbook.add_worksheet("Grille").write_string("A1", text)
    workbook.close()
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    """A zip archive holding ``members`` (name → bytes), deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def mail(
    subject: str = "Grille E2",
    sender: str = "Prof Martin <prof@example.fr>",
    attachments: dict[str, bytes] | None = None,
    day: int = 12,
) -> EmailMessage:
    """An e-mail with a text body and xlsx ``attachments`` (file name → bytes)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "secretariat@lycee.fr"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(dt.datetime(2027, 3, day, 10, 15, tzinfo=dt.timezone(dt.timedelta(hours=1))))
    msg.set_content("Bonjour,\nVoici la grille.\n")
    for name, data in (attachments or {}).items():
        msg.add_attachment(data, maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=name)
    return msg


def write(path: Path, data: bytes) -> Path:
    """Write ``data`` at ``path`` (parents created) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def results(*paths) -> list[Item | Refusal]:
    """Everything gather() yields for ``paths``, checking the types on the way."""
    found = list(gather(paths))
    assert all(isinstance(result, (Item, Refusal)) for result in found)
    return found


def items(found) -> list[Item]:
    return [result for result in found if isinstance(result, Item)]


def refusals(found) -> list[Refusal]:
    return [result for result in found if isinstance(result, Refusal)]


def only_refusal(*paths) -> Refusal:
    """The single result of ``paths``, which must be a refusal with a hint."""
    found = results(*paths)
    assert len(found) == 1 and isinstance(found[0], Refusal), found
    assert found[0].hint, "every refusal must tell the user what to do"
    return found[0]


def cell_a1(data: bytes) -> str:
    return openpyxl.load_workbook(io.BytesIO(data)).active["A1"].value


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> dict[str, Path]:
    """The same small workbook saved by LibreOffice itself as .ods and .xls."""
    require_tools("soffice")
    base = tmp_path_factory.mktemp("lo")
    source = write(base / "grille_lo.xlsx", xlsx_bytes("CONVERTI"))
    out = {}
    for ext, target in (("ods", "ods"), ("xls", "xls:MS Excel 97")):
        done = libreoffice.convert([source], target, base, 180)
        out[ext] = base / f"grille_lo.{ext}"
        assert done.returncode == 0 and out[ext].is_file(), done
    return out


# -- plain files and folders ---------------------------------------------------------------------


def test_single_xlsx_is_returned_unchanged(tmp_path):
    data = xlsx_bytes()
    path = write(tmp_path / "DUPONT Marie.xlsx", data)
    [item] = results(path)
    assert item == Item(data, "DUPONT Marie.xlsx", str(path), "xlsx")
    assert item.data == data and item.sender is None and item.received_at is None


def test_missing_path_is_refused():
    refusal = only_refusal("/nonexistent/retours.zip")
    assert refusal.origin == "/nonexistent/retours.zip"
    assert "fichier introuvable" in refusal.reason


def test_files_that_are_not_workbooks_are_refused(tmp_path):
    for name, data in (
        ("scan.pdf", b"%PDF-1.7\n..."),
        ("grille.xlsx", b"pas un classeur"),
        ("photo.jpg", b"\xff\xd8\xff\xe0JFIF"),
        ("vide.xlsx", b""),
    ):
        refusal = only_refusal(write(tmp_path / name, data))
        assert "classeur" in refusal.reason or "vide" in refusal.reason


def test_word_documents_are_not_workbooks(tmp_path):
    docx = zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
    refusal = only_refusal(write(tmp_path / "lettre.docx", docx))
    assert "n'est pas un classeur" in refusal.reason
    doc = OLE_MAGIC + b"\0" * 504 + "WordDocument".encode("utf-16-le")
    assert "n'est pas un classeur" in only_refusal(write(tmp_path / "lettre.doc", doc)).reason


def test_folder_is_walked_recursively_in_name_order(tmp_path):
    root = tmp_path / "retours"
    write(root / "b_DURAND.xlsx", xlsx_bytes("DURAND"))
    write(root / "a_classe" / "MARTIN.xlsx", xlsx_bytes("MARTIN"))
    write(root / "a_classe" / "sous" / "PETIT.xlsx", xlsx_bytes("PETIT"))
    write(root / "c_notes.pdf", b"%PDF-1.4 notes")
    for junk in (".DS_Store", "~$b_DURAND.xlsx", ".~lock.b_DURAND.xlsx#", "Thumbs.db"):
        write(root / junk, b"junk")
    write(root / ".cache" / "hidden.xlsx", xlsx_bytes("CACHÉ"))
    found = results(root)
    assert [(type(r).__name__, r.origin) for r in found] == [
        ("Item", str(root / "a_classe" / "MARTIN.xlsx")),
        ("Item", str(root / "a_classe" / "sous" / "PETIT.xlsx")),
        ("Item", str(root / "b_DURAND.xlsx")),
        ("Refusal", str(root / "c_notes.pdf")),
    ]
    assert [cell_a1(item.data) for item in items(found)] == ["MARTIN", "PETIT", "DURAND"]


def test_empty_folder_is_reported(tmp_path):
    write(tmp_path / "vide" / ".DS_Store", b"junk")
    assert "aucun classeur" in only_refusal(tmp_path / "vide").reason


def test_inputs_are_handled_in_the_order_given(tmp_path):
    first = write(tmp_path / "z.xlsx", xlsx_bytes("Z"))
    second = write(tmp_path / "a.xlsx", xlsx_bytes("A"))
    assert [r.origin for r in results(first, "/nonexistent.xlsx", second)] == [
        str(first),
        "/nonexistent.xlsx",
        str(second),
    ]


def test_gather_is_lazy(tmp_path):
    write(tmp_path / "a.xlsx", xlsx_bytes())
    iterator = gather([tmp_path, tmp_path / "absent.xlsx"])
    assert iter(iterator) is iterator
    assert isinstance(next(iterator), Item)


def test_file_over_the_cap_is_refused(tmp_path, monkeypatch):
    path = write(tmp_path / "gros.xlsx", xlsx_bytes())
    monkeypatch.setattr(intake, "MAX_FILE_BYTES", 1000)
    assert "trop volumineux" in only_refusal(path).reason


def test_total_input_cap_stops_a_path_but_not_the_next(tmp_path, monkeypatch):
    data = xlsx_bytes()
    for name in ("a.xlsx", "b.xlsx", "c.xlsx"):
        write(tmp_path / "lot" / name, data)
    single = write(tmp_path / "seul.xlsx", data)
    monkeypatch.setattr(intake, "MAX_INPUT_BYTES", int(len(data) * 2.5))
    found = results(tmp_path / "lot", single)
    assert [type(r).__name__ for r in found] == ["Item", "Item", "Refusal", "Item"]
    assert found[2].origin == str(tmp_path / "lot") and "la suite n'a pas été lue" in found[2].reason


# -- encrypted and legacy workbooks ---------------------------------------------------------------


def test_encrypted_ooxml_is_refused_with_the_password_message(tmp_path):
    look_alike = OLE_MAGIC + bytes(504) + "EncryptedPackage".encode("utf-16-le") + bytes(2000)
    refusal = only_refusal(write(tmp_path / "grille.xlsx", look_alike))
    assert "classeur protégé par un mot de passe à l'ouverture" in refusal.reason
    assert "mot de passe" in refusal.hint


def test_ole_workbook_is_an_xls_item(tmp_path):
    look_alike = OLE_MAGIC + bytes(504) + "Workbook".encode("utf-16-le") + bytes(100)
    [item] = results(write(tmp_path / "ancien", look_alike))
    assert item.kind == "xls" and item.data == look_alike


def test_encrypted_ods_is_refused(tmp_path):
    ods = zip_bytes(
        {"mimetype": sniff.ODS_MIMETYPE, "META-INF/manifest.xml": b"<manifest:encryption-data/>", "content.xml": b"x"}
    )
    assert "mot de passe" in only_refusal(write(tmp_path / "g.ods", ods)).reason


# -- zip archives ---------------------------------------------------------------------------------


def test_zip_with_two_workbooks_and_a_nested_zip(tmp_path):
    inner = zip_bytes({"PETIT.xlsx": xlsx_bytes("PETIT")})
    archive = write(
        tmp_path / "retours.zip",
        zip_bytes(
            {
                "LEBLANC.xlsx": xlsx_bytes("LEBLANC"),
                "dossier/MARTIN.xlsx": xlsx_bytes("MARTIN"),
                "lot2.zip": inner,
                "__MACOSX/dossier/._MARTIN.xlsx": b"junk",
                "dossier/": b"",
            }
        ),
    )
    found = results(archive)
    assert [(r.name, r.origin, r.kind) for r in found] == [
        ("LEBLANC.xlsx", f"{archive} › LEBLANC.xlsx", "xlsx"),
        ("MARTIN.xlsx", f"{archive} › dossier/MARTIN.xlsx", "xlsx"),
        ("PETIT.xlsx", f"{archive} › lot2.zip › PETIT.xlsx", "xlsx"),
    ]
    assert [cell_a1(item.data) for item in found] == ["LEBLANC", "MARTIN", "PETIT"]


def test_zip_nested_too_deep_is_refused(tmp_path):
    deepest = zip_bytes({"C.xlsx": xlsx_bytes()})
    archive = write(tmp_path / "a.zip", zip_bytes({"b.zip": zip_bytes({"c.zip": deepest, "B.xlsx": xlsx_bytes()})}))
    found = results(archive)
    assert [type(r).__name__ for r in found] == ["Item", "Refusal"]
    assert found[1].origin == f"{archive} › b.zip › c.zip" and "trop profondément" in found[1].reason


def test_zip_with_a_path_escaping_the_folder_is_refused_whole(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("BON.xlsx", xlsx_bytes())
        zf.writestr(zipfile.ZipInfo("../evil.xlsx"), xlsx_bytes())
    refusal = only_refusal(write(tmp_path / "retours.zip", buffer.getvalue()))
    assert "chemin dangereux" in refusal.reason and "../evil.xlsx" in refusal.reason


def test_zip_bomb_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "bombe.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("grille.xlsx", "w") as fh:
        chunk = bytes(2**20)
        for _ in range(300):
            fh.write(chunk)
    assert path.stat().st_size < 2 * 2**20
    tracemalloc.start()
    try:
        refusal = only_refusal(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "refusé" in refusal.reason
    assert peak < 20 * 2**20


def test_member_bigger_than_its_directory_says_is_capped(tmp_path, monkeypatch):
    monkeypatch.setattr(intake, "MAX_FILE_BYTES", 50_000)
    data = xlsx_bytes() + bytes(60_000)  # still starts like a zip; only the size matters here
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("gros.xlsx", data)
    refusal = only_refusal(write(tmp_path / "a.zip", buffer.getvalue()))
    assert "trop volumineux" in refusal.reason


@pytest.mark.parametrize("cut", [0.5, 0.9, 0.99])
def test_truncated_zip_is_refused(tmp_path, cut):
    data = zip_bytes({"A.xlsx": xlsx_bytes("A"), "B.xlsx": xlsx_bytes("B")})
    refusal = only_refusal(write(tmp_path / "retours.zip", data[: int(len(data) * cut)]))
    assert "archive endommagée ou tronquée" in refusal.reason
    assert "nouvel envoi" in refusal.hint


def test_corrupt_member_is_refused_and_the_others_kept(tmp_path):
    data = bytearray(zip_bytes({"A.xlsx": xlsx_bytes("A"), "B.xlsx": xlsx_bytes("B")}))
    data[100:110] = b"\xff" * 10  # inside A.xlsx's compressed stream
    found = results(write(tmp_path / "retours.zip", bytes(data)))
    assert [type(r).__name__ for r in found] == ["Refusal", "Item"]
    assert "endommagée" in found[0].reason and found[1].name == "B.xlsx"


def test_truncated_workbook_is_refused(tmp_path):
    data = xlsx_bytes()
    refusal = only_refusal(write(tmp_path / "grille.xlsx", data[: len(data) // 2]))
    assert "classeur endommagé ou tronqué" in refusal.reason


def test_empty_archive_is_reported(tmp_path):
    assert "aucun classeur" in only_refusal(write(tmp_path / "vide.zip", zip_bytes({}))).reason


# -- e-mails --------------------------------------------------------------------------------------


def test_eml_with_attachments_and_a_forwarded_message(tmp_path):
    forwarded = mail(
        subject="Ma grille", sender="collegue@example.fr", day=1, attachments={"grille_PETIT.xlsx": xlsx_bytes("PETIT")}
    )
    msg = mail(attachments={"grille_DUPONT.xlsx": xlsx_bytes("DUPONT"), "grille_Élodie.xlsx": xlsx_bytes("ÉLODIE")})
    msg.add_attachment(forwarded)
    msg.add_attachment(b"GIF89a...", maintype="image", subtype="gif", filename="signature.gif")
    path = write(tmp_path / "message.eml", bytes(msg))
    found = results(path)
    head = f"{path} (de prof@example.fr, 12/03/2027)"
    assert [(r.name, r.origin) for r in found] == [
        ("grille_DUPONT.xlsx", f"{head} › pièce jointe grille_DUPONT.xlsx"),
        ("grille_Élodie.xlsx", f"{head} › pièce jointe grille_Élodie.xlsx"),
        (
            "grille_PETIT.xlsx",
            f"{head} › message transféré (de collegue@example.fr, 01/03/2027) › pièce jointe grille_PETIT.xlsx",
        ),
    ]
    assert [cell_a1(item.data) for item in found] == ["DUPONT", "ÉLODIE", "PETIT"]
    assert {item.sender for item in found} == {"Prof Martin <prof@example.fr>"}
    assert {item.received_at for item in found} == {"2027-03-12T10:15:00+01:00"}


def test_eml_with_encoded_word_file_name_and_a_zip(tmp_path):
    data = xlsx_bytes()
    raw = (
        b"From: prof@example.fr\r\nSubject: =?utf-8?q?Grilles_=C3=A9l=C3=A8ves?=\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nBonjour\r\n"
        b'--XX\r\nContent-Type: application/octet-stream; name="=?utf-8?b?'
        + base64.b64encode("Élodie.xlsx".encode())
        + b'?="\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + base64.encodebytes(data)
        + b"\r\n--XX\r\nContent-Type: application/zip\r\n"
        b"Content-Disposition: attachment; filename=lot.zip\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(zip_bytes({"B.xlsx": data}))
        + b"\r\n--XX--\r\n"
    )
    found = results(write(tmp_path / "sans_extension", raw))
    assert [r.name for r in found] == ["Élodie.xlsx", "B.xlsx"]
    assert found[1].origin.endswith("› pièce jointe lot.zip › B.xlsx")
    assert found[0].sender == "prof@example.fr" and found[0].received_at is None


def test_eml_without_attachment_is_refused_naming_sender_and_subject(tmp_path):
    msg = mail(subject="Question sur la grille")
    msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="lettre.pdf")
    refusal = only_refusal(write(tmp_path / "question.eml", bytes(msg)))
    assert "aucune pièce jointe de classeur" in refusal.reason
    assert "Question sur la grille" in refusal.reason and "prof@example.fr" in refusal.reason


def test_attachment_named_like_a_workbook_but_broken_is_refused(tmp_path):
    msg = mail(attachments={"grille.xlsx": b"<html>erreur</html>"})
    refusal = only_refusal(write(tmp_path / "m.eml", bytes(msg)))
    assert refusal.origin.endswith("pièce jointe grille.xlsx") and "n'est pas un classeur" in refusal.reason


def test_encrypted_attachment_is_refused(tmp_path):
    look_alike = OLE_MAGIC + bytes(504) + "EncryptedPackage".encode("utf-16-le")
    msg = mail()
    msg.add_attachment(look_alike, maintype="application", subtype="octet-stream", filename="grille.xlsx")
    assert "mot de passe" in only_refusal(write(tmp_path / "m.eml", bytes(msg))).reason


def test_mbox_yields_per_message(tmp_path):
    path = tmp_path / "boite.mbox"
    box = mailbox.mbox(path)
    box.add(mail(sender="a@example.fr", attachments={"A.xlsx": xlsx_bytes("A")}, day=10))
    box.add(mail(sender="b@example.fr", subject="Bonjour", day=11))
    box.add(mail(sender="c@example.fr", attachments={"C.xlsx": xlsx_bytes("C")}, day=12))
    box.close()
    found = results(path)
    assert [type(r).__name__ for r in found] == ["Item", "Refusal", "Item"]
    assert found[0].origin == f"{path} › message 1 (de a@example.fr, 10/03/2027) › pièce jointe A.xlsx"
    assert found[1].origin == f"{path} › message 2 (de b@example.fr, 11/03/2027)"
    assert "« Bonjour »" in found[1].reason
    assert (found[2].sender, found[2].received_at) == ("c@example.fr", "2027-03-12T10:15:00+01:00")
    assert cell_a1(found[2].data) == "C"


def test_empty_mbox_is_reported(tmp_path):
    assert "aucun message" in only_refusal(write(tmp_path / "vide.mbox", b"\n")).reason


# -- robustness -----------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    prefix=st.sampled_from([b"", b"PK\x03\x04", OLE_MAGIC, b"From x\n", b"Subject: a\n", b"PK\x05\x06"]),
    body=st.binary(max_size=400),
    name=st.sampled_from(["a.xlsx", "a.zip", "a.eml", "a.mbox", "a.ods", "a"]),
)
def test_any_bytes_give_items_or_refusals_never_exceptions(tmp_path, prefix, body, name):
    path = write(tmp_path / name, prefix + body)
    found = results(path)
    assert found


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=1, max_value=4000), flip=st.integers(min_value=0, max_value=4000))
def test_damaged_zips_and_mails_never_raise(tmp_path, cut, flip):
    msg = mail(attachments={"A.xlsx": xlsx_bytes()})
    for data in (zip_bytes({"A.xlsx": xlsx_bytes(), "b.zip": zip_bytes({"B.xlsx": b"x"})}), bytes(msg)):
        data = bytearray(data[: max(1, len(data) - cut)])
        data[flip % len(data)] ^= 0xFF
        assert results(write(tmp_path / "x.zip", bytes(data)))


# -- conversion -----------------------------------------------------------------------------------


def test_to_xlsx_writes_xlsx_items_as_they_are(tmp_path):
    data = xlsx_bytes()
    [item] = results(write(tmp_path / "DUPONT Marie.xlsx", data))
    first, second = to_xlsx(item, tmp_path / "work"), to_xlsx(item, tmp_path / "work")
    assert first != second and first.read_bytes() == data == second.read_bytes()
    assert first.name == "DUPONT_Marie.xlsx"


def test_to_xlsx_without_libreoffice_says_to_save_as_xlsx(tmp_path, monkeypatch):
    monkeypatch.setattr(libreoffice, "find_soffice", lambda: None)
    assert not libreoffice_available()
    item = Item(b"irrelevant", "grille.ods", "retours.zip › grille.ods", "ods")
    with pytest.raises(WorkbookError) as info:
        to_xlsx(item, tmp_path)
    assert "LibreOffice n'est pas installé : ouvrez le fichier et enregistrez-le au format .xlsx" in str(info.value)
    assert "retours.zip › grille.ods" in str(info.value)


def fake_soffice(tmp_path: Path, script: str) -> str:
    path = tmp_path / "soffice"
    path.write_text("#!/bin/sh\n" + script + "\n")
    path.chmod(0o755)
    return str(path)


def test_to_xlsx_reports_a_failed_conversion(tmp_path, monkeypatch):
    soffice = fake_soffice(tmp_path, "echo 'Error: source file could not be loaded' >&2; exit 1")
    monkeypatch.setenv("E2DOCS_SOFFICE", soffice)
    with pytest.raises(WorkbookError, match="conversion en .xlsx impossible.*could not be loaded"):
        to_xlsx(Item(b"x", "g.xls", "g.xls", "xls"), tmp_path / "work")


def test_to_xlsx_reports_a_conversion_that_produced_nothing(tmp_path, monkeypatch):
    soffice = fake_soffice(tmp_path, "exit 0")
    monkeypatch.setenv("E2DOCS_SOFFICE", soffice)
    with pytest.raises(WorkbookError, match="n'a rien produit"):
        to_xlsx(Item(b"x", "g.ods", "g.ods", "ods"), tmp_path / "work")


def test_to_xlsx_kills_a_conversion_that_hangs(tmp_path, monkeypatch):
    pid_file = tmp_path / "child.pid"
    soffice = fake_soffice(tmp_path, f"sleep 60 & echo $! > {pid_file}; wait")
    monkeypatch.setenv("E2DOCS_SOFFICE", soffice)
    monkeypatch.setattr(intake, "CONVERT_TIMEOUT", 1)
    with pytest.raises(WorkbookError, match="trop longue"):
        to_xlsx(Item(b"x", "g.ods", "g.ods", "ods"), tmp_path / "work")
    child = int(pid_file.read_text())
    assert not alive(child), "the grandchild must go with the process group"


def alive(pid: int) -> bool:
    """Whether ``pid`` still runs, waiting up to 5 s for it to go."""
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.1)
    return True


@pytest.mark.libreoffice
def test_real_ods_is_recognised_and_converted(tmp_path, converted):
    [item] = results(converted["ods"])
    assert item.kind == "ods" and item.name == "grille_lo.ods"
    path = to_xlsx(item, tmp_path / "work")
    assert path.name == "grille_lo.xlsx"
    assert openpyxl.load_workbook(path).active["A1"].value == "CONVERTI"
    assert libreoffice_available()


@pytest.mark.libreoffice
def test_real_xls_in_a_zip_is_recognised_and_converted(tmp_path, converted):
    archive = write(tmp_path / "anciens.zip", zip_bytes({"grille_lo.xls": converted["xls"].read_bytes()}))
    [item] = results(archive)
    assert item.kind == "xls" and item.origin == f"{archive} › grille_lo.xls"
    assert openpyxl.load_workbook(to_xlsx(item, tmp_path / "work")).active["A1"].value == "CONVERTI"
