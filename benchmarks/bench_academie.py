"""A whole académie's campaign, as a user runs it (by hand: ``python benchmarks/bench_academie.py [N]``,
default 5,000).

``e2docs new``, ``generate``, ``collect`` of N filled returns, ``report`` without PDF: each command
timed in its own process (wall time, start-up included; peak memory of the largest of its processes,
``ru_maxrss``, and of all of them together, sampled every 50 ms with psutil). Filling the returns
(openpyxl, as a teacher's spreadsheet would, spread over the cores) is preparation, not timed. On a
busy machine run it at 1,000 and scale up: every step grows linearly (the figures per candidate are
printed, and the total at 5,000 they give).

Filling 5,000 returns takes about 20 minutes: ``--keep DIR`` keeps the campaign as generated and the
filled returns in ``DIR``, and ``--reuse DIR`` takes them from there (``new`` and ``generate`` are
still timed, in a campaign of their own; ``collect`` and ``report`` run on a copy of the kept one).

Target (issue 12): 5,000 candidates end to end under 2 minutes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).parent))
from bench_collect import _fill, recorded, run_measured, teacher_values  # noqa: E402
from common import write_roster  # noqa: E402

if TYPE_CHECKING:
    from e2docs.model.candidate import Candidate

TARGET_5000_S = 120
PER_FOLDER = 10_000
"""Returns per folder: ``collect`` reads at most 500 MB per path given (``intake.MAX_INPUT_BYTES``), and
asks for larger sendings in several folders; 10,000 filled returns are some 250 MB."""


def return_path(folder: Path, i: int) -> Path:
    """Where the ``i``-th filled return goes: ``folder/lot-NN/retour-NNNNN.xlsx``."""
    return folder / f"lot-{i // PER_FOLDER:02d}" / f"retour-{i:05d}.xlsx"


def return_folders(folder: Path) -> list[Path]:
    """The folders to give ``collect``: the ``lot-NN`` sub-folders, or ``folder`` itself when the returns
    were kept flat (by an earlier version of this benchmark)."""
    return sorted(p for p in folder.iterdir() if p.is_dir()) or [folder]


def fill_returns(root: Path, folder: Path) -> None:
    from e2docs.app.campaign import open_campaign

    folder.mkdir()
    with open_campaign(root).ledger() as ledger:
        numbers = [c.number for c in ledger.candidates()]
    jobs = [(str(root), number, str(return_path(folder, i)), i) for i, number in enumerate(numbers)]
    for i in range(0, len(jobs), PER_FOLDER):
        return_path(folder, i).parent.mkdir()
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(_fill, jobs, chunksize=16))


def _fill_quick(job: tuple[str, Candidate, str, str, int]) -> None:
    """:func:`bench_collect._fill`'s values, written straight into the sheets' XML (no openpyxl), the
    formulas' cached values dropped as openpyxl drops them: some 100 times faster, for the sizes where
    openpyxl would take hours (``--quick-fill``). ``job``: (campaign, the candidate, their workbook as
    sent, the filled return's path, seed)."""
    import re
    import zipfile
    from xml.sax.saxutils import escape

    from e2docs.app.campaign import open_campaign
    from e2docs.formats.xlsx.layout import build_layout

    root, cand, sent, out, seed = job
    campaign = open_campaign(Path(root))
    grid = campaign.grid()
    named = build_layout(grid, cand, campaign.context).named
    values = teacher_values(grid, seed)
    with zipfile.ZipFile(sent) as z:
        members = {info.filename: z.read(info) for info in z.infolist()}
    book, rels = members["xl/workbook.xml"].decode(), members["xl/_rels/workbook.xml.rels"].decode()
    targets = dict(re.findall(r'<Relationship Id="([^"]+)"[^>]*?Target="([^"]+)"', rels))
    targets |= {k: v for v, k in re.findall(r'<Relationship Target="([^"]+)"[^>]*?Id="([^"]+)"', rels)}
    sheets = {
        escape(t, {'"': "&quot;"}): "xl/" + targets[rid].lstrip("/").removeprefix("xl/")
        for t, rid in re.findall(r'<sheet name="([^"]+)" sheetId="\d+" r:id="([^"]+)"', book)
    }
    for key, value in values.items():
        cell = named[key]
        member = sheets[escape(cell.sheet, {'"': "&quot;"})]
        xml = members[member].decode()
        if isinstance(value, str):
            content = f' t="inlineStr"><is><t>{escape(value)}</t></is></c>'
        else:
            content = f"><v>{value}</v></c>"
        xml, found = re.subn(
            rf'<c r="{cell.ref}"((?: s="\d+")?)(?: t="[^"]*")?(?:/>|>.*?</c>)',
            lambda m, ref=cell.ref, content=content: f'<c r="{ref}"{m[1]}{content}',
            xml,
        )
        assert found == 1, (member, cell.ref)
        members[member] = xml.encode()
    for member in sheets.values():  # openpyxl keeps the formulas, not what they gave
        members[member] = re.sub(rb"(<f>[^<]*</f>|<f [^>]*>[^<]*</f>|<f [^>]*/>)<v>[^<]*</v>", rb"\1", members[member])
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)


def fill_returns_quick(root: Path, folder: Path) -> None:
    """:func:`fill_returns` by :func:`_fill_quick`."""
    from e2docs.app.campaign import open_campaign

    folder.mkdir()
    with open_campaign(root).ledger() as ledger:
        cands = ledger.candidates()
    sent = {p.stem.rsplit("_", 1)[-1]: str(p) for p in (root / "envoi").glob("*.xlsx")}  # number → workbook
    jobs = [
        (
            str(root),
            c,
            sent[c.number],
            str(return_path(folder, i)),
            i,
        )
        for i, c in enumerate(cands)
    ]
    for i in range(0, len(jobs), PER_FOLDER):
        return_path(folder, i).parent.mkdir()
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(_fill_quick, jobs, chunksize=64))


def settle(below: float = 1.0, most: float = 180.0) -> None:
    """Wait (at most ``most`` seconds) for the load average to fall below ``below``: filling the returns
    took every core, and the commands that follow decide from the load whether to share their work."""
    start = time.monotonic()
    while os.getloadavg()[0] >= below and time.monotonic() - start < most:
        time.sleep(5)
    print(f"[attente de la fin de la préparation : {time.monotonic() - start:.0f} s, charge {os.getloadavg()[0]:.1f}]")


def main(n: int, keep: Path | None = None, reuse: Path | None = None, quick: bool = False) -> None:
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} processeur(s), charge {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="e2docs-bench-academie-") as tmp:
        base = Path(tmp)
        roster = write_roster(base / "liste.csv", n)
        root = base / "campagne"
        returns = base / "retours"
        steps: list[tuple[str, dict]] = []
        steps.append(("new", run_measured(["new", str(root), "--roster", str(roster), "--session", "2027"])))
        steps.append(("generate", run_measured(["-C", str(root), "generate"])))
        filled = 0.0
        if reuse is not None:  # the returns filled by an earlier run, with the campaign that signed them
            shutil.rmtree(root)
            shutil.copytree(reuse / "campagne", root)
            returns = reuse / "retours"
        else:
            t = time.perf_counter()
            (fill_returns_quick if quick else fill_returns)(root, returns)
            filled = time.perf_counter() - t
            if keep is not None:
                keep.mkdir(parents=True)
                shutil.copytree(root, keep / "campagne")
                shutil.copytree(returns, keep / "retours")
        settle()
        folders = [str(f) for f in return_folders(returns)]
        steps.append(("collect", run_measured(["-C", str(root), "collect", *folders])))
        assert steps[-1][1]["rc"] == 0, steps[-1]
        assert recorded(root) == n, f"{recorded(root)} retours enregistrés sur {n}"
        steps.append(("report", run_measured(["-C", str(root), "report"])))
        total = 0.0
        for name, result in steps:
            assert result["rc"] == 0, (name, result)
            total += result["wall"]
            print(
                f"{name:9s} {result['wall']:8.1f} s  {1000 * result['wall'] / n:7.1f} ms/candidat  "
                f"mémoire max {result['peak_kb'] / 1024:5.0f} Mo (le plus gros processus), "
                f"{result['tree_kb'] / 1024:5.0f} Mo (tous ses processus ensemble)"
            )
        at_5000 = total / n * 5000
        prepared = f"préparation des retours {filled:.0f} s" if reuse is None else f"retours repris de {reuse}"
        print(
            f"total {total:.1f} s pour {n} candidats ({1000 * total / n:.1f} ms/candidat) ; "
            f"à 5 000 : {at_5000:.0f} s {'mesuré' if n == 5000 else 'extrapolé'} "
            f"[cible < {TARGET_5000_S} s : {'OK' if at_5000 < TARGET_5000_S else 'DÉPASSÉE'}] [{prepared}]"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=5000, help="candidats (5 000 par défaut)")
    parser.add_argument("--keep", type=Path, help="garder la campagne générée et les retours remplis ici")
    parser.add_argument("--reuse", type=Path, help="reprendre la campagne et les retours gardés par --keep")
    parser.add_argument(
        "--quick-fill",
        action="store_true",
        help="remplir les retours en écrivant les cellules dans le XML (sans openpyxl) : pour 20 000 candidats et plus",
    )
    args = parser.parse_args()
    main(args.n, args.keep, args.reuse, args.quick_fill)
