"""``report --merge`` alone, streamed merge against python-docx's (run by hand:
``python benchmarks/bench_merge.py [N …]``, default 35 200 800).

N evaluation sheets are rendered from the shipped template, then each merge runs in its own
process: wall time and peak memory of that process (``ru_maxrss`` of the child, which also
counts the interpreter and its imports). The python-docx merge is tests/reports/legacy_merge.py
(the one e2docs used before); ``--new-only`` skips it (it takes minutes at 800).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
if sys.argv[1] == "new":
    from e2docs.reports.merge import merge_documents
else:
    from tests.reports.legacy_merge import merge_documents
paths = sorted(Path(sys.argv[2]).glob("*.docx"), key=lambda p: int(p.stem))
t = time.perf_counter()
merge_documents(paths, Path(sys.argv[3]))
print(json.dumps({{"s": time.perf_counter() - t, "mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def sheets(folder: Path, n: int) -> None:
    sys.path.insert(0, str(ROOT))
    from e2docs.reports import EVALUATION, Templates, candidate_context, template_path
    from e2docs.reports.samples import sample_candidate, sample_evaluation

    compiled = Templates().get(template_path(EVALUATION))
    for i in range(n):
        candidate = sample_candidate(f"0270941{i:04d}", f"NOM{i}", f"Prénom{i}")
        compiled.render_to(candidate_context(sample_evaluation(candidate)), folder / f"{i}.docx")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[35, 200, 800])
    parser.add_argument("--new-only", action="store_true")
    args = parser.parse_args()
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix="e2docs-bench-merge-") as tmp:
            folder = Path(tmp) / "docs"
            folder.mkdir()
            sheets(folder, n)
            line = f"{n:5d} fiches :"
            for kind in ("new",) if args.new_only else ("new", "old"):
                code = CHILD.format(root=str(ROOT))
                out = subprocess.run(
                    [sys.executable, "-c", code, kind, str(folder), str(Path(tmp) / f"{kind}.docx")],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                r = json.loads(out)
                label = "flux" if kind == "new" else "python-docx"
                line += f"  {label} {r['s']:7.2f} s, {r['mb']:5.0f} Mo max"
            print(line, flush=True)


if __name__ == "__main__":
    main()
