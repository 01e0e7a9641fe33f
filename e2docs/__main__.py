"""``python -m e2docs`` runs the command-line tool."""

from e2docs.cli import main

main()
