"""Whether LibreOffice and the other tools a test runs are there: skip without them, fail instead on CI.

A test that needs LibreOffice must carry the ``libreoffice`` marker (pyproject.toml),
so that ``pytest -m "not libreoffice"`` never starts soffice: :func:`require_lo`
and ``require_tools("soffice")`` fail a test that lacks it (tests/conftest.py
tells this module which test is running).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess

import pytest

from e2docs.formats import libreoffice

from .process import SYSTEM_PYTHON

MARKER = "libreoffice"
_running = {"marked": True}  # whether the running test carries the marker (set by tests/conftest.py)


def running_test_marked(marked: bool) -> None:
    """Record whether the test about to run carries the ``libreoffice`` marker."""
    _running["marked"] = marked


def _check_marked(what: str) -> None:
    if not _running["marked"]:
        pytest.fail(f"this test needs {what}: mark it @pytest.mark.{MARKER} (see pyproject.toml)")


@functools.cache
def lo_unavailable_reason() -> str | None:
    """None when LibreOffice can be driven, else why not."""
    if not libreoffice.available():
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
    _check_marked("LibreOffice")
    reason = lo_unavailable_reason()
    if reason is not None:
        skip_or_fail(reason)


def require_tools(*names: str) -> None:
    """Skip the test when a command it runs (soffice, pdfinfo…) is missing -- fail instead on CI.

    "soffice" is looked up like e2docs does (E2DOCS_SOFFICE, PATH, install folders).
    """
    if "soffice" in names:
        _check_marked("LibreOffice")
    missing = [n for n in names if not (libreoffice.available() if n == "soffice" else shutil.which(n))]
    if missing:
        skip_or_fail(f"not installed: {', '.join(missing)}")


def pdf_pages(pdf: str | os.PathLike[str]) -> int:
    """The page count of a PDF, as poppler's pdfinfo reads it."""
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    found = re.search(r"^Pages:\s+(\d+)", out, re.M)
    assert found, out
    return int(found.group(1))
