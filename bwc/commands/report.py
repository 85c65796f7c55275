"""``bwc report --allure DIR``: the engineers' Allure 3 HTML of a run (one offline file)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bwc.cli import EXIT_OK, UsageError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "report", help="build the Allure HTML of a run (engineers' view; the filed report is DIR/report.pdf)",
        description="Builds the Allure 3 report (Allure 2-style, one self-contained HTML file, no analytics) from "
                    "DIR/allure-results with the npm package pinned in reports/allure (installed with 'npm ci' on first use). "
                    "The output goes next to DIR, never into it: the run directory stays as it was signed.")
    p.add_argument("dir", metavar="DIR", help="a 'bwc run' output directory")
    p.add_argument("--allure", action="store_true", help="build the Allure HTML (the only format this command builds)")
    p.add_argument("-o", "--out", metavar="FILE", help="output file (default: DIR-allure.html beside DIR)")
    p.add_argument("--name", help="the report's title (default: 'bwc-harness: ' and the run directory's name)")
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from reports.allure_html import AllureError, build_allure_html

    if not args.allure:
        raise UsageError("choose a format: --allure (report.json, report.html and report.pdf are written by 'bwc run')")
    run = Path(args.dir)
    if not run.is_dir():
        raise UsageError(f"{run}: no such run directory")
    results = run / "allure-results"
    if not results.is_dir() or not any(results.glob("*-result.json")):
        raise UsageError(f"{results}: no Allure results (was {run} written by 'bwc run'?)")
    out = Path(args.out) if args.out else run.resolve().parent / f"{run.resolve().name}-allure.html"
    if out.is_dir():
        raise UsageError(f"--out {out}: is a directory; give a file name")
    if not out.parent.is_dir():
        raise UsageError(f"--out {out}: directory {out.parent} does not exist")
    if run.resolve() in out.resolve().parents:
        raise UsageError(f"--out {out}: inside the run directory, which would no longer match its signed manifest; write it elsewhere")
    print(f"bwc report: building the Allure report of {run} (Allure 3, pinned in reports/allure) ...", flush=True)
    try:
        build_allure_html(results, out, args.name or f"bwc-harness: {run.resolve().name}", echo=lambda line: print(line, flush=True))
    except AllureError as exc:
        raise UsageError(str(exc)) from None
    print(f"bwc report: wrote {out} (self-contained; open it in a browser)")
    return EXIT_OK
