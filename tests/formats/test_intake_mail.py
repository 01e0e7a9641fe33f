"""Mail as mail clients write it: Outlook's winmail.dat (TNEF) and .msg files, forwards in any transfer
encoding, messages deleted in a mailbox, malformed headers, depth bombs, empty attachments, and one bad
message never stopping the others."""

from __future__ import annotations

import base64
import datetime as dt
import io
import mailbox
import quopri
import shutil
import zipfile
from email.message import EmailMessage
from pathlib import Path

import olefile
import pytest
from aspose.email_foss import msg as mapi
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from e2docs.formats import intake, sniff
from e2docs.formats.intake import Item, Refusal, Skipped
from tests.formats.test_intake import (
    OLE_MAGIC,
    cell_a1,
    items,
    mail,
    only_refusal,
    refusals,
    write,
    xlsx_bytes,
)
from tests.helpers import DATA

CASES = DATA / "cases"
OUTLOOK = DATA / "outlook" / "outlook-message.msg"  # written by Outlook (see tests/data/outlook/README.md)
FAURE = "FAURE_Théo_31214_2709411063.xlsx"


def results(*paths: Path) -> list[Item | Refusal | Skipped]:
    """Everything gather() yields for ``paths``, checking the types on the way."""
    found = list(intake.gather(paths))
    assert all(isinstance(result, (Item, Refusal, Skipped)) for result in found)
    return found


# -- Outlook's rich-text mail: winmail.dat (TNEF) --------------------------------------------------


def test_winmail_dat_case_gives_the_grid_inside(tmp_path):
    path = CASES / "03-outlook-winmail-dat" / "grille-outlook-rtf.eml"
    [item] = results(path)
    assert isinstance(item, Item) and item.kind == "xlsx"
    assert item.name == FAURE  # Windows-1252 in the TNEF stream, decoded as such
    assert item.origin == (
        f"{path} (de claire.lambert@ac-exemple.fr, 03/04/2027) › pièce jointe winmail.dat › pièce jointe {FAURE}"
    )
    assert item.sender == "Lambert Claire <claire.lambert@ac-exemple.fr>"
    assert item.received_at == "2027-04-03T18:12:00+02:00"
    assert item.data == (CASES / "retours-0.1" / FAURE).read_bytes()


def test_winmail_dat_given_alone_is_opened(tmp_path):
    path = CASES / "03-outlook-winmail-dat" / "winmail.dat"
    [item] = results(path)
    assert item.name == FAURE and item.origin == f"{path} › pièce jointe {FAURE}"


def test_damaged_winmail_dat_is_refused_and_the_other_attachments_kept(tmp_path):
    winmail = (CASES / "03-outlook-winmail-dat" / "winmail.dat").read_bytes()
    msg = mail(attachments={"A.xlsx": xlsx_bytes("A")})
    msg.add_attachment(winmail[:40] + b"\xff" * 30, maintype="application", subtype="ms-tnef", filename="winmail.dat")
    msg.add_attachment(b"pas du TNEF" * 10, maintype="application", subtype="ms-tnef", filename="Winmail.dat")
    found = results(write(tmp_path / "m.eml", bytes(msg)))
    assert [type(r) for r in found] == [Item, Refusal, Refusal]
    assert found[1].origin.endswith("› pièce jointe winmail.dat") and found[2].origin.endswith("Winmail.dat")
    assert found[1].reason == "aucun classeur dans le fichier winmail.dat d'Outlook."  # truncated: nothing in it
    assert found[2].reason == "pièce jointe winmail.dat d'Outlook illisible (erreur ValueError)."
    assert all(r.hint for r in found[1:])


# -- Outlook .msg files ------------------------------------------------------------------------------


def test_msg_written_by_outlook_is_read_as_a_message(tmp_path):
    refusal = only_refusal(OUTLOOK)  # its only attachment is a JPEG image
    assert refusal.origin == f"{OUTLOOK} (de bedfortest at TEST, 06/10/2020)"
    assert "aucune pièce jointe de classeur" in refusal.reason and "« Re: test internal »" in refusal.reason


def outlook_msg_carrying(grid: bytes, tmp_path: Path) -> Path:
    """The Outlook-written .msg with its attachment replaced in place by ``grid`` (padded to the JPEG's size
    with a zip comment) named « grille-E2.xlsx » (as long as « serveimage.jpg »)."""
    path = tmp_path / "Grille E2.msg"
    shutil.copyfile(OUTLOOK, path)
    attachment = "__attach_version1.0_#00000000/__substg1.0_"
    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        size = ole.get_size(attachment + "37010102")
        padded = io.BytesIO(grid)
        with zipfile.ZipFile(padded, "a") as zf:
            zf.comment = b" " * (size - len(grid))
        assert len(padded.getvalue()) == size
        ole.write_stream(attachment + "37010102", padded.getvalue())
        for stream in ("3707001F", "3001001F"):
            ole.write_stream(attachment + stream, "grille-E2.xlsx".encode("utf-16-le"))
    return path


def test_grid_in_an_outlook_written_msg_is_found(tmp_path):
    grid = xlsx_bytes("GRILLE")
    path = outlook_msg_carrying(grid, tmp_path)
    assert sniff.ole_kind(path.read_bytes()) == "msg"
    [item] = results(path)
    assert item.name == "grille-E2.xlsx" and item.kind == "xlsx"
    assert item.origin == f"{path} (de bedfortest at TEST, 06/10/2020) › pièce jointe grille-E2.xlsx"
    assert item.sender == "bedfortest at TEST" and item.received_at == "2020-10-06T09:57:46.658000+00:00"
    assert cell_a1(item.data) == "GRILLE"


def built_msg(
    subject: str, sender: str, attachments: dict[str, bytes], *embedded: mapi.MapiMessage
) -> mapi.MapiMessage:
    """A .msg made with aspose-email-foss's writer (the repository's real Outlook file has no grid)."""
    message = mapi.MapiMessage.create(subject, "Bonjour, voici la grille.")
    message.set_property(mapi.PropertyId.SENDER_NAME, sender)
    message.set_property(mapi.PropertyId.MESSAGE_DELIVERY_TIME, dt.datetime(2027, 3, 12, 9, 15, tzinfo=dt.UTC))
    for name, data in attachments.items():
        message.add_attachment(name, data, mime_type="application/vnd.ms-excel")
    for inner in embedded:
        message.add_embedded_message_attachment(inner, filename="transfert.msg")
    return message


def test_msg_with_embedded_messages_and_an_empty_attachment(tmp_path):
    deepest = built_msg("Ma grille", "Collègue", {"C.xlsx": xlsx_bytes("C")})
    inner = built_msg("Tr: Ma grille", "Collègue", {"B.xlsx": xlsx_bytes("B")}, deepest)
    outer = built_msg("Grilles", "Prof Martin", {"A.xlsx": xlsx_bytes("A"), "vide.xlsx": b""}, inner)
    path = write(tmp_path / "Grilles.msg", outer.to_bytes())
    found = results(path)
    head = f"{path} (de Prof Martin, 12/03/2027)"
    fwd = "message transféré (de Collègue)"  # extract-msg gives no date for an embedded message
    assert [(type(r), r.origin) for r in found] == [
        (Item, f"{head} › pièce jointe A.xlsx"),
        (Refusal, f"{head} › pièce jointe vide.xlsx"),
        (Item, f"{head} › {fwd} › pièce jointe B.xlsx"),
        (Item, f"{head} › {fwd} › {fwd} › pièce jointe C.xlsx"),
    ]
    assert [cell_a1(item.data) for item in items(found)] == ["A", "B", "C"]
    assert found[1].reason == "pièce jointe vide : vide.xlsx."


def test_msg_attached_to_an_email_is_opened(tmp_path):
    message = built_msg("Grille", "Prof Martin", {"A.xlsx": xlsx_bytes("A")})
    msg = mail()
    msg.add_attachment(message.to_bytes(), maintype="application", subtype="vnd.ms-outlook", filename="Grille.msg")
    [item] = results(write(tmp_path / "m.eml", bytes(msg)))
    assert item.origin.endswith("› pièce jointe Grille.msg (de Prof Martin, 12/03/2027) › pièce jointe A.xlsx")


def test_msg_carrying_an_xls_is_a_msg_and_the_xls_an_xls(tmp_path):
    xls_look_alike = OLE_MAGIC + bytes(504) + "Workbook".encode("utf-16-le")
    data = built_msg("Grille", "Prof", {"grille.xls": xls_look_alike}).to_bytes()
    assert sniff.ole_kind(data) == "msg"
    [item] = results(write(tmp_path / "sans-extension", data))
    assert item.kind == "xls" and item.name == "grille.xls"


def test_damaged_msg_is_refused_and_the_next_input_read(tmp_path):
    data = built_msg("Grille", "Prof", {"A.xlsx": xlsx_bytes("A")}).to_bytes()
    found = results(write(tmp_path / "abime.msg", data[: len(data) // 2]), write(tmp_path / "B.xlsx", xlsx_bytes("B")))
    assert [type(r) for r in found] == [Refusal, Item]
    assert found[0].reason == "message Outlook (.msg) illisible (erreur OleFileError) : non ouvert." and found[0].hint


# -- forwards in any transfer encoding ---------------------------------------------------------------


def forward(inner: bytes, encoding: str, sender: str) -> bytes:
    """A message forwarding ``inner`` as a message/rfc822 part encoded in ``encoding``, as some clients do."""
    body = base64.encodebytes(inner) if encoding == "base64" else quopri.encodestring(inner)
    return (
        (
            f"From: {sender}\nSubject: Tr: grille\nDate: Fri, 12 Mar 2027 10:00:00 +0100\nMIME-Version: 1.0\n"
            'Content-Type: multipart/mixed; boundary="==XX=="\n\n'
            "--==XX==\nContent-Type: text/plain\n\nVoir ci-dessous.\n"
            f"--==XX==\nContent-Type: message/rfc822\nContent-Transfer-Encoding: {encoding}\n\n"
        ).encode()
        + body
        + b"\n--==XX==--\n"
    )


@pytest.mark.parametrize("first, second", [("base64", "quoted-printable"), ("quoted-printable", "base64")])
def test_nested_forwards_in_base64_and_quoted_printable_are_opened(tmp_path, first, second):
    original = mail(sender="eleve@example.fr", day=1, attachments={"Élodie.xlsx": xlsx_bytes("ÉLODIE")})
    raw = forward(forward(bytes(original), second, "collegue@example.fr"), first, "prof@example.fr")
    path = write(tmp_path / "transfert.eml", raw)
    [item] = results(path)
    assert item.origin == (
        f"{path} (de prof@example.fr, 12/03/2027) › message transféré (de collegue@example.fr, 12/03/2027) "
        "› message transféré (de eleve@example.fr, 01/03/2027) › pièce jointe Élodie.xlsx"
    )
    assert cell_a1(item.data) == "ÉLODIE" and item.sender == "prof@example.fr"


# -- mailboxes: messages deleted but still in the file -----------------------------------------------


def test_thunderbird_case_skips_the_deleted_message(tmp_path):
    path = CASES / "05-thunderbird-expunged-mbox" / "Retours E2"
    found = results(path)
    assert [type(r) for r in found] == [Skipped, Item]
    assert found[0].origin == f"{path} › message 1 (de yann.kerherve@ac-exemple.fr, 02/04/2027)"
    assert "supprimé" in found[0].reason
    assert found[1].origin.startswith(f"{path} › message 2 (de yann.kerherve@ac-exemple.fr, 02/04/2027)")


@pytest.mark.parametrize(
    "headers, skipped",
    [
        ({"X-Mozilla-Status": "0009"}, True),  # read + expunged
        ({"X-Mozilla-Status": "0001"}, False),  # read only
        ({"X-Mozilla-Status": "zzzz"}, False),
        ({"Status": "RO", "X-Status": "D"}, True),  # mutt
        ({"Status": "RO"}, False),
        ({"X-Status": "Deleted by rule"}, False),  # not a flag list
    ],
)
def test_mbox_deletion_flags(tmp_path, headers, skipped):
    msg = mail(attachments={"A.xlsx": xlsx_bytes("A")})
    for name, value in headers.items():
        msg[name] = value
    path = tmp_path / "boite.mbox"
    box = mailbox.mbox(path)
    box.add(msg)
    box.close()
    [result] = results(path)
    assert isinstance(result, Skipped if skipped else Item)


def test_deletion_flags_of_a_single_eml_are_not_read(tmp_path):
    msg = mail(attachments={"A.xlsx": xlsx_bytes("A")})
    msg["X-Mozilla-Status"] = "0009"
    assert isinstance(results(write(tmp_path / "m.eml", bytes(msg)))[0], Item)


# -- malformed headers, depth bombs, empty attachments, bad messages -----------------------------------


def test_raw_8bit_byte_in_from_is_shown_with_a_replacement_character(tmp_path):
    path = CASES / "mail-8bit-from" / "latin1-from.eml"
    [item] = results(path)
    assert item.name == "BERNARD.xlsx"
    assert "\ufffd" in item.sender and item.sender.encode("utf-8")  # storable, printable
    assert item.origin.startswith(f"{path} (de fr\ufffdd\ufffdric@example.fr, 12/01/2027)")
    assert item.origin.encode("utf-8")


def nested_multiparts(depth: int) -> bytes:
    head = b"From: x@example.fr\nSubject: bombe\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b0\n\n"
    opening = b"".join(b"--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n" % (i, i + 1) for i in range(depth))
    closing = b"".join(b"--b%d--\n" % i for i in range(depth, -1, -1))
    return head + opening + b"--b%d\nContent-Type: text/plain\n\nfin\n" % depth + closing


def nested_forwards(depth: int) -> bytes:
    raw = b"From: x@example.fr\nSubject: fond\n\nfin\n"
    for _ in range(depth):
        raw = b"From: x@example.fr\nMIME-Version: 1.0\nContent-Type: message/rfc822\n\n" + raw
    return raw


@pytest.mark.parametrize(
    "bomb", [nested_multiparts(1000), nested_multiparts(intake.MAX_MIME_DEPTH + 5), nested_forwards(1000)]
)
def test_message_nested_too_deep_is_refused_alone(tmp_path, bomb):
    good = mail(attachments={"A.xlsx": xlsx_bytes("A")})
    found = results(write(tmp_path / "bombe.eml", bomb), write(tmp_path / "bon.eml", bytes(good)))
    assert [type(r) for r in found] == [Refusal, Item]
    assert "imbriqué trop profondément" in found[0].reason and found[0].hint
    assert found[0].origin == str(tmp_path / "bombe.eml")


def test_message_nested_within_the_bound_is_read(tmp_path):
    raw = nested_multiparts(intake.MAX_MIME_DEPTH - 2)
    assert "aucune pièce jointe de classeur" in only_refusal(write(tmp_path / "m.eml", raw)).reason


@pytest.mark.parametrize("name", ["grille.xlsx", "lot.zip", "sans-extension"])
def test_empty_attachment_is_reported_as_such(tmp_path, name):
    msg = mail(attachments={name: b""})
    refusal = only_refusal(write(tmp_path / "m.eml", bytes(msg)))
    assert refusal.reason == f"pièce jointe vide : {name}." and refusal.origin.endswith(f"pièce jointe {name}")


def test_empty_attachment_that_is_not_a_grid_is_ignored(tmp_path):
    msg = mail()
    msg.add_attachment(b"", maintype="text", subtype="plain", filename="notes.txt")
    assert "aucune pièce jointe de classeur" in only_refusal(write(tmp_path / "m.eml", bytes(msg))).reason


def test_any_error_of_the_email_package_refuses_that_message_alone(tmp_path, monkeypatch):
    real = intake._parse

    def parse(raw: bytes) -> EmailMessage:
        if b"Subject: panne" in raw:
            raise LookupError("unknown encoding: x-panne")
        return real(raw)

    monkeypatch.setattr(intake, "_parse", parse)
    path = tmp_path / "boite.mbox"
    box = mailbox.mbox(path)
    box.add(mail(subject="panne", attachments={"A.xlsx": xlsx_bytes("A")}))
    box.add(mail(subject="ok", attachments={"B.xlsx": xlsx_bytes("B")}))
    box.close()
    found = results(path)
    assert [type(r) for r in found] == [Refusal, Item]
    assert found[0].reason == "message illisible (erreur LookupError) : non ouvert."
    assert found[0].origin == f"{path} › message 1"


def test_programming_errors_of_e2docs_are_not_silenced(tmp_path, monkeypatch):
    def broken(*args: object) -> Item:
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(intake, "_item", broken)
    with pytest.raises(ZeroDivisionError):
        results(write(tmp_path / "m.eml", bytes(mail(attachments={"A.xlsx": xlsx_bytes()}))))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=1, max_value=6000), flip=st.integers(min_value=0, max_value=20000))
def test_damaged_outlook_files_never_raise(tmp_path, cut, flip):
    msg_file = built_msg("Grille", "Prof", {"A.xlsx": xlsx_bytes()}).to_bytes()
    winmail = (CASES / "03-outlook-winmail-dat" / "winmail.dat").read_bytes()
    for name, data in (("x.msg", msg_file), ("winmail.dat", winmail)):
        data = bytearray(data[: max(1, len(data) - cut)])
        data[flip % len(data)] ^= 0xFF
        found = results(write(tmp_path / name, bytes(data)))
        assert found and all(r.hint for r in refusals(found))
