"""The end of ``bwc run``: results.json, report.json/html/pdf and the signature, also for a
run that did not finish (INCOMPLETE), and the summary on the terminal."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bwc.interrupts import RunSignals
from reports.build import build_report, decisive_text, describe_interruption, not_tested_by_reason, write_report_json
from reports.finalize import FinalizeError, finalize_run
from reports.html import write_report_html
from reports.results import RunResults
from reports.run_state import release_reserve, storage_reason

EXIT_OK, EXIT_FAIL = 0, 1


class NotSigned(Exception):
    """The run was written up but cannot be signed (the message says why)."""


def note_interruption(results: RunResults, pytest_code: int, signals: RunSignals) -> None:
    """What pytest could not record itself: a signal before its session started or while the
    report is written, or pytest stopping with an error of its own."""
    if results.interrupted is not None:
        return
    first = signals.first
    if first is not None:
        phase = ("writing the report" if first["phase"] == "finalizing" else
                 "starting the suite" if results.scheduled is None else "measuring")
        results.interrupted = {"reason": first["signal"], "signal": first["signal"], "phase": phase, "during": None,
                               "detail": f"{first['signal']} received"}
    elif pytest_code not in (0, 1):
        results.interrupted = {"reason": f"pytest exit {pytest_code}", "signal": None, "phase": "measuring", "during": None,
                               "detail": "pytest stopped before the end of the suite (bwc run -v shows its output)"}


def write_up(args: argparse.Namespace, out: Path, results: RunResults, pytest_code: int, key: Ed25519PrivateKey,
             signals: RunSignals, wall: float, repo: Path) -> int:
    from emulators.clip_pipeline import open_writers

    cover = {"agency": args.agency, "project": args.project, "operator": args.operator, "command": "bwc " + " ".join(sys.argv[1:])}
    release_reserve(out)
    while True:  # once more when a signal arrives while the report is written: it must say INCOMPLETE
        seen = len(signals.received)

        def still_current() -> bool:
            signals.pause_before_signing()
            return len(signals.received) == seen  # else sign the rewritten report, not this one

        note_interruption(results, pytest_code, signals)
        try:
            report = _write(out, results, cover, wall, repo)
            if open_writers():
                raise NotSigned(f"{open_writers()} clip writer(s) are still open")
            finalize_run(out, report, signing_key=key, pdf=not args.no_pdf, before_signing=still_current)
        except OSError as exc:
            return _unsigned(out, results, f"{storage_reason(exc)}: cannot write {exc.filename or out} ({exc.strerror or exc})")
        except FinalizeError as exc:
            if isinstance(exc.__cause__, OSError):
                return _unsigned(out, results, f"{storage_reason(exc.__cause__)}: {exc}")
            raise
        except NotSigned as exc:
            return _unsigned(out, results, str(exc))
        if len(signals.received) == seen:
            break
    _print_summary(report, out, args.no_pdf, wall)
    return EXIT_OK if report["summary"]["overall"] in ("pass", "marginal") else EXIT_FAIL


def _write(out: Path, results: RunResults, cover: dict, wall: float, repo: Path) -> dict:
    results.write(out / "results.json")
    report = build_report(results, repo=repo, cover=cover)
    report["run"]["suite_wall_s"] = round(wall, 2)
    write_report_json(report, out)
    write_report_html(report, out)
    return report


def _unsigned(out: Path, results: RunResults, why: str) -> int:
    state = "INCOMPLETE" if results.interrupted else "written up"
    print(f"bwc run: {out}: {why}; the run is {state} and NOT signed (bwc verify will fail on it)", file=sys.stderr)
    return EXIT_FAIL


def _print_summary(report: dict, out: Path, no_pdf: bool, wall: float) -> None:
    s, run = report["summary"], report["run"]
    print()
    print(f"  {'requirement':<10} {'verdict':<11} {'measured (worst)':>18}  limit")
    for r in report["requirements"]:
        if r["verdict"] == "not-tested":
            continue
        measured, limit = decisive_text(r)
        why = f"  ({r['why']})" if r.get("why") else ""
        print(f"  {r['id']:<10} {r['verdict']:<11} {measured:>18}  {limit}{why}")
    not_tested = [f"{why}: {', '.join(ids)}" for why, ids in not_tested_by_reason(report).items()]
    print(f"\n  overall {s['overall'].upper()}: {s['pass']} pass, {s.get('marginal', 0)} marginal, {s['fail']} fail, {s['error']} error, "
          f"{s['not-tested']} not tested" + (f", {s['exposed']} exposed (informative)" if s.get("exposed") else ""))
    worked = [e for e in report.get("exposures", []) if e["worked"]]
    if worked:
        print(f"  attack exposure ({report['policy']['name']}): " + "; ".join(sorted({f"{e['requirement']} {e['attack']}" for e in worked})))
    if run.get("interrupted"):
        not_run = f"; {len(s['not_measured'])} scheduled requirement(s) not measured" if s["not_measured"] else ""
        print(f"  INCOMPLETE: {describe_interruption(run['interrupted'])}{not_run}")
    if not_tested:
        print(f"  not tested: {'; '.join(not_tested)}")
    simulated = f"simulated {run['simulated_s']} s in " if run.get("simulated_s") is not None else ""
    print(f"  {simulated}{wall:.1f} s wall")
    print(f"  report: {out / ('report.html' if no_pdf else 'report.pdf')}; signed by {report['signing']['key_fingerprint']}; check: bwc verify {out}")
