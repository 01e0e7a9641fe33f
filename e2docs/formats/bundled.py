"""Files shipped with e2docs: grid definitions, Word templates, samples.

Installed, they are package data (``e2docs.templates``, ``e2docs.samples``, mapped
from the top-level ``templates/`` and ``samples/`` folders by pyproject.toml). Run
from a source checkout, those packages do not exist, so the folders beside the
package are used instead.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def bundled(folder: str, *parts: str) -> Path:
    """Path of a shipped file: ``bundled("templates", "xlsx", "e2-mcv-b.toml")``. ``folder`` is
    ``"templates"`` or ``"samples"``; the path is not checked to exist."""
    try:
        root = Path(str(resources.files(f"e2docs.{folder}")))
    except ModuleNotFoundError:
        root = Path(__file__).resolve().parents[2] / folder
    return root.joinpath(*parts)
