"""Tamper evidence: a fingerprint of everything e2docs locks, and a keyed signature.

Sheet protection is a 16-bit hash that LibreOffice's API ignores, so prevention is
not enough. The generator stores, in a hidden sheet and in custom document
properties, the candidate's metadata, a fingerprint of the locked content
(labels, identity, formulas, merges, defined names, as the layout describes them)
and an HMAC over both. A reader rebuilds the layout from the metadata, checks the
HMAC with the campaign's secret, then compares the file cell by cell with the
layout, so it can name every cell changed outside the input cells.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping

from e2docs.formats.xlsx.layout import CandidateLayout, Cell, CellRole

# Without a campaign, workbooks are signed with this public key: the signature then
# detects changes made by mistake, not a forger. Campaigns have their own secret.
PUBLIC_SECRET = b"e2docs-sans-campagne"


def _canon(value: object) -> str | int | float | None:
    """A cell value as JSON can hold it (anything else as its text)."""
    return value if isinstance(value, (str, int, float)) or value is None else str(value)


def fingerprint(layout: CandidateLayout) -> str:
    """SHA-256 (hex) over the locked content the layout prescribes (:func:`fingerprint_text`)."""
    return digest(fingerprint_text(layout))


def digest(text: str) -> str:
    """SHA-256 (hex) of a :func:`fingerprint_text`, UTF-8 encoded."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fingerprint_text(layout: CandidateLayout) -> str:
    """The JSON text the fingerprint is taken over: one array per placed cell, in placing order,
    without spaces, non-ASCII characters as they are.

    Each cell's array is encoded once per cell object and remembered (:data:`FRAGMENTS` at most):
    the layouts of a class share their cells but for the candidate's texts
    (:func:`~e2docs.formats.xlsx.layout.layout_for`)."""
    fragments = _FRAGMENTS
    parts = []
    for c in layout.cells:
        known = fragments.get(id(c))
        if known is not None and known[0] is c:
            parts.append(known[1])
            continue
        text = json.dumps(_item(c), ensure_ascii=False, separators=(",", ":"))
        if len(fragments) >= FRAGMENTS:
            fragments.clear()
        fragments[id(c)] = (c, text)  # the cell kept alive with it: its id cannot name another cell
        parts.append(text)
    return "[" + ",".join(parts) + "]"


FRAGMENTS = 20_000
"""Cells whose JSON :func:`fingerprint_text` remembers (a layout has about 600)."""
_FRAGMENTS: dict[int, tuple[Cell, str]] = {}


def _item(c: Cell) -> list[object]:
    """A cell's array in :func:`fingerprint_text`."""
    if c.role is CellRole.INPUT:
        return [c.sheet, c.ref, CellRole.INPUT, c.name, c.merge, c.kind]
    return [c.sheet, c.ref, c.role, c.name, c.merge, _canon(c.value), c.formula]


def sign(secret: bytes, meta: Mapping[str, object]) -> str:
    """HMAC-SHA256 (hex) over the metadata, keys sorted, signature field left out.

    ``meta`` maps the metadata keys to JSON values; ``TypeError`` for anything else.
    """
    payload = {k: v for k, v in meta.items() if k != "signature"}
    data = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hmac.new(secret, data.encode("utf-8"), hashlib.sha256).hexdigest()


def verify(secret: bytes, meta: Mapping[str, object]) -> bool:
    """True when ``meta["signature"]`` matches the rest of ``meta`` under ``secret``."""
    given = str(meta.get("signature", ""))
    return hmac.compare_digest(given, sign(secret, meta))
