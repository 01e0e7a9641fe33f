"""Fictitious results for trying templates: ``check_template``'s test render, previews, tests.

The data is deliberately awkward: accents, apostrophes, "&" and "<", a long text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from e2docs.formats.gridfile import load_grid
from e2docs.model.candidate import Candidate, Context
from e2docs.model.evaluation import Commission, Evaluation
from e2docs.model.grid import Grid
from e2docs.model.states import CandidateState
from e2docs.reports.context import ClassInfo, ClassRow

CONTEXT = Context("2027", "Lycée professionnel Jean Moulin – Villefictive", "Versailles")

OBSERVATIONS = (
    "Opération de prospection téléphonique menée pour « Dupont & Fils <SARL> » : cible bien justifiée, "
    "objectifs chiffrés cohérents avec les moyens alloués. L'analyse des écarts est pertinente ; "
    "les actions correctives restent un peu générales."
)

PROSPECTING = {
    "organisation": "Dupont & Fils <SARL>",
    "secteur": "Négoce de matériaux de construction",
    "offre": "Gamme d'isolants biosourcés (fibre de bois, ouate de cellulose)",
    "cible": "Artisans couvreurs et plaquistes à moins de 30 km",
    "choix_cible": "Clientèle à fort potentiel, peu démarchée par les concurrents.",
    "debut": dt.date(2027, 1, 5),
    "fin": dt.date(2027, 1, 20),
    "obj_contacts": 100,
    "obj_rdv": 20,
    "obj_ventes": 5,
    "obj_ca": 5000,
    "res_contacts": 80,
    "res_rdv": 14,
    "res_ventes": 6,
    "res_ca": 5250.5,
    "res_argumentes": 42,
    "res_prospects": 11,
    "obj_qualitatifs": "Qualifier dix nouveaux prospects ; faire connaître la gamme.",
    "moy_personnes": 2,
    "moy_budget": 1250,
    "moy_materiel": "Téléphone, logiciel CRM, plaquette",
    "tech_phoning": "X",
    "tech_emailing": "X",
    "tech_autre": "X",
    "tech_autre_precision": "Dépôt de flyers",
    "outils": "Guide d'entretien téléphonique, argumentaire, fichier prospects",
    "causes_ecarts": "Fichier incomplet : 20 % de numéros erronés.",
    "actions_correctives": "Mettre à jour le fichier avant la prochaine opération.",
    "suivi_contacts": "Relance par e-mail à J+7, rendez-vous planifiés dans l'agenda partagé.",
}

LEVELS = {"C1.1": 3, "C2.1": 4, "C2.2": 3, "C3.1": 2, "C3.2": 3, "C4.1": 3, "C4.2": 4, "C4.3": 3, "C4.4": 2}


def sample_candidate(
    number: str = "02709411047", last: str = "D'ALMEIDA", first: str = "Inès", division: str = "TMCV2"
) -> Candidate:
    return Candidate(number, last, first, division, dt.date(2009, 3, 14))


OBSERVED = frozenset({"1.1", "1.2", "2.1", "2.2", "2.4", "3.4", "3.5", "3.6", "4.1", "4.5", "4.6", "4.8"})

COMMISSION = Commission(
    prof_name="Mme Lefèvre-D'Arc Élodie",
    prof_function="Professeure d'économie-gestion",
    pro_name="M. Núñez Óscar",
    pro_function="Directeur commercial, Dupont & Fils",
    date=dt.date(2027, 3, 12),
)


def sample_evaluation(
    candidate: Candidate | None = None,
    levels: Mapping[str, int | None] | None = None,
    observations: str | None = OBSERVATIONS,
    grid: Grid | None = None,
) -> Evaluation:
    """A candidate's return as if a filled workbook had come back (no workbook involved).

    ``levels``: criterion id → level (default :data:`LEVELS`); ``observations``: None for none.
    """
    return Evaluation(
        candidate=candidate or sample_candidate(),
        context=CONTEXT,
        grid=grid or load_grid(),
        levels=LEVELS if levels is None else levels,
        commission=COMMISSION,
        observed=OBSERVED,
        observations=observations or "",
        prospecting=dict(PROSPECTING),
    )


def sample_class_rows() -> list[ClassRow]:
    """A small class: complete, incomplete, not returned and rejected grids."""
    rows = [ClassRow.from_evaluation(sample_evaluation())]
    names = [("03", "MARTIN", "Léa", 4), ("04", "N'DIAYE", "Moussa", 2), ("05", "O'BRIEN", "Chloé", 3)]
    for number, last, first, lvl in names:
        levels = {cid: lvl for cid in LEVELS}
        rows.append(ClassRow.from_evaluation(sample_evaluation(sample_candidate(number, last, first), levels)))
    rows.append(
        ClassRow.from_evaluation(
            sample_evaluation(sample_candidate("06", "ÉLIE", "Zoé"), {"C1.1": 2}, observations=None)
        )
    )
    rows.append(ClassRow(sample_candidate("07", "BERNARD", "Hugo"), CandidateState.MISSING))
    rows.append(
        ClassRow(
            sample_candidate("08", "DURAND & FILS", "Max <test>"), CandidateState.REJECTED, detail="signature invalide"
        )
    )
    return rows


def sample_class_info() -> ClassInfo:
    return ClassInfo(CONTEXT.session, CONTEXT.school, CONTEXT.academie, "TMCV2")
