"""Shared pytest fixtures, and the ``libreoffice`` marker kept honest.

Every test that starts LibreOffice carries the ``libreoffice`` marker
(pyproject.toml), so ``pytest -m "not libreoffice"`` never starts soffice: tests
using the ``lo`` fixture are marked here automatically; the others are marked in
their files, and :func:`~tests.lo.availability.require_lo` /
``require_tools("soffice")`` fail an unmarked test that asks for LibreOffice.
Likewise for the other engines (tests/engines.py): the ``onlyoffice`` and
``gnumeric`` fixtures mark their tests ``onlyoffice`` and ``gnumeric``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from . import engines
from .lo.availability import MARKER, require_lo, running_test_marked
from .lo.lo import LibreOffice


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "lo" in fixtures:
            item.add_marker(MARKER)
        for engine in (engines.ONLYOFFICE, engines.GNUMERIC):
            if engine in fixtures:
                item.add_marker(engine)


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


@pytest.fixture
def onlyoffice(request: pytest.FixtureRequest, tmp_path: Path) -> engines.OnlyOffice:
    """ONLYOFFICE Document Builder, run in its own processes under ``tmp_path`` (tests/engines.py);
    skipped without it (fails on CI)."""
    engines.require_onlyoffice(request.node)
    return engines.OnlyOffice(tmp_path / "onlyoffice")


@pytest.fixture
def gnumeric(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[Path, Path], str]:
    """``gnumeric(source, target)``: Gnumeric's ``ssconvert --recalc`` .xlsx → .xlsx, returning what it
    printed (tests/engines.py); skipped without it (fails on CI)."""
    engines.require_gnumeric(request.node)
    folder = tmp_path / "gnumeric"
    return lambda source, target: engines.ssconvert(source, target, folder)
