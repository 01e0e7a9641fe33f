"""Memory that does not grow with the class: what ``report`` holds to put its documents in place, and
what ``generate`` holds of the workbooks it wrote, counted with tracemalloc (allocations, not time:
deterministic). The whole commands are measured at 5,000 to 20,000 candidates by
``benchmarks/bench_academie.py``."""

from __future__ import annotations

import hashlib
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from types import SimpleNamespace

import pytest

from e2docs.app import documents, generate
from e2docs.app.documents import ReportResult
from e2docs.app.written import Record
from e2docs.formats.xlsx.writer import Options, Written
from e2docs.model.candidate import Candidate
from tests.helpers import CTX, GRID


def peak_above_start(work: Callable[[], object]) -> int:
    """Bytes allocated by ``work`` at its peak, above what was allocated when it started."""
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        kept = work()
        peak = tracemalloc.get_traced_memory()[1]
        del kept
    finally:
        tracemalloc.stop()
    return peak - start


def put_in_place(root: Path, n: int) -> int:
    """Stage ``n`` documents (and a stale one from an earlier run), then measure putting them in place."""
    out = root / "rapports"
    stage = out / ".stage"
    stage.mkdir(parents=True)
    names = [f"NOM-{i}_Prénom_31214_{2700000000 + i}_fiche-evaluation.docx" for i in range(n)]
    for name in names:
        (stage / name).write_bytes(name.encode())
    (out / "ancien.docx").write_bytes(b"old")
    with Record.load(root) as record:
        record.expect(out / "ancien.docx", hashlib.sha256(b"old").hexdigest(), "report")
        record.save()
    result = ReportResult(out)
    campaign = SimpleNamespace(root=root)
    peak = peak_above_start(lambda: documents._put_in_place(campaign, result, stage, names, []))  # type: ignore[arg-type]
    assert len(result.written) == n and result.written[-1] == out / names[-1]
    assert [p.name for p in result.removed] == ["ancien.docx"]
    assert sorted(p.name for p in out.iterdir()) == sorted([*names, ".stage"])
    return peak


def test_putting_documents_in_place_holds_nothing_per_document(tmp_path):
    """The record of what was written is read and written a row at a time, the targets made from the
    staged names when read: 3,000 documents more cost less than 100 bytes each (a path alone is 500)."""
    small = put_in_place(tmp_path / "a", 500)
    large = put_in_place(tmp_path / "b", 3500)
    assert (large - small) / 3000 < 100, (small, large)


def workbooks_written(folder: Path, n: int) -> int:
    cands = [Candidate(str(2700000000 + i), f"NOM-{i}", "Zoé", "TMCV1") for i in range(n)]
    options = Options(generated_at="2027-01-15T09:30:00+00:00")
    written: list[Sequence[Written]] = []

    def record(workbooks: Sequence[Written]) -> None:
        assert sum(1 for _ in workbooks) == n  # read as the ledger reads them

    def work() -> None:
        written.append(generate.generate_workbooks(cands, GRID, CTX, folder, options=options, record=record))

    peak = peak_above_start(work)
    assert len(written[0]) == n and written[0][-1].metas[0]["candidate_number"] == cands[-1].number
    return peak


def test_generate_holds_no_metadata_per_workbook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The signed metadata of each workbook goes to a temporary file, its path is made when read:
    600 workbooks more cost less than 200 bytes each (their metadata alone is some 1,500)."""
    monkeypatch.setattr(generate, "PARALLEL_FROM", 10**9)  # one process: tracemalloc sees everything
    small = workbooks_written(tmp_path / "a", 100)
    large = workbooks_written(tmp_path / "b", 700)
    assert (large - small) / 600 < 200, (small, large)
