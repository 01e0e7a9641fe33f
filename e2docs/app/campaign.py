"""A campaign folder: settings, the roster as imported, a signing secret, the ledger, the files.

Layout of ``DIR``::

    e2docs.toml      settings (session, school, académie, grid, password)
    grille.toml      the grid used, frozen at creation
    liste/           the roster file exactly as imported
    .secret          the key that signs this campaign's workbooks (keep it private)
    registre.sqlite  the ledger
    envoi/           workbooks to send      retours/  returned files, archived unchanged
    rapports/        Word/PDF documents     exports/  summaries
    .verrou          held by the command writing in the campaign (:func:`writing`)
    .verrou.json     which command that is, since when (removed when it ends)

Every command that writes goes through :func:`writing` (``with campaign.writing("collect"):``,
or the :func:`writes` decorator): one writer at a time, an OS lock that dies with its process.
Inside it the ledger is opened for writing; outside, :meth:`Campaign.ledger` opens it read-only,
so that reading commands (status, inspect) run beside a writer and never create a file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import functools
import json
import os
import re
import secrets
import shutil
import socket
import sqlite3
import tomllib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

import filelock

from e2docs.app.ledger import Ledger
from e2docs.formats import libreoffice, processes
from e2docs.formats.atomic import atomic_write, remove_stale_temporaries, temporary_owner
from e2docs.formats.files import read_regular
from e2docs.formats.gridfile import GRID_EXPECT, default_grid_path, grid_from_bytes, load_grid
from e2docs.formats.roster import Roster, read_roster
from e2docs.formats.xlsx.layout import DEFAULT_PASSWORD
from e2docs.model.academies import academie_of
from e2docs.model.candidate import Context
from e2docs.model.errors import E2docsError, Place, SystemFault, os_error_fr, os_error_hint, system_fault
from e2docs.model.grid import Grid

SETTINGS = "e2docs.toml"
GRID_FILE = "grille.toml"
SECRET = ".secret"
LEDGER = "registre.sqlite"
LOCK = ".verrou"
LOCK_INFO = ".verrou.json"
STAGING = ".{name}.creation-{pid}"  # beside the campaign folder while ``new`` fills it
TEXT_SETTINGS = (
    "id",
    "cree_le",
    "session",
    "etablissement",
    "academie",
    "uai",
    "grille",
    "liste",
    "mot_de_passe",
    "expediteur",
)
"""The settings e2docs reads, all texts (``session`` may also be written as a whole number)."""
FOLDERS = ("envoi", "retours", "rapports", "exports")

EXIT_PARTIAL = 3
"""The exit code of a command stopped by a system fault after part of its work was recorded."""

_P = ParamSpec("_P")
_R = TypeVar("_R")


def now() -> str:
    """The current time, ISO 8601 with the local offset, to the second."""
    return dt.datetime.now().astimezone().replace(microsecond=0).isoformat()


@dataclass
class Campaign:
    """An open campaign folder."""

    root: Path
    settings: dict

    @property
    def id(self) -> str:
        return self.settings["id"]

    @property
    def session(self) -> str:
        """The exam session (« 2027 »), "" when unknown."""
        return self.settings.get("session", "")

    @property
    def school(self) -> str:
        """The school's name, "" when unknown."""
        return self.settings.get("etablissement", "")

    @property
    def context(self) -> Context:
        return Context(self.session, self.school, self.settings.get("academie", ""))

    @property
    def password(self) -> str:
        return self.settings.get("mot_de_passe", DEFAULT_PASSWORD)

    @property
    def secret(self) -> bytes:
        return bytes.fromhex((self.root / SECRET).read_text(encoding="ascii").strip())

    def grid(self) -> Grid:
        return load_grid(self.root / GRID_FILE)

    def ledger(self, *, readonly: bool | None = None) -> Ledger:
        """The campaign's ledger. ``readonly``: ``None`` (the default) opens it for writing only
        inside :meth:`writing` (this process holds the campaign), read-only otherwise.

        Raises :class:`SystemFault` (exit 2) when the ledger cannot be opened or is not a database.
        """
        if readonly is None:
            readonly = not holds(self.root)
        path = self.root / LEDGER
        try:
            return Ledger(path, readonly=readonly)
        except sqlite3.Error as exc:
            raise ledger_fault(exc, path) from None

    def writing(self, command: str) -> contextlib.AbstractContextManager[None]:
        """``with campaign.writing("collect"):`` — see :func:`writing`."""
        return writing(self.root, command)

    def folder(self, name: str) -> Path:
        """The campaign's sub-folder ``name``, created if missing (by writers only)."""
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path


# -- one writer at a time ---------------------------------------------------------------------

_held: dict[Path, int] = {}  # campaign folder → how many nested writing() blocks this process is in


def holds(root: Path) -> bool:
    """Whether this process is inside :func:`writing` for the campaign folder ``root``."""
    return Path(root).resolve() in _held


@contextlib.contextmanager
def writing(root: Path, command: str) -> Iterator[None]:
    """Hold the campaign folder ``root`` for the writing command ``command`` (« collect »…).

    One writer at a time per campaign: the lock is an OS lock on ``root/.verrou``
    (``filelock``: ``flock`` on Linux and macOS, ``LockFileEx`` on Windows), so it is
    released when its process ends, killed or not. ``root/.verrou.json`` tells the
    others which command holds the campaign, since when, its process and machine.
    Nested blocks of the same process share the outer one. Once held, what killed
    writers left is removed (temporary files of the campaign's folders, LibreOffice
    profiles), then the block runs.

    Raises :class:`E2docsError` (exit 2) at once when another process holds the
    campaign. A system error inside the block (``OSError``, ``sqlite3.Error``)
    comes out as a :class:`SystemFault` saying what was recorded before it: exit 2
    when nothing, :data:`EXIT_PARTIAL` (3) when part of the work.
    """
    root = Path(root).resolve()
    if root in _held:
        _held[root] += 1
        try:
            yield
        finally:
            _held[root] -= 1
        return
    lock = filelock.FileLock(root / LOCK, timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise _busy(root) from None
    except OSError as exc:
        raise system_fault(exc, "pose du verrou de la campagne") from None
    _held[root] = 1
    try:
        with contextlib.suppress(OSError):  # only tells the others: not worth failing for
            info = {"command": command, "pid": os.getpid(), "started_at": now(), "host": socket.gethostname()}
            atomic_write(root / LOCK_INFO, json.dumps(info, ensure_ascii=False).encode())
        remove_leftovers(root)
        before = recorded(root)
        try:
            yield
        except (OSError, sqlite3.Error) as exc:
            raise _fault(root, command, exc, before) from None
        except E2docsError as exc:
            _tell_recorded(root, exc, before)
            raise
    finally:
        del _held[root]
        with contextlib.suppress(OSError):
            (root / LOCK_INFO).unlink(missing_ok=True)
        lock.release()


def writes(
    command: str,
) -> Callable[[Callable[Concatenate[Campaign, _P], _R]], Callable[Concatenate[Campaign, _P], _R]]:
    """Decorator of an app function whose first argument is the campaign it writes in: the function
    runs inside ``campaign.writing(command)``."""

    def decorate(function: Callable[Concatenate[Campaign, _P], _R]) -> Callable[Concatenate[Campaign, _P], _R]:
        @functools.wraps(function)
        def wrapper(campaign: Campaign, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
            with campaign.writing(command):
                return function(campaign, *args, **kwargs)

        return wrapper

    return decorate


def holder(root: Path) -> dict | None:
    """What ``root/.verrou.json`` says of the command holding the campaign (``command``, ``pid``,
    ``started_at`` ISO date-time, ``host``), ``None`` when it says nothing readable."""
    try:
        info = json.loads((Path(root) / LOCK_INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def _busy(root: Path) -> E2docsError:
    """The error telling that another command holds the campaign ``root``."""
    info = holder(root)
    if info is None:
        what = "une autre commande e2docs écrit dans cette campagne"
    else:
        since = ""
        with contextlib.suppress(TypeError, ValueError):
            started = dt.datetime.fromisoformat(str(info.get("started_at")))
            since = f" depuis le {started:%d/%m/%Y} à {started:%H:%M:%S}"
        what = (
            f"la commande « e2docs {info.get('command', '?')} » écrit dans cette campagne{since} "
            f"(processus {info.get('pid', '?')} sur {info.get('host', '?')})"
        )
    return E2docsError(
        f"campagne occupée : {what}.",
        root,
        hint="Attendez qu'elle se termine, puis relancez. Les commandes qui ne font que lire "
        "(status, inspect) marchent en attendant.",
    )


def remove_leftovers(root: Path) -> list[Path]:
    """Remove what killed e2docs processes left in the campaign ``root``: temporary files of
    :func:`~e2docs.formats.atomic.atomic_write` in the campaign folder and its sub-folders, and
    LibreOffice profile folders in the temporary folder. Only those of processes that no
    longer run; nothing is created. Returns the paths removed."""
    removed = remove_stale_temporaries(root)
    for name in FOLDERS:
        removed += remove_stale_temporaries(root / name)
    with contextlib.suppress(OSError):
        removed += libreoffice.remove_stale_profiles()
    return removed


def recorded(root: Path) -> dict[str, int] | None:
    """How many rows the ledger of ``root`` holds per table (``{"generated": 12, "returns": 7…}``),
    ``None`` when it cannot be read. Compared before and after a command, it tells what the
    command recorded."""
    path = Path(root) / LEDGER
    if not path.is_file():
        return None
    try:
        with contextlib.closing(sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=5)) as db:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            return {t: db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
    except sqlite3.Error:
        return None


_RECORDS = {
    "generated": "classeur(s) enregistré(s) comme générés",
    "returns": "retour(s) enregistré(s)",
    "messages": "message(s) enregistré(s)",
}


def _changes(root: Path, before: dict[str, int] | None) -> str | None:
    """What the ledger gained since ``before`` in French (« 7 retour(s) enregistré(s) »), "" when
    nothing, ``None`` when unknown."""
    after = recorded(root)
    if before is None or after is None:
        return None
    parts = []
    for table, label in _RECORDS.items():
        if after.get(table, 0) > before.get(table, 0):
            parts.append(f"{after[table] - before.get(table, 0)} {label}")
    return ", ".join(parts)


def _tell_recorded(root: Path, exc: E2docsError, before: dict[str, int] | None) -> None:
    """Add to ``exc`` what was recorded before it, and exit code 3 when something was."""
    changes = _changes(root, before)
    if changes:
        exc.message += f" Déjà enregistré avant l'arrêt : {changes} (conservé)."
        exc.exit_code = EXIT_PARTIAL


def _archived(root: Path, path: Path) -> bool:
    """Whether ``path`` is an archived original (``retours/<file>`` of the campaign ``root``)."""
    return Path(path).parent.name == "retours" and Path(path).resolve().parent.parent == root


def _fault(root: Path, command: str, exc: OSError | sqlite3.Error, before: dict[str, int] | None) -> SystemFault:
    """A system error met inside :func:`writing` for ``command`` as a French :class:`SystemFault`,
    saying what was recorded before it and what to do."""
    if isinstance(exc, sqlite3.Error):
        fault = ledger_fault(exc, root / LEDGER)
    elif isinstance(exc, FileNotFoundError) and exc.filename and _archived(root, Path(exc.filename)):
        fault = SystemFault(
            "original archivé absent : ce retour a été supprimé ou déplacé du dossier retours/.",
            exc.filename,
            "Restaurez-le depuis votre sauvegarde ; à défaut, une copie du fichier rendu d'origine, "
            "renommée ainsi, convient (le nom est l'empreinte SHA-256 de son contenu).",
        )
    else:
        fault = system_fault(exc)
        fault.message = f"« e2docs {command} » arrêté : {os_error_fr(exc)}."
        if fault.path is not None and temporary_owner(fault.path.name) is not None:
            fault.path = fault.path.parent  # a temporary file, already removed: name its folder
    changes = _changes(root, before)
    if changes:
        fault.message += f" Déjà enregistré avant l'arrêt : {changes} ; le registre reste cohérent."
        fault.hint = (fault.hint + " " if fault.hint else "") + (
            "Relancez ensuite la même commande : elle reprend là où elle s'est arrêtée."
        )
        fault.exit_code = EXIT_PARTIAL
    elif changes == "":
        fault.message += " Rien n'a été enregistré."
    return fault


def ledger_fault(exc: sqlite3.Error, path: Path) -> SystemFault:
    """An SQLite error on the ledger ``path`` in French, with what to do (exit 2)."""
    return sqlite_fault(
        exc,
        path,
        "registre",
        "Restaurez registre.sqlite depuis votre sauvegarde ; les fichiers de retours/ sont intacts "
        "et peuvent être relevés à nouveau.",
    )


def sqlite_fault(exc: sqlite3.Error, path: Path, noun: str, damaged: str) -> SystemFault:
    """An SQLite error on the database ``path`` in French, with what to do (exit 2). ``noun``: what the
    database is, a masculine noun (« registre » : « le registre est verrouillé… », « écriture du
    registre… »); ``damaged``: what to do when it is damaged."""
    text = str(exc).lower()
    if "not a database" in text or "malformed" in text:
        return SystemFault(f"le {noun} est endommagé (ce n'est plus une base SQLite lisible).", path, damaged)
    if "locked" in text or "busy" in text:
        return SystemFault(
            f"le {noun} est verrouillé par un autre programme (un outil SQLite ouvert ?).",
            path,
            "Fermez le programme qui l'utilise, puis relancez.",
        )
    if "full" in text:
        return SystemFault(
            f"écriture du {noun} impossible : disque plein.", path, os_error_hint(OSError(errno.ENOSPC, ""))
        )
    if "readonly" in text or "read-only" in text:
        return SystemFault(
            f"écriture du {noun} impossible : fichier ou dossier en lecture seule.",
            path,
            f"Vérifiez que vous avez le droit d'écrire dans le dossier de la campagne et dans {path.name} "
            "(et que le support n'est pas en lecture seule), puis relancez.",
        )
    if "unable to open" in text:
        return SystemFault(
            f"ouverture du {noun} impossible (fichier absent, ou dossier sans droit d'accès).",
            path,
            f"Vérifiez les droits du dossier de la campagne ; restaurez {path.name} depuis votre sauvegarde "
            "s'il a disparu.",
        )
    if "disk i/o" in text:
        return SystemFault(
            f"erreur de lecture ou d'écriture du support en accédant au {noun}.",
            path,
            "Vérifiez le support (disque, clé USB, réseau) et faites une sauvegarde, puis relancez.",
        )
    return SystemFault(f"le {noun} ne peut pas être utilisé (SQLite : {exc}).", path)


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _write_settings(path: Path, settings: dict) -> None:
    lines = ["# Campagne e2docs — réglages (modifiables : session, etablissement, academie, mot_de_passe)", ""]
    lines += [f"{key} = {_toml_string(str(value))}" for key, value in settings.items()]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def create_campaign(
    root: Path,
    roster_path: Path,
    *,
    grid_path: Path | None = None,
    session: str | None = None,
    school: str | None = None,
    academie: str | None = None,
    password: str | None = None,
    campaign_id: str | None = None,
    secret: bytes | None = None,
    encoding: str | None = None,
) -> tuple[Campaign, Roster]:
    """Create ``root`` as a new campaign; everything is checked before anything is written.

    ``encoding`` forces the roster's text encoding (see :func:`~e2docs.formats.roster.read_roster`);
    the roster and grid files are read once, and kept in the campaign as read.

    The campaign is filled in a hidden staging folder beside it (``.NAME.creation-<pid>``,
    held with :func:`writing`), then renamed into place at once: a ``new`` killed
    half-way leaves no campaign, and the next ``new`` removes the staging folders of
    processes that no longer run. ``campaign_id`` and ``secret`` are drawn at random
    unless given (the demo gives fixed ones so that its bundled returns belong to the
    demo campaign). Raises :class:`E2docsError` (bad roster or grid, folder not empty…),
    :class:`SystemFault` when the folder cannot be written.
    """
    root = Path(root)
    if (root / SETTINGS).exists():
        raise E2docsError(
            "une campagne existe déjà dans ce dossier.",
            root,
            hint="Choisissez un autre dossier, ou travaillez dans celle-ci (e2docs -C DOSSIER …).",
        )
    if root.exists() and any(root.iterdir()):
        raise E2docsError("le dossier n'est pas vide.", root, hint="Indiquez un dossier nouveau ou vide.")
    grid_source = Path(grid_path) if grid_path else default_grid_path()
    grid_bytes = read_regular(grid_source, GRID_EXPECT)  # read once: a path is never opened twice
    grid = grid_from_bytes(grid_source, grid_bytes)
    roster = read_roster(roster_path, specialty=grid.specialty, encoding=encoding)
    settings = {
        "id": campaign_id or uuid.uuid4().hex,
        "cree_le": now(),
        "session": session or roster.session or "",
        "etablissement": school or roster.school or "",
        "academie": academie if academie is not None else academie_of(roster.uai),
        "uai": roster.uai or "",
        "grille": GRID_FILE,
        "liste": f"liste/{Path(roster_path).name}",
        "mot_de_passe": password or DEFAULT_PASSWORD,
    }
    remove_stale_stagings(root.parent)
    staging = root.with_name(STAGING.format(name=root.name, pid=os.getpid()))
    try:
        staging.mkdir(parents=True)
        with writing(staging, "new"):
            (staging / "liste").mkdir()
            (staging / "liste" / Path(roster_path).name).write_bytes(roster.data)
            (staging / GRID_FILE).write_bytes(grid_bytes)
            secret_file = staging / SECRET
            secret_file.write_text(secret.hex() if secret else secrets.token_hex(32), encoding="ascii")
            secret_file.chmod(0o600)
            for sub in ("envoi", "retours", "rapports"):
                (staging / sub).mkdir()
            with Ledger(staging / LEDGER) as ledger:
                ledger.set_candidates(roster.candidates)
            _write_settings(staging / SETTINGS, settings)
        # released before the rename: Windows cannot rename a folder holding an open file
        for name in (LOCK, LOCK_INFO):
            (staging / name).unlink(missing_ok=True)
        if root.exists():
            root.rmdir()
        os.replace(staging, root)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError):
            raise system_fault(exc, "création de la campagne") from None
        raise
    return Campaign(root.resolve(), settings), roster


_STAGING_FILES = {SETTINGS, SETTINGS + ".tmp", GRID_FILE, SECRET, LEDGER, LOCK, LOCK_INFO, "liste", *FOLDERS}
_STAGING_NAME = re.compile(r"^\..+\.creation-(\d+)$")


def remove_stale_stagings(parent: Path) -> list[Path]:
    """Delete the staging folders (``.NAME.creation-<pid>``) that a killed ``new`` left in ``parent``:
    those of processes that no longer run, holding nothing but what ``new`` writes (a copy of the
    roster, with names, birth dates and INE, and a signing key). Returns the folders removed."""
    removed: list[Path] = []
    try:
        entries = list(Path(parent).iterdir())
    except OSError:
        return removed
    for path in entries:
        match = _STAGING_NAME.match(path.name)
        if not match or path.is_symlink() or not path.is_dir():
            continue
        pid = int(match.group(1))
        if pid == os.getpid() or processes.alive(pid):
            continue
        try:
            names = {child.name for child in path.iterdir()}
        except OSError:
            continue
        if all(name in _STAGING_FILES or name.startswith(LEDGER) for name in names):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def locate_campaign(directory: Path | None = None, start: Path | None = None) -> Campaign | None:
    """The campaign to work in: the one in ``directory`` when given (``-C``), else the one containing
    ``start`` (default: the current folder), looking upwards like git.

    Returns None when no folder from ``start`` up is a campaign. Raises :class:`E2docsError` when
    ``directory`` is not a campaign, or when the campaign found cannot be opened (see
    :func:`open_campaign`).
    """
    if directory is not None:
        return open_campaign(directory)
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / SETTINGS).is_file():
            return open_campaign(folder)
    return None


_SECRET_TEXT = re.compile(r"^[0-9a-fA-F]{64}$")


def open_campaign(root: Path) -> Campaign:
    """Open an existing campaign folder, checking its files; nothing is written.

    Checked: ``e2docs.toml`` (readable TOML, an ``id``, every setting of
    :data:`TEXT_SETTINGS` a text — ``session = 2027`` is taken as "2027"), ``.secret``
    (64 hexadecimal digits), ``registre.sqlite`` (present, not empty). Raises
    :class:`E2docsError` (exit 2) naming the file, the key and what to do when one is
    missing or damaged, :class:`SystemFault` when one cannot be read.
    """
    root = Path(root)
    path = root / SETTINGS
    if not path.is_file():
        raise E2docsError(
            "ce dossier n'est pas une campagne e2docs (e2docs.toml absent).",
            root,
            hint="Créez-en une avec « e2docs new DOSSIER --roster LISTE ».",
        )
    try:
        settings = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise E2docsError(f"réglages illisibles ({exc}).", path, hint="Corrigez le fichier e2docs.toml.") from None
    except OSError as exc:
        raise system_fault(exc, "lecture des réglages") from None
    settings = _checked_settings(path, settings)
    _check_secret(root)
    _check_ledger(root)
    return Campaign(root.resolve(), settings)


def _checked_settings(path: Path, settings: dict) -> dict:
    """``settings`` with every key of :data:`TEXT_SETTINGS` checked to be a text; an ``int`` session
    becomes its digits (``session = 2027`` is what anybody means by « 2027 »). Other numbers,
    dates, lists, booleans are refused: a number for ``mot_de_passe`` would not be what was
    typed (``1_000``), and a workbook signed with a value of the wrong type never verifies."""
    settings = dict(settings)
    for key in TEXT_SETTINGS:
        if key not in settings:
            continue
        value = settings[key]
        if key == "session" and isinstance(value, int) and not isinstance(value, bool):
            settings[key] = str(value)
        elif not isinstance(value, str):
            raise E2docsError(
                f"{_toml_kind(value)} au lieu d'un texte.",
                path,
                Place(key=key),
                hint=f'Écrivez-le entre guillemets, par exemple {key} = "{_toml_text(value)}", puis relancez.',
            )
    if not settings.get("id"):
        raise E2docsError(
            "réglages incomplets : clé « id » absente.",
            path,
            Place(key="id"),
            hint="Restaurez e2docs.toml depuis votre sauvegarde : l'identifiant de la campagne est inscrit "
            "dans chaque classeur envoyé.",
        )
    return settings


def _toml_kind(value: object) -> str:
    """What a TOML value is, in French."""
    if isinstance(value, bool):
        return "un booléen (true/false)"
    if isinstance(value, int | float):
        return "un nombre"
    if isinstance(value, dt.date | dt.time):
        return "une date"
    if isinstance(value, list):
        return "une liste"
    if isinstance(value, dict):
        return "une table"
    return "une valeur"


def _toml_text(value: object) -> str:
    """A value as the text a user most likely meant (for the hint)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value) if isinstance(value, int | float) else "…"


def _check_secret(root: Path) -> None:
    """``.secret`` exists and holds 64 hexadecimal digits (a 32-byte key); :class:`E2docsError` else."""
    path = root / SECRET
    restore = (
        "Restaurez le fichier .secret depuis votre sauvegarde : sans lui, les classeurs envoyés ne peuvent "
        "plus être vérifiés (ne le recréez pas, une nouvelle clé ne reconnaîtrait aucun classeur)."
    )
    if not path.is_file():
        raise E2docsError(
            "clé de signature (.secret) absente : les retours ne peuvent pas être vérifiés.", root, hint=restore
        )
    try:
        text = path.read_text(encoding="ascii").strip()
    except UnicodeDecodeError:
        text = "?"
    except OSError as exc:
        raise system_fault(exc, "lecture de la clé de signature") from None
    if not _SECRET_TEXT.match(text):
        what = "vide" if not text else f"{len(text)} caractère(s) au lieu de 64 chiffres hexadécimaux"
        raise E2docsError(f"clé de signature endommagée ({what}).", path, hint=restore)


def _check_ledger(root: Path) -> None:
    """``registre.sqlite`` exists and is not empty (SQLite would silently make a new, empty one)."""
    path = root / LEDGER
    restore = (
        "Restaurez registre.sqlite depuis votre sauvegarde : il garde la liste des candidats et les retours "
        "relevés. Sans sauvegarde, recréez une campagne (e2docs new) — les classeurs déjà envoyés ne seront "
        "pas reconnus par elle."
    )
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise E2docsError("registre (registre.sqlite) absent.", root, hint=restore) from None
    except OSError as exc:
        raise system_fault(exc, "lecture du registre") from None
    if size == 0:
        raise E2docsError("registre vide (0 octet) : son contenu est perdu.", path, hint=restore)
