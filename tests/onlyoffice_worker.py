"""Drive ONLYOFFICE Document Builder (PyPI ``document-builder``) for the tests, in a process of its own.

Run by :mod:`tests.engines` (never imported by the tests: importing ``docbuilder``
loads and initialises the engine in the importing process)::

    python onlyoffice_worker.py JOB.json RESULTS.json

``JOB.json`` holds ``{"tmp": folder, "steps": [step, ...]}``; after each step the
list of results so far is rewritten to ``RESULTS.json`` (one result per step, so a
crash shows how far it went). Steps, run in order on one document at a time:

* ``{"op": "open", "path": p}`` → ``{"rc": int}`` (0: opened; the steps below need it);
* ``{"op": "read", "sheet": s, "cells": [ref, ...]}`` → ``{"cells": {ref: {"value": v, "text": t}}}``,
  ``v`` the cell's value as the engine holds it (float, str, bool, None) and ``t``
  the text it displays;
* ``{"op": "type", "sheet": s, "entries": [[ref, value], ...]}`` → ``{"entries": [{"ref", "accepted", "after"}]}``:
  ``ApiRange.SetValue`` like a user's typing -- ``""`` empties the cell; the engine
  refuses (``accepted`` false) a locked cell of a protected sheet;
* ``{"op": "recalc"}`` → ``{}``: ``Api.RecalculateAllFormulas``;
* ``{"op": "save", "path": p}`` → ``{"rc": int}`` (0: saved as .xlsx);
* ``{"op": "close"}`` → ``{}``.

Standard library and ``docbuilder`` only. The process ends with ``os._exit``: the
engine's own teardown at interpreter exit crashes (SIGSEGV) once a file was opened.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def _value(v: Any) -> object:
    if v.IsDouble() or v.IsInt():
        return v.ToDouble()
    if v.IsBool():
        return v.ToBool()
    if v.IsString():
        return v.ToString()
    return None


def main(job_path: str, results_path: str) -> None:
    with open(job_path, encoding="utf-8") as f:
        job = json.load(f)
    import docbuilder  # the engine: loaded here, in this process only

    builder = docbuilder.CDocBuilder()
    builder.SetTmpFolder(job["tmp"])
    api: Any = None
    results: list[dict[str, object]] = []
    for step in job["steps"]:
        op = step["op"]
        result: dict[str, object] = {}
        if op == "open":
            rc = builder.OpenFile(step["path"], "")
            result["rc"] = rc
            api = builder.GetContext().GetGlobal()["Api"] if rc == 0 else None
        elif op == "read":
            sheet = api.Call("GetSheet", step["sheet"])
            cells = {}
            for ref in step["cells"]:
                rng = sheet.Call("GetRange", ref)
                cells[ref] = {"value": _value(rng.Call("GetValue")), "text": rng.Call("GetText").ToString()}
            result["cells"] = cells
        elif op == "type":
            sheet = api.Call("GetSheet", step["sheet"])
            entries = []
            for ref, value in step["entries"]:
                rng = sheet.Call("GetRange", ref)
                done = rng.Call("SetValue", value)
                accepted = done.IsBool() and done.ToBool()
                entries.append({"ref": ref, "accepted": accepted, "after": _value(rng.Call("GetValue"))})
            result["entries"] = entries
        elif op == "recalc":
            api.Call("RecalculateAllFormulas")
        elif op == "save":
            result["rc"] = builder.SaveFile("xlsx", step["path"])
        elif op == "close":
            builder.CloseFile()
            api = None
        else:
            raise ValueError(f"unknown step {op!r}")
        results.append(result)
        with open(results_path, "w", encoding="utf-8") as f:
            json.dump(results, f, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
