"""Generation cost against the peer's way, measured in the same run (by hand:
``python benchmarks/bench_generate.py [--each 300] [--peer 10] [--split 200 400 800 1600] [--big 5000]``).

1. Start-up: ``e2docs --help``, importing the generate command, ``generate`` of one candidate.
2. Per candidate, in one process, start-up left out: e2docs patching a template (file written and
   flushed to disk, as ``generate`` does), e2docs rendering whole with XlsxWriter (the reference
   path), and the peer's way (copy the académie booklet of ``../shared/reference/``, personalise
   4 cells with openpyxl, save; read it back with ``data_only=True``).
3. One process against several (:func:`e2docs.app.generate.write_candidates`) for growing batches:
   where splitting starts to pay (``PARALLEL_FROM``).
4. ``e2docs generate`` of ``--big`` candidates as a user runs it: wall time and peak memory of each
   process (``ru_maxrss`` of the children: the largest single process, the spawned ones included).

Targets (issue 12): generate ≤ 5 ms per candidate; peak memory < 300 MB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import run_timed, write_roster  # noqa: E402

BOOKLET = Path(__file__).resolve().parents[2] / "shared" / "reference" / "versailles-31214-livret-ccf.xlsx"


def _median_run(args: list[str], times: int = 5) -> float:
    walls = []
    for _ in range(times):
        t = time.perf_counter()
        subprocess.run([sys.executable, *args], check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - t)
    return statistics.median(walls)


def startup(tmp: Path) -> None:
    print(f"e2docs --help : {_median_run(['-m', 'e2docs', '--help']):.2f} s (médiane de 5)")
    print(f"import de la commande generate : {_median_run(['-c', 'import e2docs.app.generate']):.2f} s")
    roster = write_roster(tmp / "liste-1.csv", 1)
    wall, _ = run_timed(["generate", str(roster), "-o", str(tmp / "un")])
    print(f"generate d'un candidat (démarrage compris) : {wall:.2f} s")


def candidates(n: int):  # noqa: ANN201
    from e2docs.model.candidate import Candidate

    first = ["Lucas", "Inès", "Marie-Ève", "Théo", "Chloé", "Maël", "Léa", "Noah", "Zoé", "Hugo"]
    return [
        Candidate(str(2700000000 + i), f"NOM-{i}", first[i % 10], f"TMCV{1 + i % 3}", dt.date(2009, 1 + i % 12, 1))
        for i in range(n)
    ]


def per_candidate(tmp: Path, each: int, peer: int) -> None:
    import openpyxl

    from e2docs.formats.atomic import atomic_write
    from e2docs.formats.gridfile import load_grid
    from e2docs.formats.xlsx.template import Stamper
    from e2docs.formats.xlsx.writer import Options, render_candidate, stamped
    from e2docs.model.candidate import Context

    grid = load_grid()
    ctx = Context("2027", "LP Jean Moulin", "Versailles")
    options = stamped(Options())
    cands = candidates(each)
    out = tmp / "patch"
    out.mkdir()

    t = time.perf_counter()
    stamper = Stamper(grid, ctx, options)
    stamper.render(cands[0])
    first = time.perf_counter() - t
    from e2docs.app import generate

    threshold, generate.PARALLEL_FROM = generate.PARALLEL_FROM, 10**9  # one process: the cost per candidate
    t = time.perf_counter()
    generate.write_candidates(grid, ctx, options, cands, [out / f"{c.number}.xlsx" for c in cands])
    patched = (time.perf_counter() - t) / each
    generate.PARALLEL_FROM = threshold
    t = time.perf_counter()
    for c in cands:
        stamper.render(c)
    in_memory = (time.perf_counter() - t) / each

    n_whole = max(5, each // 20)
    t = time.perf_counter()
    for c in cands[:n_whole]:
        data, _ = render_candidate(grid, c, ctx, options)
        atomic_write(out / f"entier-{c.number}.xlsx", data)
    whole = (time.perf_counter() - t) / n_whole

    print(f"e2docs, classeur modèle (une fois par exécution) : {1000 * first:.0f} ms")
    print(
        f"e2docs, par candidat : {1000 * patched:.1f} ms écrit sur disque (fsync, un processus, modèle compris), "
        f"{1000 * in_memory:.1f} ms en "
        f"mémoire ({each} candidats) ; rendu XlsxWriter entier : {1000 * whole:.0f} ms ({n_whole} candidats)"
    )
    if not BOOKLET.exists():
        print(f"livret de l'académie absent ({BOOKLET}) : comparaison sautée")
        return
    peer_dir = tmp / "pair"
    peer_dir.mkdir()
    t = time.perf_counter()
    copies = []
    for c in cands[:peer]:
        copy = peer_dir / f"{c.number}.xlsx"
        shutil.copyfile(BOOKLET, copy)
        wb = openpyxl.load_workbook(copy)
        ws = wb.worksheets[0]
        for ref, value in (("E17", c.last_name), ("E19", c.first_name), ("E21", c.number), ("E27", c.division)):
            ws[ref] = value
        wb.save(copy)
        copies.append(copy)
    write_peer = (time.perf_counter() - t) / peer
    t = time.perf_counter()
    for copy in copies:
        openpyxl.load_workbook(copy, data_only=True).close()
    read_peer = (time.perf_counter() - t) / peer
    print(
        f"à la main (copie du livret + openpyxl, {peer} candidats) : {1000 * write_peer:.0f} ms par candidat, "
        f"relecture data_only {1000 * read_peer:.0f} ms ; e2docs {write_peer / patched:.0f} × plus rapide"
    )


def split(tmp: Path, sizes: list[int]) -> None:
    from e2docs.app import generate
    from e2docs.formats.gridfile import load_grid
    from e2docs.formats.xlsx.writer import Options, stamped
    from e2docs.model.candidate import Context

    grid = load_grid()
    ctx = Context("2027", "LP Jean Moulin", "Versailles")
    options = stamped(Options())
    threshold, load = generate.PARALLEL_FROM, generate._load
    for n in sizes:
        cands = candidates(n)
        walls = {}
        for label, at in (("1 processus", 10**9), ("partagé", 2)):
            generate.PARALLEL_FROM = at
            generate._load = lambda: 0.0  # split even on busy cores, to measure it
            folder = tmp / f"split-{n}-{at}"
            t = time.perf_counter()
            generate.write_candidates(grid, ctx, options, cands, [folder / f"{c.number}.xlsx" for c in cands])
            walls[label] = time.perf_counter() - t
            shutil.rmtree(folder)
        generate.PARALLEL_FROM, generate._load = threshold, load
        print(
            f"{n:5d} candidats : 1 processus {walls['1 processus']:6.2f} s, partagé en "
            f"{min(generate._cores(), generate.MAX_PROCESSES)} {walls['partagé']:6.2f} s ; "
            f"generate en prend {generate.processes_for(n)}"
        )


def big(tmp: Path, n: int) -> None:
    roster = write_roster(tmp / f"liste-{n}.csv", n)
    wall, peak = run_timed(["generate", str(roster), "-o", str(tmp / f"out-{n}")])
    written = len(list((tmp / f"out-{n}").glob("*.xlsx")))
    assert written == n, written
    print(
        f"generate de {n} candidats (démarrage compris) : {wall:.1f} s ({1000 * wall / n:.1f} ms/candidat), "
        f"mémoire max par processus {peak:.0f} Mo"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--each", type=int, default=300, help="candidats pour le coût par candidat")
    parser.add_argument("--peer", type=int, default=10, help="candidats faits à la main (openpyxl)")
    parser.add_argument("--split", type=int, nargs="*", default=[200, 400, 800, 1600])
    parser.add_argument("--big", type=int, default=5000, help="candidats du generate complet (0 : sauter)")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} processeur(s), charge {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="e2docs-bench-generate-") as tmp:
        startup(Path(tmp))
        per_candidate(Path(tmp), args.each, args.peer)
        if args.split:
            split(Path(tmp), args.split)
        if args.big:
            big(Path(tmp), args.big)


if __name__ == "__main__":
    main()
