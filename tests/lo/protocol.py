"""The JSON protocol between the tests and the driver: steps on stdin, one result on stdout.

Shared by both sides, so standard library only (the driver side is Debian's
``/usr/bin/python3``), and imported by both as a plain module: no relative imports.

    /usr/bin/python3 driver.py --port P --profile DIR [--timeout S] [--locale fr-FR] < steps.json

stdin
    A JSON list of steps, dicts with an ``"op"`` key (see operations.py).
stdout
    One JSON object on the last line::

        {"ok": bool, "results": [...], "error"?: str, "step"?: int, "traceback"?: str,
         "timings": {"connect_s", "startup_s", "steps_s", "stop_s", "total_s": seconds}}

    ``results[i]`` is the result of step i; on failure ``step`` is the index of the
    failing step and ``results`` holds the results of the steps that succeeded.
    Exit code 0 when ok, 1 when a step failed, 2 for bad input, 3 on the driver's
    own timeout (watchdog).
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_TIMEOUT = 0, 1, 2, 3


def encode_steps(steps: list[dict[str, Any]]) -> str:
    """The driver's stdin for ``steps``."""
    return json.dumps(steps)


def decode_steps(text: str) -> list[Any]:
    """The steps read from the driver's stdin; ValueError when it is not a JSON list."""
    steps = json.loads(text or "[]")
    if not isinstance(steps, list):
        raise ValueError(f"expected a list, got {type(steps).__name__}")
    return steps


def new_result() -> dict[str, Any]:
    """An empty successful result, filled step by step."""
    return {"ok": True, "results": []}


def fail(out: dict[str, Any], error: str, step: int | None = None, traceback: str | None = None) -> None:
    """Mark ``out`` as failed with ``error`` (at ``step``, when known)."""
    out.update(ok=False, error=error)
    if step is not None:
        out["step"] = step
    if traceback is not None:
        out["traceback"] = traceback


def emit(obj: dict[str, Any], stream: TextIO | None = None) -> None:
    """Write one result line (the driver's side)."""
    stream = stream or sys.stdout
    stream.write(json.dumps(obj, default=str))
    stream.write("\n")
    stream.flush()


def decode_output(stdout: str) -> dict[str, Any] | None:
    """The driver's result: its last non-empty stdout line as JSON, or None when there is none."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    try:
        out = json.loads(lines[-1])
    except (IndexError, ValueError):
        return None
    return out if isinstance(out, dict) else None
