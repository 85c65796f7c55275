"""``bwc`` command line: run the conformance suite, list profiles.

Exit codes: 0 every tested requirement passed (some perhaps at the margin); 1 a requirement
failed or could not be measured, or the run did not finish (INCOMPLETE); 2 bad usage or
input (with a message naming the problem)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import conformance

REPO = Path(__file__).resolve().parent.parent  # the checkout, or site-packages when installed from the wheel
SUITE = Path(conformance.__file__).resolve().parent  # the conformance test modules, wherever the package is installed
EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


class _Progress:
    """pytest plugin printing one line per requirement as it is measured; keeps the session's
    results for the write-up (also when pytest stops early)."""

    def __init__(self, stream=sys.stdout) -> None:
        self.stream = stream
        self.total = 0
        self.done = 0
        self.started = False
        self.t0 = time.perf_counter()
        self.config = None

    def pytest_configure(self, config) -> None:
        self.config = config

    def pytest_collection_finish(self, session) -> None:
        self.total = len(session.items)

    def pytest_xdist_node_collection_finished(self, node, ids) -> None:  # --jobs (pytest-xdist): the controller collects nothing
        self.total = len(ids)

    def pytest_runtest_logstart(self, nodeid, location) -> None:
        if not self.started:
            self.started = True
            print("  running the virtual incident (all devices on one simulated air)...", file=self.stream, flush=True)

    def pytest_runtest_logreport(self, report) -> None:
        if report.when not in ("call", "???") and not (report.when == "setup" and not report.passed):  # ???: an xdist worker died in the test
            return
        self.done += 1
        outcome = "pass" if report.passed else "skip" if report.skipped else "fail" if report.failed and report.when == "call" else "error"
        from conformance.scene_groups import plain_nodeid

        name = plain_nodeid(report.nodeid).split("::")[-1]
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
    from reports.run_state import FULL, RESERVE_BYTES, make_reserve

    try:  # the room results.json and the report need even if the evidence fills the disk (reports/run_state.py)
        make_reserve(path)
    except OSError as exc:
        need = f"; a run needs more than {RESERVE_BYTES // 2**20} MiB free" if exc.errno in FULL else ""
        raise UsageError(f"--out {path}: cannot write there ({exc.strerror}{need})") from None
    return path


def _signing_key():
    """The key that will sign the run, checked before anything runs (docs/report.md)."""
    from reports.signing import SigningKeyError, load_signing_key, permission_warning

    try:
        key, path, created = load_signing_key()
    except SigningKeyError as exc:
        raise UsageError(str(exc)) from None
    if created:
        print(f"bwc run: created the signing key {path} (fingerprint in the report; 'bwc key' exports its public half)")
    warning = permission_warning(path)
    if warning:
        print(f"bwc: warning: {warning}", file=sys.stderr)
    return key


def _extensions(args: argparse.Namespace) -> list[str]:
    """The pytest arguments of the user's own catalogues and tests, checked first (exit 2)."""
    from conformance.catalogue import CatalogueError, use_extra_catalogues

    try:
        use_extra_catalogues(args.catalogue)
    except CatalogueError as exc:
        raise UsageError(f"--catalogue: {exc}") from None
    out: list[str] = []
    for path in args.catalogue:
        out += ["--bwc-catalogue", str(Path(path).resolve())]
    if args.policy is not None:
        from conformance.policy import PolicyError, read_policy

        try:
            read_policy(Path(args.policy))
        except PolicyError as exc:
            raise UsageError(f"--policy: {exc}") from None
        out += ["--bwc-policy", str(Path(args.policy).resolve())]
    for path in args.tests:  # a folder: its test_*.py modules are named relative to it (a lone file would get no name)
        if not Path(path).is_dir():
            raise UsageError(f"--tests {path}: not a folder (give the folder that holds your test_*.py modules)")
        out.append(str(Path(path).resolve()))
    return out


def _run_suite(args: argparse.Namespace, out: Path, extensions: list[str], progress: _Progress) -> int:
    """The installed suite under pytest, with this run's options; pytest's exit code."""
    import pytest

    pytest_args = [
        str(SUITE), *extensions, "-p", "no:cacheprovider", "-p", "no:looptime_plugin",
        "--rootdir", str(SUITE), "-c", os.devnull,  # the installed suite: no project's pytest.ini or conftest applies
        "--bwc-target", args.target, "--bwc-profile", args.profile, "--bwc-seed", str(args.seed), "--bwc-out", str(out),
        "--alluredir", str(out / "allure-results"), "--junitxml", str(out / "junit.xml"),
    ]
    pytest_args += (["-k", args.select] if args.select else []) + (["-v"] if args.verbose else ["-p", "no:terminal"])
    if args.jobs > 1:  # pytest-xdist; each scene on one worker (conformance/scene_groups.py)
        pytest_args += ["-n", str(args.jobs), "--dist", "loadgroup", "--no-loadscope-reorder",
                        "--max-worker-restart", "0"]  # a worker that dies stops the run (INCOMPLETE): its test is not retried
    return int(pytest.main(pytest_args, plugins=[progress]))


def cmd_run(args: argparse.Namespace) -> int:
    import pytest

    from bwc.interrupts import RunAborted, RunInterrupted, RunSignals, pause_seconds
    from bwc.writeup import write_up
    from emulators.profiles import ProfileError, get_profile
    from reports.finalize import FinalizeError
    from reports.pytest_results import RESULTS_KEY
    from reports.results import RunResults

    if args.seed < 0:
        raise UsageError(f"--seed {args.seed}: must be >= 0")
    if args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs}: must be >= 1")
    if args.jobs > 1 and args.target != "virtual":
        raise UsageError(f"--jobs {args.jobs}: a bench target's devices are driven by one process; run it with --jobs 1")
    try:
        pause_s = pause_seconds()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.target != "virtual":
        from fixtures.bench import BenchError
        from fixtures.targets import TargetError, open_target

        try:
            open_target(args.target, args.profile)
        except (BenchError, TargetError, ProfileError) as exc:
            raise UsageError(f"--target: {exc}") from None
        if Path(args.target).exists():
            args.target = str(Path(args.target).resolve())
    try:
        profile = get_profile(args.profile)
    except ProfileError as exc:
        raise UsageError(f"--profile: {exc}") from None
    args.profile = profile.name if profile.name == args.profile else args.profile
    extensions = _extensions(args)
    key = _signing_key()
    out = _prepare_out(args.out, Path(args.profile).stem, args.force)
    signals = RunSignals(pause_s)
    t0 = time.perf_counter()
    progress = _Progress()
    signals.install()
    try:
        try:  # a signal from here on makes the run INCOMPLETE, even one before pytest's session began
            print(f"bwc run: target={args.target} profile={args.profile} seed={args.seed} -> {out}", flush=True)
            code = _run_suite(args, out, extensions, progress)
        except RunInterrupted:  # outside pytest's session (before it started, or while it closed)
            code = int(pytest.ExitCode.INTERRUPTED)
        signals.phase = "finalizing"
        results = progress.config.stash.get(RESULTS_KEY, None) if progress.config is not None else None
        try:
            return write_up(args, out, results.plain() if results is not None else RunResults(), code, key, signals, time.perf_counter() - t0, REPO)
        except FinalizeError as exc:
            raise UsageError(f"{out}: results written, but the run could not be signed: {exc}") from None
    except RunAborted as exc:
        print(f"bwc run: {exc}: aborted; {out} is INCOMPLETE and NOT signed", file=sys.stderr)
        return EXIT_FAIL
    finally:
        signals.restore()


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
    run.add_argument("--target", default="virtual", help="'virtual' (default), a bench file, or NAME:ARG for a target a package registers")
    run.add_argument("--jobs", type=int, default=1, metavar="N",
                     help="play the scenes in N processes (virtual target; same verdicts and evidence as one; default 1)")
    run.add_argument("--force", action="store_true", help="replace the contents of a non-empty --out directory")
    run.add_argument("-v", "--verbose", action="store_true", help="show pytest's failure details")
    run.add_argument("--no-pdf", action="store_true", help="skip report.pdf (JSON and HTML are still written and signed)")
    run.add_argument("--agency", default="", help="agency name for the report cover")
    run.add_argument("--project", default="", help="procurement / project name for the report cover")
    run.add_argument("--operator", default=os.environ.get("USER", ""), help="who ran the test (default: $USER)")
    run.add_argument("--policy", default=None, metavar="FILE",
                     help="procurement policy (bwc-policy/1): which attack exposures fail this procurement (default: informative; docs/security.md)")
    run.add_argument("--catalogue", action="append", default=[], metavar="FILE",
                     help="a requirement catalogue of your own (new ids), merged with the built-in one; repeatable (docs/conformance.md)")
    run.add_argument("--tests", action="append", default=[], metavar="DIR",
                     help="a folder of test modules of your own to run with the suite, against the same fixtures; repeatable")
    run.add_argument("--select", metavar="EXPR", help=argparse.SUPPRESS)  # pytest -k EXPR: the harness's own tests make short runs
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
