"""Checks made on a workbook's bytes before any parser sees them.

openpyxl has no limit on decompressed size, so a crafted .xlsx (a "zip bomb") could
exhaust memory or disk. These checks read only the zip directory: sizes, ratios,
member names, encryption. XML itself is parsed by :mod:`.fastread` with a hardened lxml
parser, parts over :data:`MAX_PART_BYTES` left to openpyxl, which parses through defusedxml
(installed as a dependency) and refuses entity expansion.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from e2docs.formats import sniff
from e2docs.formats.files import Expect, open_regular
from e2docs.model.errors import WorkbookError, os_error_fr

MAX_FILE_BYTES = 25 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_RATIO = 200
MAX_MEMBERS = 2000
MAX_PART_BYTES = 32 * 1024 * 1024  # one XML part the fast reader parses whole (a grid sheet: about 60 kB)

SAVE_AS_XLSX = "Ouvrez-le dans Excel ou LibreOffice et enregistrez-le au format .xlsx (Classeur Excel)."
WORKBOOK_EXPECT = Expect("classeur", MAX_FILE_BYTES, "Vérifiez le chemin du fichier.", WorkbookError)


def check_zip_members(zf: zipfile.ZipFile, path: Path, what: str = "classeur") -> None:
    """Refuse archives whose members would escape a folder or expand beyond the caps
    (:data:`MAX_MEMBERS` members, :data:`MAX_UNCOMPRESSED_BYTES` in all, a ratio of
    :data:`MAX_RATIO` for members over 1 MB), or that are encrypted: raises
    :class:`WorkbookError` about ``path``, the archive being named ``what`` in French."""
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise WorkbookError(f"{what} refusé : trop de fichiers dans l'archive ({len(infos)}).", path)
    total = 0
    for info in infos:
        name = info.filename
        if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/") or ":" in name:
            raise WorkbookError(f"{what} refusé : l'archive contient un chemin dangereux (« {name} »).", path)
        if info.flag_bits & 0x1:
            raise WorkbookError(
                f"{what} refusé : l'archive est chiffrée.", path, hint="Envoyez une copie sans mot de passe."
            )
        total += info.file_size
        if info.compress_size and info.file_size / info.compress_size > MAX_RATIO and info.file_size > 1_000_000:
            raise WorkbookError(
                f"{what} refusé : taux de compression anormal pour « {name} » (archive piégée ?).", path
            )
        if total > MAX_UNCOMPRESSED_BYTES:
            raise WorkbookError(
                f"{what} refusé : contenu décompressé trop volumineux (plus de {MAX_UNCOMPRESSED_BYTES // 2**20} Mo).",
                path,
            )


def check_workbook_file(path: Path) -> None:
    """Raise :class:`WorkbookError` unless ``path`` looks like a sane .xlsx to open: readable,
    at most :data:`MAX_FILE_BYTES`, a zip archive passing :func:`check_zip_members` with a
    workbook part and no macros (not .xls, .ods or a password-protected file)."""
    with open_regular(path, WORKBOOK_EXPECT) as fh:
        try:
            head = fh.read(8)
        except OSError as exc:
            raise WorkbookError(f"fichier illisible ({os_error_fr(exc)}).", path) from None
    if sniff.is_ole(head):
        raise WorkbookError(
            "classeur protégé par un mot de passe à l'ouverture, ou ancien format .xls.",
            path,
            hint="Retirez le mot de passe d'ouverture, puis " + SAVE_AS_XLSX[0].lower() + SAVE_AS_XLSX[1:],
        )
    if not sniff.is_zip(head):
        raise WorkbookError("ce fichier n'est pas un classeur .xlsx.", path, hint=SAVE_AS_XLSX)
    try:
        with zipfile.ZipFile(path) as zf:
            check_zip_members(zf, path)
            names = set(zf.namelist())
    except zipfile.BadZipFile:
        raise WorkbookError(
            "classeur endommagé ou tronqué (archive zip illisible).", path, hint="Demandez un nouvel envoi du fichier."
        ) from None
    if "xl/workbook.xml" not in names:
        if "content.xml" in names:
            raise WorkbookError("fichier OpenDocument (.ods) : il doit être converti.", path, hint=SAVE_AS_XLSX)
        raise WorkbookError("ce fichier n'est pas un classeur .xlsx.", path, hint=SAVE_AS_XLSX)
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise WorkbookError("classeur contenant des macros : refusé.", path, hint=SAVE_AS_XLSX)
