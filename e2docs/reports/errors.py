"""The error raised when a Word document cannot be produced (bad template, missing LibreOffice…)."""

from __future__ import annotations

from e2docs.model.errors import E2docsError


class ReportError(E2docsError):
    """A template, a rendering or a PDF conversion failed; the message says why, in French."""
