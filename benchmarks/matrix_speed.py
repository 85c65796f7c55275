"""Benchmark of `bwc matrix`: the same cells run one after another with `bwc run` and as one
matrix on an embedded Dask cluster, in the same session; prints wall and CPU time of both and
their ratio, and checks that every cell got the same verdicts both ways.

    python benchmarks/matrix_speed.py [--profiles reference,no-debounce] [--seeds 0-2] [--workers 2] [--select EXPR]

A full suite per cell by default; --select (bwc run's hidden option) makes short cells."""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _timed(cmd: list[str]) -> tuple[float, float, subprocess.CompletedProcess]:
    c0, t0 = _cpu(), time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    return time.perf_counter() - t0, _cpu() - c0, proc


def _verdicts(folder: Path) -> dict[str, str]:
    return {r["id"]: r["verdict"] for r in json.loads((folder / "report.json").read_text())["requirements"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--profiles", default="reference,no-debounce")
    ap.add_argument("--seeds", default="0-2")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--select", default=None)
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    from bwc.commands.matrix import parse_seeds

    profiles, seeds = args.profiles.split(","), parse_seeds(args.seeds)
    select = ["--select", args.select] if args.select else []
    root = Path(tempfile.mkdtemp(prefix="bwc-matrix-speed-"))
    serial_wall = serial_cpu = 0.0
    serial: dict[str, dict] = {}
    for p in profiles:
        for s in seeds:
            out = root / "serial" / f"{p}-seed{s}"
            wall, cpu, _ = _timed([sys.executable, "-m", "bwc", "run", "--no-pdf", "--out", str(out), "--profile", p, "--seed", str(s), *select])
            serial_wall, serial_cpu = serial_wall + wall, serial_cpu + cpu
            serial[f"{p}-seed{s}"] = _verdicts(out)
    cmd = [sys.executable, "-m", "bwc", "matrix", "--out", str(root / "matrix"), "--workers", str(args.workers), "--seeds", args.seeds, *select]
    for p in profiles:
        cmd += ["--profile", p]
    m_wall, m_cpu, proc = _timed(cmd)
    doc = json.loads((root / "matrix" / "matrix.json").read_text())
    same = all(c["requirements"] == serial[c["cell"]] for c in doc["cells"])
    cells = len(doc["cells"])
    print(f"{cells} cells ({len(profiles)} profiles x {len(seeds)} seeds{', ' + args.select if args.select else ', whole suite'})")
    print(f"  serial bwc run:              {serial_wall:7.1f} s wall  {serial_cpu:7.1f} s CPU")
    print(f"  bwc matrix, {args.workers} workers:       {m_wall:7.1f} s wall  {m_cpu:7.1f} s CPU   (matrix overall {doc['summary']['overall']})")
    print(f"  wall time ratio serial/matrix: {serial_wall / m_wall:.2f}x; CPU ratio matrix/serial: {m_cpu / serial_cpu:.2f}x")
    print(f"  same verdicts in every cell: {same}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
