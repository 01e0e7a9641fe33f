"""Windows refuses to replace a file open in Word or Excel: e2docs retries, then says so in French."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from e2docs.formats import atomic


@pytest.fixture
def windows_refuses(monkeypatch):
    """Simulate Windows' sharing violation on the files named in the returned set."""
    held: set[str] = set()
    calls: list[str] = []
    real = os.replace

    def replace(src, dst):
        calls.append(Path(dst).name)
        if Path(dst).name in held:
            raise PermissionError(13, "Le processus ne peut pas accéder au fichier", str(dst))
        real(src, dst)

    monkeypatch.setattr(atomic, "_WINDOWS", True)
    monkeypatch.setattr(atomic, "REPLACE_PAUSE", 0)
    monkeypatch.setattr(atomic.os, "replace", replace)
    return held, calls


def test_a_file_held_open_is_left_intact_and_named_in_french(tmp_path, windows_refuses):
    held, calls = windows_refuses
    target = tmp_path / "synthese.xlsx"
    target.write_bytes(b"ouvert dans Excel")
    held.add(target.name)
    with pytest.raises(atomic.FileInUseError) as err:
        atomic.atomic_write(target, b"nouveau")
    assert target.read_bytes() == b"ouvert dans Excel"
    assert calls.count(target.name) == atomic.REPLACE_TRIES
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no temporary file left
    text = str(err.value)
    assert str(target) in text and "ouvert dans un autre programme" in text and "Fermez-le" in text
    assert err.value.exit_code == 2


def test_a_file_released_while_retrying_is_replaced(tmp_path, windows_refuses, monkeypatch):
    held, calls = windows_refuses
    target = tmp_path / "fiche.docx"
    target.write_bytes(b"ancien")
    held.add(target.name)
    real_sleep = atomic.time.sleep

    def release(_seconds: float) -> None:  # the user closes Word during the pause
        held.clear()
        real_sleep(0)

    monkeypatch.setattr(atomic.time, "sleep", release)
    atomic.atomic_write(target, b"nouveau")
    assert target.read_bytes() == b"nouveau" and calls.count(target.name) == 2


def test_elsewhere_a_refusal_is_an_os_error_naming_the_target(tmp_path, windows_refuses, monkeypatch):
    held, _ = windows_refuses
    monkeypatch.setattr(atomic, "_WINDOWS", False)
    target = tmp_path / "x.csv"
    held.add(target.name)
    with pytest.raises(PermissionError) as err:
        atomic.atomic_write(target, b"a")
    assert err.value.filename == str(target)


def test_export_over_a_summary_open_in_excel_ends_in_french_with_exit_2(tmp_path, windows_refuses):
    from click.testing import CliRunner

    from e2docs.app.campaign import create_campaign
    from e2docs.cli import main
    from tests.helpers import PROJECT

    held, _ = windows_refuses
    campaign, _ = create_campaign(tmp_path / "campagne", PROJECT / "samples" / "classe-demo.csv")
    out = tmp_path / "synthese.xlsx"
    first = CliRunner().invoke(main, ["-C", str(campaign.root), "export", "-o", str(out)])
    assert first.exit_code == 0, first.output
    before = out.read_bytes()
    held.add(out.name)
    again = CliRunner().invoke(main, ["-C", str(campaign.root), "export", "-o", str(out)])
    assert again.exit_code == 2
    assert "ouvert dans un autre programme" in again.output and str(out) in again.output
    assert "inattendue" not in again.output and out.read_bytes() == before


def test_the_flusher_flushes_every_file_added_and_names_one_it_cannot(tmp_path, monkeypatch):
    from e2docs.formats import atomic
    from tests.helpers import fsync_threads

    flushed = fsync_threads(monkeypatch)
    paths = [atomic.atomic_write(tmp_path / f"{n}.docx", b"x" * n, durable=False) for n in range(20)]
    assert flushed == []  # written, not flushed
    with atomic.Flusher() as flusher:
        flusher.add(paths)
        flusher.wait()
    assert len(flushed) == 20 and all(name.startswith("e2docs-flush") for name in flushed)
    with atomic.Flusher() as flusher:
        flusher.add([tmp_path / "absent.docx"])
        with pytest.raises(OSError) as caught:
            flusher.wait()
    assert caught.value.filename == str(tmp_path / "absent.docx")


def test_the_flusher_names_the_first_file_added_it_cannot_flush_and_lets_go_of_the_others(tmp_path):
    import gc
    import weakref

    from e2docs.formats import atomic

    paths = [atomic.atomic_write(tmp_path / f"{n}.docx", b"x", durable=False) for n in range(200)]
    with atomic.Flusher() as flusher:
        flusher.add(paths[:100] + [tmp_path / "absent-1.docx"] + paths[100:] + [tmp_path / "absent-2.docx"])
        with pytest.raises(OSError) as caught:
            flusher.wait()
        assert caught.value.filename == str(tmp_path / "absent-1.docx")
        flusher.add(paths[:10])
        flusher.wait()  # the errors were told once
        # a flush done is let go (a report flushes tens of thousands of documents)
        made: list[weakref.ref] = []
        submit = flusher._pool.submit

        def spied(*args):
            future = submit(*args)
            made.append(weakref.ref(future))
            return future

        flusher._pool.submit = spied  # type: ignore[method-assign]
        flusher.add(paths)
        flusher.wait()
        gc.collect()
        assert len(made) == 200 and [ref() for ref in made if ref() is not None] == []


def test_the_flusher_raises_an_error_whose_callback_has_not_run_yet(tmp_path, monkeypatch):
    """A waiter is woken before the future's callbacks run: the error is read from the flush itself."""
    import concurrent.futures
    import time

    from e2docs.formats import atomic

    real = concurrent.futures.Future._invoke_callbacks

    def late(self):
        error = None if self.cancelled() else self.exception()
        if error is not None and "premier" in str(getattr(error, "filename", "")):
            time.sleep(0.3)  # a worker thread descheduled between waking the waiter and its callbacks
        real(self)

    monkeypatch.setattr(concurrent.futures.Future, "_invoke_callbacks", late)
    with atomic.Flusher() as flusher:
        flusher.add([tmp_path / "premier.docx", tmp_path / "second.docx"])
        with pytest.raises(OSError) as caught:
            flusher.wait()
    assert caught.value.filename == str(tmp_path / "premier.docx")
