"""Clip analysis in a worker process, so that a hostile clip cannot take the harness down.

FFmpeg decodes whatever a device hands over. A crafted file can crash the decoder (a
segmentation fault takes the whole interpreter with it), make it run for minutes or eat the
machine's memory. ``analyze_clip_isolated(path)`` runs ``clip_analyzer.analyze_clip`` in a
persistent worker process (started once through a forkserver that has the analyzer imported,
so a restart costs a fork, not an interpreter) with

* an address-space limit (``RLIMIT_AS``, default 2 GiB: a 60 s 720p clip peaks at ~0.55 GiB
  of address space, 0.11 GiB resident) and no core dumps;
* a time limit that scales with the file: 10 s + 2 s per MiB, at most 120 s. A 60 s 720p
  clip of 2-40 MB decodes in 1-3 s on this 2-core machine: the rule leaves >= 4x for a
  loaded machine while bounding what a small file can cost.

A crash, a timeout, the memory limit or an exception inside the analyzer comes back as an
ordinary ``ClipAnalysis`` with ``error`` set ("decoder crashed (signal 11: SIGSEGV)", "timed
out after 10.2 s", "exceeded the memory limit of 2048 MiB", "the analyzer failed: ..."),
which callers treat as a damaged clip; the worker is replaced and the next clip goes on.
See docs/analyzer.md."""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import resource
import signal
import threading
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from instruments.clip_analyzer import ClipAnalysis, analyze_clip

log = logging.getLogger(__name__)

MEMORY_LIMIT_BYTES = 2 << 30
TIMEOUT_FLOOR_S = 10.0
TIMEOUT_S_PER_MIB = 2.0
TIMEOUT_CAP_S = 120.0


def timeout_for(size_bytes: int) -> float:
    """The time limit for analysing a file of this size (see the module doc)."""
    return round(min(TIMEOUT_CAP_S, TIMEOUT_FLOOR_S + TIMEOUT_S_PER_MIB * size_bytes / (1 << 20)), 1)


@dataclass
class Outcome:
    """What one isolated analysis gave: ``kind`` is ok, crash, timeout, memory or bug (an
    exception escaped the analyzer: ``detail`` holds its traceback). ``cpu_s``: the worker's
    CPU time for the clip, all threads (None when it did not report: crash, timeout)."""

    analysis: ClipAnalysis
    kind: str
    wall_s: float
    detail: str = ""
    cpu_s: float | None = None


def _serve(conn: Connection, memory_limit: int) -> None:
    """The worker: analyse each path received, send back (kind, analysis or message, detail,
    CPU seconds); None (or the parent gone) ends it."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash must not leave a core file in the working directory
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit if hard == resource.RLIM_INFINITY else min(memory_limit, hard), hard))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        cpu = time.process_time()
        try:
            result = analyze_clip(request)
        except MemoryError:
            conn.send(("memory", None, "", time.process_time() - cpu))
            return  # the heap may be in a poor state: the parent starts a fresh worker
        except Exception as exc:  # a bug of the analyzer on this clip: report it, keep serving
            conn.send(("bug", f"{type(exc).__name__}: {exc}", traceback.format_exc(), time.process_time() - cpu))
            continue
        conn.send(("ok", result, "", time.process_time() - cpu))


def _signal_name(code: int | None) -> str:
    if code is None or code >= 0:
        return f"exit status {code}"
    try:
        return f"signal {-code}: {signal.Signals(-code).name}"
    except ValueError:
        return f"signal {-code}"


class IsolatedAnalyzer:
    """One worker process, reused clip after clip; replaced when it dies or is killed.
    Thread safe (one clip at a time)."""

    def __init__(self, memory_limit: int = MEMORY_LIMIT_BYTES) -> None:
        self.memory_limit = memory_limit
        self.restarts = 0  # workers replaced after a crash, timeout or memory failure
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(["instruments.clip_analyzer"])
        self._lock = threading.Lock()
        self._proc: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None

    @property
    def worker_pid(self) -> int | None:
        """The running worker's process id (None before the first clip and after a failure)."""
        return self._proc.pid if self._proc is not None else None

    def _worker(self) -> Connection:
        if self._conn is None or self._proc is None or not self._proc.is_alive():
            self._stop(kill=True)
            parent, child = self._ctx.Pipe()
            self._proc = self._ctx.Process(target=_serve, args=(child, self.memory_limit), name="clip-analyzer", daemon=True)
            self._proc.start()
            child.close()
            self._conn = parent
        return self._conn

    def _stop(self, kill: bool) -> int | None:
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if proc is None:
            return None
        if kill and proc.is_alive():
            proc.kill()
        elif conn is not None:
            try:
                conn.send(None)
            except OSError:
                pass
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join(5)
        if conn is not None:
            conn.close()
        return proc.exitcode

    def run(self, path: str | Path, *, timeout: float | None = None) -> Outcome:
        """Analyse one clip within ``timeout`` seconds (default: ``timeout_for`` its size)."""
        path = Path(path)
        try:
            size = path.stat().st_size
        except OSError:
            size = 0  # the analyzer itself says why the file cannot be read
        limit = timeout_for(size) if timeout is None else timeout
        with self._lock:
            t0 = time.perf_counter()
            conn = self._worker()
            try:
                conn.send(str(path))
            except OSError:  # the worker went away since the last clip
                self._stop(kill=True)
                conn = self._worker()
                conn.send(str(path))
            if not conn.poll(limit):
                self._stop(kill=True)
                self.restarts += 1
                return self._failed(path, "timeout", f"timed out after {limit:g} s (the limit for a {size:,}-byte file)", t0)
            try:
                kind, payload, detail, cpu_s = conn.recv()
            except (EOFError, OSError):
                code = self._stop(kill=True)
                self.restarts += 1
                return self._failed(path, "crash", f"decoder crashed ({_signal_name(code)})", t0)
            if kind == "ok":
                return Outcome(payload, "ok", time.perf_counter() - t0, cpu_s=cpu_s)
            if kind == "memory":
                self._stop(kill=False)
                self.restarts += 1
                return self._failed(path, "memory", f"exceeded the memory limit of {self.memory_limit >> 20} MiB", t0, cpu_s=cpu_s)
            log.debug("the analyzer failed on %s:\n%s", path, detail)
            return self._failed(path, "bug", f"the analyzer failed: {payload} (please report this clip)", t0, detail, cpu_s)

    @staticmethod
    def _failed(path: Path, kind: str, error: str, t0: float, detail: str = "", cpu_s: float | None = None) -> Outcome:
        result = ClipAnalysis(str(path))
        result.error = error
        return Outcome(result, kind, time.perf_counter() - t0, detail, cpu_s)

    def analyze(self, path: str | Path, *, timeout: float | None = None) -> ClipAnalysis:
        return self.run(path, timeout=timeout).analysis

    def close(self) -> None:
        with self._lock:
            self._stop(kill=False)

    def __enter__(self) -> IsolatedAnalyzer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_shared: IsolatedAnalyzer | None = None
_shared_lock = threading.Lock()


def analyze_clip_isolated(path: str | Path, *, timeout: float | None = None) -> ClipAnalysis:
    """``analyze_clip`` in this process's shared worker (started on first use, stopped at exit)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = IsolatedAnalyzer()
            atexit.register(_shared.close)
        analyzer = _shared
    return analyzer.analyze(path, timeout=timeout)
