"""formats/files.py: only regular files are opened, and only up to their cap."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from e2docs.formats import files
from e2docs.formats.files import Expect, check_regular, open_regular, read_regular
from e2docs.model.errors import E2docsError, GridError

EXPECT = Expect("fichier de grille", 1000, "Vérifiez le chemin passé à --grid.", GridError)

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes: POSIX")
needs_dev_zero = pytest.mark.skipif(not Path("/dev/zero").exists(), reason="/dev/zero: POSIX")


def refusal(path: Path, expect: Expect = EXPECT) -> GridError:
    """The error read_regular raises on ``path``, within 10 s (a FIFO must never block)."""
    caught: list[BaseException] = []

    def attempt() -> None:
        try:
            read_regular(path, expect)
        except BaseException as exc:  # noqa: BLE001 — handed to the test thread
            caught.append(exc)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():  # blocked in open(): free it, then fail
        with open(path, "wb"):
            pass
        pytest.fail(f"read_regular blocked on {path}")
    assert caught, "no error raised"
    assert isinstance(caught[0], GridError), caught[0]
    return caught[0]


def test_a_regular_file_is_read_whole(tmp_path):
    path = tmp_path / "grille.toml"
    path.write_bytes(b"x" * 1000)
    assert read_regular(path, EXPECT) == b"x" * 1000
    assert check_regular(path, EXPECT) == 1000
    with open_regular(path, EXPECT) as fh:
        assert fh.read(3) == b"xxx"


def test_a_missing_file_is_named_with_the_hint(tmp_path):
    err = refusal(tmp_path / "absente.toml")
    assert err.message == "fichier de grille introuvable."
    assert err.hint == "Vérifiez le chemin passé à --grid."
    assert err.path == tmp_path / "absente.toml" and err.exit_code == 2


def test_a_directory_is_refused(tmp_path):
    err = refusal(tmp_path)
    assert err.message == "fichier de grille illisible : c'est un dossier, pas un fichier ordinaire."


@needs_fifo
def test_a_named_pipe_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "grille.toml"
    os.mkfifo(fifo)
    err = refusal(fifo)
    assert err.message == "fichier de grille illisible : ce n'est pas un fichier ordinaire (tube nommé)."
    assert "pas un dossier, un tube nommé ni un périphérique" in (err.hint or "")


@needs_fifo
def test_a_pipe_swapped_in_after_the_check_is_refused_when_opened(tmp_path, monkeypatch):
    fifo = tmp_path / "grille.toml"
    os.mkfifo(fifo)
    monkeypatch.setattr(files, "check_regular", lambda path, expect: 0)  # as if it were a file when checked
    err = refusal(fifo)
    assert "tube nommé" in err.message


@needs_dev_zero
def test_a_device_is_refused_before_being_read():
    err = refusal(Path("/dev/zero"))
    assert err.message == "fichier de grille illisible : ce n'est pas un fichier ordinaire (périphérique)."
    assert err.path == Path("/dev/zero")


def test_a_file_over_the_cap_is_refused_before_reading(tmp_path):
    sparse = tmp_path / "grille.toml"
    with open(sparse, "wb") as fh:
        fh.truncate(5 * 2**30)  # 5 GB announced, nothing written
    err = refusal(sparse)
    assert err.message == "fichier de grille trop volumineux (5 120 Mo ; 1 Ko au plus)."


def test_a_file_that_grows_after_the_check_is_cut_at_the_cap(tmp_path, monkeypatch):
    path = tmp_path / "grille.toml"
    path.write_bytes(b"x" * 5000)
    real = files._check

    def lenient(path: Path, info: os.stat_result, expect: Expect) -> None:
        real(path, info, Expect(expect.what, 10**9, expect.hint, expect.error))

    monkeypatch.setattr(files, "_check", lenient)  # the size seen by stat and fstat was small
    err = refusal(path)
    assert "trop volumineux" in err.message


def test_the_default_error_is_e2docs_error(tmp_path):
    with pytest.raises(E2docsError, match="modèle introuvable"):
        read_regular(tmp_path / "x.docx", Expect("modèle", 10, "Vérifiez."))
