"""Collecting from a mailbox over IMAP against collecting the same files from disk (run by hand:
``python benchmarks/bench_imap.py [N]``, Dovecot installed: ``apt-get install dovecot-imapd``).

A campaign of N candidates (default 500) is generated and N returns are filled
(bench_collect.prepare); each return is attached to one e-mail. The campaign is copied three
times, and each copy collects the same returns as a user runs it (``python -m e2docs …``: wall
time with start-up, peak memory):

* from disk, the N workbooks (.xlsx) of a folder;
* from disk, the N e-mails (.eml) of a folder;
* over IMAP, the N e-mails APPENDed to the INBOX of a Dovecot on 127.0.0.1 (plain IMAP on the
  loopback, tests/imapserver.py), then a second run (nothing new: one listing).

Target from the issue: collecting 500 messages over IMAP on loopback at under 2× the cost of
collecting the same files from disk.
"""

from __future__ import annotations

import email.policy
import email.utils
import os
import shutil
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))
from bench_collect import prepare, recorded, run_measured  # noqa: E402

from tests.imapserver import PASSWORD, Dovecot, unavailable_reason  # noqa: E402

XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def as_mail(path: Path, i: int) -> bytes:
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = f"Examinateur {i % 20} <examinateur{i % 20}@lycee.example.fr>"
    msg["To"] = "secretariat@lycee.example.fr"
    msg["Subject"] = "RE: Grilles d'évaluation E2 à remplir"
    msg["Date"] = email.utils.format_datetime(email.utils.localtime())
    msg["Message-ID"] = email.utils.make_msgid(domain="lycee.example.fr")
    msg.set_content("Bonjour,\nVoici la grille remplie.\nCordialement")
    msg.add_attachment(path.read_bytes(), maintype=XLSX[0], subtype=XLSX[1], filename=path.name)
    return msg.as_bytes()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    reason = unavailable_reason()
    if reason:
        sys.exit(reason)
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} processeur(s), {n} retours")
    with tempfile.TemporaryDirectory(prefix="e2docs-bench-imap-") as tmp:
        base = Path(tmp)
        t = time.perf_counter()
        root, folder = prepare(base, n)
        mails = [as_mail(p, i) for i, p in enumerate(sorted(folder.glob("*.xlsx")))]
        emls = base / "emls"
        emls.mkdir()
        for i, data in enumerate(mails):
            (emls / f"message-{i:05d}.eml").write_bytes(data)
        copies = {name: base / f"campagne-{name}" for name in ("xlsx", "eml", "imap")}
        for copy in copies.values():
            shutil.copytree(root, copy)
        server = Dovecot(base / "dovecot").start()
        try:
            server.append(mails)
            print(f"[préparation {time.perf_counter() - t:.0f} s ; {sum(map(len, mails)) / 2**20:.1f} Mo de messages]")
            os.environ["E2DOCS_IMAP_PASSWORD"] = PASSWORD
            runs = {
                "disque, .xlsx": ["-C", str(copies["xlsx"]), "collect", str(folder)],
                "disque, .eml": ["-C", str(copies["eml"]), "collect", str(emls)],
                "IMAP": ["-C", str(copies["imap"]), "collect", "--imap", server.url()],
                "IMAP, relance (rien de nouveau)": ["-C", str(copies["imap"]), "collect", "--imap", server.url()],
            }
            got = {}
            for label, args in runs.items():
                got[label] = run_measured(args)
                assert got[label]["rc"] == 0, (label, got[label])
                print(
                    f"{label:32} {got[label]['wall']:7.2f} s ({1000 * got[label]['wall'] / n:5.1f} ms/message), "
                    f"mémoire max {got[label]['peak_kb'] / 1024:4.0f} Mo"
                )
            for name, copy in copies.items():
                assert recorded(copy) == n, f"{name}: {recorded(copy)} retours enregistrés sur {n}"
            imap = got["IMAP"]["wall"]
            print(
                f"IMAP / disque .xlsx : {imap / got['disque, .xlsx']['wall']:.2f} ; "
                f"IMAP / disque .eml : {imap / got['disque, .eml']['wall']:.2f} (objectif : moins de 2)"
            )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
