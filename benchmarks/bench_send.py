"""Drafts throughput (run by hand: ``python benchmarks/bench_send.py [CANDIDATES [EXAMINERS]]``).

A campaign of CANDIDATES candidates (default 2000) is created and generated (one workbook each),
assigned to EXAMINERS examiners (default 100) by candidate number, then
``python -m e2docs -C DIR send --deadline …`` (drafts, the default) is timed as a user runs it:
wall time including start-up, peak memory, size of the drafts written. A second run (every
draft rewritten) is timed too. Target from the issue: 2,000 candidates to 100 examiners as
drafts in under 10 s.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_collect import run_measured  # noqa: E402
from common import write_roster  # noqa: E402


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    examiners = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    from e2docs.app.campaign import create_campaign
    from e2docs.app.generate import generate_in_campaign

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        roster = write_roster(folder / "liste.csv", count)
        campaign, _ = create_campaign(folder / "campagne", roster, session="2027", school="LP Bench")
        start = time.perf_counter()
        generate_in_campaign(campaign)
        print(f"setup: {count} workbooks generated in {time.perf_counter() - start:.1f} s")
        lines = ["Examinateur;Courriel;N° candidat"]
        for i in range(count):
            k = i % examiners
            lines.append(f"Examinateur {k};examinateur{k}@lycee.example.fr;{2700000000 + i}")
        (folder / "examinateurs.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        root = str(campaign.root)
        run_measured(["-C", root, "assign", str(folder / "examinateurs.csv")])
        for label in ("first run", "second run"):
            got = run_measured(["-C", root, "send", "--deadline", "26/03/2027"])
            drafts = list((campaign.root / "brouillons").glob("*.eml"))
            size = sum(p.stat().st_size for p in drafts) / 2**20
            print(
                f"send (drafts), {label}: {count} candidates, {examiners} examiners: {got['wall']:.2f} s, "
                f"peak {got['peak_kb'] / 1024:.0f} MB, {len(drafts)} drafts, {size:.0f} MB (rc {got['rc']})"
            )


if __name__ == "__main__":
    main()
