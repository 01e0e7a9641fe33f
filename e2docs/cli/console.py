"""What the commands print: the French lines and tables built from what the library returns.

Each function takes the data object of one command and returns its lines; the
commands echo them. Nothing here reads or writes files.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from e2docs.model import french
from e2docs.model.states import CandidateState, ReturnState

if TYPE_CHECKING:
    from e2docs.app.campaign import Campaign
    from e2docs.app.collect import CollectReport
    from e2docs.app.demo import DemoRun
    from e2docs.app.documents import ReportResult
    from e2docs.app.examiners import AssignReport
    from e2docs.app.generate import GenerationReport
    from e2docs.app.inspection import InspectResult, IssueJson
    from e2docs.app.ledger import BatchRow, MessageRow, ReturnRow
    from e2docs.app.sending import SendReport
    from e2docs.app.status import CandidateStatus
    from e2docs.formats.roster import Roster
    from e2docs.model.candidate import Context


# ------------------------------------------------------------------ new, generate


def new_lines(campaign: Campaign, roster: Roster) -> list[str]:
    """``new``: the campaign created, the rows ignored, what to do next."""
    lines = [
        f"Campagne créée dans {campaign.root} : {len(roster.candidates)} candidat(s), "
        f"session {campaign.session or '—'}, {campaign.school or '—'}."
    ]
    lines += _encoding_lines(roster)
    if roster.ignored:
        lines.append(f"{len(roster.ignored)} ligne(s) de la liste ignorée(s) (autre spécialité).")
    lines.append(f'Ensuite : e2docs -C "{campaign.root}" generate')
    return lines


def _encoding_lines(roster: Roster) -> list[str]:
    """The encoding a text list was read in, said when it is not UTF-8."""
    if roster.encoding is None or roster.encoding == "UTF-8":
        return []
    return [f"Encodage de la liste : {roster.encoding}."]


def generation_lines(report: GenerationReport) -> list[str]:
    """``generate``: files written (the first five named), rows of the roster ignored (the first ten)."""
    out = [
        f"{sum(len(w.metas) for w in report.written)} candidat(s), "
        f"{len(report.written)} classeur(s) écrit(s) dans {report.outdir}"
    ]
    for w in report.written[:5]:
        out.append(f"  {w.path.name}")
    if len(report.written) > 5:
        out.append(f"  … et {len(report.written) - 5} autre(s)")
    out += _encoding_lines(report.roster)
    ignored = report.roster.ignored
    if ignored:
        out.append(f"{len(ignored)} ligne(s) ignorée(s) dans la liste :")
        for row in ignored[:10]:
            out.append(f"  ligne {row.line} : {row.candidate.full_name} — {row.reason}")
        if len(ignored) > 10:
            out.append(f"  … et {len(ignored) - 10} autre(s)")
    return out


_CONTEXT_FIELDS = (  # (Context attribute, French name, option, key and example in e2docs.toml)
    ("session", "la session", "--session", 'session = "2027"'),
    ("school", "l'établissement", "--school", 'etablissement = "Lycée Jean Moulin"'),
    ("academie", "l'académie", "--academie", 'academie = "Versailles"'),
)


def context_note(context: Context, settings: Path | None = None, created: bool = False) -> list[str]:
    """``new``/``generate``: a note (not an error) when the session, the school or the académie is
    unknown, saying how to give it; no line when all three are known.

    ``settings``: the campaign's ``e2docs.toml`` (``None`` outside a campaign); ``created``: the
    campaign has just been made by ``new`` (nothing generated yet)."""
    missing = [f for f in _CONTEXT_FIELDS if not getattr(context, f[0])]
    if not missing:
        return []
    names = [f[1] for f in missing]
    what = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " ni " + names[-1]
    options = ", ".join(f[2] for f in missing)
    keys = " ; ".join(f[3] for f in missing)
    if settings is None:
        return [
            f"Note : ni la liste ni les options ne donnent {what} : ces cases sont vides dans les classeurs.",
            f"  Pour les remplir, relancez avec {options} (et --force pour remplacer ces classeurs).",
        ]
    if created:
        return [
            f"Note : ni la liste ni les options ne donnent {what} : ces cases seraient vides dans les classeurs.",
            f"  Indiquez-les dans {settings} ({keys}) avant « e2docs generate », "
            f"ou recréez la campagne avec {options}.",
        ]
    return [
        f"Note : les réglages de la campagne ne donnent pas {what} : ces cases sont vides dans les classeurs.",
        f"  Complétez {settings} ({keys}), puis « e2docs generate --force » avant d'envoyer les classeurs.",
    ]


# ------------------------------------------------------------------ inspect


def _placed(issue: IssueJson) -> str:
    """An issue's message after its sheet and cell (either may be ``None``: a workbook-wide issue)."""
    where = ", ".join(
        p
        for p in (
            f"feuille « {issue['sheet']} »" if issue.get("sheet") else "",
            f"cellule {issue['cell']}" if issue.get("cell") else "",
        )
        if p
    )
    return f"{where + ' : ' if where else ''}{issue['message']}"


def inspect_text(result: InspectResult) -> str:
    """``inspect``: the ``inspect --json`` data (``{"files": [entry, …]}``) for a person, one paragraph
    per entry."""
    lines: list[str] = []
    for f in result["files"]:
        lines.append(f"{f['path']}")
        c, g, r = f["candidate"], f["grid"], f["results"]
        if c is None or g is None or r is None:  # a file that could not be read: all three are None
            lines.append(f"  ✗ {f['errors'][0]['message']}")
            lines.append("")
            continue
        lines.append(f"  Candidat : {c['last_name']} {c['first_name']} — N° {c['number']} — {c['division']}")
        lines.append(f"  Grille : {g['id']} version {g['version']}")
        levels = " · ".join(f"{cid} {lvl if lvl else '—'}" for cid, lvl in r["levels"].items())
        lines.append(f"  Niveaux : {levels}")
        proposed = french.mark(Fraction(r["proposed_mark"])) if r["proposed_mark"] is not None else "—"
        final = french.mark(Fraction(r["final_mark"])) if r["final_mark"] is not None else "—"
        lines.append(f"  Note proposée : {proposed} ; note finale : {final}")
        lines.append(f"  État : {r['status']}")
        for e in f["errors"]:
            lines.append(f"  ✗ {_placed(e)}")
        for w in f["warnings"]:
            lines.append(f"  ! {_placed(w)}")
        lines.append("  ✓ Classeur valide." if f["ok"] else "  ✗ Classeur à corriger.")
        lines.append("")
    return "\n".join(lines).rstrip()


# ------------------------------------------------------------------ collect


def collect_lines(report: CollectReport) -> list[str]:
    """``collect``: one line per file (or candidate) with its reasons and warnings, then the tally."""
    lines = []

    def shown(origin: str) -> str:  # the end of a long path is what tells files apart
        return origin if len(origin) <= 60 else "…" + origin[-59:]

    width = max([len(shown(o.origin)) for o in report.outcomes] + [7])
    for o in report.outcomes:
        who = f" — {o.candidate}" if o.candidate else ""
        lines.append(f"{shown(o.origin):<{width}}  {o.state.outcome_label}{who}")
        for reason in o.reasons:
            if o.state != ReturnState.ALREADY:
                lines.append(f"    · {reason}")
        for w in o.warnings:
            lines.append(f"    ! {w}")
        if o.reply is not None:
            lines.append(f"    ↳ {reply_fr(o.reply)}")
    lines.append("")
    box = report.mailbox
    if box is not None:
        line = f"Boîte mail {box.url} : {box.read} message(s) relevé(s), {box.earlier} déjà relevé(s) avant"
        if box.move_to is not None:
            line += f" ; {box.moved} déplacé(s) vers « {box.move_to} »"
            if box.left:
                line += f", {box.left} laissé(s) en place (sans classeur, ou à relire)"
        else:
            line += " ; rien n'a été changé sur le serveur"
        lines.append(line + ".")
        if box.lost:
            lines.append(f"! {box.lost} Ce qui a été relevé avant est enregistré ; relancez la même commande.")
    lines.append("Bilan : " + ", ".join(f"{report.count(s)} {s.tally_label}" for s in ReturnState))
    return lines


def reply_fr(message: MessageRow) -> str:
    """« réponse à l'envoi du 12/03/2027 à Mme Martin » (« à la relance du … » for a reminder)."""
    what = "à la relance" if message.kind == "remind" else "à l'envoi"
    when = message.sent_at or message.created_at
    try:
        day = french.date(dt.datetime.fromisoformat(when))
    except ValueError:
        day = when[:10]
    return f"réponse {what} du {day} à {message.examiner_name}"


# ------------------------------------------------------------------ status


def _mark(value: float | None) -> str:
    """A mark with a decimal comma, « — » when there is none."""
    return "—" if value is None else french.mark(value)


def _missing_fr(missing: list[str]) -> str:
    """What an incomplete grid lacks (``missing``: criterion ids, ``note_finale``, ``observations``)."""
    crits = [m for m in missing if m.startswith("C")]
    parts = []
    if crits:
        parts.append(f"critère(s) {', '.join(crits)}")
    if "note_finale" in missing:
        parts.append("note finale")
    if "observations" in missing:
        parts.append("observations")
    return "manque : " + " ; ".join(parts) if parts else ""


def _when(text: str | None) -> str:
    """An ISO date-time as « 2027-03-18 09:30 » in local time, « — » when unknown."""
    if not text:
        return "—"
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return text[:16].replace("T", " ")
    return f"{when.astimezone() if when.tzinfo else when:%Y-%m-%d %H:%M}"


def _return_line(s: CandidateStatus, h: ReturnRow) -> str:
    """One return in ``status --history``: number, when made and collected, file, state, marks."""
    arrow = "→" if s.retained is not None and h.id == s.retained.id else " "
    state = s.shown_state(h).label + (", relève annulée" if h.undone else "")
    marks = f" {_mark(h.proposed_mark)} / {_mark(h.final_mark)}" if h.state.accepted else ""
    reply = s.replies.get(h.reply_to) if h.reply_to else None
    return (
        f"{'':11}{arrow} n° {h.id:<4} fait {_when(h.made_at):<16}  relevé {_when(h.collected_at)}  "
        f"{h.original_name} ({state}){marks}" + (f" — {reply_fr(reply)}" if reply is not None else "")
    )


_STATUS_HEAD = f"{'N° candidat':<12} {'Nom':<28} {'Division':<9} {'État':<10} {'Proposée':>8} {'Finale':>7}  Retour"


def _candidate_lines(s: CandidateStatus, history: bool, examiner: bool) -> list[str]:
    """One candidate in ``status``: its line (with its examiner when ``examiner``), then the details
    that need attention (every return with ``history``)."""
    lines = []
    c, r = s.candidate, s.current
    marks = s.retained
    proposed = _mark(marks.proposed_mark) if marks else "—"
    final = _mark(marks.final_mark) if marks else "—"
    when = r.imported_at[:10] if r else ""
    line = (
        f"{c.number:<12} {c.full_name[:28]:<28} {c.division[:9]:<9} {s.state.label:<10} "
        f"{proposed:>8} {final:>7}  {when}"
    )
    if examiner:
        line = f"{line:<{len(_STATUS_HEAD) + 4}}  {s.examiner.name if s.examiner else '—'}"
    lines.append(line)
    if s.retained is not None and s.retained.state == ReturnState.INCOMPLETE:
        lines.append(f"{'':13}{_missing_fr(s.retained.missing)}")
    if s.kept and s.retained is not None:
        lines.append(
            f"{'':13}retour n° {s.retained.id} choisi par le secrétariat (e2docs keep ; "
            f"« e2docs keep {c.number} --auto » revient aux règles)"
        )
    if s.state == CandidateState.REVIEW and s.retained is not None:
        newest = s.newer[-1] if s.newer else None
        lines.append(
            f"{'':13}! à vérifier : "
            + (f"le retour plus récent n° {newest.id} ({newest.original_name}) " if newest else "un retour récent ")
            + f"est moins complet que le retour retenu n° {s.retained.id} ({s.retained.original_name}) ; "
            f"gardez le bon avec « e2docs keep {c.number} N° »"
        )
    if s.state == CandidateState.REJECTED and r:
        for reason in r.reasons[:3]:
            lines.append(f"{'':13}· {reason}")
    elif s.conflict:
        lines.append(f"{'':13}! {s.conflict_reason}")
    if s.last_problem and s.state != CandidateState.REJECTED:
        lines.append(
            f"{'':13}! retour plus récent rejeté ({s.last_problem.original_name}) : "
            f"{s.last_problem.reasons[0] if s.last_problem.reasons else ''}"
        )
    if history:
        for h in s.history:
            lines.append(_return_line(s, h))
    return lines


def _tally(statuses: list[CandidateStatus]) -> str:
    """« 3 complet, 1 incomplet, 0 rejeté, 2 non rendu » (« à vérifier » when there is one)."""
    totals = {state: sum(1 for s in statuses if s.state == state) for state in CandidateState}
    shown = [CandidateState.COMPLETE, CandidateState.INCOMPLETE, CandidateState.REJECTED, CandidateState.MISSING]
    if totals[CandidateState.REVIEW]:
        shown.append(CandidateState.REVIEW)
    return ", ".join(f"{totals[k]} {k.label}" for k in shown)


def status_lines(statuses: list[CandidateStatus], history: bool = False) -> list[str]:
    """``status``: one line per candidate (its examiner last, once ``assign`` was run), details for what
    needs attention (every return with ``history``: → marks the retained one), then the totals."""
    examiner = any(s.examiner for s in statuses)
    lines = [f"{_STATUS_HEAD:<{len(_STATUS_HEAD) + 4}}  Examinateur" if examiner else _STATUS_HEAD]
    for s in statuses:
        lines += _candidate_lines(s, history, examiner)
    lines.append("")
    lines.append(f"Total : {len(statuses)} candidat(s) — {_tally(statuses)}")
    return lines


def status_by_examiner_lines(statuses: list[CandidateStatus], history: bool = False) -> list[str]:
    """``status --by-examiner``: a block per examiner (name, address, tally, then their candidates as
    ``status`` shows them), candidates without an examiner last, then the totals."""
    groups: dict[str, list[CandidateStatus]] = {}
    for s in statuses:
        groups.setdefault(s.examiner.key if s.examiner else "", []).append(s)
    lines: list[str] = []
    if "" in groups and len(groups) == 1:
        lines.append("Aucun examinateur dans cette campagne : importez-les avec « e2docs assign FICHIER ».")
        lines.append("")
    for _, members in sorted(groups.items(), key=lambda kv: kv[0] == ""):
        who = members[0].examiner
        title = f"{who.name} <{who.email}>" if who else "Sans examinateur"
        lines.append(f"{title} — {len(members)} candidat(s) : {_tally(members)}")
        lines.append("  " + _STATUS_HEAD)
        for s in members:
            lines += ["  " + line for line in _candidate_lines(s, history, False)]
        lines.append("")
    lines.append(
        f"Total : {len(statuses)} candidat(s), {len([k for k in groups if k])} examinateur(s) — {_tally(statuses)}"
    )
    return lines


# ------------------------------------------------------------------ assign


def assign_lines(report: AssignReport) -> list[str]:
    """``assign``: how many examiners and candidates, each examiner with their count, what was replaced."""
    total = sum(len(members) for _, members in report.groups)
    lines = [
        f"{len(report.groups)} examinateur(s), {total} candidat(s) attribué(s) "
        f"({report.by_division} par division, {report.by_number} par numéro) depuis {report.path}."
    ]
    for examiner, members in report.groups:
        lines.append(f"  {examiner.name} <{examiner.email}> : {len(members)} candidat(s)")
    if report.previous:
        lines.append(f"L'attribution précédente ({report.previous} examinateur(s)) est remplacée.")
    lines.append("Ensuite : e2docs generate --per examiner (facultatif), puis e2docs send --deadline JJ/MM/AAAA")
    return lines


def assign_json(report: AssignReport) -> dict:
    """``assign --json``: ``examiners`` (each ``name``, ``email``, ``candidates``: their numbers, roster
    order), ``candidates`` (how many assigned), ``replaced`` (examiners of the previous assignment, 0
    for the first)."""
    return {
        "examiners": [
            {"name": e.name, "email": e.email, "candidates": [c.number for c in members]}
            for e, members in report.groups
        ],
        "candidates": sum(len(members) for _, members in report.groups),
        "replaced": report.previous,
    }


# ------------------------------------------------------------------ send, remind

_SENT_LABELS = {
    "drafted": "brouillon écrit",
    "sent": "envoyé",
    "failed": "refusé par le serveur",
    "not_sent": "non envoyé (connexion perdue)",
    "skipped": "rien à envoyer",
}


def send_lines(report: SendReport) -> list[str]:
    """``send``/``remind``: one line per examiner (what became of their message, attachments, file),
    then the tally and what to do."""
    what = "relance" if report.kind == "remind" else "envoi"
    lines = []
    for o in report.outcomes:
        label = _SENT_LABELS.get(o.status, o.status)
        detail = f" ({o.error})" if o.error else ""
        count = f", {len(o.candidates)} candidat(s), {len(o.attachments)} pièce(s) jointe(s)" if o.attachments else ""
        lines.append(f"{o.examiner.name} <{o.examiner.email}> : {label}{detail}{count}")
        if o.path is not None:
            lines.append(f"    {o.path}")
    lines.append("")
    if report.transport == "draft":
        lines.append(
            f"Bilan ({what}) : {report.count('drafted')} brouillon(s) dans {report.where}, "
            f"{report.count('skipped')} examinateur(s) sans message."
        )
        if report.count("drafted"):
            lines.append(
                "Ouvrez chaque brouillon pour l'envoyer : Outlook l'ouvre prêt à envoyer ; Thunderbird : "
                "Fichier > Ouvrir un message enregistré, puis « Modifier en tant que nouveau message »."
            )
    else:
        lines.append(
            f"Bilan ({what}, {report.where}) : {report.count('sent')} envoyé(s), {report.count('failed')} refusé(s), "
            f"{report.count('not_sent')} non envoyé(s), {report.count('skipped')} sans message."
        )
        if report.lost:
            lines.append(f"Arrêt : {report.lost}")
        if report.count("failed") or report.count("not_sent"):
            lines.append(
                "Relancez la même commande une fois la cause réglée : elle n'envoie que ce qui ne l'a pas été."
            )
    return lines


def send_json(report: SendReport) -> dict:
    """``send``/``remind --json``: ``kind`` (``send``, ``remind``), ``transport`` (``draft``,
    ``smtp``), ``where``, ``messages`` (per examiner: ``examiner`` {``name``, ``email``},
    ``status`` — ``drafted``, ``sent``, ``failed``, ``not_sent``, ``skipped`` —, ``message_id``,
    ``candidates`` [{``number``, ``state``}], ``attachments`` (names), ``path`` (draft) or
    ``None``, ``error``), ``totals`` (status → count), ``lost`` (why the connection broke, ``""``)."""
    return {
        "kind": report.kind,
        "transport": report.transport,
        "where": report.where,
        "messages": [
            {
                "examiner": {"name": o.examiner.name, "email": o.examiner.email},
                "status": o.status,
                "message_id": o.message_id,
                "candidates": [{"number": c.number, "state": str(st)} for c, st in o.candidates],
                "attachments": o.attachments,
                "path": str(o.path) if o.path else None,
                "error": o.error,
            }
            for o in report.outcomes
        ],
        "totals": {k: report.count(k) for k in _SENT_LABELS},
        "lost": report.lost,
    }


# ------------------------------------------------------------------ keep, undo


def keep_lines(status: CandidateStatus) -> list[str]:
    """``keep``: the return now retained for the candidate, and how it was chosen."""
    c, r = status.candidate, status.retained
    who = f"{c.full_name} ({c.number})"
    if r is None:
        return [f"{who} : aucun retour ne compte selon les règles (état : {status.state.label})."]
    what = f"retour n° {r.id} ({r.original_name}), {r.state.label}, note finale {_mark(r.final_mark)}"
    if status.kept:
        return [
            f"{who} : {what} retenu.",
            f"Il le reste jusqu'au prochain « e2docs keep » ; « e2docs keep {c.number} --auto » revient aux règles.",
        ]
    return [f"{who} : retour retenu selon les règles : {what} (état : {status.state.label})."]


def undo_lines(batch: BatchRow) -> list[str]:
    """``undo``: the ``collect`` run cancelled."""
    return [
        f"Relève n° {batch.id} du {_when(batch.started_at)} annulée : ses {batch.returns} retour(s) ne comptent plus.",
        "Les fichiers restent archivés dans retours/ ; les relever à nouveau les enregistre comme des nouveaux.",
    ]


# ------------------------------------------------------------------ report


NAMES_SHOWN = 20
"""Names a line of ``report`` lists before « … et N autre(s) » (a whole académie has hundreds of
incomplete grids: ``e2docs status`` lists every candidate)."""


def _names(names: list[str]) -> str:
    """``names`` joined by commas, the first :data:`NAMES_SHOWN` only when there are more."""
    if len(names) <= NAMES_SHOWN:
        return ", ".join(names)
    rest = len(names) - NAMES_SHOWN
    return f"{', '.join(names[:NAMES_SHOWN])} … et {rest} autre(s) (liste complète : e2docs status)"


def report_lines(result: ReportResult) -> list[str]:
    """``report``: documents written, PROVISOIRE ones, candidates without documents, stale ones removed."""
    out = [f"{len(result.written)} document(s) Word écrit(s) dans {result.outdir}"]
    if result.pdfs:
        out.append(f"{len(result.pdfs)} PDF écrit(s)")
    if result.provisional:
        out.append(f"Documents marqués PROVISOIRE (grille incomplète) : {_names(result.provisional)}")
    if result.skipped:
        skipped = [f"{s.candidate.full_name} ({s.state.label})" for s in result.skipped]
        out.append(f"Sans document individuel : {_names(skipped)}")
    if result.beside:
        out.append(
            f"{len(result.beside)} document(s) modifié(s) depuis qu'e2docs les a écrits, conservé(s) ; "
            "la nouvelle version est écrite à côté :"
        )
        for kept, new in result.beside:
            out.append(f"  {kept.name} → {new.name}")
    if result.removed:
        out.append(f"{len(result.removed)} ancien(s) document(s) périmé(s) retiré(s) de {result.outdir}")
    if result.kept:
        out.append(
            f"{len(result.kept)} ancien(s) document(s) périmé(s) conservé(s), car modifié(s) depuis qu'e2docs "
            "les a écrits (ne les imprimez pas avec les autres ; supprimez-les s'ils ne servent plus) :"
        )
        out += [f"  {path.name}" for path in result.kept]
    return out


# ------------------------------------------------------------------ demo


def demo_lines(run: DemoRun) -> list[str]:
    """``demo``: each step of the pipeline with its own output, then where to look."""
    root = run.campaign.root
    lines = [
        "Démonstration e2docs — classe fictive (samples/classe-demo.csv)",
        "",
        f"1. Campagne créée : {root} ({len(run.roster.candidates)} candidats, "
        f"{len(run.roster.ignored)} ligne(s) d'une autre spécialité ignorée(s))",
        f"2. {len(run.generation.written)} classeurs générés dans {root / 'envoi'}",
        f"3. Relève de {len(run.returns)} retours remplis dans LibreOffice (samples/retours/) :",
    ]
    lines += ["   " + line for line in collect_lines(run.collected) if line]
    lines.append("4. État de la campagne (e2docs status) :")
    lines += ["   " + line for line in status_lines(run.statuses)]
    lines.append(f"5. Synthèse établissement : {run.summary}")
    if run.reports is not None:
        lines.append(f"6. Documents Word : {len(run.reports.written)} fichier(s) dans {run.reports.outdir}")
    first = run.generation.written[0].path
    lines += [
        "",
        "À regarder :",
        f"  - un classeur à remplir : {first}",
        "    (ouvrez-le dans Excel ou LibreOffice Calc : tapez X dans les colonnes de niveau ;",
        "     seules les cellules vertes sont modifiables ; orange : critère encore sans X ;",
        "     la note se calcule seule ; le mode d'emploi est en haut de la grille)",
        f"  - la synthèse : {run.summary}",
        f"  - les documents Word : {root / 'rapports'}",
        f'  - puis, par exemple : e2docs -C "{root}" status --history',
    ]
    return lines
