"""``e2docs send`` and ``e2docs remind``: one message per examiner, as drafts or over SMTP, recorded in the ledger.

What goes to each examiner:

* ``send``: their candidates' workbooks as generated last (``envoi/``: one per candidate, or
  their workbook of ``generate --per examiner``); a workbook holding candidates of another
  examiner (a class workbook) is never attached: the batch is refused before anything goes;
* ``remind``: their candidates still missing (nothing returned, or only rejected returns),
  with the workbook sent, and those incomplete, with the last returned file (the retained
  return, as archived in ``retours/``), listed in the body.

Every message gets a ``Message-ID`` recorded in the ledger (:class:`~e2docs.app.ledger.MessageRow`)
with the examiner, the kind, the time, the candidates and the files attached.

Re-running: a message the SMTP server accepted is recorded as ``sent`` at once (killed between the
two, that one message goes again on the re-run: the only duplicate possible); a re-run skips
the examiners whose ``send`` already went out for all their selected candidates, and those whose
last ``remind`` that went out listed the same candidates in the same states (``resend`` forces).
Drafts are always rewritten (nobody knows whether a draft was sent). A refusal of one message
is recorded as ``failed`` and the others go on; a lost connection stops the batch (exit 3 when
part of it went out), and the same command run again sends the rest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from e2docs.app.campaign import EXIT_PARTIAL, now
from e2docs.app.examiners import examiner_groups
from e2docs.app.ledger import Ledger, MessageRow, ReturnRow
from e2docs.app.status import candidate_statuses
from e2docs.app.written import Record, free_target, write_file
from e2docs.formats import mail
from e2docs.formats.naming import safe_part
from e2docs.model import french
from e2docs.model.candidate import Candidate
from e2docs.model.errors import E2docsError
from e2docs.model.examiner import Examiner
from e2docs.model.states import CandidateState

if TYPE_CHECKING:
    from e2docs.app.campaign import Campaign

DRAFTS = "brouillons"
"""The campaign's folder for drafts (``send``/``remind`` without ``--smtp``)."""

ONLY = {
    "manquants": (CandidateState.MISSING, CandidateState.REJECTED),
    "missing": (CandidateState.MISSING, CandidateState.REJECTED),
    "incomplets": (CandidateState.INCOMPLETE,),
    "incomplete": (CandidateState.INCOMPLETE,),
}
"""``--only`` values (French, and the English of the issue) → the candidate states they keep."""

REMINDED = (CandidateState.MISSING, CandidateState.REJECTED, CandidateState.INCOMPLETE)
"""The states a reminder is about: nothing usable returned yet, or an incomplete grid."""

_T = TypeVar("_T")
Progress = Callable[[Iterable[_T]], Iterator[_T]]

_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


@dataclass
class Outcome:
    """One examiner in the batch.

    ``status``: ``"drafted"`` (``path``: the ``.eml``), ``"sent"``, ``"failed"`` (``error``: the
    server's refusal, French), ``"not_sent"`` (the connection was lost before it) or ``"skipped"``
    (``error``: why — already sent, nothing to remind); ``candidates``: (candidate, state) listed;
    ``attachments``: the file names attached; ``message_id``: ``""`` unless drafted or sent/failed.
    """

    examiner: Examiner
    status: str
    candidates: list[tuple[Candidate, CandidateState]] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)
    message_id: str = ""
    path: Path | None = None
    error: str = ""


@dataclass
class SendReport:
    """What ``send``/``remind`` did: ``kind`` (``"send"``, ``"remind"``), ``transport`` (``"draft"``,
    ``"smtp"``), ``where`` (the drafts folder, or the server as ``smtp://…``), ``outcomes`` (one
    per examiner considered, in the assignment's order), ``lost``: the connection broke (French
    reason) and the rest was not sent, ``""`` else."""

    kind: str
    transport: str
    where: str
    outcomes: list[Outcome] = field(default_factory=list)
    lost: str = ""

    def count(self, status: str) -> int:
        """How many examiners ended with ``status``."""
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def exit_code(self) -> int:
        """0 when every message due went out (or was drafted); 1 when the server refused some;
        3 when the connection was lost midway (:data:`~e2docs.app.campaign.EXIT_PARTIAL`)."""
        if self.lost:
            return EXIT_PARTIAL if self.count("sent") else 2
        return 1 if self.count("failed") else 0


@dataclass
class _Planned:
    examiner: Examiner
    candidates: list[tuple[Candidate, CandidateState]]
    files: list[tuple[str, Path]]  # (name attached, file)


def parse_deadline(text: str) -> dt.date:
    """``JJ/MM/AAAA`` (also ``AAAA-MM-JJ``) as a date; :class:`E2docsError` otherwise."""
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise E2docsError(
        f"date limite illisible : « {text} ».", hint="Écrivez-la au format JJ/MM/AAAA, par exemple 26/03/2027."
    )


def deadline_fr(day: dt.date) -> str:
    """« vendredi 26/03/2027 »."""
    return f"{_WEEKDAYS[day.weekday()]} {french.date(day)}"


def send(
    campaign: Campaign,
    *,
    kind: str = "send",
    deadline: dt.date | None = None,
    drafts: Path | None = None,
    smtp: mail.SmtpUrl | None = None,
    password: str | None = None,
    sender: str | None = None,
    only: str | None = None,
    to: Sequence[str] = (),
    resend: bool = False,
    progress: Progress | None = None,
) -> SendReport:
    """Prepare one message per examiner (``kind`` ``"send"`` or ``"remind"``: module docstring) and
    write it as a draft into ``drafts`` (default: the campaign's ``brouillons/``) or, with ``smtp``,
    send it with ``password`` from ``sender`` (default: the setting ``expediteur``).

    ``deadline``: the date to return the grids by (required for ``send``; for ``remind``,
    ``None`` takes the one of the last ``send`` to that examiner). ``only``: a key of :data:`ONLY`;
    ``to``: examiners' addresses or names (without case), all when empty. Everything is checked
    before any message is written or sent: :class:`E2docsError` (exit 2) for no assignment, an
    unknown examiner, a workbook not generated or holding another examiner's candidates, a
    missing sender for SMTP, a server that cannot be used.
    """
    transport = "smtp" if smtp is not None else "draft"
    sender = sender or campaign.settings.get("expediteur") or None
    if sender is not None:
        from e2docs.formats.examiners import valid_address

        if not valid_address(sender):
            raise E2docsError(
                f"adresse d'expéditeur invalide : « {sender} ».",
                campaign.root / "e2docs.toml",
                hint='Donnez --from adresse@domaine.fr (ou expediteur = "…" dans e2docs.toml).',
            )
    if smtp is not None and sender is None:
        raise E2docsError(
            "adresse d'expéditeur manquante pour l'envoi par SMTP : rien n'a été envoyé.",
            hint='Donnez --from secretariat@lycee.fr, ou ajoutez expediteur = "secretariat@lycee.fr" dans e2docs.toml.',
        )
    if kind == "send" and deadline is None:
        raise E2docsError(
            "date limite manquante : le message dit aux examinateurs pour quand rendre les grilles.",
            hint="Donnez --deadline JJ/MM/AAAA.",
        )
    with campaign.writing(kind), campaign.ledger() as ledger:
        plans = _plan(campaign, ledger, kind, only, to, resend)
        report = SendReport(kind, transport, str(smtp) if smtp else str(drafts or campaign.root / DRAFTS))
        due = [p for p in plans if isinstance(p, _Planned)]
        report.outcomes = [p if isinstance(p, Outcome) else Outcome(p.examiner, "pending") for p in plans]
        by_key = {o.examiner.key: o for o in report.outcomes}
        domain = sender.split("@")[1] if sender else "e2docs.invalid"
        items: Iterable[_Planned] = progress(due) if progress and due else due
        if smtp is None:
            _draft_all(campaign, ledger, kind, items, by_key, drafts, sender, deadline, domain)
        else:
            assert sender is not None
            _send_all(campaign, ledger, kind, items, by_key, smtp, password, sender, deadline, domain, report)
    return report


# ------------------------------------------------------------------ planning


def _plan(
    campaign: Campaign, ledger: Ledger, kind: str, only: str | None, to: Sequence[str], resend: bool
) -> list[_Planned | Outcome]:
    """Each examiner of the batch: what to send (:class:`_Planned`) or why not (:class:`Outcome`
    ``skipped``). Raises :class:`E2docsError` for what must stop the whole batch."""
    groups = examiner_groups(ledger)
    if not groups:
        raise E2docsError(
            "aucun examinateur dans cette campagne : rien n'a été préparé.",
            campaign.root,
            hint="Importez d'abord la liste des examinateurs : e2docs assign examinateurs.csv",
        )
    if to:
        wanted = {t.casefold().strip() for t in to}
        known = {e.key for e, _ in groups} | {e.name.casefold() for e, _ in groups}
        unknown = sorted(w for w in wanted if w not in known)
        if unknown:
            names = ", ".join(f"{e.name} <{e.email}>" for e, _ in groups)
            raise E2docsError(
                f"examinateur inconnu : {', '.join(unknown)} (examinateurs de la campagne : {names}).",
                campaign.root,
                hint="Donnez --to avec l'adresse ou le nom d'un examinateur (e2docs status --by-examiner).",
            )
        groups = [(e, m) for e, m in groups if e.key in wanted or e.name.casefold() in wanted]
    states = {s.candidate.number: s for s in candidate_statuses(ledger)}
    keep = ONLY[only] if only else (tuple(CandidateState) if kind == "send" else REMINDED)
    if kind == "remind":
        keep = tuple(k for k in keep if k in REMINDED)
    generated = ledger.generated()
    holders: dict[str, list[str]] = {}  # file name → the candidates whose latest workbook it is
    for num, generated_row in generated.items():
        holders.setdefault(generated_row["file_name"], []).append(num)
    assignment = ledger.assignment()
    plans: list[_Planned | Outcome] = []
    for examiner, members in groups:
        chosen = [(c, states[c.number].state) for c in members if states[c.number].state in keep]
        history = [m for m in ledger.messages(examiner.email) if m.kind == kind and m.status == "sent"]
        if not chosen:
            plans.append(Outcome(examiner, "skipped", error="aucun candidat concerné"))
            continue
        if not resend and kind == "send":
            done = {c["number"] for m in history for c in m.candidates}
            left = [(c, st) for c, st in chosen if c.number not in done]
            if not left:
                plans.append(Outcome(examiner, "skipped", chosen, error=f"déjà envoyé le {_day(history[-1].sent_at)}"))
                continue
            chosen = left
        if not resend and kind == "remind" and history:
            listed = sorted((c["number"], c["state"]) for c in history[-1].candidates)
            if listed == sorted((c.number, str(st)) for c, st in chosen):
                plans.append(
                    Outcome(examiner, "skipped", chosen, error=f"relance déjà envoyée le {_day(history[-1].sent_at)}")
                )
                continue
        files: list[tuple[str, Path]] = []
        for cand, state in chosen:
            if kind == "remind" and state == CandidateState.INCOMPLETE:
                retained = states[cand.number].retained
                assert retained is not None
                files.append(_returned_file(campaign, retained))
            else:
                files.append(_sent_workbook(campaign, cand, examiner, generated, holders, assignment))
        unique = list(dict.fromkeys(files))  # one examiner's workbook for several candidates: once
        plans.append(_Planned(examiner, chosen, unique))
    return plans


def _day(when: str | None) -> str:
    try:
        return french.date(dt.datetime.fromisoformat(when or ""))
    except ValueError:
        return "?"


def _returned_file(campaign: Campaign, row: ReturnRow) -> tuple[str, Path]:
    """(name, archived file) of a return."""
    path = campaign.root / row.stored_path
    if not path.is_file():
        raise E2docsError(
            "original archivé absent : ce retour a été supprimé ou déplacé du dossier retours/.",
            path,
            hint="Restaurez-le depuis votre sauvegarde, puis relancez.",
        )
    return row.original_name or path.name, path


def _sent_workbook(
    campaign: Campaign,
    cand: Candidate,
    examiner: Examiner,
    generated: dict,
    holders: dict[str, list[str]],
    assignment: dict[str, Examiner],
) -> tuple[str, Path]:
    """(name, file) of the workbook generated last for ``cand``, checked to exist and to hold only
    ``examiner``'s candidates."""
    row = generated.get(cand.number)
    if row is None:
        raise E2docsError(
            f"aucun classeur généré pour {cand.full_name} ({cand.number}) : rien n'a été préparé.",
            campaign.root / "envoi",
            hint="Générez d'abord les classeurs : e2docs generate (ou e2docs generate --per examiner).",
        )
    name = row["file_name"]
    others = [n for n in holders[name] if n not in assignment or assignment[n].key != examiner.key]
    if others:
        raise E2docsError(
            f"le classeur {name} contient aussi {len(others)} candidat(s) d'autres examinateurs : il n'est "
            f"envoyé à personne. Rien n'a été préparé.",
            campaign.root / "envoi",
            hint="Générez un classeur par candidat (e2docs generate --force) ou par examinateur "
            "(e2docs generate --per examiner --force), puis relancez.",
        )
    path = campaign.root / "envoi" / name
    if not path.is_file():
        raise E2docsError(
            "classeur absent du dossier envoi/ : rien n'a été préparé.",
            path,
            hint="Générez-le à nouveau : e2docs generate --force (ou --per examiner --force).",
        )
    return name, path


# ------------------------------------------------------------------ the message


def subject_of(campaign: Campaign, kind: str, count: int) -> str:
    """The subject line (French)."""
    session = f" — session {campaign.session}" if campaign.session else ""
    if kind == "remind":
        return f"Relance : grilles d'évaluation E2 à rendre ({count} candidat(s)){session}"
    return f"Grilles d'évaluation E2 à remplir ({count} candidat(s)){session}"


def body_of(campaign: Campaign, plan: _Planned, kind: str, deadline: dt.date | None) -> str:
    """The message's text (French): what to do, by when, how to send back."""
    lines = [f"Bonjour {plan.examiner.name},", ""]
    exam = "de l'épreuve E2 du Bac pro MCV option B" + (f", session {campaign.session}" if campaign.session else "")
    if kind == "remind":
        lines.append(f"Nous n'avons pas encore reçu toutes les grilles d'évaluation {exam} :")
        for cand, state in plan.candidates:
            what = "grille incomplète" if state == CandidateState.INCOMPLETE else "grille non reçue"
            lines.append(f"  - {cand.full_name} (n° {cand.number}, {cand.division or '—'}) : {what}")
        lines += [
            "",
            "Vous trouverez en pièce jointe le classeur de chacun : celui qui vous a été envoyé pour une "
            "grille non reçue, celui que vous nous avez renvoyé pour une grille incomplète (à compléter).",
        ]
    else:
        lines.append(f"Vous trouverez en pièce jointe les grilles d'évaluation {exam} des candidats que vous évaluez :")
        for cand, _ in plan.candidates:
            lines.append(f"  - {cand.full_name} (n° {cand.number}, {cand.division or '—'})")
    lines += [
        "",
        "Pour chaque candidat : ouvrez le classeur dans Excel ou LibreOffice Calc, tapez X dans la colonne du "
        "niveau atteint pour chaque critère (seules les cellules vertes sont modifiables ; la note se calcule "
        "seule), puis complétez la note finale et les observations. Enregistrez le classeur au format .xlsx.",
        "",
    ]
    if deadline is not None:
        lines.append(f"Merci de nous renvoyer les classeurs remplis au plus tard le {deadline_fr(deadline)},")
    else:
        lines.append("Merci de nous renvoyer les classeurs remplis dès que possible,")
    lines += [
        "en répondant à ce message avec les classeurs en pièce jointe (en une ou plusieurs fois).",
        "",
        "Cordialement,",
        campaign.school or "Le secrétariat d'examen",
    ]
    return "\n".join(lines) + "\n"


def _build(
    campaign: Campaign,
    plan: _Planned,
    kind: str,
    sender: str | None,
    deadline: dt.date | None,
    domain: str,
    draft: bool,
) -> tuple[mail.EmailMessage, str, list[dict[str, str]]]:
    """(message, Message-ID, attachments as recorded) for one examiner."""
    msgid = mail.message_id(domain)
    attachments = []
    recorded = []
    for name, path in plan.files:
        data = path.read_bytes()
        attachments.append(mail.Attachment(name, data))
        try:
            shown = path.resolve().relative_to(campaign.root).as_posix()
        except ValueError:
            shown = str(path)
        recorded.append({"name": name, "path": shown, "sha256": hashlib.sha256(data).hexdigest()})
    msg = mail.build_message(
        to=(plan.examiner.name, plan.examiner.email),
        sender=(campaign.school, sender) if sender else None,
        subject=subject_of(campaign, kind, len(plan.candidates)),
        body=body_of(campaign, plan, kind, deadline),
        attachments=attachments,
        msgid=msgid,
        date=dt.datetime.now().astimezone(),
        draft=draft,
    )
    return msg, msgid, recorded


def _row(
    plan: _Planned, kind: str, msgid: str, transport: str, status: str, subject: str, deadline: dt.date | None
) -> MessageRow:
    return MessageRow(
        message_id=msgid,
        kind=kind,
        examiner=plan.examiner.email,
        examiner_name=plan.examiner.name,
        transport=transport,
        status=status,
        created_at=now(),
        sent_at=now() if status == "sent" else None,
        deadline=deadline.isoformat() if deadline else None,
        subject=subject,
        candidates=[{"number": c.number, "state": str(st)} for c, st in plan.candidates],
        attachments=[],
    )


def _last_deadline(ledger: Ledger, examiner: Examiner) -> dt.date | None:
    for m in reversed(ledger.messages(examiner.email)):
        if m.kind == "send" and m.deadline:
            return dt.date.fromisoformat(m.deadline)
    return None


def _draft_all(
    campaign: Campaign,
    ledger: Ledger,
    kind: str,
    plans: Iterable[_Planned],
    outcomes: dict[str, Outcome],
    folder: Path | None,
    sender: str | None,
    deadline: dt.date | None,
    domain: str,
) -> None:
    """Write one ``.eml`` per plan into ``folder`` (never over a file e2docs did not write: a new
    version goes beside it) and record each."""
    folder = Path(folder) if folder is not None else campaign.root / DRAFTS
    with Record.load(campaign.root) as record:
        prefix = "relance" if kind == "remind" else "envoi"
        taken: set[Path] = set()
        for plan in plans:
            when = deadline or (_last_deadline(ledger, plan.examiner) if kind == "remind" else None)
            msg, msgid, attached = _build(campaign, plan, kind, sender, when, domain, draft=True)
            data = mail.as_bytes(msg)
            stem = safe_part(plan.examiner.name) or safe_part(plan.examiner.email.split("@")[0]) or "examinateur"
            target = free_target(record, folder / f"{prefix}_{stem}.eml", taken)
            taken.add(target)
            write_file(record, target, data, by=kind)
            row = _row(plan, kind, msgid, "draft", "drafted", str(msg["Subject"]), when)
            try:
                shown = target.resolve().relative_to(campaign.root).as_posix()
            except ValueError:
                shown = str(target.resolve())
            ledger.record_message(_with(row, attachments=attached, draft_path=shown))
            out = outcomes[plan.examiner.key]
            out.status, out.candidates, out.message_id, out.path = "drafted", plan.candidates, msgid, target
            out.attachments = [a["name"] for a in attached]


def _send_all(
    campaign: Campaign,
    ledger: Ledger,
    kind: str,
    plans: Iterable[_Planned],
    outcomes: dict[str, Outcome],
    url: mail.SmtpUrl,
    password: str | None,
    sender: str,
    deadline: dt.date | None,
    domain: str,
    report: SendReport,
) -> None:
    """Send one message per plan over one SMTP session; each is recorded ``sent`` once the server
    accepted it, ``failed`` when it refused it; a lost connection leaves the rest ``not_sent``."""
    pending = list(plans)
    for plan in pending:
        outcomes[plan.examiner.key].status = "not_sent"
        outcomes[plan.examiner.key].candidates = plan.candidates
    with mail.SmtpSession(url, password) as session:
        for plan in pending:
            when = deadline or (_last_deadline(ledger, plan.examiner) if kind == "remind" else None)
            msg, msgid, attached = _build(campaign, plan, kind, sender, when, domain, draft=False)
            out = outcomes[plan.examiner.key]
            out.message_id, out.attachments = msgid, [a["name"] for a in attached]
            subject = str(msg["Subject"])
            try:
                session.send(msg, sender, plan.examiner.email)
            except mail.Refused as exc:
                out.status, out.error = "failed", str(exc.args[0])
                ledger.record_message(
                    _with(
                        _row(plan, kind, msgid, "smtp", "failed", subject, when), attachments=attached, error=out.error
                    )
                )
                continue
            except mail.MailServerError as exc:
                report.lost = exc.message
                out.message_id = ""
                break
            ledger.record_message(_with(_row(plan, kind, msgid, "smtp", "sent", subject, when), attachments=attached))
            out.status = "sent"


def _with(row: MessageRow, **changes: object) -> MessageRow:
    return replace(row, **changes)  # type: ignore[arg-type]
