#!/usr/bin/python3
"""Drive a real headless LibreOffice through UNO (runs under Debian's /usr/bin/python3).

Why a separate script?
    The ``uno`` module (python3-uno) is built against Debian's system Python and
    only imports in ``/usr/bin/python3``.  The project's interpreter (pyenv) cannot
    import it, so the tests (see ``tests/lo/lo.py``) start this script as a
    subprocess with ``/usr/bin/python3`` and talk to it through JSON (protocol.py):

        /usr/bin/python3 driver.py --port P --profile DIR [--timeout S] [--locale fr-FR] < steps.json

    The driver side uses the standard library, ``uno`` and
    ``e2docs.formats.libreoffice`` (standard library only; the project's root is
    put on ``sys.path`` for it), and must stay compatible with Debian's Python 3.11.

The modules, by job
    protocol.py    JSON steps on stdin, one JSON result on stdout (both sides)
    profiles.py    settings seeded in the profile; template profile copied per run (both sides)
    process.py     start/stop soffice (through e2docs.formats.libreoffice), ports, leftovers (both sides)
    operations.py  the step ops through UNO (driver side)
    driver.py      this entry point: wires them, with a watchdog

How it works
    1. Seed the settings into DIR (profiles.py), start ``soffice --headless ...
       -env:UserInstallation=file://DIR --accept=socket,host=127.0.0.1,port=P;urp;``
       in its own process group (process.py).
    2. Connect through the UNO URP bridge, retrying until ~60 s have elapsed; check
       the settings again through the configuration API (operations.py).  Once
       connected, ``Setup/Product/ooSetupLastVersion`` is also recorded
       (LibreOffice saves it at exit): without it every start of the profile
       takes ~1 s instead of ~0.2 s.  If soffice exits first (code 0: another
       soffice already owns DIR and got the request), the run fails rather than
       driving a foreign instance.
    3. Execute the steps.  An exception in a step stops the run and is reported
       in the JSON (``ok: false``) instead of crashing without output.
    4. ALWAYS (try/finally): close the documents, ``desktop.terminate()``, wait a
       few seconds, then stop soffice's whole process tree.  (soffice needs
       ~1.5 s to exit after a document was loaded.)
    A watchdog thread enforces ``--timeout``: when it fires it kills soffice
    (which makes any pending UNO call fail) and prints an error result; SIGTERM
    on the driver also kills soffice.
"""

import argparse
import os
import signal
import sys
import threading
import time
import traceback

sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))  # e2docs

import protocol  # noqa: E402  (after the sys.path line above)
from operations import Office, uno_message  # noqa: E402
from process import Soffice  # noqa: E402
from profiles import profile_settings, seed_profile  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--profile", required=True, help="user profile directory (UserInstallation)")
    ap.add_argument("--timeout", type=float, default=170.0, help="bound for the whole run (s)")
    ap.add_argument(
        "--locale", default=None, help="locale for typed input and number formats, e.g. fr-FR (default: system)"
    )
    args = ap.parse_args(argv)

    t_start = time.monotonic()
    try:
        steps = protocol.decode_steps(sys.stdin.read())
    except ValueError as e:
        protocol.emit({"ok": False, "error": f"stdin must be a JSON list of steps ({e})", "results": []})
        return protocol.EXIT_BAD_INPUT

    soffice = Soffice(args.port, args.profile)
    office = Office(soffice, args.locale)
    out = protocol.new_result()
    lock = threading.Lock()
    done = threading.Event()

    def watchdog():
        if done.wait(args.timeout):
            return
        with lock:
            if done.is_set():
                return
            done.set()
            soffice.kill_now()
            protocol.fail(out, f"driver timeout after {args.timeout}s")
            out.setdefault("step", len(out["results"]))
            out["timings"] = office.timings
            protocol.emit(out)
            os._exit(protocol.EXIT_TIMEOUT)

    threading.Thread(target=watchdog, daemon=True).start()

    def on_sigterm(signum, frame):  # e.g. the caller's own timeout: never leave soffice behind
        soffice.kill_now()
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        os.makedirs(args.profile, exist_ok=True)
        seed_profile(args.profile, profile_settings(args.locale))
        soffice.start()
        office.connect()
        office.configure()
        office.timings["startup_s"] = round(time.monotonic() - t_start, 3)
        t_steps = time.monotonic()
        for i, step in enumerate(steps):
            try:
                out["results"].append(office.run_step(step))
            except Exception as e:
                protocol.fail(out, f"{type(e).__name__}: {uno_message(e)}", step=i, traceback=traceback.format_exc())
                break
        office.timings["steps_s"] = round(time.monotonic() - t_steps, 3)
    except Exception as e:
        protocol.fail(out, f"{type(e).__name__}: {uno_message(e)}", traceback=traceback.format_exc())
    finally:
        t_stop = time.monotonic()
        try:
            office.close()
            soffice.stop()
        finally:
            office.timings["stop_s"] = round(time.monotonic() - t_stop, 3)
            office.timings["total_s"] = round(time.monotonic() - t_start, 3)
            with lock:
                if not done.is_set():
                    done.set()
                    out["timings"] = office.timings
                    protocol.emit(out)
    return protocol.EXIT_OK if out["ok"] else protocol.EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
