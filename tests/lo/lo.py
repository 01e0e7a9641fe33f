"""Test-side entry to a real LibreOffice (imported by the project's interpreter).

LibreOffice's Python bridge (``uno``, Debian package python3-uno) only imports in
Debian's ``/usr/bin/python3``, not in the project's pyenv interpreter that runs
pytest.  So the tests never import ``uno``: :class:`LibreOffice` starts
``tests/lo/driver.py`` with ``/usr/bin/python3`` (process.py), feeds it a JSON
list of steps on stdin and reads a JSON result on stdout (protocol.py; the step
ops are in operations.py).  Each run starts its own headless ``soffice`` (fresh
copy of a template profile, profiles.py; free TCP port on 127.0.0.1) and always
terminates it, so runs are independent and can run in parallel (pytest-xdist).

Locale: LibreOffice parses typed input with the profile's locale, fr-FR by default
(``LibreOffice(locale=...)``): "14/03/2027" is a date, "12,5" a number.  The UI
(and its messages) stays in English.

Speed: a new LibreOffice user profile costs ~1 s at each start until it has been
used once, so the first run of a session builds a template profile and every run
starts from a copy of it: ~0.25 s to start soffice, then ~1.5 s for soffice to
exit after a document was loaded (it waits for background work started by the
load) -- a run with a few steps takes ~2-3 s.

    @pytest.mark.libreoffice             # (automatic for tests using ``lo``: tests/conftest.py)
    def test_x(lo, tmp_path):            # ``lo`` fixture: tests/conftest.py
        res = lo.run([
            {"op": "open", "path": str(xlsx)},
            {"op": "read", "sheet": "Grille E2", "cells": ["F12"]},
            {"op": "type", "sheet": "Grille E2", "cell": "F12", "text": "X"},
            {"op": "save", "path": str(tmp_path / "out.xlsx")},
        ])
        assert res[1]["cells"]["F12"]["string"] == ""
        assert res[2]["changed"]

Without LibreOffice the tests are skipped, or fail when ``CI`` is set
(:func:`require_lo`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from e2docs.formats import libreoffice

from . import protocol
from .availability import lo_unavailable_reason, pdf_pages, require_lo, require_tools, skip_or_fail
from .process import free_port, kill_pids, pids_using, run_driver
from .profiles import ProfileStore

__all__ = [
    "LibreOffice",
    "LibreOfficeError",
    "convert",
    "kill_pids",
    "lo_unavailable_reason",
    "pdf_pages",
    "pids_using",
    "require_lo",
    "require_tools",
    "skip_or_fail",
]


class LibreOfficeError(AssertionError):
    """The driver failed; carries the full driver output."""

    def __init__(self, message: str, output: dict[str, Any] | None = None, stderr: str = "") -> None:
        super().__init__(message)
        self.output = output or {}
        self.stderr = stderr


class LibreOffice:
    """Runs step scripts against a fresh headless LibreOffice (see operations.py for the steps)."""

    def __init__(self, workdir: str | os.PathLike[str] | None = None, locale: str | None = "fr-FR") -> None:
        #: locale used by LibreOffice to parse typed input and format numbers/dates
        #: ("14/03/2027", "12,5" as a French user types them); None = system (en-US here)
        self.locale = locale
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="e2docs-lotest-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.profiles = ProfileStore(self.workdir, self._build_template)
        self.last_output: dict[str, Any] = {}
        self.last_leftovers: list[int] = []

    # -- profiles ---------------------------------------------------------------
    def _build_template(self, path: Path) -> None:
        out, stderr = self._run_driver([], path, timeout=120)
        if not out.get("ok"):
            raise LibreOfficeError(
                f"could not initialise a LibreOffice profile: {out.get('error')}\n{stderr}", out, stderr
            )

    def template_profile(self) -> Path:
        """A profile created once per instance (first start of a new profile is slower)."""
        return self.profiles.template()

    def fresh_profile(self) -> Path:
        """A copy of the template profile, for one run."""
        return self.profiles.fresh()

    # -- driver ----------------------------------------------------------------
    def _run_driver(self, steps: list[dict[str, Any]], profile: Path, timeout: float) -> tuple[dict[str, Any], str]:
        options = [
            "--port",
            str(free_port()),
            "--profile",
            str(profile),
            "--timeout",
            str(max(5.0, timeout - 10)),  # the driver's watchdog fires first
        ]
        if self.locale:
            options += ["--locale", self.locale]
        run = run_driver(options, protocol.encode_steps(steps), profile, timeout)
        self.last_leftovers = run.leftovers
        if run.stdout is None:
            raise LibreOfficeError(f"LibreOffice driver timed out after {timeout}s\nstderr:\n{run.stderr}")
        out = protocol.decode_output(run.stdout)
        if out is None:
            raise LibreOfficeError(
                f"LibreOffice driver produced no result (exit code {run.returncode})\n"
                f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}",
                None,
                run.stderr,
            )
        return out, run.stderr

    def run_raw(self, steps: list[dict[str, Any]], timeout: float = 180, keep_profile: bool = False) -> dict[str, Any]:
        """Run ``steps``; return the driver's whole JSON output (no exception on step errors)."""
        profile = self.fresh_profile()
        try:
            out, stderr = self._run_driver(steps, profile, timeout)
            out["stderr"] = stderr
            out["profile"] = str(profile)
        finally:
            if not keep_profile:
                shutil.rmtree(profile, ignore_errors=True)
        self.last_output = out
        return out

    def run(self, steps: list[dict[str, Any]], timeout: float = 180, keep_profile: bool = False) -> list[Any]:
        """Run ``steps`` in a fresh LibreOffice; return one result per step.

        Raises :class:`LibreOfficeError` (an AssertionError) when a step fails.
        """
        out = self.run_raw(steps, timeout=timeout, keep_profile=keep_profile)
        if not out.get("ok"):
            step = out.get("step")
            what = steps[step] if isinstance(step, int) and step < len(steps) else None
            raise LibreOfficeError(
                f"LibreOffice step {step} {what!r} failed: {out.get('error')}\n"
                f"{out.get('traceback', '')}\nstderr:\n{out.get('stderr', '')}",
                out,
                out.get("stderr", ""),
            )
        results: list[Any] = out["results"]
        return results

    # -- conversions -------------------------------------------------------------
    def convert(
        self, path: str | os.PathLike[str], fmt: str, outdir: str | os.PathLike[str], timeout: float = 120
    ) -> Path:
        """``soffice --convert-to`` with a fresh profile copy (e.g. docx/xlsx -> pdf)."""
        profile = self.fresh_profile()
        try:
            return convert(path, fmt, outdir, timeout=timeout, profile=profile)
        finally:
            shutil.rmtree(profile, ignore_errors=True)

    def cleanup(self) -> None:
        self.profiles.cleanup()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


def convert(
    path: str | os.PathLike[str],
    fmt: str,
    outdir: str | os.PathLike[str],
    timeout: float = 120,
    profile: str | os.PathLike[str] | None = None,
) -> Path:
    """Convert ``path`` with ``soffice --headless --convert-to fmt``; return the output path.

    ``fmt`` is an extension optionally followed by a filter (``"pdf"``,
    ``"pdf:writer_pdf_Export"``, ``"xlsx"``...).  A throw-away profile is used
    when ``profile`` is None (slower: ~1 s more).  Runs through
    :func:`e2docs.formats.libreoffice.convert` (timeout: the whole tree is stopped).
    """
    source = Path(path).resolve()
    target = Path(outdir).resolve() / f"{source.stem}.{fmt.split(':', 1)[0]}"
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.unlink()
    try:
        done = libreoffice.convert([source], fmt, target.parent, timeout, profile=profile)
    except libreoffice.LibreOfficeError as exc:
        raise LibreOfficeError(f"soffice --convert-to {fmt} {source}: {exc}") from None
    finally:
        if profile is not None:
            kill_pids(pids_using(profile))
    if done.returncode != 0 or not target.exists():
        raise LibreOfficeError(
            f"soffice --convert-to {fmt} {source} failed (exit {done.returncode}); expected {target}\n"
            f"stdout:\n{done.stdout.decode(errors='replace')}\nstderr:\n{done.stderr.decode(errors='replace')}"
        )
    return target
