"""The short version of the fuzz campaign over mutated clips (benchmarks/fuzz_clips.py): a
few dozen mutations of a small and a 720p clip, through the real script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_short_fuzz_campaign(tmp_path):
    out = tmp_path / "counts.json"
    proc = subprocess.run([sys.executable, "benchmarks/fuzz_clips.py", "--per-kind", "4", "--bases", "small,720p", "--repeats", "1",
                           "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    counts = json.loads(out.read_text())
    assert counts["inputs"] >= 38 and "Traceback" not in proc.stderr
    assert counts["tracebacks"] == counts["hangs"] == counts["harness_crashes"] == 0, counts["findings"]
    assert counts["altered_reported_intact_with_manifest"] == 0
    assert counts["slowest_cpu_s"] < 2.0
