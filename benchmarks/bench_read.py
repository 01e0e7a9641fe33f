"""Reading one returned workbook, fast reader against openpyxl.

Run by hand: ``python benchmarks/bench_read.py [ROUNDS]``.

Every sample return (``samples/retours``) is read with :func:`read_workbook` by the fast reader and
with it switched off (openpyxl's read-only mode, the fallback), the two interleaved round after round
so that both see the same machine load; the median time per workbook of each is printed, with the
reading alone (:func:`read_package`) beside it. Start-up (imports) is not counted.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from e2docs.formats.xlsx import fastread
from e2docs.formats.xlsx.package import read_package, read_package_openpyxl
from e2docs.formats.xlsx.reader import known_grids, read_workbook

SAMPLES = sorted((Path(__file__).resolve().parents[1] / "samples" / "retours").glob("*.xlsx"))


def _refuse(path: Path, cached: bool = True) -> object:
    raise fastread.Unplaceable("benchmark: openpyxl")


def main(rounds: int) -> None:
    grids = known_grids()
    real = fastread.read_fast
    times: dict[str, list[float]] = {"fast": [], "openpyxl": [], "package fast": [], "package openpyxl": []}
    for _ in range(rounds):
        for path in SAMPLES:
            for name, read in (
                ("fast", lambda p: read_workbook(p, grids)),
                ("openpyxl", lambda p: read_workbook(p, grids)),
                ("package fast", read_package),
                ("package openpyxl", read_package_openpyxl),
            ):
                fastread.read_fast = _refuse if name == "openpyxl" else real  # type: ignore[assignment]
                start = time.perf_counter()
                read(path)
                times[name].append(time.perf_counter() - start)
    fastread.read_fast = real
    print(f"{len(SAMPLES)} classeurs × {rounds} tours, médiane par classeur :")
    for name, values in times.items():
        print(f"  {name:17s} {1000 * statistics.median(values):7.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
