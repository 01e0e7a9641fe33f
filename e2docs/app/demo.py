"""``e2docs demo``: the whole pipeline on the bundled samples, so a new user sees real output at once.

New campaign (fixed demo id and secret), generate, collect the sample returns
(typed into generated workbooks by LibreOffice, see tools/make_samples.py),
status, export, and the Word documents when the reports are available.
"""

from __future__ import annotations

import os
import re
import shutil
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from e2docs.app.campaign import SETTINGS
from e2docs.formats.bundled import bundled
from e2docs.formats.processes import alive
from e2docs.model.errors import E2docsError

if TYPE_CHECKING:
    from e2docs.app.campaign import Campaign
    from e2docs.app.collect import CollectReport
    from e2docs.app.documents import ReportResult
    from e2docs.app.generate import GenerationReport
    from e2docs.app.status import CandidateStatus
    from e2docs.formats.roster import Roster

# The demo campaign always has this id and secret, so the bundled sample returns
# (samples/retours/, made by tools/make_samples.py) belong to it. Never use them
# for a real campaign: they are public.
DEMO_ID = "demo0000000000000000000000000000"
DEMO_SECRET = bytes.fromhex("e2d0c5de" * 8)


def sample_path(*parts: str) -> Path:
    """A file bundled in ``samples/``."""
    return bundled("samples", *parts)


@dataclass
class DemoRun:
    """What the demo did, step by step: the campaign and the roster it was made from, the workbooks
    generated, the sample returns collected (``returns``: their paths) and what became of them, the
    candidates' statuses afterwards, the summary written, and the Word documents (None when the
    reports are not available)."""

    campaign: Campaign
    roster: Roster
    generation: GenerationReport
    returns: list[Path]
    collected: CollectReport
    statuses: list[CandidateStatus]
    summary: Path
    reports: ReportResult | None


DEMO_FOLDER = "campagne-demo"
# Beside DIR/campagne-demo while a run replaces it: « .campagne-demo.nouvelle-<pid> » (being built),
# « .campagne-demo.ancienne-<pid> » (the previous one, being deleted), and the staging folder of
# create_campaign for the new one. A killed run leaves them; the next run removes them.
_LEFTOVER = re.compile(
    r"\.(?:\.)?" + re.escape(DEMO_FOLDER) + r"\.(?:nouvelle|ancienne)-(?P<pid>\d+)(?P<creation>\.creation-\d+)?"
)


def run_demo(directory: Path) -> DemoRun:
    """Run the pipeline in ``directory/campagne-demo``, replacing the demo campaign already there.

    The new campaign is built beside (``directory/.campagne-demo.nouvelle-<pid>``), then swapped in:
    a run killed at any point leaves the previous demo campaign or the new one, and hidden folders
    that the next run removes.

    Raises :class:`E2docsError` (exit 2, nothing touched) when ``directory/campagne-demo`` exists
    and is not a demo campaign (settings with the demo id :data:`DEMO_ID`): a real campaign, its
    ``.secret`` included, is never deleted.
    """
    from e2docs.app.campaign import create_campaign
    from e2docs.app.collect import collect
    from e2docs.app.export import export_campaign
    from e2docs.app.generate import generate_in_campaign
    from e2docs.app.status import campaign_statuses

    directory = Path(directory)
    root = directory / DEMO_FOLDER
    _check_replaceable(root)
    _remove_leftovers(directory)
    new = directory / f".{DEMO_FOLDER}.nouvelle-{os.getpid()}"
    if new.exists():  # left by a dead process that had our pid
        shutil.rmtree(new)
    try:
        campaign, roster = create_campaign(new, sample_path("classe-demo.csv"), campaign_id=DEMO_ID, secret=DEMO_SECRET)
        generation = generate_in_campaign(campaign)
        returns = sorted(sample_path("retours").glob("*.xlsx"))
        collected = collect(campaign, returns)
        statuses = campaign_statuses(campaign)
        summary = export_campaign(campaign, campaign.root / "synthese.xlsx")
        run = DemoRun(campaign, roster, generation, returns, collected, statuses, summary, _reports(campaign))
        _check_replaceable(root)  # again: it may have changed while the new one was built
        _swap(new, root)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    return _moved(run, run.campaign.root, root)  # the paths of the run are under the campaign's resolved root


def is_demo_campaign(folder: Path) -> bool:
    """Whether ``folder`` is a campaign made by ``e2docs demo``: its settings carry :data:`DEMO_ID`."""
    try:
        settings = tomllib.loads((Path(folder) / SETTINGS).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return settings.get("id") == DEMO_ID


def _check_replaceable(root: Path) -> None:
    """Raise :class:`E2docsError` unless ``root`` is absent or a demo campaign."""
    if not (root.exists() or root.is_symlink()):
        return
    if root.is_dir() and not root.is_symlink() and is_demo_campaign(root):
        return
    if (root / SETTINGS).is_file():
        message = "ce dossier est une campagne e2docs qui n'est pas celle de la démonstration : rien n'a été touché."
    else:
        message = "ce chemin existe et n'est pas une campagne de démonstration : rien n'a été touché."
    raise E2docsError(
        message,
        root,
        hint="La démonstration ne remplace que sa propre campagne : lancez-la dans un autre dossier "
        "(« e2docs demo AUTRE-DOSSIER »).",
    )


def _remove_leftovers(directory: Path) -> None:
    """Remove what demo runs killed before the end left beside the demo campaign (folders named after
    a process that is gone, holding a demo campaign or a campaign being created)."""
    try:
        entries = list(directory.iterdir())
    except OSError:  # no such folder yet
        return
    for path in entries:
        match = _LEFTOVER.fullmatch(path.name)
        if not match or not path.is_dir() or path.is_symlink() or alive(int(match.group("pid"))):
            continue
        if is_demo_campaign(path) or (match.group("creation") and not (path / SETTINGS).exists()):
            shutil.rmtree(path, ignore_errors=True)


def _swap(new: Path, root: Path) -> None:
    """Put the campaign built at ``new`` in place of ``root`` (a demo campaign, or absent)."""
    old = root.with_name(f".{root.name}.ancienne-{os.getpid()}")
    if root.exists():
        os.replace(root, old)
    os.replace(new, root)
    shutil.rmtree(old, ignore_errors=True)


def _moved(run: DemoRun, new: Path, root: Path) -> DemoRun:
    """``run`` with the paths that were under ``new`` (where it was built) now under ``root``."""

    def move(path: Path) -> Path:
        try:
            return root / Path(path).relative_to(new)
        except ValueError:
            return path

    generation = replace(
        run.generation,
        outdir=move(run.generation.outdir),
        written=[replace(w, path=move(w.path)) for w in run.generation.written],
    )
    reports = run.reports
    if reports is not None:
        reports = replace(
            reports,
            outdir=move(reports.outdir),
            written=[move(p) for p in reports.written],
            pdfs=[move(p) for p in reports.pdfs],
            beside=[(move(a), move(b)) for a, b in reports.beside],
            removed=[move(p) for p in reports.removed],
            kept=[move(p) for p in reports.kept],
        )
    return replace(
        run,
        campaign=replace(run.campaign, root=root),
        generation=generation,
        summary=move(run.summary),
        reports=reports,
    )


def _reports(campaign: Campaign) -> ReportResult | None:
    """Step 6: the Word documents (fiches, synthèses, récapitulatif); None when reports are not built."""
    try:
        from e2docs.app.documents import make_reports
    except ImportError:  # reports not built yet
        return None
    return make_reports(campaign)
