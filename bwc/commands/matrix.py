"""``bwc matrix``: a conformance matrix (profiles x RF seeds) on Dask distributed: an embedded
LocalCluster of worker processes by default, or a running scheduler (``--cluster
tcp://HOST:8786``). Every cell is a whole ``bwc run`` on a worker (bwc/matrix_cells.py); the
cells' signed folders come back under OUT/cells/, merged into OUT/matrix.json and matrix.html
(reports/matrix.py), and OUT is signed as a whole. docs/matrix.md."""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tarfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bwc.cli import EXIT_FAIL, EXIT_OK, UsageError, _prepare_out, _signing_key


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "matrix", help="run the suite over profiles x RF seeds on a Dask cluster and merge the verdicts",
        description="Runs 'bwc run' once per cell (each --profile with each seed) on Dask distributed workers, brings every "
                    "cell's signed run folder back to OUT/cells/, and writes OUT/matrix.json and OUT/matrix.html (a verdict per "
                    "requirement per cell, and the verdicts that changed with the seed). Exit 0: every cell passed; 1: a cell "
                    "failed, or did not finish; 2: bad input.")
    p.add_argument("--profile", action="append", required=True, metavar="NAME|FILE",
                   help="a built-in profile or a profile file; repeatable, or comma-separated")
    p.add_argument("--seeds", default="0", metavar="LIST", help="RF seeds: '0,3,7' or a range '0-19' (default 0)")
    p.add_argument("--workers", type=int, default=2, help="worker processes of the embedded LocalCluster (default 2)")
    p.add_argument("--cluster", metavar="ADDRESS", help="a running Dask scheduler (tcp://HOST:8786) instead of the embedded cluster")
    p.add_argument("--out", help="output directory (default: runs/<UTC time>-matrix)")
    p.add_argument("--force", action="store_true", help="replace the contents of a non-empty --out directory")
    p.add_argument("--pdf", action="store_true", help="write every cell's report.pdf too (off by default: the HTML and JSON are signed)")
    p.add_argument("--cell-timeout", type=float, default=3600.0, metavar="S", help="a cell still running after S seconds is stopped and is an error (default 3600)")
    p.add_argument("--policy", default=None, metavar="FILE", help="a procurement policy for every cell, as bwc run --policy")
    p.add_argument("--catalogue", action="append", default=[], metavar="FILE", help="a requirement catalogue of your own for every cell; repeatable")
    p.add_argument("--tests", action="append", default=[], metavar="DIR", help="a folder of your own test modules for every cell; repeatable")
    p.add_argument("--select", metavar="EXPR", help=argparse.SUPPRESS)  # bwc run --select, for the harness's own tests
    p.set_defaults(func=cmd_matrix)


def parse_seeds(text: str) -> list[int]:
    seeds: list[int] = []
    for part in text.split(","):
        lo, sep, hi = part.strip().partition("-")
        try:
            seeds += list(range(int(lo), int(hi) + 1)) if sep else [int(lo)]
        except ValueError:
            raise UsageError(f"--seeds {text!r}: {part.strip()!r} is not a seed or a range such as 0-19") from None
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise UsageError(f"--seeds {text!r}: give distinct seeds >= 0")
    return seeds


def _cells(args: argparse.Namespace) -> tuple[list, dict[str, list[str]]]:
    """The cells in report order, and each profile's declared violations (read here, so that a
    bad profile is exit 2 before any worker starts)."""
    from bwc.cli import _extensions
    from bwc.matrix_cells import Cell, Extension, ExtensionError
    from emulators.profiles import ProfileError, get_profile

    names = [n.strip() for arg in args.profile for n in arg.split(",") if n.strip()]
    if len(set(names)) != len(names):
        raise UsageError(f"--profile: {', '.join(sorted({n for n in names if names.count(n) > 1}))} given twice")
    seeds = parse_seeds(args.seeds)
    _extensions(args)  # the catalogues, the policy and the test folders checked as bwc run checks them (exit 2)
    try:
        extensions = tuple(Extension.of(option, Path(path)) for option, paths in (("--policy", [args.policy] if args.policy else []),
                           ("--catalogue", args.catalogue), ("--tests", args.tests)) for path in paths)
    except (ExtensionError, OSError) as exc:
        raise UsageError(str(exc)) from None
    cells, expected = [], {}
    for name in names:
        try:
            profile = get_profile(name)
        except ProfileError as exc:
            raise UsageError(f"--profile: {exc}") from None
        text = Path(name).read_text() if Path(name).is_file() else None
        expected[name] = list(profile.violates)
        cells += [Cell(name, seed, text, args.select, args.pdf, args.cell_timeout, extensions) for seed in seeds]
    if len({c.name for c in cells}) != len(cells):
        raise UsageError("--profile: two profile files share a file name (the cells' folders would clash)")
    return cells, expected


def _client(args: argparse.Namespace):
    import dask
    from dask.distributed import Client, LocalCluster

    # a worker holds one cell at a time: with the default saturation (1.1) a one-thread worker
    # is handed a second cell to queue, and 4 cells on 2 workers ran 3 on one, 1 on the other
    dask.config.set({"distributed.scheduler.worker-saturation": 1.0})

    if args.cluster:
        try:
            return Client(args.cluster, timeout="15s"), args.cluster
        except (OSError, TimeoutError, ValueError) as exc:
            raise UsageError(f"--cluster {args.cluster}: cannot reach the scheduler ({exc})") from None
    if args.workers < 1:
        raise UsageError(f"--workers {args.workers}: must be >= 1")
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None, memory_limit=0,
                           silence_logs=logging.ERROR)
    return Client(cluster), f"LocalCluster of {args.workers} worker processes"


def cmd_matrix(args: argparse.Namespace) -> int:
    from bwc.cli import REPO
    from bwc.matrix_cells import run_cell, unpack
    from reports.build import HARNESS_VERSION, git_revision
    from reports.matrix import cell_summary, matrix_document, write_matrix
    from reports.signing import sign_run

    cells, expected = _cells(args)
    harness = {"version": HARNESS_VERSION, "git_revision": git_revision(REPO)}
    key = _signing_key()
    out = _prepare_out(args.out, "matrix", args.force)
    started = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    t0 = time.perf_counter()
    finished: dict[str, dict] = {}  # cell name -> its row of the matrix
    interrupted = False
    client, where = _client(args)
    print(f"bwc matrix: {len(cells)} cells ({len(expected)} profiles x {len(cells) // max(1, len(expected))} seeds) on {where} -> {out}", flush=True)
    try:
        from dask.distributed import as_completed

        futures = {client.submit(run_cell, c, key=f"bwc-cell-{c.name}", pure=False): c for c in cells}
        for done, future in enumerate(as_completed(futures), 1):
            cell = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # the worker died under it more often than the scheduler allows
                outcome = {"exit_code": None, "stderr": f"the cell could not be run: {type(exc).__name__}: {exc}",
                           "archive": b"", "wall_s": None, "host": None, "pid": None}
            archive = outcome.pop("archive")
            try:
                if archive:
                    unpack(archive, out / "cells" / cell.name)
            except (tarfile.TarError, OSError) as exc:  # tarfile's filter errors are TarErrors
                outcome["stderr"] += f"\nthe cell's folder was refused: {type(exc).__name__}: {exc}"
                shutil.rmtree(out / "cells" / cell.name, ignore_errors=True)
            row = finished[cell.name] = cell_summary(cell.name, cell.profile, cell.seed, out / "cells" / cell.name, outcome, expected[cell.profile], harness)
            print(f"  [{done}/{len(cells)}] {cell.name:<40} {row['overall']:>10}  ({time.perf_counter() - t0:.1f} s, {outcome['host']})", flush=True)
    except KeyboardInterrupt:
        interrupted = True
        print("bwc matrix: interrupted; the cells not finished are reported as not run", file=sys.stderr)
    finally:
        client.close()
        if client.cluster is not None:
            client.cluster.close()
    rows = [finished.get(c.name) or cell_summary(c.name, c.profile, c.seed, out / "cells" / c.name, None, expected[c.profile]) for c in cells]
    doc = matrix_document(rows, started, time.perf_counter() - t0, where, interrupted)
    write_matrix(out, doc)
    sign_run(out, key, datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"))
    s = doc["summary"]
    print(f"bwc matrix: {s['overall'].upper()}: " + ", ".join(f"{s[k]} {k}" for k in ("pass", "marginal", "fail", "error", "incomplete", "not-run") if s[k])
          + f"; {len(doc['seed_disagreements'])} verdicts changed with the seed; {out / 'matrix.html'}")
    return EXIT_OK if s["overall"] in ("pass", "marginal") else EXIT_FAIL
