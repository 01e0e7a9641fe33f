"""The main job: a class list in, one protected workbook per candidate (or per class) out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from e2docs.formats.atomic import atomic_write
from e2docs.formats.gridfile import load_grid
from e2docs.formats.naming import candidate_stem, safe_part
from e2docs.formats.roster import Roster, read_roster
from e2docs.formats.xlsx import integrity
from e2docs.formats.xlsx.writer import DEFAULT_PASSWORD, Options, Written, render_candidate, write_class_workbook
from e2docs.model.academies import academie_of
from e2docs.model.candidate import Candidate, Context
from e2docs.model.errors import E2docsError, os_error_fr
from e2docs.model.grid import Grid

if TYPE_CHECKING:
    from e2docs.app.campaign import Campaign


@dataclass
class GenerationReport:
    """What a generation did: the roster read (with its ignored rows), the output folder, the workbooks written."""

    roster: Roster
    outdir: Path
    written: list[Written] = field(default_factory=list)


def context_for(roster: Roster, session: str | None, school: str | None, academie: str | None) -> Context:
    """Session, school and académie: what the user said, else what the roster tells."""
    return Context(
        session=session or roster.session or "",
        school=school or roster.school or "",
        academie=academie if academie is not None else academie_of(roster.uai),
    )


def workbook_name(cand: Candidate, grid: Grid) -> str:
    """The file name of a candidate's workbook (``NOM_Prénom_31214_<numéro>.xlsx``)."""
    return candidate_stem(cand, grid.specialty) + ".xlsx"


def class_workbook_name(cands: Sequence[Candidate], grid: Grid, ctx: Context) -> str:
    """The file name of a class workbook (``Classe_<divisions>_<spécialité>_<session>.xlsx``)."""
    divisions = sorted({c.division for c in cands if c.division})
    label = safe_part("-".join(divisions) or "classe")
    return f"Classe_{label}_{grid.specialty}_{safe_part(ctx.session or 'session')}.xlsx"


def generate_workbooks(
    cands: Sequence[Candidate],
    grid: Grid,
    ctx: Context,
    outdir: Path,
    *,
    options: Options,
    per: str = "candidate",
    force: bool = False,
) -> list[Written]:
    """Write the workbooks into ``outdir`` (``per``: ``"candidate"`` or ``"class"``).

    Raises :class:`E2docsError`, before writing anything, when a workbook already exists and
    ``force`` is false, or when ``outdir`` cannot be created.
    """
    outdir = Path(outdir)
    if per == "class":
        targets = [outdir / class_workbook_name(cands, grid, ctx)]
    else:
        targets = [outdir / workbook_name(c, grid) for c in cands]
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        names = ", ".join(t.name for t in existing[:3]) + (" …" if len(existing) > 3 else "")
        raise E2docsError(
            f"{len(existing)} classeur(s) existe(nt) déjà ({names}) : rien n'a été écrit.",
            outdir,
            hint="Choisissez un autre dossier, ou ajoutez --force pour les remplacer "
            "(les classeurs déjà remplis seraient perdus).",
        )
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise E2docsError(f"impossible de créer le dossier ({os_error_fr(exc)}).", outdir) from None
    if per == "class":
        return [write_class_workbook(targets[0], grid, cands, ctx, options)]
    written = []
    for cand, target in zip(cands, targets, strict=False):
        data, meta = render_candidate(grid, cand, ctx, options)
        atomic_write(target, data)
        written.append(Written(target, (meta,)))
    return written


def generate_from_roster(
    roster_path: Path,
    outdir: Path,
    *,
    grid_path: Path | None = None,
    session: str | None = None,
    school: str | None = None,
    academie: str | None = None,
    per: str = "candidate",
    password: str | None = None,
    force: bool = False,
    secret: bytes | None = None,
    campaign_id: str = "",
) -> GenerationReport:
    """Read the roster and grid, then write the workbooks, outside any campaign.

    ``session``, ``school``, ``academie``: ``None`` to take them from the roster. ``secret``:
    the signing key, ``None`` for the public one; ``password``: ``None`` for the default.
    Raises :class:`E2docsError` (unreadable roster or grid, existing workbooks…) before any
    file is written.
    """
    grid = load_grid(grid_path)
    roster = read_roster(roster_path, specialty=grid.specialty)
    ctx = context_for(roster, session, school, academie)
    options = Options(
        password=password or DEFAULT_PASSWORD, secret=secret or integrity.PUBLIC_SECRET, campaign_id=campaign_id
    )
    report = GenerationReport(roster, Path(outdir))
    report.written = generate_workbooks(
        roster.candidates, grid, ctx, Path(outdir), options=options, per=per, force=force
    )
    return report


def generate_in_campaign(campaign: Campaign, *, per: str = "candidate", force: bool = False) -> GenerationReport:
    """Write the campaign's workbooks into ``envoi/``, signed with its secret, and record them in its
    ledger. Raises :class:`E2docsError` as :func:`generate_workbooks` does."""
    from e2docs.app.campaign import now

    grid = campaign.grid()
    with campaign.ledger() as ledger:
        cands = ledger.candidates()
        options = Options(
            password=campaign.password, secret=campaign.secret, campaign_id=campaign.id, generated_at=now()
        )
        written = generate_workbooks(
            cands, grid, campaign.context, campaign.root / "envoi", options=options, per=per, force=force
        )
        ledger.record_generated(
            (m["candidate_number"], w.path.name, m["signature"], m["generated_at"]) for w in written for m in w.metas
        )
    roster = Roster(campaign.root / campaign.settings.get("liste", ""), "campagne", tuple(cands))
    report = GenerationReport(roster, campaign.root / "envoi")
    report.written = written
    return report
