"""Reading one returned workbook, fast reader against openpyxl.

Run by hand: ``python benchmarks/bench_read.py [ROUNDS]``, or
``python benchmarks/bench_read.py ROUNDS --campagne DOSSIER --retours DOSSIER`` for the returns of a
campaign (read with its grid and secret, by the fast reader only: the time per return ``collect``
and ``report`` pay, the layout, styles and shared parts of a class made once).

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


def campaign(rounds: int, folder: Path, returns: Path) -> None:
    from e2docs.app.campaign import open_campaign

    camp = open_campaign(folder)
    grid = camp.grid()
    grids, secret = {grid.content_hash: grid}, camp.secret
    files = sorted(returns.glob("*.xlsx"))
    read_workbook(files[0], grids, secret=secret)  # imports, first parse
    per_file = []
    for _ in range(rounds):
        start = time.perf_counter()
        for path in files:
            read_workbook(path, grids, secret=secret)
        per_file.append((time.perf_counter() - start) / len(files))
    print(f"{len(files)} retours × {rounds} tours : {1000 * statistics.median(per_file):.1f} ms par retour (médiane)")


if __name__ == "__main__":
    args = sys.argv[1:]
    count = int(args[0]) if args and args[0].isdigit() else 5
    if "--campagne" in args:
        campaign(count, Path(args[args.index("--campagne") + 1]), Path(args[args.index("--retours") + 1]))
    else:
        main(count)
