"""A campaign folder: settings, the roster as imported, a signing secret, the ledger, the files.

Layout of ``DIR``::

    e2docs.toml      settings (session, school, académie, grid, password)
    grille.toml      the grid used, frozen at creation
    liste/           the roster file exactly as imported
    .secret          the key that signs this campaign's workbooks (keep it private)
    registre.sqlite  the ledger
    envoi/           workbooks to send      retours/  returned files, archived unchanged
    rapports/        Word/PDF documents     exports/  summaries
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import tomllib
import uuid
from dataclasses import dataclass
from pathlib import Path

from e2docs.app.ledger import Ledger
from e2docs.formats.gridfile import default_grid_path, load_grid
from e2docs.formats.roster import Roster, read_roster
from e2docs.formats.xlsx.writer import DEFAULT_PASSWORD
from e2docs.model.academies import academie_of
from e2docs.model.candidate import Context
from e2docs.model.errors import E2docsError
from e2docs.model.grid import Grid

SETTINGS = "e2docs.toml"
GRID_FILE = "grille.toml"
SECRET = ".secret"
LEDGER = "registre.sqlite"


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

    def ledger(self) -> Ledger:
        return Ledger(self.root / LEDGER)

    def folder(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path


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
) -> tuple[Campaign, Roster]:
    """Create ``root`` as a new campaign; everything is checked before anything is written.

    ``campaign_id`` and ``secret`` are drawn at random unless given (the demo gives
    fixed ones so that its bundled returns belong to the demo campaign).
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
    grid = load_grid(grid_source)
    roster = read_roster(roster_path, specialty=grid.specialty)
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
    staging = root.with_name(f".{root.name}.creation-{os.getpid()}")
    try:
        staging.mkdir(parents=True)
        (staging / "liste").mkdir()
        shutil.copyfile(roster_path, staging / "liste" / Path(roster_path).name)
        shutil.copyfile(grid_source, staging / GRID_FILE)
        secret_file = staging / SECRET
        secret_file.write_text(secret.hex() if secret else secrets.token_hex(32), encoding="ascii")
        secret_file.chmod(0o600)
        for sub in ("envoi", "retours", "rapports"):
            (staging / sub).mkdir()
        with Ledger(staging / LEDGER) as ledger:
            ledger.set_candidates(roster.candidates)
        _write_settings(staging / SETTINGS, settings)
        if root.exists():
            root.rmdir()
        os.replace(staging, root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Campaign(root, settings), roster


def locate_campaign(directory: Path | None = None, start: Path | None = None) -> Campaign | None:
    """The campaign to work in: the one in ``directory`` when given (``-C``), else the one containing
    ``start`` (default: the current folder), looking upwards like git.

    Returns None when no folder from ``start`` up is a campaign. Raises :class:`E2docsError` when
    ``directory`` is not a campaign, or when the campaign found cannot be opened.
    """
    if directory is not None:
        return open_campaign(directory)
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / SETTINGS).is_file():
            return open_campaign(folder)
    return None


def open_campaign(root: Path) -> Campaign:
    """Open an existing campaign folder; :class:`E2docsError` when it is not one (or is damaged)."""
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
    if not settings.get("id"):
        raise E2docsError("réglages incomplets : clé « id » absente.", path)
    if not (root / SECRET).is_file():
        raise E2docsError(
            "clé de signature (.secret) absente : les retours ne peuvent pas être vérifiés.",
            root,
            hint="Restaurez le fichier .secret depuis votre sauvegarde.",
        )
    return Campaign(root.resolve(), settings)
