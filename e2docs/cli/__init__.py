"""Command-line interface: thin click commands, French messages, contract exit codes.

Exit codes: 0 success; 1 some input was rejected (the rest was processed);
2 bad usage, unusable input, a busy campaign or a system fault before anything
was recorded (nothing written); 3 a system fault after part of the work was
recorded (kept, consistent: run the command again); 130 interrupted (Ctrl+C),
143 terminated (SIGTERM). Heavy modules are imported inside the commands so
that ``e2docs --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from e2docs.cli import clickfr
from e2docs.formats import processes
from e2docs.formats.textencoding import ENCODINGS
from e2docs.model.errors import E2docsError, system_fault
from e2docs.model.text import clean_display

if TYPE_CHECKING:
    from e2docs.app.campaign import Campaign

clickfr.install()


def _tolerant_streams() -> None:
    """Never fail on a character the console cannot show (cp1252 or cp850 on Windows, output redirected to a
    file): such a character is printed as ``?`` instead of ending the command with UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):  # a closed or unusual stream: left as it is
                reconfigure(errors="replace")


_tolerant_streams()

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

_T = TypeVar("_T")
_Command = TypeVar("_Command", bound=Callable[..., Any])


class _Group(click.Group):
    """Turns user errors into French messages and exit codes; tracebacks only with --debug."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with processes.terminate_as_exit():  # SIGTERM: cleanups run (LibreOffice stopped), exit 143
                return super().invoke(ctx)
        except E2docsError as exc:
            _say(f"Erreur : {exc}", err=True)
            if ctx.obj and ctx.obj.get("debug"):
                traceback.print_exc()
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:  # output piped into a command that stopped reading (| head)
            sys.stderr.close()
            ctx.exit(0)
        except (OSError, sqlite3.Error) as exc:  # the machine, outside a writing command (which says more)
            if ctx.obj and ctx.obj.get("debug"):
                raise
            fault = _system_fault(ctx, exc)
            _say(f"Erreur : {fault}", err=True)
            ctx.exit(fault.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrompu.", err=True)
            ctx.exit(130)
        except Exception as exc:  # a bug: say so plainly, show details on demand
            if ctx.obj and ctx.obj.get("debug"):
                raise
            _say(
                f"Erreur inattendue ({type(exc).__name__} : {exc}). Relancez avec --debug pour le détail "
                "et signalez-la.",
                err=True,
            )
            ctx.exit(2)


@click.group(cls=_Group, context_settings=CONTEXT)
@click.option("--debug", is_flag=True, help="Affiche le détail technique des erreurs.")
@click.option(
    "-C",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Travaille dans la campagne de ce dossier (comme « git -C »).",
)
@click.version_option(package_name="e2docs", message="e2docs %(version)s")
@click.pass_context
def main(ctx: click.Context, debug: bool, directory: Path | None) -> None:
    """e2docs — grilles d'évaluation E2 du Bac pro MCV option B.

    Génère un classeur Excel protégé par candidat à partir de la liste de classe,
    relit les classeurs remplis et produit les documents Word.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    ctx.obj["directory"] = directory


def _system_fault(ctx: click.Context, exc: OSError | sqlite3.Error) -> E2docsError:
    """A system error as a French error naming the file (the campaign's ledger for an SQLite one)."""
    if isinstance(exc, OSError):
        return system_fault(exc)
    from e2docs.app.campaign import LEDGER, ledger_fault

    root = (ctx.obj or {}).get("campaign_root")
    return ledger_fault(exc, Path(root) / LEDGER if root else Path(LEDGER))


def _campaign(ctx: click.Context) -> Campaign:
    """The campaign given by -C, or the one containing the current folder; a usage error without one."""
    from e2docs.app.campaign import locate_campaign

    campaign = locate_campaign(ctx.obj.get("directory"))
    if campaign is None:
        raise click.UsageError(
            "aucune campagne ici : placez-vous dans le dossier d'une campagne, "
            "ou indiquez-le avec « e2docs -C DOSSIER … » (création : « e2docs new »)."
        )
    ctx.obj["campaign_root"] = campaign.root
    return campaign


def _echo(lines: list[str]) -> None:
    """Print each line, cleaned of what came from outside and could fool the terminal
    (:func:`e2docs.model.text.clean_display`)."""
    for line in lines:
        click.echo(clean_display(line))


def _say(text: str, err: bool = False) -> None:
    """Print ``text`` (several lines allowed), cleaned like :func:`_echo`."""
    click.echo(clean_display(text, multiline=True), err=err)


# ------------------------------------------------------------------ new


def _school_options(command: _Command) -> _Command:
    """The options that describe the school and the grid, shared by ``new`` and ``generate``."""
    for option in reversed(
        (
            click.option(
                "--grid",
                "grid_path",
                type=click.Path(dir_okay=False, path_type=Path),
                help="Fichier de grille (par défaut : la grille E2 option B fournie).",
            ),
            click.option(
                "--session", metavar="TEXTE", help="Session d'examen (par défaut : celle de l'export Cyclades)."
            ),
            click.option("--school", metavar="TEXTE", help="Établissement (par défaut : celui de l'export Cyclades)."),
            click.option(
                "--academie", metavar="TEXTE", help="Académie (par défaut : déduite du code UAI de l'établissement)."
            ),
            click.option(
                "--password", metavar="TEXTE", help="Mot de passe de protection des feuilles (par défaut : « e2docs »)."
            ),
            click.option(
                "--encoding",
                type=click.Choice(list(ENCODINGS)),
                help="Encodage de la liste CSV, quand e2docs ne peut pas le reconnaître (par défaut : reconnu).",
            ),
        )
    ):
        command = option(command)
    return command


@main.command(context_settings=CONTEXT)
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--roster",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Liste des candidats (export Cyclades, CSV ou XLSX).",
)
@_school_options
def new(
    directory: Path,
    roster: Path,
    grid_path: Path | None,
    session: str | None,
    school: str | None,
    academie: str | None,
    password: str | None,
    encoding: str | None,
) -> None:
    """Crée une campagne dans DIRECTORY : réglages, liste importée, clé de signature, registre."""
    from e2docs.app.campaign import SETTINGS, create_campaign
    from e2docs.cli.console import context_note, new_lines

    campaign, imported = create_campaign(
        directory,
        roster,
        grid_path=grid_path,
        session=session,
        school=school,
        academie=academie,
        password=password,
        encoding=encoding,
    )
    _echo(new_lines(campaign, imported))
    _echo(context_note(campaign.context, campaign.root / SETTINGS, created=True))


# ------------------------------------------------------------------ generate


@main.command(context_settings=CONTEXT)
@click.argument("roster", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option(
    "-o",
    "--output",
    "outdir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Dossier où écrire les classeurs (hors campagne).",
)
@_school_options
@click.option(
    "--per",
    type=click.Choice(["candidate", "class", "examiner"]),
    default="candidate",
    show_default=True,
    help="Un classeur par candidat, un seul pour la classe, ou un par examinateur (campagne, après « assign »).",
)
@click.option("--force", is_flag=True, help="Remplace les classeurs qui existent déjà dans le dossier.")
@click.pass_context
def generate(
    ctx: click.Context,
    roster: Path | None,
    outdir: Path | None,
    grid_path: Path | None,
    session: str | None,
    school: str | None,
    academie: str | None,
    per: str,
    password: str | None,
    encoding: str | None,
    force: bool,
) -> None:
    """Génère les classeurs d'évaluation.

    Hors campagne : à partir de la liste ROSTER (export Cyclades, CSV ou XLSX) dans le dossier -o.
    Dans une campagne (sans ROSTER) : pour les candidats de la campagne, dans DOSSIER/envoi/.
    """
    if roster is None:
        from e2docs.app.generate import generate_in_campaign

        campaign = _campaign(ctx)
        if outdir or grid_path or session or school or academie or password or encoding:
            raise click.UsageError(
                "dans une campagne, la grille, la session, l'établissement et le mot de passe "
                "viennent de ses réglages (e2docs.toml) : n'indiquez que --per ou --force."
            )
        report = generate_in_campaign(campaign, per=per, force=force)
    else:
        if outdir is None:
            raise click.UsageError("indiquez le dossier de sortie avec -o DOSSIER.")
        if per == "examiner":
            raise click.UsageError("--per examiner se fait dans une campagne, après « e2docs assign FICHIER ».")
        from e2docs.app.generate import generate_from_roster

        report = generate_from_roster(
            roster,
            outdir,
            grid_path=grid_path,
            session=session,
            school=school,
            academie=academie,
            per=per,
            password=password,
            force=force,
            encoding=encoding,
        )
    from e2docs.app.campaign import SETTINGS
    from e2docs.app.generate import context_for
    from e2docs.cli.console import context_note, generation_lines

    _echo(generation_lines(report))
    if roster is None:
        _echo(context_note(campaign.context, campaign.root / SETTINGS))
    else:
        _echo(context_note(context_for(report.roster, session, school, academie)))


# ------------------------------------------------------------------ inspect


@main.command(context_settings=CONTEXT)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON pour les scripts.")
@click.option(
    "--grid",
    "grid_paths",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Grille supplémentaire à reconnaître (si les classeurs ont été générés avec --grid).",
)
@click.pass_context
def inspect(ctx: click.Context, files: tuple[Path, ...], as_json: bool, grid_paths: tuple[Path, ...]) -> None:
    """Lit des classeurs générés ou remplis : identité, saisies, notes recalculées, problèmes.

    Un classeur de campagne est vérifié avec la clé de sa campagne (celle de -C, ou celle du dossier
    où il se trouve).
    """
    from e2docs.app.inspection import inspect_files
    from e2docs.cli.console import inspect_text

    result = inspect_files(files, grid_paths, ctx.obj.get("directory"))
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        _say(inspect_text(result))
    sys.exit(0 if all(f["ok"] for f in result["files"]) else 1)


# ------------------------------------------------------------------ collect


@main.command(context_settings=CONTEXT)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--accept-modified",
    is_flag=True,
    help="Accepte les classeurs modifiés hors des cellules de saisie (la modification reste signalée).",
)
@click.option(
    "--imap",
    metavar="URL",
    help="Relève les messages de ce dossier de la boîte mail : imaps://identifiant@serveur/DOSSIER (ou imap:// "
    "avec STARTTLS). Mot de passe demandé, ou lu dans E2DOCS_IMAP_PASSWORD ; jamais enregistré. Seuls les "
    "messages pas encore relevés sont lus ; rien n'est changé sur le serveur sans --move-to.",
)
@click.option(
    "--move-to",
    metavar="DOSSIER",
    help="Avec --imap : déplace dans ce dossier (existant) de la boîte mail les messages relevés qui ont apporté "
    "un classeur.",
)
@click.pass_context
def collect(
    ctx: click.Context, paths: tuple[Path, ...], accept_modified: bool, imap: str | None, move_to: str | None
) -> None:
    """Relève les classeurs rendus : fichiers .xlsx/.ods/.xls, dossiers, archives .zip, e-mails .eml, .mbox,
    .msg (Outlook), ou les messages d'un dossier de la boîte mail (--imap)."""
    from e2docs.app.collect import collect as run_collect
    from e2docs.cli.console import collect_lines

    if imap is None and not paths:
        raise click.UsageError("indiquez les fichiers ou dossiers à relever, ou --imap URL.")
    if imap is not None and paths:
        raise click.UsageError("--imap relève la boîte mail : n'indiquez pas de fichiers en plus.")
    if move_to is not None and imap is None:
        raise click.UsageError("--move-to va avec --imap.")
    campaign = _campaign(ctx)

    def progress(entries: Iterable[_T]) -> Iterator[_T]:
        with click.progressbar(entries, label="Relève des retours", file=sys.stderr, show_pos=True) as bar:
            yield from bar

    shown = progress if sys.stderr.isatty() else None
    if imap is not None:
        import os

        from e2docs.app.collect import collect_imap
        from e2docs.formats.imap import parse_imap_url

        url = parse_imap_url(imap)
        password = os.environ.get("E2DOCS_IMAP_PASSWORD") or click.prompt(
            f"Mot de passe de {url.user} sur {url.host}", hide_input=True, err=True
        )
        report = collect_imap(campaign, url, password, move_to=move_to, accept_modified=accept_modified, progress=shown)
    else:
        report = run_collect(campaign, paths, accept_modified=accept_modified, progress=shown)
    _echo(collect_lines(report))
    sys.exit(report.exit_code)


# ------------------------------------------------------------------ assign


@main.command(context_settings=CONTEXT)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--encoding",
    type=click.Choice(list(ENCODINGS)),
    help="Encodage du fichier CSV, quand e2docs ne peut pas le reconnaître (par défaut : reconnu).",
)
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON pour les scripts.")
@click.pass_context
def assign(ctx: click.Context, file: Path, encoding: str | None, as_json: bool) -> None:
    """Importe les examinateurs : FILE (CSV ou XLSX) donne sur chaque ligne un examinateur, son
    adresse e-mail et un n° de candidat ou une division entière.

    Un nouvel import remplace le précédent en entier ; une erreur ne change rien.
    """
    from e2docs.app.examiners import assign as run_assign
    from e2docs.cli.console import assign_json, assign_lines

    report = run_assign(_campaign(ctx), file, encoding)
    if as_json:
        click.echo(json.dumps(assign_json(report), ensure_ascii=False, indent=2))
    else:
        _echo(assign_lines(report))


# ------------------------------------------------------------------ send, remind


def _mail_options(command: _Command) -> _Command:
    """The options shared by ``send`` and ``remind``."""
    for option in reversed(
        (
            click.option(
                "--drafts",
                "drafts",
                type=click.Path(file_okay=False, path_type=Path),
                help="Dossier où écrire un brouillon .eml par examinateur (par défaut : DOSSIER/brouillons/).",
            ),
            click.option(
                "--smtp",
                metavar="URL",
                help="Envoie par ce serveur : smtp://identifiant@serveur:587 (STARTTLS) ou "
                "smtps://identifiant@serveur. Mot de passe demandé, ou lu dans E2DOCS_SMTP_PASSWORD ; "
                "jamais enregistré.",
            ),
            click.option(
                "--from",
                "sender",
                metavar="ADRESSE",
                help="Adresse de l'expéditeur (par défaut : expediteur dans e2docs.toml).",
            ),
            click.option(
                "--only",
                type=click.Choice(["manquants", "incomplets", "missing", "incomplete"], case_sensitive=False),
                help="Seulement les candidats sans retour (manquants) ou dont la grille est incomplète.",
            ),
            click.option(
                "--to",
                "to",
                multiple=True,
                metavar="EXAMINATEUR",
                help="Seulement cet examinateur (adresse ou nom ; répétable).",
            ),
            click.option("--resend", is_flag=True, help="Renvoie aussi ce qui a déjà été envoyé."),
            click.option("--json", "as_json", is_flag=True, help="Sortie JSON pour les scripts."),
        )
    ):
        command = option(command)
    return command


def _run_mail(
    ctx: click.Context,
    kind: str,
    deadline: str | None,
    drafts: Path | None,
    smtp: str | None,
    sender: str | None,
    only: str | None,
    to: tuple[str, ...],
    resend: bool,
    as_json: bool,
) -> None:
    import os

    from e2docs.app.sending import parse_deadline, send
    from e2docs.cli.console import send_json, send_lines
    from e2docs.formats.mail import parse_smtp_url

    if drafts is not None and smtp is not None:
        raise click.UsageError("choisissez --drafts (brouillons) ou --smtp (envoi), pas les deux.")
    campaign = _campaign(ctx)
    url = parse_smtp_url(smtp) if smtp else None
    password = None
    if url is not None and url.user:
        password = os.environ.get("E2DOCS_SMTP_PASSWORD") or click.prompt(
            f"Mot de passe de {url.user} sur {url.host}", hide_input=True, err=True
        )

    def progress(items: Iterable[_T]) -> Iterator[_T]:
        label = "Envoi" if url else "Brouillons"
        with click.progressbar(items, label=label, file=sys.stderr, show_pos=True) as bar:
            yield from bar

    report = send(
        campaign,
        kind=kind,
        deadline=parse_deadline(deadline) if deadline else None,
        drafts=drafts,
        smtp=url,
        password=password,
        sender=sender,
        only=only.lower() if only else None,
        to=to,
        resend=resend,
        progress=progress if sys.stderr.isatty() and not as_json else None,
    )
    if as_json:
        click.echo(json.dumps(send_json(report), ensure_ascii=False, indent=2))
    else:
        _echo(send_lines(report))
    sys.exit(report.exit_code)


@main.command(context_settings=CONTEXT)
@click.option("--deadline", metavar="JJ/MM/AAAA", required=True, help="Date limite de retour des grilles.")
@_mail_options
@click.pass_context
def send(ctx: click.Context, deadline: str, **options: Any) -> None:
    """Prépare un message par examinateur avec ses classeurs en pièce jointe.

    Par défaut, des brouillons .eml dans DOSSIER/brouillons/ (Outlook les ouvre prêts à envoyer ;
    Thunderbird : Fichier > Ouvrir un message enregistré, puis « Modifier en tant que nouveau
    message ») ; avec --smtp, envoyés directement. Relancé, n'envoie que ce qui ne l'a pas été.
    """
    _run_mail(ctx, "send", deadline, **options)


@main.command(context_settings=CONTEXT)
@click.option("--deadline", metavar="JJ/MM/AAAA", help="Date limite (par défaut : celle du premier envoi).")
@_mail_options
@click.pass_context
def remind(ctx: click.Context, deadline: str | None, **options: Any) -> None:
    """Relance les examinateurs dont des candidats sont encore non rendus ou incomplets.

    Le message les liste ; en pièce jointe, le classeur envoyé (non rendu) ou le dernier classeur
    renvoyé (incomplet). Relancé sans changement depuis la dernière relance envoyée : rien n'est renvoyé.
    """
    _run_mail(ctx, "remind", deadline, **options)


# ------------------------------------------------------------------ status


@main.command(context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON pour les scripts.")
@click.option(
    "--history", is_flag=True, help="Montre tous les retours de chaque candidat (n°, dates, état ; → : retenu)."
)
@click.option("--by-examiner", is_flag=True, help="Regroupe les candidats par examinateur.")
@click.pass_context
def status(ctx: click.Context, as_json: bool, history: bool, by_examiner: bool) -> None:
    """Qui a rendu quoi : non rendu, incomplet (ce qui manque), complet, rejeté, à vérifier."""
    from e2docs.app.status import campaign_statuses, status_json
    from e2docs.cli.console import status_by_examiner_lines, status_lines

    statuses = campaign_statuses(_campaign(ctx))
    if as_json:
        click.echo(json.dumps(status_json(statuses), ensure_ascii=False, indent=2))
    elif by_examiner:
        _echo(status_by_examiner_lines(statuses, history))
    else:
        _echo(status_lines(statuses, history))


# ------------------------------------------------------------------ keep, undo


@main.command(context_settings=CONTEXT)
@click.argument("number", metavar="N°_CANDIDAT")
@click.argument("return_id", metavar="N°_RETOUR", type=int, required=False)
@click.option("--auto", is_flag=True, help="Revient aux règles : le retour le plus récent, sauf moins complet.")
@click.pass_context
def keep(ctx: click.Context, number: str, return_id: int | None, auto: bool) -> None:
    """Choisit le retour qui compte pour un candidat (n° de retour : « e2docs status --history »).

    Le retour choisi reste retenu jusqu'au prochain « keep », quels que soient les retours relevés
    ensuite ; « --auto » revient aux règles.
    """
    from e2docs.app.decisions import keep as run_keep
    from e2docs.cli.console import keep_lines

    if auto == (return_id is not None):
        raise click.UsageError("indiquez soit un n° de retour, soit --auto (e2docs keep N°_CANDIDAT N°_RETOUR).")
    _echo(keep_lines(run_keep(_campaign(ctx), number, return_id)))


@main.command(context_settings=CONTEXT)
@click.pass_context
def undo(ctx: click.Context) -> None:
    """Annule la dernière relève (collect) : ses retours ne comptent plus, les fichiers restent archivés."""
    from e2docs.app.decisions import undo as run_undo
    from e2docs.cli.console import undo_lines

    _echo(undo_lines(run_undo(_campaign(ctx))))


# ------------------------------------------------------------------ export


@main.command(context_settings=CONTEXT)
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Fichier de synthèse à écrire : .xlsx (avec graphiques) ou .csv.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Remplace un fichier existant qu'e2docs n'a pas écrit (jamais dans envoi/, retours/ ni liste/).",
)
@click.pass_context
def export(ctx: click.Context, out: Path, force: bool) -> None:
    """Synthèse pour l'établissement : une ligne par candidat, moyenne, min, max, effectif.

    Un fichier existant n'est remplacé que s'il a été écrit par e2docs et n'a pas changé depuis
    (sinon : --force).
    """
    from e2docs.app.export import export_campaign

    campaign = _campaign(ctx)
    with campaign.writing("export"):
        path = export_campaign(campaign, out, force=force)
    _say(f"Synthèse écrite : {path}")


# ------------------------------------------------------------------ report


@main.command(context_settings=CONTEXT)
@click.option("--pdf", is_flag=True, help="Produit aussi les PDF (LibreOffice nécessaire).")
@click.option("--merge", is_flag=True, help="Réunit toutes les fiches d'évaluation dans un seul document.")
@click.option(
    "--templates",
    "templates_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Dossier de modèles Word modifiés (un modèle absent est pris parmi ceux d'e2docs).",
)
@click.option(
    "--only",
    type=click.Choice(["complete"]),
    help="« complete » : documents individuels pour les seules grilles complètes.",
)
@click.pass_context
def report(ctx: click.Context, pdf: bool, merge: bool, templates_dir: Path | None, only: str | None) -> None:
    """Documents Word de la campagne dans DOSSIER/rapports/ : fiches, synthèses, récapitulatif."""
    from e2docs.app.documents import make_reports
    from e2docs.cli.console import report_lines

    campaign = _campaign(ctx)

    def progress(items: Iterable[_T]) -> Iterator[_T]:
        with click.progressbar(items, label="Documents", file=sys.stderr) as bar:
            yield from bar

    result = make_reports(
        campaign,
        pdf=pdf,
        merge=merge,
        templates_dir=templates_dir,
        only_complete=only == "complete",
        progress=progress if sys.stderr.isatty() else None,
    )
    _echo(report_lines(result))


# ------------------------------------------------------------------ fields, check-template


@main.command(context_settings=CONTEXT)
@click.option("--markdown", is_flag=True, help="Tableaux Markdown (pour une documentation).")
def fields(markdown: bool) -> None:
    """Liste les champs utilisables dans les modèles Word."""
    from e2docs.reports import fields_text

    click.echo(fields_text(markdown=markdown), nl=False)


@main.command("check-template", context_settings=CONTEXT)
@click.argument("template", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def check_template(template: Path) -> None:
    """Vérifie un modèle Word modifié : balises coupées, champs inconnus, syntaxe, rendu d'essai."""
    from e2docs.reports import check_template as run_check

    problems = run_check(template)
    for problem in problems:
        _say(str(problem))
    errors = [p for p in problems if p.severity == "erreur"]
    if not problems:
        _say(f"{template} : modèle correct (rendu d'essai réussi).")
    else:
        _say(f"{template} : {len(errors)} erreur(s), {len(problems) - len(errors)} avertissement(s).")
    sys.exit(1 if problems else 0)


# ------------------------------------------------------------------ demo


@main.command(context_settings=CONTEXT)
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def demo(directory: Path) -> None:
    """Montre e2docs sur les exemples fournis : génère les classeurs d'une classe fictive dans DIRECTORY."""
    from e2docs.app.demo import run_demo
    from e2docs.cli.console import demo_lines

    _echo(demo_lines(run_demo(directory)))


if __name__ == "__main__":  # pragma: no cover
    main()
