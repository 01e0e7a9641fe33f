"""Generation throughput and memory (run by hand: ``python benchmarks/bench_generate.py``).

Targets (issue 2): a class of 35 in under 3 s wall time including start-up;
``e2docs --help`` under 0.5 s; 2,000 candidates with peak memory under 300 MB.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import run_timed, write_roster  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        helps = []
        for _ in range(5):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "e2docs", "--help"], check=True, stdout=subprocess.DEVNULL)
            helps.append(time.perf_counter() - t)
        print(f"e2docs --help : médiane {statistics.median(helps):.2f} s (5 essais)")
        for n in (1, 35, 200, 1000, 2000):
            roster = write_roster(tmp / f"liste-{n}.csv", n)
            wall, peak = run_timed(["generate", str(roster), "-o", str(tmp / f"out-{n}")])
            print(f"{n:5d} candidats : {wall:6.2f} s ({1000 * wall / n:6.1f} ms/candidat), mémoire max {peak:5.0f} Mo")
        roster = tmp / "liste-35.csv"
        wall, _ = run_timed(["generate", str(roster), "-o", str(tmp / "classe"), "--per", "class"])
        print(f"   35 candidats, un classeur de classe : {wall:.2f} s")


if __name__ == "__main__":
    main()
