"""bwc diff: finds a real regression (short-buffer firmware vs reference) and an injected
one (a measurement pushed past its limit in results.json, rebuilt through the real
verdict logic), reports improvements and firmware changes; exit 1 only on regression."""

from __future__ import annotations

import json

import pytest

from conformance.limits import Limit
from reports.build import build_report, write_report_json
from reports.diff import diff_reports, value_direction, verdict_change
from reports.results import RunResults
from tests.reports.conftest import bwc


def test_real_regression_between_profiles(reference_run, short_buffer_run):
    proc = bwc("diff", str(reference_run.dir), str(short_buffer_run.dir))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "REGRESSED  PRE-001   pass -> fail" in proc.stdout
    data = json.loads(bwc("diff", str(reference_run.dir), str(short_buffer_run.dir), "--json").stdout)
    regressed = {(c["requirement"], c["subject"]) for c in data["measurements"] if c["kind"] == "regressed"}
    failing = {(m["requirement"], f'{m["device"]["label"]} {m["device"]["part"]}'.strip() if m["device"] else m["subject"]) for r in short_buffer_run.report()["requirements"]
               for m in r["measurements"] if m["verdict"] == "fail"}
    assert regressed == failing and ("PRE-001", "BWC-A") in regressed
    back = bwc("diff", str(short_buffer_run.dir), str(reference_run.dir))
    assert back.returncode == 0 and "IMPROVED   PRE-001   fail -> pass" in back.stdout


def test_same_run_has_no_change(reference_run):
    proc = bwc("diff", str(reference_run.dir), str(reference_run.dir / "report.json"))
    assert proc.returncode == 0 and "no verdict changed" in proc.stdout and "no regression" in proc.stdout


def test_injected_regression_is_found(reference_run, tmp_path):
    results = RunResults.read(reference_run.dir / "results.json")
    target = next(m for m in results.measurements if m.requirement == "ACT-001" and m.comparator == "<=" and m.subject.startswith("BWC-C "))
    target.value = 1.4  # BWC-C now activates 1.4 s after the CEW event (limit 1.0 s)
    target.verdict = Limit(target.limit, "", target.comparator).judge(target.value).value
    b = tmp_path / "after-firmware-update"
    b.mkdir()
    report = build_report(results, cover=reference_run.report()["cover"], out_dir=reference_run.dir)
    for d in report["system_under_test"]:
        if d["label"] == "BWC-C":
            d["firmware"] = "1.1.0"
    write_report_json(report, b)
    proc = bwc("diff", str(reference_run.dir), str(b))
    assert proc.returncode == 1, proc.stdout
    assert "REGRESSED  ACT-001   pass -> fail" in proc.stdout
    assert f"ACT-001   BWC-C       {target.name}:" in proc.stdout and "-> 1.4 s" in proc.stdout
    assert "firmware  1.0.0 -> 1.1.0   (BWC-C)" in proc.stdout
    lines = [line for line in proc.stdout.splitlines() if line.strip().startswith("REGRESSED")]
    assert all("ACT-001" in line for line in lines), "nothing else regressed"


def test_value_drift_within_the_limit_is_reported_but_not_a_regression(reference_run):
    a = reference_run.report()
    b = json.loads(json.dumps(a))
    m = next(m for r in b["requirements"] if r["id"] == "PRE-001" for m in r["measurements"] if m["comparator"] == ">=" and m["unit"] == "s")
    m["value"] = m["value"] - 0.4  # still >= 30 s
    d = diff_reports(a, b)
    assert not d.regressions
    assert [(c.kind, c.requirement) for c in d.measurements] == [("worse", "PRE-001")]


@pytest.mark.parametrize("a, b, kind", [("pass", "fail", "regressed"), ("pass", "error", "regressed"), ("not-tested", "fail", "regressed"),
                                        ("pass", "not-tested", "regressed"), ("fail", "pass", "improved"), ("not-tested", "pass", "improved"),
                                        ("fail", "error", "changed"), ("pass", "pass", "same")])
def test_verdict_change_rules(a, b, kind):
    assert verdict_change(a, b) == kind


def test_value_direction_follows_the_comparator():
    assert value_direction(30.6, 30.2, ">=") == "worse" and value_direction(0.1, 0.3, "<=") == "worse"
    assert value_direction(0.3, 0.1, "<=") == "better" and value_direction(True, False, "==") == "changed"


def test_bad_input_exits_2_without_traceback(reference_run, tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "other.json").write_text('{"schema": "bwc-results/1"}')
    (tmp_path / "empty").mkdir()
    (tmp_path / "nested.json").write_text("[" * 100_000 + "]" * 100_000)
    for arg, needle in ((tmp_path / "nope", "no such run directory"), (tmp_path / "bad.json", "not valid JSON"),
                        (tmp_path / "nested.json", "nested too deeply"),
                        (tmp_path / "other.json", "is not a bwc report"), (tmp_path / "empty", "no report.json")):
        proc = bwc("diff", str(reference_run.dir), str(arg))
        assert proc.returncode == 2 and needle in proc.stderr, (arg, proc.stderr)
        assert "Traceback" not in proc.stderr + proc.stdout
