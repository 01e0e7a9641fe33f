"""User-facing errors: one exception type that carries a French message and a place.

Every error a user can cause (bad roster, broken grid file, hostile workbook…) is
raised as an :class:`E2docsError`, so the CLI can print it without a traceback and
exit with the right code.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Place:
    """Where in a file a problem lies: a sheet and cell, a line and column, or a key.

    ``line`` counts from 1 as editors show it; ``column`` is a header text or a
    1-based number; ``key`` is a dotted key of a grid file ("criterion[3].points").
    ``None`` (or "" for a text) leaves a part out; ``str()`` joins the others in French.
    """

    sheet: str | None = None
    cell: str | None = None
    line: int | None = None
    column: str | int | None = None
    key: str | None = None

    def __str__(self) -> str:
        parts = []
        if self.sheet:
            parts.append(f"feuille « {self.sheet} »")
        if self.cell:
            parts.append(f"cellule {self.cell}")
        if self.line is not None:
            parts.append(f"ligne {self.line}")
        if self.column is not None:
            parts.append(f"colonne {self.column}" if isinstance(self.column, int) else f"colonne « {self.column} »")
        if self.key:
            parts.append(f"clé « {self.key} »")
        return ", ".join(parts)


class E2docsError(Exception):
    """An error caused by the user's input, described in French.

    ``exit_code`` follows the CLI contract: 2 for bad usage or unusable input
    (nothing written), 1 when some input was rejected but the rest processed.
    ``message`` is a French sentence, ``path`` the file concerned, ``hint`` what
    the user can do; ``None`` leaves them out of the text ``str()`` gives.
    """

    exit_code = 2

    def __init__(
        self, message: str, path: str | Path | None = None, place: Place | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.place = place
        self.hint = hint

    def __str__(self) -> str:
        head = []
        if self.path is not None:
            head.append(str(self.path))
        if self.place is not None and str(self.place):
            head.append(str(self.place))
        text = (" — ".join(head) + " : " if head else "") + self.message
        if self.hint:
            text += f"\n  → {self.hint}"
        return text


class GridError(E2docsError):
    """A grid definition file is unreadable or inconsistent."""


class RosterError(E2docsError):
    """A candidate list is unreadable, empty or inconsistent."""


class WorkbookError(E2docsError):
    """A workbook cannot be read (not a workbook, encrypted, too large, hostile…)."""


class SystemFault(E2docsError):
    """The machine failed e2docs (disk full, rights, read-only support, damaged ledger…), not the user's
    input. ``exit_code`` is 2 when nothing was recorded, 3 when part of the work was (see the README's
    « Codes de sortie »)."""

    def __init__(
        self, message: str, path: str | Path | None = None, hint: str | None = None, exit_code: int = 2
    ) -> None:
        super().__init__(message, path, hint=hint)
        self.exit_code = exit_code


_EDQUOT = getattr(errno, "EDQUOT", -122)  # not in every build of errno

_OS_ERRORS: dict[int, str] = {
    errno.ENOENT: "fichier ou dossier introuvable",
    errno.EACCES: "accès refusé (droits du fichier ou du dossier)",
    errno.EPERM: "opération non permise (droits du fichier ou du dossier)",
    errno.EISDIR: "c'est un dossier, pas un fichier",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.ENOSPC: "disque plein",
    _EDQUOT: "quota de disque dépassé",
    errno.EROFS: "support en lecture seule",
    errno.EEXIST: "le fichier existe déjà",
    errno.ENAMETOOLONG: "nom de fichier trop long",
    errno.ENOTEMPTY: "le dossier n'est pas vide",
    errno.EBUSY: "fichier ou dossier occupé par un autre programme",
    errno.EIO: "erreur de lecture ou d'écriture du support (disque, clé USB, réseau)",
    errno.EMFILE: "trop de fichiers ouverts",
    errno.EXDEV: "déplacement impossible entre deux supports",
}

_OS_HINTS: dict[int, str] = {
    errno.ENOSPC: "Libérez de la place sur ce disque, puis relancez la même commande.",
    _EDQUOT: "Libérez de la place (ou demandez un quota plus grand), puis relancez la même commande.",
    errno.EROFS: "Copiez la campagne sur un support où l'on peut écrire (pas un CD, ni une clé verrouillée), "
    "puis relancez.",
    errno.EACCES: "Vérifiez que ce fichier n'est pas ouvert dans un autre programme et que vous avez le droit "
    "d'y écrire (propriétés du fichier ou du dossier), puis relancez.",
    errno.EPERM: "Vérifiez que vous avez le droit d'écrire dans ce fichier ou ce dossier (fichier verrouillé, "
    "propriétaire différent), puis relancez.",
    errno.ENOENT: "Vérifiez le chemin ; un fichier de la campagne supprimé se restaure depuis une sauvegarde.",
    errno.EBUSY: "Fermez le programme qui l'utilise, puis relancez.",
    errno.EIO: "Vérifiez le support (câble, clé USB, connexion réseau) et faites une sauvegarde, puis relancez.",
}

_WINDOWS_SHARING_VIOLATION = 32  # winerror: the file is open in another program (Excel, Word…)


def os_error_fr(exc: OSError) -> str:
    """A system error in French words (strerror is English on most machines)."""
    if getattr(exc, "winerror", None) == _WINDOWS_SHARING_VIOLATION:
        return "le fichier est ouvert dans un autre programme"
    if not exc.errno:  # None (an OSError raised without one) or 0
        return "erreur système"
    return _OS_ERRORS.get(exc.errno, f"erreur système n° {exc.errno}")


def os_error_hint(exc: OSError) -> str:
    """What the user can do about a system error (French), "" when there is nothing particular to say."""
    if getattr(exc, "winerror", None) == _WINDOWS_SHARING_VIOLATION:
        return "Fermez-le (Excel, Word, LibreOffice…), puis relancez."
    return _OS_HINTS.get(exc.errno or 0, "")


def system_fault(exc: OSError, doing: str = "", exit_code: int = 2) -> SystemFault:
    """``exc`` as a :class:`SystemFault` naming its file (``exc.filename``, else none): ``doing``
    says what e2docs was doing, in French (« écriture du classeur »), "" to leave it out."""
    what = os_error_fr(exc)
    message = f"{doing} impossible : {what}." if doing else f"{what[0].upper()}{what[1:]}."
    return SystemFault(message, exc.filename, os_error_hint(exc) or None, exit_code)
