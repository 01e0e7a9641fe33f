"""``e2docs demo``: the whole pipeline on the bundled samples, so a new user sees real output at once.

New campaign (fixed demo id and secret), generate, collect the sample returns
(typed into generated workbooks by LibreOffice, see tools/make_samples.py),
status, export, and the Word documents when the reports are available.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from e2docs.formats.bundled import bundled
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


def run_demo(directory: Path) -> DemoRun:
    """Run the pipeline in ``directory/campagne-demo`` (replaced if it exists).

    Raises :class:`E2docsError` when ``directory/campagne-demo`` exists and is not a
    campaign (nothing is touched then).
    """
    from e2docs.app.campaign import create_campaign
    from e2docs.app.collect import collect
    from e2docs.app.export import export
    from e2docs.app.generate import generate_in_campaign
    from e2docs.app.status import campaign_statuses

    directory = Path(directory)
    root = directory / "campagne-demo"
    if root.exists():
        if not (root / "e2docs.toml").is_file():
            raise E2docsError(
                "le dossier existe et n'est pas une campagne de démonstration : rien n'a été touché.",
                root,
                hint="Choisissez un autre dossier.",
            )
        shutil.rmtree(root)
    campaign, roster = create_campaign(root, sample_path("classe-demo.csv"), campaign_id=DEMO_ID, secret=DEMO_SECRET)
    generation = generate_in_campaign(campaign)
    returns = sorted(sample_path("retours").glob("*.xlsx"))
    collected = collect(campaign, returns)
    statuses = campaign_statuses(campaign)
    summary = export(statuses, campaign.grid(), root / "synthese.xlsx", "Épreuve E2 — démonstration")
    return DemoRun(campaign, roster, generation, returns, collected, statuses, summary, _reports(campaign))


def _reports(campaign: Campaign) -> ReportResult | None:
    """Step 6: the Word documents (fiches, synthèses, récapitulatif); None when reports are not built."""
    try:
        from e2docs.app.documents import make_reports
    except ImportError:  # reports not built yet
        return None
    return make_reports(campaign)
