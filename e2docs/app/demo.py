"""``e2docs demo``: the whole pipeline on the bundled samples, so a new user sees real output at once.

New campaign (fixed demo id and secret), generate, collect the sample returns
(typed into generated workbooks by LibreOffice, see tools/make_samples.py),
status, export, and the Word documents when the reports are available.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from e2docs.formats.bundled import bundled
from e2docs.model.errors import E2docsError

# The demo campaign always has this id and secret, so the bundled sample returns
# (samples/retours/, made by tools/make_samples.py) belong to it. Never use them
# for a real campaign: they are public.
DEMO_ID = "demo0000000000000000000000000000"
DEMO_SECRET = bytes.fromhex("e2d0c5de" * 8)


def sample_path(*parts: str) -> Path:
    """A file bundled in ``samples/``."""
    return bundled("samples", *parts)


def run_demo(directory: Path) -> list[str]:
    """Run the pipeline in ``directory/campagne-demo`` (replaced if it exists); say where to look."""
    from e2docs.app.campaign import create_campaign
    from e2docs.app.collect import collect, summary_lines
    from e2docs.app.export import export
    from e2docs.app.generate import generate_in_campaign
    from e2docs.app.status import candidate_statuses, status_lines

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
    lines = [
        "Démonstration e2docs — classe fictive (samples/classe-demo.csv)",
        "",
        f"1. Campagne créée : {root} ({len(roster.candidates)} candidats, "
        f"{len(roster.ignored)} ligne(s) d'une autre spécialité ignorée(s))",
    ]
    report = generate_in_campaign(campaign)
    lines.append(f"2. {len(report.written)} classeurs générés dans {root / 'envoi'}")
    returns = sorted(sample_path("retours").glob("*.xlsx"))
    collected = collect(campaign, returns)
    lines.append(f"3. Relève de {len(returns)} retours remplis dans LibreOffice (samples/retours/) :")
    lines += ["   " + line for line in summary_lines(collected) if line]
    with campaign.ledger() as ledger:
        statuses = candidate_statuses(ledger)
    lines.append("4. État de la campagne (e2docs status) :")
    lines += ["   " + line for line in status_lines(statuses)]
    summary = export(statuses, campaign.grid(), root / "synthese.xlsx", "Épreuve E2 — démonstration")
    lines.append(f"5. Synthèse établissement : {summary}")
    lines += _reports(campaign)
    first = report.written[0].path
    lines += [
        "",
        "À regarder :",
        f"  - un classeur à remplir : {first}",
        "    (ouvrez-le dans Excel ou LibreOffice Calc : tapez X dans les colonnes de niveau ;",
        "     seules les cellules vertes sont modifiables, la note se calcule seule)",
        f"  - la synthèse : {summary}",
        f"  - les documents Word : {root / 'rapports'}",
        f'  - puis, par exemple : e2docs -C "{root}" status --history',
    ]
    return lines


def _reports(campaign) -> list[str]:
    """Step 6: the Word documents (fiches, synthèses, récapitulatif)."""
    try:
        from e2docs.app.documents import make_reports
    except ImportError:  # reports not built yet
        return []
    result = make_reports(campaign)
    return [f"6. Documents Word : {len(result.written)} fichier(s) dans {result.outdir}"]
