"""``e2docs demo``: the main job on the bundled samples, so a new user sees real output at once."""

from __future__ import annotations

from pathlib import Path

from .bundled import bundled
from .generate import generate_from_roster


def sample_path(name: str) -> Path:
    """A file bundled in ``samples/``."""
    return bundled("samples", name)


def run_demo(directory: Path) -> list[str]:
    """Generate the workbooks of the fictitious class into ``directory/envoi``; say where to look."""
    directory = Path(directory)
    outdir = directory / "envoi"
    report = generate_from_roster(sample_path("classe-demo.csv"), outdir, force=True)
    lines = ["Démonstration e2docs — classe fictive (samples/classe-demo.csv)", ""]
    lines += report.lines()
    first = report.written[0].path
    lines += ["", "À regarder :",
              f"  ouvrez {first} dans Excel ou LibreOffice Calc : tapez X dans les colonnes de niveau,",
              "  la note proposée se calcule ; seules les cellules vertes sont modifiables ;",
              f"  puis : e2docs inspect \"{first}\""]
    return lines
