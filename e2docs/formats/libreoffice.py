"""LibreOffice, headless: find it, run it with a throw-away profile, stop it with everything it started.

This is the only module that knows how LibreOffice is found and started; the
conversions of :mod:`e2docs.formats.intake` (.ods/.xls → .xlsx) and
:mod:`e2docs.reports.pdf` (.docx → .pdf) and the test harness (``tests/lo``)
all go through it.

* :func:`find_soffice` looks at the ``E2DOCS_SOFFICE`` variable, then the
  ``PATH``, then the usual install folders of Windows, macOS and Linux.
* :func:`command` builds the headless command line; every run gets its own
  profile folder (``-env:UserInstallation``), so it neither collides with a
  LibreOffice the user has open nor depends on their settings.
* :func:`run` and :func:`convert` start LibreOffice in a process group of its
  own, with a timeout: on timeout, Ctrl+C or SIGTERM the whole process tree is
  stopped (soffice → oosplash → soffice.bin), on every system, and the profile
  folder is always removed.  Profile folders are named ``e2docs-lo-<pid>-…`` in
  the temporary folder; those of processes that no longer run (killed before
  they could clean up) are removed at the next start.
* A caller killed by SIGKILL cannot stop anything. On Linux, LibreOffice is
  started so that it gets SIGTERM when its parent dies (``PR_SET_PDEATHSIG``;
  oosplash then ends soffice.bin). On macOS and Windows it is not: a conversion
  left behind ends by itself once done, a hung one stays until stopped by hand
  (there is no portable way to tie a child's life to a parent killed outright;
  Windows would need a job object). Its profile folder is removed at the next
  start of any LibreOffice run, once the process is gone.

Errors are :class:`LibreOfficeError` subclasses with French messages; callers
may re-raise them as their own errors with a message fitting what they were
doing.

Only the standard library and :mod:`e2docs.model.errors` are imported: the test
harness's driver imports this module under Debian's ``/usr/bin/python3``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from e2docs.formats import processes
from e2docs.model.errors import E2docsError

__all__ = [
    "HEADLESS_OPTIONS",
    "PROFILE_PREFIX",
    "Completed",
    "LibreOfficeError",
    "LibreOfficeMissing",
    "LibreOfficeNotStarted",
    "LibreOfficeTimeout",
    "available",
    "command",
    "convert",
    "environment",
    "find_soffice",
    "kill",
    "new_profile",
    "profile_uri",
    "remove_profile",
    "remove_stale_profiles",
    "run",
    "start",
    "stop",
]

ENV_VARIABLE = "E2DOCS_SOFFICE"
PROFILE_PREFIX = "e2docs-lo-"  # + "<pid>-<random>" in the temporary folder
HEADLESS_OPTIONS = ("--headless", "--invisible", "--nologo", "--nodefault", "--norestore", "--nolockcheck")
STOP_WAIT = 3.0  # seconds given to the process tree after SIGTERM, then after SIGKILL

_WINDOWS = os.name == "nt"


# -- errors ------------------------------------------------------------------------------------


class LibreOfficeError(E2docsError):
    """LibreOffice could not do what was asked; the message says why, in French."""


class LibreOfficeMissing(LibreOfficeError):
    """LibreOffice is not installed, or not where it is looked for."""

    def __init__(self) -> None:
        super().__init__("LibreOffice est introuvable.", hint=missing_hint())


class LibreOfficeNotStarted(LibreOfficeError):
    """The LibreOffice command exists but could not be started (permissions, broken install…)."""

    def __init__(self, soffice: str, exc: OSError) -> None:
        super().__init__(f"LibreOffice ne démarre pas ({exc.strerror or exc}).", soffice)
        self.soffice = soffice


class LibreOfficeTimeout(LibreOfficeError):
    """LibreOffice overran its time and was stopped (``timeout`` in seconds)."""

    def __init__(self, timeout: float) -> None:
        super().__init__(f"LibreOffice n'a pas terminé en {timeout:.0f} s : arrêté.")
        self.timeout = timeout


def missing_hint() -> str:
    """What to do when LibreOffice is not found (French), with :func:`override_note`."""
    return (
        "Installez LibreOffice (libreoffice.org, ou le paquet « libreoffice » de votre système), "
        f"ou indiquez le chemin de la commande « soffice » dans la variable {ENV_VARIABLE}." + override_note()
    )


def override_note() -> str:
    """A French sentence (with a leading space) saying that ``E2DOCS_SOFFICE`` names nothing that exists; "" if not."""
    override = os.environ.get(ENV_VARIABLE, "").strip()
    if override and not shutil.which(override) and not Path(override).is_file():
        return f" La variable {ENV_VARIABLE} désigne « {override} », qui n'existe pas."
    return ""


# -- finding it --------------------------------------------------------------------------------


def find_soffice() -> str | None:
    """The path of LibreOffice's ``soffice`` command, or None when it is not found.

    Looked up in this order: the ``E2DOCS_SOFFICE`` variable (a path, or a
    command name on the ``PATH``; ignored when it names nothing that exists,
    which :func:`override_note` then tells), the ``PATH`` (``soffice``, ``libreoffice``), then the
    usual install folders (Windows ``Program Files``, macOS ``/Applications``,
    Linux ``/usr/lib/libreoffice``, ``/opt/libreoffice*``).
    """
    override = os.environ.get(ENV_VARIABLE, "").strip()
    if override:
        found = shutil.which(override) or (override if Path(override).is_file() else None)
        if found:
            return found
    for name in ("soffice", "libreoffice"):
        if found := shutil.which(name):
            return found
    return next((str(place) for place in install_places() if place.is_file()), None)


def available() -> bool:
    """Whether LibreOffice is found (see :func:`find_soffice`)."""
    return find_soffice() is not None


def install_places() -> list[Path]:
    """Where LibreOffice's ``soffice`` usually is when it is not on the ``PATH``, on this system."""
    if _WINDOWS:
        roots = {os.environ.get(var) for var in ("ProgramFiles", "ProgramFiles(x86)", "ProgramW6432")}
        roots |= {r"C:\Program Files", r"C:\Program Files (x86)"}
        return [Path(root, "LibreOffice", "program", "soffice.exe") for root in sorted(r for r in roots if r)]
    if sys.platform == "darwin":
        return [
            Path("/Applications/LibreOffice.app/Contents/MacOS/soffice"),
            Path.home() / "Applications/LibreOffice.app/Contents/MacOS/soffice",
        ]
    places = [Path("/usr/lib/libreoffice/program/soffice"), Path("/usr/lib64/libreoffice/program/soffice")]
    with contextlib.suppress(OSError):
        places += sorted(Path("/opt").glob("libreoffice*/program/soffice"), reverse=True)  # newest version first
    return places


# -- command line and profile ------------------------------------------------------------------


def profile_uri(profile: str | Path) -> str:
    """The ``file://`` URI LibreOffice wants for a profile folder (``-env:UserInstallation``)."""
    return Path(profile).resolve().as_uri()


def command(soffice: str, profile: str | Path, *args: str) -> list[str]:
    """The argument list running ``soffice`` headless with the profile folder ``profile``, then ``args``.

    For example ``command(exe, folder, "--convert-to", "pdf", "a.docx")``.
    """
    return [soffice, f"-env:UserInstallation={profile_uri(profile)}", *HEADLESS_OPTIONS, *args]


def environment() -> dict[str, str]:
    """The environment LibreOffice runs with: ours, with no display needed (``SAL_USE_VCLPLUGIN=svp``)."""
    env = dict(os.environ)
    if not _WINDOWS:
        env.setdefault("SAL_USE_VCLPLUGIN", "svp")
    return env


def new_profile() -> Path:
    """Create an empty profile folder ``e2docs-lo-<pid>-…`` in the temporary folder; stale ones are removed first."""
    remove_stale_profiles()
    return Path(tempfile.mkdtemp(prefix=f"{PROFILE_PREFIX}{os.getpid()}-"))


def remove_profile(profile: str | Path) -> None:
    """Delete a profile folder; a few tries, as files can stay locked a moment after a kill (Windows)."""
    for _ in range(10):
        shutil.rmtree(profile, ignore_errors=True)
        if not os.path.exists(profile):
            return
        time.sleep(0.1)


def remove_stale_profiles(folder: str | Path | None = None) -> list[Path]:
    """Delete the profile folders left in ``folder`` (default: the temporary folder) by processes that no longer run.

    Only folders named ``e2docs-lo-<pid>-…`` are looked at, and only those whose
    process is gone are removed: a conversion running at the same time keeps its
    own. Returns the folders removed.
    """
    removed = []
    for path in Path(folder or tempfile.gettempdir()).glob(PROFILE_PREFIX + "*"):
        pid, sep, rest = path.name[len(PROFILE_PREFIX) :].partition("-")
        if not (pid.isdigit() and sep and rest) or int(pid) == os.getpid() or processes.alive(int(pid)):
            continue
        if path.is_dir() and not path.is_symlink():
            remove_profile(path)
            removed.append(path)
    return removed


# -- running it --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Completed:
    """A LibreOffice run that ended by itself: its exit code and what it printed (bytes)."""

    returncode: int
    stdout: bytes
    stderr: bytes

    def last_error_line(self) -> str:
        """The last non-empty line LibreOffice wrote on stderr (decoded), or ""."""
        lines = self.stderr.decode("utf-8", "replace").strip().splitlines()
        return lines[-1].strip() if lines else ""


def start(
    argv: Sequence[str],
    *,
    stdout: int | IO[bytes] | None = subprocess.PIPE,
    stderr: int | IO[bytes] | None = subprocess.PIPE,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` (see :func:`command`) in a process group of its own, so :func:`stop` can end its whole tree;
    on Linux it gets SIGTERM if this process dies without stopping it (see the module's notes).

    ``stdout``/``stderr`` are as for :class:`subprocess.Popen`: pipes by default, or
    files, or ``subprocess.DEVNULL``.
    Raises :class:`LibreOfficeNotStarted` when the command cannot be started.
    """
    kwargs: dict[str, object] = {}
    if _WINDOWS:
        kwargs["creationflags"] = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
    else:
        kwargs["start_new_session"] = True
        kwargs["preexec_fn"] = processes.die_with_parent()  # Linux: LibreOffice ends when we die
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            env=environment(),
            **kwargs,  # type: ignore[call-overload]
        )
    except OSError as exc:
        raise LibreOfficeNotStarted(argv[0], exc) from None
    _GUARDS[proc.pid] = processes.guard(proc)  # macOS: a watchdog; Windows: a job object
    return proc


_GUARDS: dict[int, processes.Guard] = {}
"""pid of a LibreOffice started by :func:`start` → what stops it if e2docs dies first."""


def stop(proc: subprocess.Popen[bytes], grace: float = 0.0) -> None:
    """Make sure ``proc`` (started by :func:`start`) and every process it started are gone.

    The tree is first given ``grace`` seconds to exit by itself. Then, on POSIX,
    its process group gets SIGTERM, and SIGKILL after :data:`STOP_WAIT` seconds;
    on Windows, ``taskkill /T /F`` ends the tree (``proc.kill()`` if that fails).
    Returns once the processes are gone (or after :data:`STOP_WAIT` more seconds).
    """
    try:
        _stop(proc, grace)
    finally:
        guard = _GUARDS.pop(proc.pid, None)
        if guard is not None:
            guard.release()


def _stop(proc: subprocess.Popen[bytes], grace: float) -> None:
    if _WINDOWS:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(grace)
        if proc.poll() is None:  # once the launcher is gone, taskkill cannot find its tree
            _taskkill(proc)
        return
    _wait_group(proc, grace)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not _group_alive(proc):
            break
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            break
        _wait_group(proc, STOP_WAIT)
    try:
        proc.wait(STOP_WAIT)
    except subprocess.TimeoutExpired:
        proc.kill()


def kill(proc: subprocess.Popen[bytes]) -> None:
    """End ``proc`` and every process it started at once: SIGKILL to its group (POSIX), ``taskkill /T /F`` (Windows).

    For emergencies (a watchdog, a signal handler); :func:`stop` is the orderly way.
    """
    if _WINDOWS:
        _taskkill(proc)
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _group_alive(proc: subprocess.Popen[bytes]) -> bool:
    """Whether a process of ``proc``'s group still runs (POSIX); ``proc`` itself is reaped when it has exited."""
    proc.poll()
    try:
        os.killpg(proc.pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _wait_group(proc: subprocess.Popen[bytes], seconds: float) -> None:
    """Wait up to ``seconds`` for ``proc``'s process group to be gone (POSIX)."""
    deadline = time.monotonic() + seconds
    while _group_alive(proc) and time.monotonic() < deadline:
        time.sleep(0.05)


def _taskkill(proc: subprocess.Popen[bytes]) -> None:
    """End ``proc`` and its descendants on Windows (``proc.kill()`` alone when taskkill fails)."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(
            ["taskkill", "/T", "/F", "/PID", str(proc.pid)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
            check=False,
        )
    if proc.poll() is None:
        with contextlib.suppress(OSError):
            proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(STOP_WAIT)


def run(
    args: Sequence[str], timeout: float, *, soffice: str | None = None, profile: str | Path | None = None
) -> Completed:
    """Run LibreOffice headless with ``args`` and wait for it, at most ``timeout`` seconds.

    ``soffice`` defaults to :func:`find_soffice`. ``profile`` is a profile folder
    the caller owns and keeps; by default a fresh one is made and always removed.
    On timeout, Ctrl+C, SIGTERM (turned into ``SystemExit(143)`` when no handler
    is installed, see :func:`e2docs.formats.processes.terminate_as_exit`) or any
    other interruption, the whole process tree is stopped before this returns or
    raises.

    Returns the exit code and output, whatever the exit code. Raises
    :class:`LibreOfficeMissing`, :class:`LibreOfficeNotStarted` or
    :class:`LibreOfficeTimeout`.
    """
    exe = soffice or find_soffice()
    if exe is None:
        raise LibreOfficeMissing()
    with processes.terminate_as_exit():  # SIGTERM stops the tree below too, then ends us
        folder = Path(profile) if profile is not None else new_profile()
        return _run(exe, folder, args, timeout, keep_profile=profile is not None)


def _run(exe: str, folder: Path, args: Sequence[str], timeout: float, *, keep_profile: bool) -> Completed:
    """:func:`run`'s work, with the profile folder ``folder`` (removed at the end unless ``keep_profile``)."""
    try:
        # files, not pipes: a stray descendant holding a pipe open cannot keep us waiting
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            proc = start(command(exe, folder, *args), stdout=out, stderr=err)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                raise LibreOfficeTimeout(timeout) from None
            finally:
                stop(proc)  # nothing may outlive the run (and keep the profile busy)
            out.seek(0)
            err.seek(0)
            return Completed(proc.returncode, out.read(), err.read())
    finally:
        if not keep_profile:
            remove_profile(folder)


def convert(
    sources: Sequence[str | Path],
    to: str,
    outdir: str | Path,
    timeout: float,
    *,
    soffice: str | None = None,
    profile: str | Path | None = None,
) -> Completed:
    """Convert ``sources`` into ``outdir`` with ``soffice --convert-to <to>`` in one run (see :func:`run`).

    ``to`` is an extension optionally followed by a filter: ``"pdf:writer_pdf_Export"``,
    ``"xlsx:Calc MS Excel 2007 XML"``. Output files are named after the sources.
    Whether they were written is for the caller to check: LibreOffice exits with
    code 0 even when it could not load a file.
    """
    args = ["--convert-to", to, "--outdir", str(Path(outdir).resolve()), *(str(Path(s).resolve()) for s in sources)]
    return run(args, timeout, soffice=soffice, profile=profile)
