"""The isolated analyzer: a worker process with time and memory limits, so a clip that
crashes or hangs the decoder is an error result for that clip and the next clip goes on."""

from __future__ import annotations

import os
import signal
import struct
import threading
import time
from pathlib import Path

import pytest

from instruments.clip_isolation import IsolatedAnalyzer, timeout_for
from instruments.clip_mutations import BASES
from instruments.synthetic_clip import write_clip


@pytest.fixture(scope="module")
def bases(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bases")
    return {name: write_clip(folder / f"{name}.mp4", BASES[name]) for name in ("small", "plain")}


def test_worker_crash_and_timeout_are_error_results_and_the_next_clip_goes_on(bases, tmp_path):
    slow = tmp_path / "slow.mp4"  # FFmpeg needs ~3 s to walk its 2 million boxes
    slow.write_bytes(bases["small"].read_bytes() + struct.pack(">I4s", 8, b"free") * 2_000_000)
    with IsolatedAnalyzer() as analyzer:
        assert analyzer.run(bases["small"]).kind == "ok"
        pid = analyzer.worker_pid
        assert pid is not None
        result: list = []
        busy = threading.Thread(target=lambda: result.append(analyzer.run(slow)))
        busy.start()
        time.sleep(0.5)
        os.kill(pid, signal.SIGSEGV)  # what a decoder crash does to the worker
        busy.join(30)
        (crash,) = result
        assert crash.kind == "crash" and crash.analysis.error == "decoder crashed (signal 11: SIGSEGV)"
        assert not crash.analysis.ok and crash.analysis.damaged
        ok = analyzer.run(bases["small"])
        assert ok.kind == "ok" and ok.analysis.ok and analyzer.worker_pid not in (None, pid)
        t0 = time.perf_counter()
        hung = analyzer.run(slow, timeout=0.5)
        assert hung.kind == "timeout" and hung.analysis.error.startswith("timed out after 0.5 s")
        assert time.perf_counter() - t0 < 2.0
        assert analyzer.run(bases["plain"]).analysis.ok and analyzer.restarts == 2


def test_worker_runs_under_the_memory_limit_without_core_dumps(bases):
    """The kernel enforces the limit (RLIMIT_AS) in the worker: an allocation beyond it fails
    there (MemoryError: "exceeded the memory limit", or FFmpeg's ENOMEM: a damaged read), and
    a crash leaves no core file in the working directory."""
    with IsolatedAnalyzer(memory_limit=1 << 30) as analyzer:
        assert analyzer.run(bases["small"]).kind == "ok"
        limits = Path(f"/proc/{analyzer.worker_pid}/limits").read_text().splitlines()
    address_space = next(line for line in limits if line.startswith("Max address space")).split()
    core = next(line for line in limits if line.startswith("Max core file size")).split()
    assert address_space[3] == str(1 << 30) and core[4] == "0"


def test_timeout_rule_scales_with_size_and_is_bounded():
    assert timeout_for(0) == 10.0 and timeout_for(40 << 20) == 90.0 and timeout_for(10 << 30) == 120.0
