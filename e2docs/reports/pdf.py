"""Word → PDF through LibreOffice, one headless process for a whole batch.

LibreOffice runs with its own throw-away profile folder, so it neither collides
with a LibreOffice the user has open nor depends on their settings.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from e2docs.reports.errors import ReportError

BASE_TIMEOUT = 90.0  # seconds: LibreOffice's start, first profile creation included
PER_FILE = 10.0  # seconds per document


def find_soffice() -> str:
    """The LibreOffice executable, or a French error saying how to install it."""
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        raise ReportError(
            "LibreOffice est introuvable : la conversion en PDF en a besoin.",
            hint="Installez LibreOffice (paquet « libreoffice-writer » sous Debian/Ubuntu, "
            "ou depuis libreoffice.org) et vérifiez que la commande « soffice » est dans "
            "le PATH ; ou ouvrez les .docx dans Word et enregistrez-les en PDF.",
        )
    return exe


def convert_to_pdf(paths: Sequence[str | Path], outdir: str | Path, timeout: float | None = None) -> list[Path]:
    """Convert every .docx of ``paths`` into ``outdir`` (same names, .pdf) in one LibreOffice run.

    Returns the PDF paths in the order given. Raises :class:`ReportError` when
    LibreOffice is missing, too slow (``timeout``, by default 90 s + 10 s per file)
    or does not produce a file.
    """
    paths = [Path(p).resolve() for p in paths]
    if not paths:
        return []
    outdir = Path(outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    stems = [p.stem for p in paths]
    if len(set(stems)) != len(stems):
        dup = next(s for s in stems if stems.count(s) > 1)
        raise ReportError(
            f"deux documents portent le même nom « {dup} » : leurs PDF s'écraseraient.",
            outdir,
            hint="Donnez-leur des noms différents ou convertissez-les dans des dossiers séparés.",
        )
    for p in paths:
        if not p.is_file():
            raise ReportError("document introuvable.", p)
    exe = find_soffice()
    timeout = timeout if timeout is not None else BASE_TIMEOUT + PER_FILE * len(paths)
    pdfs = [outdir / f"{p.stem}.pdf" for p in paths]
    with tempfile.TemporaryDirectory(prefix="e2docs-lo-") as profile:
        cmd = [
            exe,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--invisible",
            "--nologo",
            "--norestore",
            "--nodefault",
            "--nolockcheck",
            "--convert-to",
            "pdf:writer_pdf_Export",
            "--outdir",
            str(outdir),
            *map(str, paths),
        ]
        before = {p: p.stat().st_mtime_ns if p.exists() else None for p in pdfs}
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, "SAL_USE_VCLPLUGIN": "svp"},
        )
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            raise ReportError(
                f"LibreOffice n'a pas terminé la conversion en {timeout:.0f} s.",
                outdir,
                hint="Fermez les autres fenêtres LibreOffice bloquées, puis recommencez, "
                "éventuellement avec moins de documents à la fois.",
            ) from None
    missing = [pdf for pdf in pdfs if not pdf.exists() or pdf.stat().st_mtime_ns == before[pdf]]
    if missing or proc.returncode != 0:
        detail = (err or out or b"").decode("utf-8", "replace").strip()[-300:]
        names = ", ".join(p.name for p in missing) or "?"
        raise ReportError(
            f"LibreOffice n'a pas produit {names} (code {proc.returncode}{' : ' + detail if detail else ''}).",
            outdir,
            hint="Vérifiez que les documents s'ouvrent dans LibreOffice Writer.",
        )
    return pdfs


def _kill(proc: subprocess.Popen) -> None:
    """Stop the LibreOffice we started, and its children (its own process group)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(5)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
