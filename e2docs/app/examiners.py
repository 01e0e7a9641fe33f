"""``e2docs assign``: who assesses which candidates, checked against the campaign and stored in its ledger.

The rules (README, « Examinateurs ») :

* a line gives a candidate number or a whole division (both: the candidate, whose division
  must be that one);
* a line naming a candidate overrides a division line: « toute la TMCV1 à Mme Martin, sauf
  2709411021 à M. Durand »;
* one examiner per candidate: a candidate (or a division) given to two examiners is an error;
* every candidate of the campaign has an examiner;
* an import replaces the previous assignment as a whole, in one transaction; any error
  leaves the campaign as it was (exit 2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from e2docs.app.campaign import writes
from e2docs.app.ledger import Ledger
from e2docs.formats.examiners import AssignmentLine, ExaminersError, read_examiners
from e2docs.model.candidate import Candidate
from e2docs.model.examiner import Examiner

if TYPE_CHECKING:
    from e2docs.app.campaign import Campaign


@dataclass
class AssignReport:
    """What ``assign`` stored: ``groups``: each examiner (file order) with their candidates (roster
    order); ``previous``: how many examiners the replaced assignment had (0: the first import);
    ``by_division``, ``by_number``: how many candidates were assigned by a division line, by a
    line of their own."""

    path: Path
    groups: list[tuple[Examiner, list[Candidate]]] = field(default_factory=list)
    previous: int = 0
    by_division: int = 0
    by_number: int = 0


def examiner_groups(ledger: Ledger) -> list[tuple[Examiner, list[Candidate]]]:
    """Each examiner of the campaign (file order) with their candidates (roster order); ``[]`` before
    ``assign``."""
    assignment = ledger.assignment()
    members: dict[str, list[Candidate]] = {}  # examiner's key → candidates, in one pass over the roster
    for c in ledger.candidates():
        if c.number in assignment:
            members.setdefault(assignment[c.number].key, []).append(c)
    return [(e, members.get(e.key, [])) for e in ledger.examiners()]


def _resolve(
    path: Path, lines: tuple[AssignmentLine, ...], cands: list[Candidate]
) -> dict[str, tuple[Examiner, int, bool]]:
    """Candidate number → (examiner, line, by its own line) from the file's lines, checked (module
    docstring); raises :class:`ExaminersError` at the line and column at fault."""
    by_number = {c.number: c for c in cands}
    divisions: dict[str, list[Candidate]] = {}
    for c in cands:
        divisions.setdefault(c.division.casefold(), []).append(c)
    own: dict[str, tuple[Examiner, int]] = {}
    whole: dict[str, tuple[Examiner, int]] = {}  # division (without case) → examiner, line
    for ln in lines:
        if ln.number:
            cand = by_number.get(ln.number)
            if cand is None:
                raise ExaminersError(
                    f"candidat inconnu : le numéro « {ln.number} » n'est pas dans la liste de la campagne.",
                    path,
                    ln.number_place,
                    hint="Recopiez le numéro tel qu'il figure dans la liste des candidats (e2docs status).",
                )
            if ln.division and ln.division.casefold() != cand.division.casefold():
                raise ExaminersError(
                    f"le candidat {cand.full_name} ({cand.number}) est en division « {cand.division} », "
                    f"pas « {ln.division} ».",
                    path,
                    ln.division_place,
                    hint="Corrigez le numéro ou la division (ou laissez la division vide sur une ligne de candidat).",
                )
            before = own.get(cand.number)
            if before is not None and before[0].key != ln.examiner.key:
                raise ExaminersError(
                    f"le candidat {cand.full_name} ({cand.number}) est déjà attribué à {before[0].name} "
                    f"(ligne {before[1]}), ici à {ln.examiner.name}.",
                    path,
                    ln.number_place,
                    hint="Un candidat a un seul examinateur destinataire : gardez l'une des deux lignes.",
                )
            own.setdefault(cand.number, (ln.examiner, ln.line))
        else:
            key = ln.division.casefold()
            if key not in divisions:
                known = ", ".join(sorted({c.division for c in cands if c.division})) or "aucune"
                raise ExaminersError(
                    f"division inconnue : « {ln.division} » (divisions de la campagne : {known}).",
                    path,
                    ln.division_place,
                    hint="Recopiez le nom de la division tel qu'il figure dans la liste des candidats.",
                )
            before = whole.get(key)
            if before is not None and before[0].key != ln.examiner.key:
                raise ExaminersError(
                    f"la division « {ln.division} » est déjà attribuée à {before[0].name} (ligne {before[1]}), "
                    f"ici à {ln.examiner.name}.",
                    path,
                    ln.division_place,
                    hint="Pour partager une division, donnez à l'un des examinateurs une ligne par candidat.",
                )
            whole.setdefault(key, (ln.examiner, ln.line))
    resolved: dict[str, tuple[Examiner, int, bool]] = {}
    for c in cands:
        if c.number in own:
            resolved[c.number] = (*own[c.number], True)
        elif c.division.casefold() in whole:
            resolved[c.number] = (*whole[c.division.casefold()], False)
    orphans = [c for c in cands if c.number not in resolved]
    if orphans:
        names = ", ".join(f"{c.full_name} ({c.number}, {c.division or 'sans division'})" for c in orphans[:10])
        more = f" et {len(orphans) - 10} autre(s)" if len(orphans) > 10 else ""
        raise ExaminersError(
            f"{len(orphans)} candidat(s) sans examinateur : {names}{more}.",
            path,
            hint="Ajoutez une ligne pour chacun (son numéro) ou pour sa division, puis relancez « e2docs assign ».",
        )
    return resolved


@writes("assign")
def assign(campaign: Campaign, path: Path, encoding: str | None = None) -> AssignReport:
    """Read the examiners' file at ``path``, check it against the campaign's candidates and store it,
    replacing the previous assignment as a whole (one transaction). ``encoding`` forces the file's text
    encoding (see :func:`~e2docs.formats.examiners.read_examiners`). Raises :class:`ExaminersError`
    (exit 2, nothing changed) with the line and column at fault."""
    path = Path(path)
    parsed = read_examiners(path, encoding)
    with campaign.ledger() as ledger:
        cands = ledger.candidates()
        resolved = _resolve(path, parsed.lines, cands)
        used = {e.key for e, _, _ in resolved.values()}
        examiners = [e for e in parsed.examiners if e.key in used]  # a division line overridden throughout
        previous = len(ledger.examiners())
        ledger.set_assignment(examiners, {n: (e.email, line) for n, (e, line, _) in resolved.items()})
        report = AssignReport(path, examiner_groups(ledger), previous)
    report.by_number = sum(1 for _, _, own in resolved.values() if own)
    report.by_division = len(resolved) - report.by_number
    return report
