"""Report throughput and memory (run by hand: ``python benchmarks/bench_report.py [N …] [--pdf N] [--once]``).

For each N (default 35, 2000): a campaign of N candidates is generated, N returns
are filled with openpyxl (random levels, ~10 % without observations, so
incomplete) and collected (as in bench_collect.py), then
``python -m e2docs -C DIR report`` is timed as a user runs it: wall time
including start-up, peak memory of that process
(``getrusage(RUSAGE_CHILDREN).ru_maxrss`` in a wrapper whose only child is the
report), cost per candidate. A second run (documents replaced) is timed too.

``--pdf N`` (default 35; 0 to skip): ``report --pdf`` on the N-candidate
campaign; the PDF cost per document is (time with --pdf − time without) / number
of documents, LibreOffice's start-up included.

Targets (issue 4): N=35 in under 5 s; N=2000 under 400 MB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_collect import prepare, recorded, run_measured  # noqa: E402

TARGET_35_S = 5.0
TARGET_MEM_MB = 400


def build(base: Path, n: int) -> Path:
    """A campaign of ``n`` candidates whose returns have all been collected."""
    from e2docs.app.campaign import open_campaign
    from e2docs.app.collect import collect

    root, folder = prepare(base, n)
    report = collect(open_campaign(root), [folder])
    assert report.exit_code == 0, report
    assert recorded(root) == n, f"{recorded(root)} retours enregistrés sur {n}"
    return root


def documents(root: Path, suffix: str) -> int:
    return len(list((root / "rapports").glob(f"*{suffix}")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[35, 2000])
    parser.add_argument("--pdf", type=int, default=35, help="taille de la campagne convertie en PDF (0 : aucune)")
    parser.add_argument("--once", action="store_true", help="sans la relance (documents remplacés)")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} processeur(s)")
    sizes = sorted(set(args.sizes) | ({args.pdf} if args.pdf else set()))
    with tempfile.TemporaryDirectory(prefix="e2docs-bench-report-") as tmp:
        for n in sizes:
            base = Path(tmp) / str(n)
            base.mkdir()
            t = time.perf_counter()
            root = build(base, n)
            made = time.perf_counter() - t
            first = run_measured(["-C", str(root), "report"])
            assert first["rc"] == 0, first
            docs = documents(root, ".docx")
            again = first if args.once else run_measured(["-C", str(root), "report"])
            assert again["rc"] == 0, again
            assert documents(root, ".docx") == docs
            note = ""
            if n == 35:
                note = f" [cible < {TARGET_35_S:.0f} s : {'OK' if first['wall'] < TARGET_35_S else 'DÉPASSÉE'}]"
            mem = first["peak_kb"] / 1024
            print(
                f"{n:5d} candidats : report {first['wall']:7.2f} s ({1000 * first['wall'] / n:6.1f} ms/candidat, "
                f"{docs} .docx), mémoire max {mem:5.0f} Mo "
                f"[cible < {TARGET_MEM_MB} Mo : {'OK' if mem < TARGET_MEM_MB else 'DÉPASSÉE'}]{note} ; "
                + ("" if args.once else f"relance {again['wall']:6.2f} s, {again['peak_kb'] / 1024:4.0f} Mo ")
                + f"[préparation {made:.0f} s]",
                flush=True,
            )
            if n == args.pdf:
                if not shutil.which("soffice"):
                    print("      PDF : LibreOffice absent, mesure sautée")
                else:
                    with_pdf = run_measured(["-C", str(root), "report", "--pdf"])
                    assert with_pdf["rc"] == 0, with_pdf
                    pdfs = documents(root, ".pdf")
                    assert pdfs == docs, (pdfs, docs)
                    extra = with_pdf["wall"] - again["wall"]
                    print(
                        f"      report --pdf : {with_pdf['wall']:.2f} s, soit {extra:.2f} s pour {pdfs} PDF "
                        f"({1000 * extra / pdfs:.0f} ms/document, démarrage de LibreOffice compris)",
                        flush=True,
                    )
            shutil.rmtree(base)


if __name__ == "__main__":
    main()
