"""``python -m e2docs`` runs the command-line tool."""

from .cli import main

main()
