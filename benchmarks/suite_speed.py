"""Benchmark of the main command: runs `bwc run --no-pdf` on the reference profile and prints
wall time, simulated time, the real-time ratio, and how much CPU went to encoding video; with
``--jobs 1,2`` the same run serial and with ``--jobs 2`` in turn (alternating, so both see the
same machine), the ratios between them, and whether their verdicts and evidence bytes agree.

    python benchmarks/suite_speed.py [--profile NAME] [--repeat N] [--jobs 1,2]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


RUN_FILES = {"results.json", "report.json", "report.html", "junit.xml", "manifest.json", "signature.json", "provenance.json"}


def evidence(out: Path) -> dict[str, str]:
    """Every file a scene wrote (clips, metadata, pcaps, tables), by path: not the run's own
    write-up (times, paths) nor Allure's (random names)."""
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.rglob("*"))
            if p.is_file() and p.relative_to(out).parts[0] != "allure-results" and str(p.relative_to(out)) not in RUN_FILES}


def one(profile: str, jobs: int = 1) -> dict:
    out = Path(tempfile.mkdtemp(prefix="bwc-speed-")) / "run"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "bwc", "run", "--out", str(out), "--no-pdf", "--profile", profile, "--jobs", str(jobs)],
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
    report = json.loads((out / "report.json").read_text())
    return {
        "jobs": jobs,
        "verdicts": {r["id"]: r["verdict"] for r in report["requirements"]},
        "evidence": evidence(out),
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
    ap.add_argument("--jobs", default="1", help="comma-separated --jobs values, run in turn (e.g. 1,2)")
    args = ap.parse_args()
    jobs = [int(j) for j in args.jobs.split(",")]
    load = os.getloadavg()[0]
    runs = [one(args.profile, j) for _ in range(args.repeat) for j in jobs]
    for i, r in enumerate(runs, 1):
        print(f"  run {i} (--jobs {r['jobs']}): {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU, {r['simulated_s']:.0f} s simulated "
              f"({r['simulated_s'] / r['wall_s']:.1f}x real time), encoding {r['encode_cpu_s']:.1f} s CPU for {r['frames']} frames "
              f"({100 * r['encode_cpu_s'] / r['cpu_s']:.0f} % of the CPU)")
    best = {j: min((r for r in runs if r["jobs"] == j), key=lambda r: r["wall_s"]) for j in jobs}
    for j, b in best.items():
        print(f"bwc run --no-pdf --jobs {j} ({args.profile}): best {b['wall_s']:.1f} s wall, {b['cpu_s']:.1f} s CPU for {b['simulated_s']:.0f} s "
              f"of scenes (sweep trials included); {b['simulated_s'] / b['wall_s']:.1f}x real time, {b['simulated_s'] / b['cpu_s']:.1f}x in CPU seconds")
    if len(jobs) > 1:
        base = best[jobs[0]]
        for j in jobs[1:]:
            print(f"--jobs {j} against --jobs {jobs[0]}: {base['wall_s'] / best[j]['wall_s']:.2f}x the speed (wall), "
                  f"{best[j]['cpu_s'] / base['cpu_s']:.2f}x the CPU")
        same_verdicts = all(r["verdicts"] == runs[0]["verdicts"] for r in runs)
        same_bytes = all(r["evidence"] == runs[0]["evidence"] for r in runs)
        print(f"every run: same verdicts {'yes' if same_verdicts else 'NO'}, same evidence bytes at the same paths "
              f"({len(runs[0]['evidence'])} files) {'yes' if same_bytes else 'NO'}")
        if not (same_verdicts and same_bytes):
            return 1
    if load > 1.0:
        print(f"note: load average {load:.1f} before the runs: other processes share the CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
