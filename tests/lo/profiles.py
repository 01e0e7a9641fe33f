"""LibreOffice user profiles for the harness: the settings seeded in them, and a template copied for each run.

Shared by both sides, so standard library only, imported as a plain module (no
relative imports).

Settings (driver side): before soffice starts, :func:`seed_profile` writes into
``<profile>/user/registrymodifications.xcu``:

* ``org.openoffice.Office.Calc/Formula/Load/OOXMLRecalcMode`` and ``.../ODFRecalcMode``
  = 1 ("never recalculate"; 0 = always, 2 = prompt; 1 is also LibreOffice's
  default) so that a loaded workbook shows the *cached* formula results stored in
  the file -- XlsxWriter's ``fullCalcOnLoad="1"`` is ignored by LibreOffice;
* Calc AutoInput off (no autocomplete from the column while typing);
* document lock files off;
* with a locale, ``org.openoffice.Setup/L10N/ooSetupSystemLocale`` (the locale
  that parses typed input: "14/03/2027", "12,5" in fr-FR); the UI stays English.

operations.py checks them again through the configuration API once connected.

Template (test side): a new profile costs ~1 s at each start until it has been
used once, so :class:`ProfileStore` builds a template profile once (by running
the driver with no steps) and every run starts from a copy of it.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

RECALC_NEVER = 1  # org.openoffice.Office.Calc/Formula/Load/*RecalcMode: 0 always, 1 never, 2 ask

Setting = tuple[str, str, str, Any]  # (node path, property, xs type, value)


def profile_settings(locale: str | None = None) -> list[Setting]:
    """(node path, property, xs type, value) written into the profile before start."""
    settings: list[Setting] = [
        # never recalculate on load: show the cached results stored in the file
        ("/org.openoffice.Office.Calc/Formula/Load", "OOXMLRecalcMode", "int", RECALC_NEVER),
        ("/org.openoffice.Office.Calc/Formula/Load", "ODFRecalcMode", "int", RECALC_NEVER),
        # no autocomplete from the column while typing
        ("/org.openoffice.Office.Calc/Input", "AutoInput", "boolean", False),
        # no .~lock.<name># files next to the documents (left behind if soffice dies)
        ("/org.openoffice.Office.Common/Misc", "UseLocking", "boolean", False),
    ]
    if locale:
        # locale used to parse typed input ("14/03/2027", "12,5") and format numbers;
        # the UI (and its messages) stays in English
        settings += [
            ("/org.openoffice.Setup/L10N", "ooSetupSystemLocale", "string", locale),
            ("/org.openoffice.Office.Linguistic/General", "UILocale", "string", "en-US"),
        ]
    return settings


def xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def seed_profile(profile: str | os.PathLike[str], settings: list[Setting]) -> None:
    """Merge ``settings`` into <profile>/user/registrymodifications.xcu (read at start-up).

    Plain text editing on purpose: the file holds one <item> per line and uses
    QNames in attribute values (oor:type="xs:int") that an XML round trip loses.
    """
    path = os.path.join(profile, "user", "registrymodifications.xcu")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
    else:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        text = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
            'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
            "</oor:items>\n"
        )
    lines = text.splitlines(True)
    items = []
    for node, name, _xstype, value in settings:
        head = f'<item oor:path="{xml_escape(node)}"><prop oor:name="{xml_escape(name)}" '
        lines = [line for line in lines if not line.startswith(head)]
        shown = str(value).lower() if isinstance(value, bool) else str(value)
        items.append(f'{head}oor:op="fuse"><value>{xml_escape(shown)}</value></prop></item>\n')
    end = max(i for i, line in enumerate(lines) if "</oor:items>" in line)
    lines[end:end] = items
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(lines))


class ProfileStore:
    """Profile folders under ``workdir``: one template, built once by ``build``, copied for each run."""

    def __init__(self, workdir: Path, build: Callable[[Path], None]) -> None:
        #: ``build(folder)`` makes a usable profile in ``folder`` (runs LibreOffice once), or raises
        self.workdir = workdir
        self._build = build
        self._template: Path | None = None
        self._lock = threading.Lock()
        self._template_lock = threading.Lock()
        self._counter = 0

    def new_folder(self, kind: str) -> Path:
        """A profile folder name not used yet (not created)."""
        with self._lock:
            self._counter += 1
            n = self._counter
        return self.workdir / f"{kind}-{os.getpid()}-{n}"

    def template(self) -> Path:
        """The template profile, built on first use."""
        with self._template_lock:
            if self._template is None:
                path = self.workdir / f"template-{os.getpid()}"
                shutil.rmtree(path, ignore_errors=True)
                self._build(path)
                self._template = path
            return self._template

    def fresh(self) -> Path:
        """A new copy of the template, for one run (the caller removes it)."""
        profile = self.new_folder("profile")
        shutil.copytree(self.template(), profile, symlinks=True)
        return profile

    def cleanup(self) -> None:
        """Remove the template."""
        if self._template is not None:
            shutil.rmtree(self._template, ignore_errors=True)
            self._template = None
