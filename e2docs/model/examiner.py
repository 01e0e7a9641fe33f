"""An examiner: the person who fills in the grids of the candidates assigned to them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Examiner:
    """One examiner (examinateur), as the campaign's assignment file names them.

    ``email`` is the address the workbooks are sent to (an addr-spec, ``martin@lycee.fr``),
    the examiner's identity in the campaign: compared without case. ``name`` is how the
    messages greet them (« Mme Martin »), never empty.
    """

    name: str
    email: str

    @property
    def key(self) -> str:
        """The address without case: two lines naming ``Martin@Lycee.fr`` and ``martin@lycee.fr`` are one
        examiner."""
        return self.email.casefold()
