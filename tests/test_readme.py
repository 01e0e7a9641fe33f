"""The README says what the code does: its field list is the one templates really get."""

from __future__ import annotations

import re

from e2docs.formats.xlsx.layout import build_layout
from e2docs.reports import fields_text
from tests.helpers import CANDIDATE, CTX, GRID, PROJECT

README = (PROJECT / "README.md").read_text(encoding="utf-8")


def test_readme_lists_the_template_fields():
    block = re.search(r"<!-- champs:debut -->(.*?)<!-- champs:fin -->", README, re.S)[1]
    assert block.strip() == fields_text(markdown=True).strip(), (
        "README out of date: regenerate the block with `e2docs fields --markdown`"
    )


RANGES = {
    r"niveau_C\d_\d_\d": "niveau_C1_1_1",
    r"reperage_\d_\d": "reperage_1_1",
    r"points_C\d_\d": "points_C1_1",
    r"prosp_(ecart|taux)_(contacts|rdv|ventes|ca)": "prosp_taux_contacts",
}


def test_readme_documents_every_defined_name():
    """Each name is in the README's table, or belongs to a numbered range the table shows."""
    names = {c.name for c in build_layout(GRID, CANDIDATE, CTX).cells if c.name}
    for name in sorted(names):
        shown = next((example for pattern, example in RANGES.items() if re.fullmatch(pattern, name)), name)
        assert f"`{shown}`" in README, name
