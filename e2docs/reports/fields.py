"""The list of template fields, for ``e2docs fields`` and the README."""

from __future__ import annotations

from e2docs.reports.context import DOCUMENTS, FIELDS_DOC
from e2docs.reports.schema import FieldDoc


def fields_doc(document: str | None = None) -> list[FieldDoc]:
    """Every field (``None``) or those of ``document`` (``"candidat"`` or ``"classe"``), in
    declaration order."""
    return [f for f in FIELDS_DOC if document is None or f.document == document]


def fields_text(markdown: bool = False) -> str:
    """The field list as plain text, or as Markdown tables (one per document family)."""
    out: list[str] = []
    for doc, title in DOCUMENTS.items():
        items = fields_doc(doc)
        if markdown:
            out += [f"### Champs « {doc} » ({title})", "", "| Champ | Type | Description |", "|---|---|---|"]
            out += [f"| `{f.path}` | {f.kind} | {f.description.replace('|', '/')} |" for f in items]
        else:
            out += [f"Champs « {doc} » ({title}) :"]
            width = max(len(f.path) for f in items)
            out += [f"  {f.path:<{width}}  {f.description} [{f.kind}]" for f in items]
        out.append("")
    return "\n".join(out).rstrip() + "\n"
