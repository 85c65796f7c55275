"""``bwc diff RUN_A RUN_B``: what regressed and what improved between two runs."""

from __future__ import annotations

import argparse
import json

from bwc.cli import EXIT_FAIL, EXIT_OK, UsageError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "diff", help="compare two runs: what regressed, what improved (e.g. after a firmware update)",
        description="Compares RUN_A (before) with RUN_B (after): verdict changes per requirement and per measurement, "
                    "measured values that moved towards or away from their limit, and changes of the system under test "
                    "(vendor, model, firmware, serial). Exit 1 when anything regressed, 0 otherwise, 2 on bad input.")
    p.add_argument("run_a", metavar="RUN_A", help="the earlier run: its directory or its report.json")
    p.add_argument("run_b", metavar="RUN_B", help="the later run: its directory or its report.json")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.set_defaults(func=cmd_diff)


def cmd_diff(args: argparse.Namespace) -> int:
    from reports.diff import ReportInputError, diff_reports, load_report, render_text

    try:
        a, a_path = load_report(args.run_a)
        b, b_path = load_report(args.run_b)
    except ReportInputError as exc:
        raise UsageError(str(exc)) from None
    try:
        d = diff_reports(a, b, a_path, b_path)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise UsageError(f"{args.run_a} / {args.run_b}: a report.json is malformed ({type(exc).__name__}: {exc})") from None
    print(json.dumps(d.to_json(), indent=2, default=str) if args.json else render_text(d))
    return EXIT_FAIL if d.regressions else EXIT_OK
