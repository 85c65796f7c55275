"""Whether a run finished: the tests it scheduled, where and why it stopped early (a signal,
a full disk, an output directory that cannot be written), and room kept on the disk so the
results can still be written when the evidence fills it (docs/report.md, "Incomplete runs")."""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

import pytest

from conformance.scene_groups import plain_nodeid
from reports.results import RunResults

RESERVE = ".bwc-reserve"  # released before results.json, junit.xml and the report are written
RESERVE_BYTES = 8 * 1024 * 1024  # results.json, junit.xml, report.json/html/pdf, manifest of a full run: about 3 MiB
FULL = {errno.ENOSPC: "disk full", errno.EDQUOT: "disk quota exceeded"}
DENIED = {errno.EROFS: "output not writable", errno.EACCES: "output not writable", errno.EPERM: "output not writable"}


def storage_error(exc: BaseException | None, out_dir: Path | None) -> OSError | None:
    """The OSError in exc's chain (causes and contexts) that means the run's output cannot be
    written: a full disk anywhere, or a refused write inside out_dir."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in FULL:
            return exc
        if isinstance(exc, OSError) and exc.errno in DENIED and out_dir is not None and exc.filename and _inside(exc.filename, out_dir):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def storage_reason(exc: OSError) -> str:
    return FULL.get(exc.errno or 0) or DENIED.get(exc.errno or 0) or "output error"


def _inside(filename: str | bytes, out_dir: Path) -> bool:
    try:
        return Path(os.fsdecode(filename)).resolve().is_relative_to(out_dir.resolve())
    except (TypeError, ValueError, OSError):
        return False


def make_reserve(out_dir: Path) -> None:
    """Claim RESERVE_BYTES in out_dir (OSError when there is not even that much room)."""
    fd = os.open(out_dir / RESERVE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.posix_fallocate(fd, 0, RESERVE_BYTES)
    except OSError:
        release_reserve(out_dir)
        raise
    finally:
        os.close(fd)


def release_reserve(out_dir: Path) -> None:
    (out_dir / RESERVE).unlink(missing_ok=True)


class RunState:
    """pytest plugin (a conformance run with --bwc-out): records the scheduled tests, the
    interruption (the test running when it came, and why), stops the session when the output
    can no longer be written, and keeps the reserve until the results are written."""

    def __init__(self, results: RunResults, out_dir: Path) -> None:
        self.results = results
        self.out_dir = out_dir
        self.running: list[str] = []
        self.started = False  # a test began (the controller of a parallel run learns the schedule only at the end)
        self._deselected: set[str] = set()

    def interrupt(self, reason: str, detail: str, signal: str | None = None) -> None:
        if self.results.interrupted is None:  # the first cause is the one that stopped the run
            phase = "collecting the tests" if self.results.scheduled is None and not self.started else "measuring"
            self.results.interrupted = {"reason": reason, "signal": signal, "phase": phase, "during": self.current, "detail": detail}

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            make_reserve(self.out_dir)
        except OSError as exc:
            self.interrupt(storage_reason(exc), f"{self.out_dir}: {exc.strerror or exc}")
            session.shouldstop = f"{self.out_dir}: {exc.strerror or exc}"

    def pytest_deselected(self, items) -> None:
        self._deselected |= {r for r in map(requirement_of, items) if r}

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.results.scheduled = scheduled_tests(session.items)
        selected = {s["requirement"] for s in self.results.scheduled}
        self.results.deselected = sorted(self._deselected - selected)

    def pytest_runtest_logstart(self, nodeid: str, location) -> None:  # also on the controller of a parallel run
        self.started = True
        self.running.append(plain_nodeid(nodeid))

    def pytest_runtest_logfinish(self, nodeid: str, location) -> None:  # not reached by a test that was interrupted
        if plain_nodeid(nodeid) in self.running:
            self.running.remove(plain_nodeid(nodeid))

    @property
    def current(self) -> str | None:
        """The test(s) running: one in a serial run, one per busy worker in a parallel one."""
        return " and ".join(self.running) or None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        exc = storage_error(call.excinfo.value if call.excinfo else None, self.out_dir)
        if exc is not None:
            release_reserve(self.out_dir)  # room for this test's results and everything after
            self.interrupt(storage_reason(exc), str(exc))
            item.session.shouldstop = f"{storage_reason(exc)}: {exc}"
        return report

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem: str, report, sched) -> None:  # pytest-xdist: a worker died in a test
        self.interrupt("worker died", f"the worker process running {plain_nodeid(crashitem)} died (killed, out of memory, or a crash in native code)")

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo) -> None:
        value = excinfo.value
        name = getattr(value, "signal_name", None)  # bwc run's signal handlers say which signal
        if name:
            self.interrupt(name, f"{name} received", signal=name)
        elif isinstance(value, pytest.Session.Interrupted):  # session.shouldstop, collection errors
            self.interrupt("stopped", str(value))
        elif isinstance(value, KeyboardInterrupt):
            self.interrupt("SIGINT", "KeyboardInterrupt (Ctrl-C)", signal="SIGINT")
        else:  # pytest.exit()
            self.interrupt("pytest.exit", str(value))

    def pytest_internalerror(self, excrepr, excinfo: pytest.ExceptionInfo) -> bool | None:
        exc = storage_error(excinfo.value, self.out_dir)
        if exc is None:
            return None  # a real internal error: pytest prints it
        release_reserve(self.out_dir)
        self.interrupt(storage_reason(exc), str(exc))
        print(f"bwc: {storage_reason(exc)}: {exc}", file=sys.stderr)
        return True  # one line, not pytest's traceback

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        release_reserve(self.out_dir)  # before results.json and junit.xml are written


def scheduled_tests(items) -> list[dict]:
    return [{"nodeid": plain_nodeid(item.nodeid), "requirement": requirement_of(item)} for item in items]


def requirement_of(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("requirement")
    return str(marker.args[0]) if marker else None
