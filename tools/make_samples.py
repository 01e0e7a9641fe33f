"""Rebuild ``samples/retours/``: demo returns typed into generated workbooks by real LibreOffice.

Run by hand after any change to the grid or the workbook layout (a test checks the
bundled returns are still accepted by the demo campaign)::

    python tools/make_samples.py

The demo campaign has a fixed id and secret (``e2docs.demo``), so these returns
belong to every campaign ``e2docs demo`` creates. Typing goes through LibreOffice's
dispatcher, as a teacher's keyboard would, in a French-locale profile.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from e2docs.app.campaign import create_campaign  # noqa: E402
from e2docs.app.demo import DEMO_ID, DEMO_SECRET, sample_path  # noqa: E402
from e2docs.app.generate import generate_in_campaign  # noqa: E402
from e2docs.formats.xlsx import names  # noqa: E402
from tests.lo.lo import LibreOffice  # noqa: E402

GRID = "Grille E2"
PROSP = "Opération de prospection"

# number → (levels per criterion C1.1…C4.4, commission mark, observations, prospecting values)
PLANS = {
    "2709411021": (
        [3, 3, 2, 3, 4, 3, 2, 3, 3],
        None,
        "Bonne maîtrise du fichier prospects ; l'analyse des écarts reste un peu rapide.",
        "salon",
    ),
    "2709411047": (
        [4, 4, 3, 4, 4, 3, 4, 4, 3],
        None,
        "Excellente opération : cible justifiée, relances suivies, compte rendu clair & précis.",
        "phoning",
    ),
    "2709411050": (
        [2, 2, 2, 3, 2, 2, 1, 2, 2],
        "10,5",
        "Opération menée avec sérieux ; argumentation encore fragile face aux objections.",
        "porte",
    ),
    "2709411063": (
        [3, 2, 3, 3, 3, 2, 3, 3, 2],
        None,
        "Démarche structurée, supports de communication soignés.",
        "emailing",
    ),
    "2709411089": (
        [1, 2, 2, 2, 1, 2, 2, 1, 2],
        None,
        "Des progrès à faire dans l'exploitation du SIC et la qualification des contacts.",
        "phoning",
    ),
    "2709411092": ([3, 3, 3, None, None, None, None, None, None], None, "", "salon"),  # incomplete
    "2709411105": (
        [4, 3, 3, 3, 4, 4, 3, 3, 4],
        "16",
        "Très bon « Prospecteur » : la commission relève la note pour la qualité du suivi.",
        "reseaux",
    ),
    "2709411121": (
        [2, 3, 3, 2, 3, 3, 2, 3, 2],
        None,
        "Travail régulier. L'entreprise « Dupont & Fils <SARL> » souligne sa ponctualité.",
        "sms",
    ),
    "2709411134": (
        [3, 3, "both", 3, 3, 3, 3, 3, 3],
        None,
        "Deux niveaux cochés par erreur sur C2.2.",
        "phoning",
    ),  # two X's: rejected
}

PROSPECTING = {
    "salon": dict(
        organisation="Cuisines Morel",
        secteur="Ameublement de cuisine",
        offre="Cuisines équipées sur mesure",
        cible="Jeunes propriétaires du bassin de Villefictive",
        choix_cible="Fichier clients : 60 % des ventes réalisées auprès de primo-accédants.",
        debut="06/03/2027",
        fin="19/03/2027",
        obj_contacts="80",
        obj_rdv="20",
        obj_ventes="6",
        obj_ca="18000",
        res_contacts="72",
        res_rdv="17",
        res_ventes="5",
        res_ca="16250",
        res_argumentes="40",
        res_prospects="25",
        moy_personnes="3",
        moy_budget="450",
        tech="tech_salon",
    ),
    "phoning": dict(
        organisation="Optique Vision Plus",
        secteur="Optique",
        offre="Bilan visuel gratuit et lunettes progressives",
        cible="Clients inactifs depuis plus de deux ans",
        choix_cible="Relancer la clientèle dormante avant l'ouverture du second magasin.",
        debut="01/03/2027",
        fin="14/03/2027",
        obj_contacts="120",
        obj_rdv="30",
        obj_ventes="10",
        obj_ca="4500",
        res_contacts="131",
        res_rdv="34",
        res_ventes="12",
        res_ca="5180",
        res_argumentes="66",
        res_prospects="41",
        moy_personnes="2",
        moy_budget="120",
        tech="tech_phoning",
    ),
    "porte": dict(
        organisation="Jardins d'Île-de-France",
        secteur="Paysagisme",
        offre="Contrat d'entretien annuel",
        cible="Maisons individuelles avec jardin",
        choix_cible="Zone pavillonnaire proche du dépôt : frais de déplacement réduits.",
        debut="08/03/2027",
        fin="12/03/2027",
        obj_contacts="100",
        obj_rdv="15",
        obj_ventes="4",
        obj_ca="3200",
        res_contacts="64",
        res_rdv="9",
        res_ventes="2",
        res_ca="1600",
        res_argumentes="30",
        res_prospects="12",
        moy_personnes="2",
        moy_budget="80",
        tech="tech_porte_a_porte",
    ),
    "emailing": dict(
        organisation="Imprimerie Lefèvre",
        secteur="Imprimerie, communication",
        offre="Supports imprimés pour les associations",
        cible="Associations sportives du département",
        choix_cible="Période de renouvellement des licences : besoins en affiches et flyers.",
        debut="15/03/2027",
        fin="26/03/2027",
        obj_contacts="200",
        obj_rdv="12",
        obj_ventes="5",
        obj_ca="2500",
        res_contacts="210",
        res_rdv="8",
        res_ventes="4",
        res_ca="1900",
        res_argumentes="25",
        res_prospects="18",
        moy_personnes="1",
        moy_budget="60",
        tech="tech_emailing",
    ),
    "reseaux": dict(
        organisation="Vélo Vert",
        secteur="Cycles et mobilité",
        offre="Vélos à assistance électrique, location longue durée",
        cible="Salariés des entreprises de la zone d'activités",
        choix_cible="Plan de mobilité des entreprises : prime employeur disponible.",
        debut="01/03/2027",
        fin="21/03/2027",
        obj_contacts="150",
        obj_rdv="25",
        obj_ventes="8",
        obj_ca="9600",
        res_contacts="168",
        res_rdv="29",
        res_ventes="9",
        res_ca="10800",
        res_argumentes="52",
        res_prospects="37",
        moy_personnes="2",
        moy_budget="300",
        tech="tech_reseaux_sociaux",
    ),
    "sms": dict(
        organisation="Boulangerie Aux Délices",
        secteur="Boulangerie-pâtisserie",
        offre="Plateaux traiteur pour les entreprises",
        cible="PME de moins de 50 salariés",
        choix_cible="Demande de repas d'affaires en hausse dans la zone.",
        debut="02/03/2027",
        fin="13/03/2027",
        obj_contacts="90",
        obj_rdv="10",
        obj_ventes="6",
        obj_ca="1800",
        res_contacts="85",
        res_rdv="11",
        res_ventes="6",
        res_ca="1950",
        res_argumentes="31",
        res_prospects="20",
        moy_personnes="2",
        moy_budget="90",
        tech="tech_sms",
    ),
}

TEXTS = {
    "obj_qualitatifs": "Améliorer la notoriété locale ; recueillir les attentes des prospects.",
    "moy_materiel": "Ordinateur portable, téléphone, plaquettes commerciales, fichier prospects.",
    "outils": "Script d'appel, fiche prospect, plan de tournée, argumentaire CAP.",
    "causes_ecarts": "Météo défavorable la deuxième semaine ; fichier en partie obsolète.",
    "actions_correctives": "Mettre à jour le fichier avant l'opération ; prévoir des relances par e-mail.",
    "suivi_contacts": "Relance téléphonique à J+7 des prospects chauds ; envoi d'un devis sous 48 h.",
}


def entries_for(layout, plan) -> tuple[list, list]:
    levels, commission, observations, kind = plan
    n = layout.named
    grid_entries = [
        [n["commission_prof_nom"].ref, "Mme Claire Lambert"],
        [n["commission_prof_fonction"].ref, "Professeure d'économie-gestion"],
        [n["commission_pro_nom"].ref, "M. Karim Benali"],
        [n["commission_pro_fonction"].ref, "Responsable commercial"],
        [n["commission_date"].ref, "02/04/2027"],
    ]
    for cr, lvl in zip(layout.grid.criteria, levels, strict=False):
        if lvl == "both":
            grid_entries += [[n[names.level(cr.id, 2)].ref, "X"], [n[names.level(cr.id, 3)].ref, "X"]]
        elif lvl:
            grid_entries.append([n[names.level(cr.id, lvl)].ref, "X"])
    for comp in layout.grid.competences[:-1]:
        grid_entries.append([n[names.competence(comp.id)].ref, "X"])
    if commission:
        grid_entries.append([n["note_commission"].ref, commission])
    if observations:
        grid_entries.append([n["observations"].ref, observations])
    values = dict(PROSPECTING[kind])
    tech = values.pop("tech")
    prosp_entries = [[n[names.prospecting(k)].ref, v] for k, v in {**values, **TEXTS}.items()]
    prosp_entries.append([n[names.prospecting(tech)].ref, "X"])
    return grid_entries, prosp_entries


def main() -> None:
    out = ROOT / "samples" / "retours"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        campaign, _ = create_campaign(
            tmp / "demo", sample_path("classe-demo.csv"), campaign_id=DEMO_ID, secret=DEMO_SECRET
        )
        report = generate_in_campaign(campaign)
        from e2docs.formats.xlsx.reader import read_workbook

        steps, targets = [], []
        for written in report.written:
            number = written.metas[0]["candidate_number"]
            if number not in PLANS:
                continue
            (reading,) = read_workbook(written.path, secret=campaign.secret)
            grid_entries, prosp_entries = entries_for(reading.layout, PLANS[number])
            target = tmp / "out" / written.path.name
            targets.append(target)
            steps += [
                {"op": "open", "path": str(written.path)},
                {"op": "type_many", "sheet": GRID, "entries": grid_entries},
                {"op": "type_many", "sheet": PROSP, "entries": prosp_entries},
                {"op": "save", "path": str(target)},
                {"op": "close"},
            ]
        (tmp / "out").mkdir()
        office = LibreOffice(tmp / "lo")
        try:
            office.run(steps, timeout=600)
        finally:
            office.cleanup()
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        for target in targets:
            shutil.copyfile(target, out / target.name)
    print(f"{len(targets)} retours écrits dans {out}")


if __name__ == "__main__":
    main()
