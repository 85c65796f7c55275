"""`pytest conformance -n 2` (pytest-xdist) gives the same verdicts and measurements as the
serial run of the same profile and seed (the short-buffer run the report tests make)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _verdicts(path: Path) -> dict:
    from conformance.catalogue import load_catalogue
    from reports.results import RunResults, requirement_verdict

    results = RunResults.read(path)
    return {rid: requirement_verdict(rid, results) for rid in load_catalogue()}


def test_parallel_run_gives_the_serial_verdicts(short_buffer_run, tmp_path):
    out = tmp_path / "parallel"
    proc = subprocess.run([sys.executable, "-m", "pytest", str(REPO / "conformance"), "-n", "2", "-p", "no:cacheprovider",
                           "-p", "no:looptime_plugin", "-q", "--bwc-profile", "short-buffer", "--bwc-seed", "0", "--bwc-out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]  # short-buffer fails PRE-001
    serial = json.loads((short_buffer_run.dir / "results.json").read_text())
    parallel = json.loads((out / "results.json").read_text())
    assert _verdicts(out / "results.json") == _verdicts(short_buffer_run.dir / "results.json")
    key = lambda m: (m["requirement"], m["subject"], m["name"], json.dumps(m["value"]), m["verdict"])  # noqa: E731
    assert Counter(map(key, parallel["measurements"])) == Counter(map(key, serial["measurements"]))
    assert parallel["incident"].get("sweep") == serial["incident"].get("sweep")
