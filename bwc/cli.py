"""``bwc`` command line: run the conformance suite, list profiles.

Exit codes: 0 every tested requirement passed (some perhaps at the margin); 1 a requirement
failed or could not be measured; 2 bad usage or input (with a message naming the problem)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


class _Progress:
    """pytest plugin printing one line per requirement as it is measured."""

    def __init__(self, stream=sys.stdout) -> None:
        self.stream = stream
        self.total = 0
        self.done = 0
        self.t0 = time.perf_counter()

    def pytest_collection_modifyitems(self, items) -> None:
        self.total = len(items)

    def pytest_runtest_logstart(self, nodeid, location) -> None:
        if self.done == 0:
            print("  running the virtual incident (all devices on one simulated air)...", file=self.stream, flush=True)

    def pytest_runtest_logreport(self, report) -> None:
        if report.when != "call" and not (report.when == "setup" and not report.passed):
            return
        self.done += 1
        outcome = "pass" if report.passed else "skip" if report.skipped else "fail" if report.failed and report.when == "call" else "error"
        name = report.nodeid.split("::")[-1]
        print(f"  [{self.done}/{self.total}] {name:<52} {outcome:>5}  ({time.perf_counter() - self.t0:.1f} s)", file=self.stream, flush=True)


def _prepare_out(out: str | None, profile: str, force: bool) -> Path:
    if out is None:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        path = Path("runs") / f"{stamp}-{profile}"
    else:
        path = Path(out)
    if path.exists() and not path.is_dir():
        raise UsageError(f"--out {path}: exists and is not a directory")
    if path.exists() and any(path.iterdir()):
        if not force:
            raise UsageError(f"--out {path}: directory is not empty (results already there are kept); choose another or pass --force to replace them")
        import shutil

        shutil.rmtree(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {path}: cannot create the directory ({exc.strerror})") from None
    return path


def cmd_run(args: argparse.Namespace) -> int:
    import pytest

    from emulators.profiles import ProfileError, get_profile
    from reports.build import build_report, decisive_text, write_report_json
    from reports.html import write_report_html
    from reports.results import RunResults

    if args.seed < 0:
        raise UsageError(f"--seed {args.seed}: must be >= 0")
    if args.target != "virtual":
        from fixtures.bench import BenchError, load_bench

        try:
            load_bench(Path(args.target))
        except BenchError as exc:
            raise UsageError(f"--target: {exc}") from None
        args.target = str(Path(args.target).resolve())
    try:
        profile = get_profile(args.profile)
    except ProfileError as exc:
        raise UsageError(f"--profile: {exc}") from None
    args.profile = profile.name if profile.name == args.profile else args.profile
    out = _prepare_out(args.out, Path(args.profile).stem, args.force)
    print(f"bwc run: target={args.target} profile={args.profile} seed={args.seed} -> {out}")
    t0 = time.perf_counter()
    pytest_args = [
        str(REPO / "conformance"), "-p", "no:cacheprovider", "-p", "no:looptime_plugin",
        "--rootdir", str(REPO), "-c", str(REPO / "pytest.ini"),
        "--bwc-target", args.target, "--bwc-profile", args.profile, "--bwc-seed", str(args.seed), "--bwc-out", str(out),
        "--alluredir", str(out / "allure-results"), "--junitxml", str(out / "junit.xml"),
    ]
    pytest_args += ["-v"] if args.verbose else ["-p", "no:terminal"]
    code = pytest.main(pytest_args, plugins=[_Progress()])
    if int(code) not in (0, 1):
        print(f"bwc run: pytest stopped with exit code {int(code)}; rerun with -v for its output", file=sys.stderr)
    wall = time.perf_counter() - t0
    results_path = out / "results.json"
    if not results_path.exists():
        print(f"bwc run: the suite did not produce results (pytest exit {int(code)}); see the output above", file=sys.stderr)
        return EXIT_FAIL
    results = RunResults.read(results_path)
    cover = {"agency": args.agency, "project": args.project, "operator": args.operator, "command": "bwc " + " ".join(sys.argv[1:])}
    report = build_report(results, repo=REPO, cover=cover)
    report["run"]["suite_wall_s"] = round(wall, 2)
    write_report_json(report, out)
    write_report_html(report, out)
    from reports.finalize import FinalizeError, finalize_run

    try:
        finalize_run(out, report, pdf=not args.no_pdf)
    except FinalizeError as exc:
        raise UsageError(f"{out}: results written, but the run could not be signed: {exc}") from None
    s = report["summary"]
    print()
    print(f"  {'requirement':<10} {'verdict':<11} {'measured (worst)':>18}  limit")
    for r in report["requirements"]:
        if r["verdict"] == "not-tested":
            continue
        measured, limit = decisive_text(r)
        print(f"  {r['id']:<10} {r['verdict']:<11} {measured:>18}  {limit}")
    print(f"\n  overall {s['overall'].upper()}: {s['pass']} pass, {s.get('marginal', 0)} marginal, {s['fail']} fail, {s['error']} error, "
          f"{s['not-tested']} not tested")
    print(f"  simulated {report['run'].get('simulated_s')} s in {wall:.1f} s wall")
    print(f"  report: {out / ('report.html' if args.no_pdf else 'report.pdf')}; signed by {report['signing']['key_fingerprint']}; check: bwc verify {out}")
    return EXIT_OK if s["overall"] in ("pass", "marginal") else EXIT_FAIL


def cmd_profiles(args: argparse.Namespace) -> int:
    from emulators.profiles import ProfileError, builtin_profiles

    try:
        profiles = builtin_profiles()
    except ProfileError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps([{"name": p.name, "description": p.description, "defect": p.is_defect, "approximation": p.approximation,
                           "violates": list(p.violates)} for p in profiles], indent=2))
        return EXIT_OK
    for p in profiles:
        if p.approximation:
            kind = "vendor-like" + (f", expected to fail {', '.join(p.violates)}" if p.violates else "")
        else:
            kind = f"defect: must fail {', '.join(p.violates)}" if p.is_defect else "conformant"
        print(f"{p.name:<22} {kind:<36} {p.description}")
    return EXIT_OK


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # exit 2 with the message, as argparse does, but our wording
        self.print_usage(sys.stderr)
        print(f"bwc: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="bwc", description="Conformance harness for auto-activated body cameras.")
    parser.add_argument("--version", action="version", version="bwc-harness 0.1.0")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="run the conformance suite on a target and write the report")
    run.add_argument("--out", help="output directory (default: runs/<UTC time>-<profile>)")
    run.add_argument("--seed", type=int, default=0, help="RF noise seed (default 0)")
    run.add_argument("--profile", default="reference", help="emulator profile (see 'bwc profiles')")
    run.add_argument("--target", default="virtual", help="'virtual' (default) or a bench file")
    run.add_argument("--force", action="store_true", help="replace the contents of a non-empty --out directory")
    run.add_argument("-v", "--verbose", action="store_true", help="show pytest's failure details")
    run.add_argument("--no-pdf", action="store_true", help="skip report.pdf (JSON and HTML are still written and signed)")
    run.add_argument("--agency", default="", help="agency name for the report cover")
    run.add_argument("--project", default="", help="procurement / project name for the report cover")
    run.add_argument("--operator", default=os.environ.get("USER", ""), help="who ran the test (default: $USER)")
    run.set_defaults(func=cmd_run)
    prof = sub.add_parser("profiles", help="list built-in emulator profiles")
    prof.add_argument("--json", action="store_true")
    prof.set_defaults(func=cmd_profiles)
    _register_command_modules(sub)
    return parser


def _register_command_modules(sub) -> None:
    """Every module in bwc/commands/ with ``register(subparsers)`` adds its subcommand(s);
    its handlers return an exit code and raise UsageError for bad input."""
    import importlib
    import pkgutil

    import bwc.commands

    for info in sorted(pkgutil.iter_modules(bwc.commands.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"bwc.commands.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except UsageError as exc:
        print(f"bwc: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("bwc: interrupted", file=sys.stderr)
        return 130
