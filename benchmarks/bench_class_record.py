"""The class record alone, for classes of any size (run by hand:
``python benchmarks/bench_class_record.py [N …]``, default 1000 5000 10000).

Each size runs in its own process: N candidates (sample evaluations with distinct names and
levels, every tenth one incomplete), their class record rendered with the shipped template,
charts included; wall time of the rendering and peak memory of that process (``ru_maxrss``, which
also counts the interpreter, its imports and the N evaluations held). ``--disque``: the rows kept
in a temporary file, their outcomes only, as ``report`` keeps them
(:class:`~e2docs.reports.rows.ClassRows`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import dataclasses, json, resource, sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
from e2docs.model.states import CandidateState
from e2docs.reports import Templates, render_class_record
from e2docs.reports.context import ClassInfo, ClassRow
from e2docs.reports.rows import ClassRows
from e2docs.reports.samples import sample_candidate, sample_evaluation
n = int(sys.argv[1])
disk = ClassRows(n) if sys.argv[3] == "disque" else None
base = sample_evaluation()
criteria = list(base.levels)
rows = []
for i in range(n):
    levels = {{c: 1 + (i + k) % 4 for k, c in enumerate(criteria)}}
    if i % 10 == 0:
        levels[criteria[0]] = None
    cand = dataclasses.replace(sample_candidate(), number=f"{{2700000000 + i}}", last_name=f"NOM-{{i}}")
    e = dataclasses.replace(base, candidate=cand, levels=levels)
    state = CandidateState.COMPLETE if e.outcome.complete else CandidateState.INCOMPLETE
    if disk is not None:
        disk.put(i, ClassRow(cand, state, outcome=e.outcome))
    else:
        rows.append(ClassRow(cand, state, e))
rows = disk if disk is not None else rows
held = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
render_class_record(rows, ClassInfo("2027", "Lycée", "Versailles", "TMCV"), Path(sys.argv[2]), None, Templates())
wall = time.perf_counter() - t
print(json.dumps({{"wall": wall, "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "held_kb": held,
                  "size": Path(sys.argv[2]).stat().st_size}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 5000, 10000])
    parser.add_argument("--disque", action="store_true", help="les lignes dans un fichier temporaire, comme report")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="e2docs-bench-classe-") as tmp:
        for n in args.sizes:
            out = Path(tmp) / f"recapitulatif-{n}.docx"
            done = subprocess.run(
                [sys.executable, "-c", CHILD.format(root=str(ROOT)), str(n), str(out), "disque" if args.disque else ""],
                capture_output=True,
                text=True,
                check=True,
            )
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"{n:6d} candidats : {r['wall']:6.1f} s, mémoire max {r['peak_kb'] / 1024:4.0f} Mo "
                f"(dont {r['held_kb'] / 1024:.0f} Mo avant le rendu), document {r['size'] / 1024:.0f} Ko"
            )


if __name__ == "__main__":
    main()
