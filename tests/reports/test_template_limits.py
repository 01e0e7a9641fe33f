"""Templates that would run for ever or exhaust memory end with a French refusal, quickly.

Each blow-up runs in a child process with a wall-clock timeout (a regression fails instead of
hanging the suite) and, on Linux, an address-space limit (a regression fails with
MemoryError instead of swapping the machine); the child reports its peak memory.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from docx import Document

from e2docs.reports import candidate_context, check_template, render_class_record, template_path
from e2docs.reports.errors import ReportError
from e2docs.reports.limits import MAX_DEPTH
from e2docs.reports.render import make_env, render_to
from e2docs.reports.samples import sample_class_rows, sample_evaluation
from tests.helpers import PROJECT

WALL = 20.0  # seconds allowed to the child, imports included (the rendering bound is 10 s)
PEAK_MB = 600  # peak resident memory allowed to the child (a normal rendering needs ~150 MB)

BLOW_UPS = {
    "nested-loops": "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
    "nested-loops-silent": (
        "{% set r = range(100000)|list %}{% for i in r %}{% for j in r %}{% for k in r %}"
        "{% endfor %}{% endfor %}{% endfor %}"
    ),
    "lipsum": "{{ lipsum(10**6) }}",
    "center": '{{ "x"|center(10**9) }}',
    "format-filter": '{{ "%999999999s"|format("a") }}',
    "format-operator": '{{ "%999999999s" % "a" }}',
    "format-method": '{{ "{:>999999999}".format("a") }}',
    "ljust": '{{ "a".ljust(10**9) }}',
    "indent": '{{ "x"|indent(10**9) }}',
    "batch": "{{ [1, 2]|batch(10**9, 0)|list }}",
    "repeat": '{{ "x" * 10**9 }}',
    "doubling-tilde": (
        '{% set ns = namespace(s="x" * 100000) %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}'
    ),
    "doubling-plus": (
        '{% set ns = namespace(s="x" * 100000) %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}'
    ),
    "doubling-list": (
        "{% set ns = namespace(l=[1] * 100000) %}{% for i in range(40) %}{% set _ = ns.l.extend(ns.l) %}{% endfor %}"
    ),
    "join": '{% set b = "x" * 100000 %}{{ ([b] * 100000)|join }}',
    "big-integer": "{{ ((9**99)**99)**99 }}",
    "squaring": "{% set ns = namespace(x=9) %}{% for i in range(40) %}{% set ns.x = ns.x * ns.x %}{% endfor %}",
    "macro-output": (
        '{% set b = "x" * 100000 %}{% macro m() %}{% for i in range(100000) %}{{ b }}{% endfor %}{% endmacro %}'
        "{{ m() }}"
    ),
    "recursive-macro": "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
    "recursive-macro-twice": "{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(1) }}",
    "recursive-loop": "{% set x = [] %}{% set _ = x.append(x) %}{% for y in x recursive %}{{ loop(y) }}{% endfor %}",
}

_CHILD = textwrap.dedent(
    """
    import json, resource, sys
    if sys.platform.startswith("linux"):
        resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))
    from pathlib import Path
    from e2docs.reports import candidate_context, check_template
    from e2docs.reports.errors import ReportError
    from e2docs.reports.render import render_to
    from e2docs.reports.samples import sample_evaluation
    tpl, out = Path(sys.argv[1]), Path(sys.argv[2])
    try:
        render_to(tpl, candidate_context(sample_evaluation()), out)
        report = "rendu sans erreur"
    except ReportError as exc:
        report = str(exc)
    check = [str(p) for p in check_template(tpl)]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 if sys.platform != "darwin" else 1024**2)
    print(json.dumps({"report": report, "check": check, "peak_mb": peak}))
    """
)


def _template(tmp_path: Path, text: str) -> Path:
    doc = Document()
    doc.add_paragraph("Fiche de {{ candidat.nom }}")
    doc.add_paragraph(text)
    path = tmp_path / "fiche-evaluation.docx"
    doc.save(path)
    return path


@pytest.mark.skipif(sys.platform == "win32", reason="resource (peak memory) is POSIX-only")
@pytest.mark.parametrize("name", BLOW_UPS)
def test_blow_up_is_refused_quickly_and_within_memory(tmp_path, name):
    tpl = _template(tmp_path, BLOW_UPS[name])
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(tpl), str(tmp_path / "out.docx")],
        cwd=PROJECT,
        env={"PYTHONPATH": str(PROJECT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=2 * WALL,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert elapsed < WALL, result
    assert result["peak_mb"] < PEAK_MB, result
    # report: refused, naming the template, in French; nothing written
    assert result["report"].startswith(f"{tpl} : "), result
    assert "interdit" in result["report"], result
    assert "Erreur inattendue" not in result["report"] and "RecursionError" not in result["report"]
    assert not (tmp_path / "out.docx").exists()
    # check-template: the same refusal, as an error of the test render
    assert len(result["check"]) == 1, result
    assert result["check"][0].startswith("Erreur") and "essai avec des données d'exemple" in result["check"][0]
    assert "interdit" in result["check"][0]


def test_refusal_quotes_the_paragraph_and_says_what_to_do(tmp_path):
    tpl = _template(tmp_path, '{{ "x"|center(10**9) }}')
    with pytest.raises(ReportError) as err:
        render_to(tpl, candidate_context(sample_evaluation()), tmp_path / "o.docx")
    message = str(err.value)
    assert (
        "le modèle demande une largeur ou un nombre trop grand (1e+09 ; au plus 10000), ce qui est interdit" in message
    )
    assert 'Texte du modèle à cet endroit : « Fiche de {{ candidat.nom }} {{ "x"|center(10**9) }} »' in message


def test_recursive_macro_is_refused_in_french(tmp_path):
    tpl = _template(tmp_path, "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(1) }}")
    with pytest.raises(ReportError, match=f"macro récursive, plus de {MAX_DEPTH} niveaux"):
        render_to(tpl, candidate_context(sample_evaluation()), tmp_path / "o.docx")


def test_reasonable_loops_macros_and_widths_still_work(tmp_path):
    tpl = _template(
        tmp_path,
        "{% macro ligne(c) %}{{ c.id }} {{ c.titre|truncate(20) }}{% endmacro %}"
        "{% for m in metas %}{% for c in m.criteres %}[{{ ligne(c) }}]{% endfor %}{% endfor %}"
        '{{ "x"|center(30) }}|{{ "%5s"|format("a") }}|{{ "{:>6}".format("b") }}|{{ lipsum(1, false, 5, 6)|length > 0 }}'
        "|{{ range(1000)|sum }}|{{ [candidat.nom, candidat.prenom]|join(' ') }}|{{ 2 ** 10 }}|"
        "{% for i in range(300) %}{% for j in range(300) %}{% endfor %}{% endfor %}fin",
    )
    out = render_to(tpl, candidate_context(sample_evaluation()), tmp_path / "o.docx")
    text = Document(out).paragraphs[1].text
    assert text.startswith("[C1.1 ")
    assert "]              x               |    a|     b|True|499500|D'ALMEIDA Inès|" in text
    assert text.endswith("|1024|fin")


def test_bounds_apply_to_each_document_not_to_the_batch(tmp_path):
    """The meter is reset for every document: a batch of normal documents is never refused."""
    env = make_env()
    for _ in range(3):
        render_class_record(sample_class_rows(), None, tmp_path / "r.docx")
        assert env.meter.armed is False
    assert check_template(template_path("recapitulatif-classe.docx")) == []


def test_the_class_record_of_a_large_class_gets_bounds_in_proportion(tmp_path):
    """A loop per candidate that is fine for each one is not refused because the class is large (a whole
    académie's record), while the same work for a small class still is."""
    from e2docs.model.candidate import Candidate
    from e2docs.model.states import CandidateState
    from e2docs.reports import limits
    from e2docs.reports.context import ClassRow

    doc = Document()
    doc.add_paragraph("{% for e in lignes %}{% for i in range(150) %}{% endfor %}{% endfor %}{{ lignes|length }}")
    (tmp_path / "modeles").mkdir()
    doc.save(tmp_path / "modeles" / "recapitulatif-classe.docx")
    big = [
        ClassRow(Candidate(f"{n:010d}", "NOM", "Prénom"), CandidateState.MISSING) for n in range(2 * limits.CLASS_ROWS)
    ]
    assert 150 * len(big) > limits.MAX_STEPS  # one bound would refuse it
    out = render_class_record(big, None, tmp_path / "grand.docx", tmp_path / "modeles")
    assert Document(out).paragraphs[0].text == str(len(big))
    small = big[:10]
    doc.paragraphs[0].text = "{% for e in lignes %}{% for i in range(30000) %}{% endfor %}{% endfor %}"
    doc.save(tmp_path / "modeles" / "recapitulatif-classe.docx")
    with pytest.raises(ReportError, match="trop de calculs"):
        render_class_record(small, None, tmp_path / "petit.docx", tmp_path / "modeles")


def test_a_streamed_output_is_counted_and_stopped_as_a_joined_one():
    """Meter.stream (a large body) counts output and checks the deadline as concat does, however
    long the pieces; the time its reader takes between texts is not the template's."""
    from e2docs.reports import limits

    meter = limits.Meter()
    meter.start(60)
    texts = list(meter.stream(("x" * 100 for _ in range(100_000)), 1 << 16))
    assert "".join(texts) == "x" * 10_000_000 and meter.output == 10_000_000
    assert all(len(t) >= 1 << 16 for t in texts[:-1])
    meter.start(60)
    meter.deadline = time.monotonic() - 1  # past: the next check stops it
    with pytest.raises(limits.TemplateLimit, match="dépasse"):
        meter.concat("x" * 100 for _ in range(100_000))
    meter.start(0.3)
    for _ in meter.stream(("x" * 10 for _ in range(5000)), 10):
        time.sleep(0.0002)  # the reader's work: 5000 × 0.2 ms, over the 0.3 s the template has
    meter.stop()


def test_untimed_work_gives_its_time_back_once():
    from e2docs.reports import limits

    meter = limits.Meter()
    meter.start(10)
    before = meter.deadline
    started = time.monotonic()
    with limits.untimed():
        time.sleep(0.1)
        with limits.untimed():  # nested: counted once
            time.sleep(0.1)
        other = limits.Meter()
        other.start(10)  # armed inside: only its own time back
        armed, other_started = other.deadline, time.monotonic()
    elapsed = time.monotonic() - started
    other_elapsed = time.monotonic() - other_started
    moved = meter.deadline - before
    assert 0.2 <= moved <= elapsed, (moved, elapsed)  # twice would be about elapsed + 0.1
    assert 0 <= other.deadline - armed <= other_elapsed + 0.001
    meter.stop()
    other.stop()
    assert meter not in limits._ARMED and other not in limits._ARMED
