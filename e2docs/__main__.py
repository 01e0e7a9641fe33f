"""``python -m e2docs`` runs the command-line tool."""

from e2docs.cli import main

if __name__ == "__main__":  # not when a spawned process (generate's workers) imports it
    main()
