"""Windows consoles use legacy code pages (cp1252, cp850): output must never crash on them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from e2docs.app.campaign import create_campaign
from tests.helpers import PROJECT


@pytest.mark.parametrize("encoding", ["cp1252", "cp850"])
def test_status_and_help_print_on_a_legacy_code_page(tmp_path, encoding):
    campaign, _ = create_campaign(tmp_path / "campagne", PROJECT / "samples" / "classe-demo.csv")
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    for args in (["-C", str(campaign.root), "status"], ["--help"], ["-C", str(tmp_path / "absente"), "status"]):
        done = subprocess.run([sys.executable, "-m", "e2docs", *args], capture_output=True, env=env, cwd=PROJECT)
        assert b"UnicodeEncodeError" not in done.stderr and b"inattendue" not in done.stderr, done.stderr
        out = done.stdout.decode(encoding)  # what the console shows, replacement marks included
        if args[-1] == "status" and done.returncode == 0:
            assert "Total : 12 candidat(s)" in out
        else:
            assert done.returncode in (0, 2)
