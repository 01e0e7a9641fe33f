"""Shared pytest fixtures."""

from __future__ import annotations

import pytest

from .lo.lo import LibreOffice, require_lo


@pytest.fixture(scope="session")
def lo(tmp_path_factory):
    """A real headless LibreOffice driver (tests/lo); skipped without LibreOffice (fails on CI)."""
    require_lo()
    office = LibreOffice(tmp_path_factory.mktemp("libreoffice"))
    yield office
    office.cleanup()
