"""Messages built by :mod:`e2docs.formats.mail`: the same bytes as the standard library writes them,
attachments read back identical."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os

from e2docs.formats import mail


def _message(attachments: list[mail.Attachment], draft: bool = True) -> mail.EmailMessage:
    return mail.build_message(
        to=("Mme Martin", "martin@lycee.example.fr"),
        sender=("LP Élisa Lemonnier", "secretariat@lycee.example.fr"),
        subject="Grilles d'évaluation E2 à remplir (3 candidat(s)) — session 2027",
        body="Bonjour Mme Martin,\n\nVous trouverez en pièce jointe les grilles…\n",
        attachments=attachments,
        msgid="<1@lycee.example.fr>",
        date=dt.datetime(2027, 3, 1, 9, 30, tzinfo=dt.UTC),
        draft=draft,
    )


FILES = [
    mail.Attachment("vide.xlsx", b""),
    mail.Attachment("Grille_NOM Prénom_2700000001.xlsx", os.urandom(57)),
    mail.Attachment("b.ods", os.urandom(58)),
    mail.Attachment("c.xls", b"\r\n\n\r" * 1000),
    mail.Attachment("d.bin", os.urandom(300_000)),
    *(mail.Attachment(f"e{n}.bin", os.urandom(n)) for n in (1, 2, 3, 56, 113, 114, 115, 171, 1000)),
]


def test_drafts_are_the_bytes_the_email_package_writes():
    msg = _message(FILES)
    data = mail.as_bytes(msg)
    assert data == msg.as_bytes(policy=email.policy.SMTP)
    # the same message built with add_attachment(data), the standard way, with the same boundary
    reference = mail.build_message(
        to=("Mme Martin", "martin@lycee.example.fr"),
        sender=("LP Élisa Lemonnier", "secretariat@lycee.example.fr"),
        subject="Grilles d'évaluation E2 à remplir (3 candidat(s)) — session 2027",
        body="Bonjour Mme Martin,\n\nVous trouverez en pièce jointe les grilles…\n",
        attachments=[],
        msgid="<1@lycee.example.fr>",
        date=dt.datetime(2027, 3, 1, 9, 30, tzinfo=dt.UTC),
        draft=True,
    )
    for item in FILES:
        maintype, subtype = mail._TYPES.get("." + item.name.rsplit(".", 1)[1], ("application", "octet-stream"))
        reference.add_attachment(item.data, maintype=maintype, subtype=subtype, filename=item.name)
    reference.set_boundary(msg.get_boundary())
    assert data == reference.as_bytes(policy=email.policy.SMTP)
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")


def test_attachments_read_back_identical():
    back = email.message_from_bytes(mail.as_bytes(_message(FILES)), policy=email.policy.default)
    assert back["X-Unsent"] == "1"
    got = {part.get_filename(): part.get_content() for part in back.iter_attachments()}
    assert got == {item.name: item.data for item in FILES}
    assert back.get_body().get_content().startswith("Bonjour Mme Martin,")
