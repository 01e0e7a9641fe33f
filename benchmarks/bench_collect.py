"""Collect throughput and memory (run by hand: ``python benchmarks/bench_collect.py [N …]``).

For each N (default 35, 500, 2000): a campaign of N candidates is created and
generated, N returns are filled with openpyxl (random levels, most of them
complete), then ``python -m e2docs -C DIR collect FOLDER`` is timed as a user
runs it: wall time including start-up, peak memory of that process
(``getrusage(RUSAGE_CHILDREN).ru_maxrss``, measured in a small wrapper process
whose only child is the collect, so each figure is that run's own), cost per
file. A second collect of the same folder (everything "déjà importé") is timed too.

``--baseline DIR`` (a checkout of another e2docs version, e.g. made with ``git archive``): the same
returns are also collected by that version, into a copy of the same campaign, the two runs
alternating (``--repeat`` times each) so that both see the same machine load.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).parent))
from common import write_roster  # noqa: E402

if TYPE_CHECKING:
    from e2docs.model.grid import Grid

# Runs ``python -m e2docs ARGS`` and prints its exit code, wall time and peak RSS (kB) as JSON.
_WRAPPER = """
import json, resource, subprocess, sys, time
import psutil
start = time.perf_counter()
proc = subprocess.Popen([sys.executable, "-m", "e2docs", *sys.argv[1:]], stdout=subprocess.DEVNULL)
tree = 0  # the most memory the command's processes held at once (sampled every 50 ms)
watched = psutil.Process(proc.pid)
while proc.poll() is None:
    try:
        held = sum(p.memory_info().rss for p in [watched, *watched.children(recursive=True)])
        tree = max(tree, held)
    except psutil.Error:
        pass
    time.sleep(0.05)
wall = time.perf_counter() - start
print(json.dumps({"rc": proc.returncode, "wall": wall,
                  "peak_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "tree_kb": tree // 1024}))
"""


def run_measured(args: list[str], pythonpath: str | None = None) -> dict:
    """``python -m e2docs ARGS`` timed in a wrapper process; ``pythonpath``: where ``e2docs`` is imported
    from (the run then starts in the temporary folder: ``-m`` puts the current folder first on the path)."""
    env = dict(os.environ)
    cwd = None
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
        cwd = tempfile.gettempdir()
    out = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *args], check=True, capture_output=True, text=True, env=env, cwd=cwd
    )
    result = json.loads(out.stdout)
    if result["rc"] != 0:  # what the command said, to tell why
        sys.stderr.write(out.stderr[-4000:])
    return result


def teacher_values(grid: Grid, seed: int) -> dict[str, object]:
    """What a teacher types in one workbook (defined name → value), drawn from ``seed``: a level per
    criterion, the observations nine times in ten, a commission mark one time in five."""
    from e2docs.formats.xlsx import names

    rng = random.Random(seed)
    values: dict[str, object] = {}
    for cr in grid.criteria:
        values[names.level(cr.id, rng.randint(1, 4))] = "X"
    if rng.random() < 0.9:
        values[names.OBSERVATIONS] = "Prospection menée avec méthode ; analyse des écarts pertinente."
    if rng.random() < 0.2:
        values[names.COMMISSION_MARK] = rng.randint(16, 40) / 2
    values["prosp_res_contacts"] = rng.randint(10, 120)
    return values


def _fill(job: tuple[str, str, str, int]) -> None:
    """Fill one candidate's workbook like a teacher (in a worker process)."""
    import openpyxl

    from e2docs.app.campaign import open_campaign
    from e2docs.formats.xlsx.layout import build_layout

    root, number, out, seed = job
    campaign = open_campaign(Path(root))
    grid = campaign.grid()
    with campaign.ledger() as ledger:
        (cand,) = [c for c in ledger.candidates() if c.number == number]
    named = build_layout(grid, cand, campaign.context).named
    (sent,) = (campaign.root / "envoi").glob(f"*_{number}.xlsx")
    wb = openpyxl.load_workbook(sent)
    for key, value in teacher_values(grid, seed).items():
        cell = named[key]
        wb[cell.sheet][cell.ref] = value
    wb.save(out)


def prepare(base: Path, n: int) -> tuple[Path, Path]:
    """A generated campaign of ``n`` candidates and a folder of ``n`` filled returns."""
    from e2docs.app.campaign import create_campaign
    from e2docs.app.generate import generate_in_campaign

    roster = write_roster(base / f"liste-{n}.csv", n)
    campaign, imported = create_campaign(base / f"campagne-{n}", roster, session="2027", school="LP Bench")
    generate_in_campaign(campaign)
    folder = base / f"retours-{n}"
    folder.mkdir()
    jobs = [
        (str(campaign.root), c.number, str(folder / f"retour-{i:05d}.xlsx"), i)
        for i, c in enumerate(imported.candidates)
    ]
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(_fill, jobs, chunksize=16))
    return campaign.root, folder


def recorded(root: Path) -> int:
    con = sqlite3.connect(f"file:{root / 'registre.sqlite'}?mode=ro", uri=True)
    try:
        return con.execute(
            "SELECT COUNT(DISTINCT candidate) FROM returns WHERE state IN ('complete', 'incomplete')"
        ).fetchone()[0]
    finally:
        con.close()


def _version_of(pythonpath: str) -> str:
    """Where ``e2docs`` is imported from with ``pythonpath`` (checked: each run measures the version it says)."""
    out = subprocess.run(
        [sys.executable, "-c", "import e2docs; print(e2docs.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": pythonpath},
        cwd=tempfile.gettempdir(),
    )
    found = out.stdout.strip()
    assert found.startswith(str(Path(pythonpath).resolve())), (found, pythonpath)
    return found


def compare(sizes: list[int], baseline: str, repeat: int) -> None:
    """Each size: this version and ``baseline`` collect the same returns into copies of one campaign."""
    here = str(Path(__file__).resolve().parents[1])
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} processeur(s), référence {baseline}")
    with tempfile.TemporaryDirectory(prefix="e2docs-bench-collect-") as tmp:
        for n in sizes:
            base = Path(tmp) / str(n)
            base.mkdir()
            root, folder = prepare(base, n)
            pristine = base / "vierge"
            shutil.copytree(root, pristine)
            walls: dict[str, list[float]] = {"ceci": [], "référence": []}
            for k in range(repeat):
                for name, path in (("ceci", here), ("référence", baseline)):
                    copy = base / f"{name}-{k}"
                    shutil.copytree(pristine, copy)
                    done = run_measured(["-C", str(copy), "collect", str(folder)], path)
                    done["version"] = _version_of(path)
                    assert done["rc"] == 0 and recorded(copy) == n, done
                    walls[name].append(done["wall"])
            load = os.getloadavg()[0]
            line = " ; ".join(
                f"{name} {min(w):6.2f} s ({1000 * min(w) / n:6.1f} ms/fichier)" for name, w in walls.items()
            )
            print(f"{n:5d} retours (meilleur de {repeat}) : {line} [charge {load:.1f}]")


def main(sizes: list[int]) -> None:
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} processeur(s)")
    with tempfile.TemporaryDirectory(prefix="e2docs-bench-collect-") as tmp:
        for n in sizes:
            base = Path(tmp) / str(n)
            base.mkdir()
            t = time.perf_counter()
            root, folder = prepare(base, n)
            made = time.perf_counter() - t
            first = run_measured(["-C", str(root), "collect", str(folder)])
            assert first["rc"] == 0, first
            assert recorded(root) == n, f"{recorded(root)} retours enregistrés sur {n}"
            again = run_measured(["-C", str(root), "collect", str(folder)])
            assert again["rc"] == 0, again
            print(
                f"{n:5d} retours : collect {first['wall']:7.2f} s ({1000 * first['wall'] / n:6.1f} ms/fichier), "
                f"mémoire max {first['peak_kb'] / 1024:5.0f} Mo ; "
                f"relance (déjà importés) {again['wall']:6.2f} s, {again['peak_kb'] / 1024:4.0f} Mo "
                f"[préparation {made:.0f} s]"
            )


if __name__ == "__main__":
    args = sys.argv[1:]
    if "--baseline" in args:
        i = args.index("--baseline")
        baseline = args.pop(i + 1)
        args.pop(i)
        repeat = 3
        if "--repeat" in args:
            j = args.index("--repeat")
            repeat = int(args.pop(j + 1))
            args.pop(j)
        compare([int(a) for a in args] or [35], baseline, repeat)
    else:
        main([int(a) for a in args] or [35, 500, 2000])
