"""Test-side helpers to drive a real LibreOffice (imported by the project's interpreter).

LibreOffice's Python bridge (``uno``, Debian package python3-uno) only imports in
Debian's ``/usr/bin/python3``, not in the project's pyenv interpreter that runs
pytest.  So the tests never import ``uno``: :class:`LibreOffice` starts
``tests/lo/driver.py`` with ``/usr/bin/python3``, feeds it a JSON list of steps
on stdin and reads a JSON result on stdout (see driver.py for the step ops).
Each run starts its own headless ``soffice`` (fresh profile copy, free TCP port
on 127.0.0.1) and always terminates it, so runs are independent and can run in
parallel (pytest-xdist).

Locale: LibreOffice parses typed input with the profile's locale, fr-FR by default
(``LibreOffice(locale=...)``): "14/03/2027" is a date, "12,5" a number.  The UI
(and its messages) stays in English.

Speed: a new LibreOffice user profile costs ~1 s at each start until it has been
used once, so the first run of a session builds a template profile and every run
starts from a copy of it: ~0.25 s to start soffice, then ~1.5 s for soffice to
exit after a document was loaded (it waits for background work started by the
load) -- a run with a few steps takes ~2-3 s.

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

import contextlib
import functools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

SOFFICE = shutil.which("soffice")
SYSTEM_PYTHON = "/usr/bin/python3"
DRIVER = Path(__file__).with_name("driver.py")


@functools.cache
def lo_unavailable_reason() -> str | None:
    """None when LibreOffice can be driven, else why not."""
    if not SOFFICE:
        return "LibreOffice (soffice) is not installed"
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return f"{SYSTEM_PYTHON} not found (needed for the uno bridge)"
    try:
        proc = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot run {SYSTEM_PYTHON}: {exc}"
    if proc.returncode != 0:
        return f"`{SYSTEM_PYTHON} -c 'import uno'` failed (install python3-uno): {proc.stderr.strip()}"
    return None


def skip_or_fail(reason: str) -> None:
    """Skip the test for ``reason`` -- fail instead on CI (``CI`` set), where everything is installed."""
    if os.environ.get("CI"):
        pytest.fail(f"required on CI: {reason}")
    pytest.skip(reason)


def require_lo() -> None:
    """Skip the test when LibreOffice cannot be driven -- fail instead on CI."""
    reason = lo_unavailable_reason()
    if reason is not None:
        skip_or_fail(reason)


def require_tools(*names: str) -> None:
    """Skip the test when a command it runs (soffice, pdfinfo…) is missing -- fail instead on CI."""
    missing = [n for n in names if shutil.which(n) is None]
    if missing:
        skip_or_fail(f"not installed: {', '.join(missing)}")


def pdf_pages(pdf) -> int:
    """The page count of a PDF, as poppler's pdfinfo reads it."""
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pids_using(profile) -> list[int]:
    """PIDs whose command line mentions the profile directory (as a path or file URL)."""
    markers = [str(profile), _profile_url(Path(profile))]
    pids = []
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(m in cmdline for m in markers):
            pids.append(int(entry))
    return pids


def kill_pids(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def _profile_url(profile: Path) -> str:
    return Path(profile).resolve().as_uri()


class LibreOfficeError(AssertionError):
    """The driver failed; carries the full driver output."""

    def __init__(self, message: str, output: dict | None = None, stderr: str = ""):
        super().__init__(message)
        self.output = output or {}
        self.stderr = stderr


class LibreOffice:
    """Runs step scripts against a fresh headless LibreOffice (see driver.py)."""

    def __init__(self, workdir: str | os.PathLike | None = None, locale: str | None = "fr-FR"):
        #: locale used by LibreOffice to parse typed input and format numbers/dates
        #: ("14/03/2027", "12,5" as a French user types them); None = system (en-US here)
        self.locale = locale
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="e2docs-lo-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._template: Path | None = None
        self._lock = threading.Lock()
        self._template_lock = threading.Lock()
        self._counter = 0
        self.last_output: dict = {}
        self.last_leftovers: list[int] = []

    # -- profiles ---------------------------------------------------------------
    def _new_profile_dir(self, kind: str) -> Path:
        with self._lock:
            self._counter += 1
            n = self._counter
        return self.workdir / f"{kind}-{os.getpid()}-{n}"

    def template_profile(self) -> Path:
        """A profile created once per instance (first start of a new profile is slower)."""
        with self._template_lock:
            if self._template is None:
                path = self.workdir / f"template-{os.getpid()}"
                shutil.rmtree(path, ignore_errors=True)
                out, stderr = self._run_driver([], path, timeout=120)
                if not out.get("ok"):
                    raise LibreOfficeError(
                        f"could not initialise a LibreOffice profile: {out.get('error')}\n{stderr}",
                        out,
                        stderr,
                    )
                self._template = path
            return self._template

    def fresh_profile(self) -> Path:
        profile = self._new_profile_dir("profile")
        shutil.copytree(self.template_profile(), profile, symlinks=True)
        return profile

    # -- driver ----------------------------------------------------------------
    def _run_driver(self, steps: list[dict], profile: Path, timeout: float) -> tuple[dict, str]:
        cmd = [
            SYSTEM_PYTHON,
            str(DRIVER),
            "--port",
            str(free_port()),
            "--profile",
            str(profile),
            "--timeout",
            str(max(5.0, timeout - 10)),  # the driver's watchdog fires first
        ]
        if self.locale:
            cmd += ["--locale", self.locale]
        try:
            proc = subprocess.run(
                cmd,
                input=json.dumps(steps),
                capture_output=True,
                text=True,
                timeout=timeout,
                start_new_session=True,
            )
        except subprocess.TimeoutExpired as exc:
            self.last_leftovers = pids_using(profile)
            kill_pids(self.last_leftovers)
            raise LibreOfficeError(
                f"LibreOffice driver timed out after {timeout}s\nstderr:\n{exc.stderr or ''}"
            ) from None
        finally:
            # safety net: the driver always terminates soffice; record and kill leftovers
            leftovers = pids_using(profile)
            if leftovers:
                time.sleep(0.5)  # a process may still be exiting
                leftovers = pids_using(profile)
                kill_pids(leftovers)
            self.last_leftovers = leftovers
        lines = [line for line in proc.stdout.splitlines() if line.strip()]
        try:
            out = json.loads(lines[-1])
        except (IndexError, ValueError):
            raise LibreOfficeError(
                f"LibreOffice driver produced no result (exit code {proc.returncode})\n"
                f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}",
                None,
                proc.stderr,
            ) from None
        return out, proc.stderr

    def run_raw(self, steps: list[dict], timeout: float = 180, keep_profile: bool = False) -> dict:
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

    def run(self, steps: list[dict], timeout: float = 180, keep_profile: bool = False) -> list[dict]:
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
        return out["results"]

    # -- conversions -------------------------------------------------------------
    def convert(self, path, fmt: str, outdir, timeout: float = 120) -> Path:
        """``soffice --convert-to`` with a fresh profile copy (e.g. docx/xlsx -> pdf)."""
        profile = self.fresh_profile()
        try:
            return convert(path, fmt, outdir, timeout=timeout, profile=profile)
        finally:
            shutil.rmtree(profile, ignore_errors=True)

    def cleanup(self) -> None:
        if self._template is not None:
            shutil.rmtree(self._template, ignore_errors=True)
            self._template = None
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


def convert(path, fmt: str, outdir, timeout: float = 120, profile=None) -> Path:
    """Convert ``path`` with ``soffice --headless --convert-to fmt``; return the output path.

    ``fmt`` is an extension optionally followed by a filter (``"pdf"``,
    ``"pdf:writer_pdf_Export"``, ``"xlsx"``...).  A throw-away profile is used
    when ``profile`` is None (slower: ~1 s more).
    """
    if not SOFFICE:
        raise LibreOfficeError("soffice is not installed")
    path = Path(path).resolve()
    outdir = Path(outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    tmp_profile = None
    if profile is None:
        tmp_profile = Path(tempfile.mkdtemp(prefix="e2docs-lo-convert-"))
        profile = tmp_profile
    target = outdir / f"{path.stem}.{fmt.split(':', 1)[0]}"
    if target.exists():
        target.unlink()
    cmd = [
        SOFFICE,
        "--headless",
        "--invisible",
        "--nologo",
        "--norestore",
        "--nodefault",
        "--nolockcheck",
        f"-env:UserInstallation={_profile_url(Path(profile))}",
        "--convert-to",
        fmt,
        "--outdir",
        str(outdir),
        str(path),
    ]
    env = dict(os.environ)
    env.setdefault("SAL_USE_VCLPLUGIN", "svp")
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
        env=env,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise LibreOfficeError(f"soffice --convert-to {fmt} {path} timed out after {timeout}s") from None
    finally:
        kill_pids(pids_using(profile))
        if tmp_profile is not None:
            shutil.rmtree(tmp_profile, ignore_errors=True)
    if proc.returncode != 0 or not target.exists():
        raise LibreOfficeError(
            f"soffice --convert-to {fmt} {path} failed (exit {proc.returncode}); "
            f"expected {target}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        )
    return target
