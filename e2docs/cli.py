"""Command-line interface: thin click commands, French messages, contract exit codes.

Exit codes: 0 success; 1 some input was rejected (the rest was processed);
2 bad usage or unusable input (nothing written). Heavy modules are imported
inside the commands so that ``e2docs --help`` stays fast.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

import click

from .errors import E2docsError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class _Group(click.Group):
    """Turns user errors into French messages and exit codes; tracebacks only with --debug."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except E2docsError as exc:
            click.echo(f"Erreur : {exc}", err=True)
            if ctx.obj and ctx.obj.get("debug"):
                traceback.print_exc()
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("Interrompu.", err=True)
            ctx.exit(130)
        except Exception as exc:  # a bug: say so plainly, show details on demand
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"Erreur inattendue ({type(exc).__name__} : {exc}). Relancez avec --debug pour le détail "
                       "et signalez-la.", err=True)
            ctx.exit(2)


@click.group(cls=_Group, context_settings=CONTEXT)
@click.option("--debug", is_flag=True, help="Affiche le détail technique des erreurs.")
@click.version_option(package_name="e2docs", message="e2docs %(version)s")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """e2docs — grilles d'évaluation E2 du Bac pro MCV option B.

    Génère un classeur Excel protégé par candidat à partir de la liste de classe,
    relit les classeurs remplis et produit les documents Word.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


# ------------------------------------------------------------------ generate

@main.command(context_settings=CONTEXT)
@click.argument("roster", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", "outdir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Dossier où écrire les classeurs.")
@click.option("--grid", "grid_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Fichier de grille (par défaut : la grille E2 option B fournie).")
@click.option("--session", help="Session d'examen (par défaut : celle de l'export Cyclades).")
@click.option("--school", help="Établissement (par défaut : celui de l'export Cyclades).")
@click.option("--academie", help="Académie (par défaut : déduite du code UAI de l'établissement).")
@click.option("--per", type=click.Choice(["candidate", "class"]), default="candidate", show_default=True,
              help="Un classeur par candidat, ou un seul classeur pour la classe.")
@click.option("--password", default=None,
              help="Mot de passe de protection des feuilles (par défaut : « e2docs »).")
@click.option("--force", is_flag=True, help="Remplace les classeurs qui existent déjà dans le dossier.")
def generate(roster: Path, outdir: Path, grid_path: Path | None, session: str | None, school: str | None,
             academie: str | None, per: str, password: str | None, force: bool) -> None:
    """Génère les classeurs d'évaluation à partir de la liste ROSTER (export Cyclades, CSV ou XLSX)."""
    from .generate import generate_from_roster
    report = generate_from_roster(roster, outdir, grid_path=grid_path, session=session, school=school,
                                  academie=academie, per=per, password=password, force=force)
    for line in report.lines():
        click.echo(line)


# ------------------------------------------------------------------ inspect

@main.command(context_settings=CONTEXT)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON pour les scripts.")
@click.option("--grid", "grid_paths", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Grille supplémentaire à reconnaître (si les classeurs ont été générés avec --grid).")
def inspect(files: tuple[Path, ...], as_json: bool, grid_paths: tuple[Path, ...]) -> None:
    """Lit des classeurs générés ou remplis : identité, saisies, notes recalculées, problèmes."""
    from .inspection import inspect_files, render_text
    result = inspect_files(files, grid_paths)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        click.echo(render_text(result))
    sys.exit(0 if all(f["ok"] for f in result["files"]) else 1)


# ------------------------------------------------------------------ demo

@main.command(context_settings=CONTEXT)
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def demo(directory: Path) -> None:
    """Montre e2docs sur les exemples fournis : génère les classeurs d'une classe fictive dans DIRECTORY."""
    from .demo import run_demo
    for line in run_demo(directory):
        click.echo(line)


if __name__ == "__main__":  # pragma: no cover
    main()
