"""Benchmark of the main command: runs `bwc run --no-pdf` on the reference profile and prints
wall time, simulated time, the real-time ratio, and how much CPU went to encoding video.

    python benchmarks/suite_speed.py [--profile NAME] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def one(profile: str) -> dict:
    out = Path(tempfile.mkdtemp(prefix="bwc-speed-")) / "run"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "bwc", "run", "--out", str(out), "--no-pdf", "--profile", profile],
                          cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if not (out / "results.json").exists():
        raise SystemExit(f"bwc run failed:\n{proc.stderr[-2000:]}")
    inc = json.loads((out / "results.json").read_text())["incident"]
    stats = [inc["stats"], *(s["stats"] for s in inc.get("scenarios", {}).values())]
    trials = len({t["trial"] for t in json.loads((out / "scenarios" / "sweep" / "trials.json").read_text())})
    simulated = sum(s["simulated_s"] for s in stats)
    simulated += trials * 5.2  # each sweep trial: 4 s of scene + 1.2 s settling
    return {
        "wall_s": wall,
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "simulated_s": simulated,
        "encode_cpu_s": sum(s.get("encode_cpu_s", 0.0) for s in stats),
        "frames": sum(s["frames_encoded"] for s in stats),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", default="reference")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    load = os.getloadavg()[0]
    runs = [one(args.profile) for _ in range(args.repeat)]
    for i, r in enumerate(runs, 1):
        print(f"  run {i}: {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU, {r['simulated_s']:.0f} s simulated "
              f"({r['simulated_s'] / r['wall_s']:.1f}x real time), encoding {r['encode_cpu_s']:.1f} s CPU for {r['frames']} frames "
              f"({100 * r['encode_cpu_s'] / r['cpu_s']:.0f} % of the CPU)")
    best = min(runs, key=lambda r: r["wall_s"])
    print(f"bwc run --no-pdf ({args.profile}): best {best['wall_s']:.1f} s wall for {best['simulated_s']:.0f} s of scenes "
          f"(sweep trials included); {best['simulated_s'] / best['wall_s']:.1f}x real time")
    if load > 1.0:
        print(f"note: load average {load:.1f} before the runs: other processes share the CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
