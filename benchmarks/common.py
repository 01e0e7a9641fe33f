"""Helpers shared by the benchmarks: synthetic rosters and timed child processes."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

FIRST = ["Lucas", "Inès", "Marie-Ève", "Théo", "Chloé", "Maël", "Léa", "Noah", "Zoé", "Hugo", "Anaïs", "Élodie"]
LAST = ["MARTIN", "BERNARD", "D'ALMEIDA", "LE GOFF", "DUBOIS", "FAURE", "GARCIA", "ROUSSEAU", "NGUYEN", "PETIT"]


def write_roster(path: Path, n: int) -> Path:
    """A plain CSV class list of ``n`` fictitious candidates."""
    lines = ["Numéro de candidat;Nom;Prénom;Division;Date de naissance"]
    for i in range(n):
        lines.append(
            f"{2700000000 + i};{LAST[i % len(LAST)]}{'' if i < len(LAST) else f'-{i}'};"
            f"{FIRST[i % len(FIRST)]};TMCV{1 + i % 3};{1 + i % 28:02d}/0{1 + i % 9}/2009"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_timed(args: list[str]) -> tuple[float, float]:
    """Run ``python -m e2docs ARGS`` in a child; return (wall seconds, child peak RSS in MB).

    Each call runs in a fresh grandchild-free process, so ru_maxrss of the children
    is the maximum over the runs so far: callers run the heaviest case last.
    """
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "e2docs", *args], check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, peak_kb / 1024
