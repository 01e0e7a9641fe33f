"""Shared pytest fixtures, and the ``libreoffice`` marker kept honest.

Every test that starts LibreOffice carries the ``libreoffice`` marker
(pyproject.toml), so ``pytest -m "not libreoffice"`` never starts soffice: tests
using the ``lo`` fixture are marked here automatically; the others are marked in
their files, and :func:`~tests.lo.availability.require_lo` /
``require_tools("soffice")`` fail an unmarked test that asks for LibreOffice.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .lo.availability import MARKER, require_lo, running_test_marked
from .lo.lo import LibreOffice


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "lo" in getattr(item, "fixturenames", ()):
            item.add_marker(MARKER)


@pytest.hookimpl(tryfirst=True)  # before the test's fixtures are set up
def pytest_runtest_setup(item: pytest.Item) -> None:
    running_test_marked(item.get_closest_marker(MARKER) is not None)


@pytest.fixture(scope="session")
def lo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LibreOffice]:
    """A real headless LibreOffice driver (tests/lo); skipped without LibreOffice (fails on CI)."""
    require_lo()
    office = LibreOffice(tmp_path_factory.mktemp("libreoffice"))
    yield office
    office.cleanup()
