"""Word → PDF through LibreOffice, one headless process for a whole batch.

LibreOffice is found, run and stopped by :mod:`e2docs.formats.libreoffice`,
with its own throw-away profile folder, so it neither collides with a
LibreOffice the user has open nor depends on their settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from e2docs.formats import libreoffice
from e2docs.reports.errors import ReportError

BASE_TIMEOUT = 90.0  # seconds: LibreOffice's start, first profile creation included
PER_FILE = 10.0  # seconds per document


def convert_to_pdf(paths: Sequence[str | Path], outdir: str | Path, timeout: float | None = None) -> list[Path]:
    """Convert every .docx of ``paths`` into ``outdir`` (same names, .pdf) in one LibreOffice run.

    Returns the PDF paths in the order given. Raises :class:`ReportError` when
    LibreOffice is missing, does not start, is too slow (``timeout`` in seconds,
    by default 90 s + 10 s per file; it is then stopped) or does not produce a file.
    """
    docs = [Path(p).resolve() for p in paths]
    if not docs:
        return []
    folder = Path(outdir).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    stems = [p.stem for p in docs]
    if len(set(stems)) != len(stems):
        dup = next(s for s in stems if stems.count(s) > 1)
        raise ReportError(
            f"deux documents portent le même nom « {dup} » : leurs PDF s'écraseraient.",
            folder,
            hint="Donnez-leur des noms différents ou convertissez-les dans des dossiers séparés.",
        )
    for p in docs:
        if not p.is_file():
            raise ReportError("document introuvable.", p)
    soffice = libreoffice.find_soffice()
    if soffice is None:
        raise ReportError(
            "LibreOffice est introuvable : la conversion en PDF en a besoin.",
            hint="Installez LibreOffice (paquet « libreoffice-writer » sous Debian/Ubuntu, "
            "ou depuis libreoffice.org) et vérifiez que la commande « soffice » est dans "
            "le PATH ; ou ouvrez les .docx dans Word et enregistrez-les en PDF." + libreoffice.override_note(),
        )
    timeout = timeout if timeout is not None else BASE_TIMEOUT + PER_FILE * len(docs)
    pdfs = [folder / f"{p.stem}.pdf" for p in docs]
    before = {p: p.stat().st_mtime_ns if p.exists() else None for p in pdfs}
    try:
        done = libreoffice.convert(docs, "pdf:writer_pdf_Export", folder, timeout, soffice=soffice)
    except libreoffice.LibreOfficeNotStarted as exc:
        raise ReportError(
            exc.message,
            exc.soffice,
            hint="Réinstallez LibreOffice, ou ouvrez les .docx dans Word et enregistrez-les en PDF.",
        ) from None
    except libreoffice.LibreOfficeTimeout:
        raise ReportError(
            f"LibreOffice n'a pas terminé la conversion en {timeout:.0f} s.",
            folder,
            hint="Fermez les autres fenêtres LibreOffice bloquées, puis recommencez, "
            "éventuellement avec moins de documents à la fois.",
        ) from None
    missing = [pdf for pdf in pdfs if not pdf.exists() or pdf.stat().st_mtime_ns == before[pdf]]
    if missing or done.returncode != 0:
        detail = (done.stderr or done.stdout).decode("utf-8", "replace").strip()[-300:]
        names = ", ".join(p.name for p in missing) or "?"
        raise ReportError(
            f"LibreOffice n'a pas produit {names} (code {done.returncode}{' : ' + detail if detail else ''}).",
            folder,
            hint="Vérifiez que les documents s'ouvrent dans LibreOffice Writer.",
        )
    return pdfs
