from conformance.limits import Limit
from reports.results import Measurement, RunResults, TestOutcome, requirement_verdict


def judge(value, limit, comparator, marginal=0.0):
    return "info" if comparator is None else Limit(limit, "", comparator, marginal).judge(value).value


def _m(verdict, req="X-1"):
    return Measurement(req, "dev", "v", 1.0, "s", 1.0, ">=", verdict)


def test_judge():
    assert judge(30.0, 30.0, ">=") == "pass"
    assert judge(29.99, 30.0, ">=") == "fail"
    assert judge(1.01, 1.0, "<=") == "fail"
    assert judge(True, True, "==") == "pass"
    assert judge(None, 1.0, ">=") == "error"
    assert judge(5, None, None) == "info"


def test_requirement_verdict_precedence():
    ok = TestOutcome("t", "X-1", "passed")
    assert requirement_verdict("X-1", RunResults([_m("pass")], [ok])) == "pass"
    assert requirement_verdict("X-1", RunResults([_m("pass"), _m("fail")], [TestOutcome("t", "X-1", "failed")])) == "fail"
    assert requirement_verdict("X-1", RunResults([_m("pass")], [TestOutcome("t", "X-1", "error")])) == "error"
    assert requirement_verdict("X-1", RunResults([_m("fail")], [TestOutcome("t", "X-1", "error")])) == "fail"
    assert requirement_verdict("X-1", RunResults([], [])) == "not-tested"
    info_only = Measurement("X-1", "dev", "v", 1.0, "s", None, None, "info")
    assert requirement_verdict("X-1", RunResults([info_only], [ok])) == "error"


def test_marginal_band():
    assert judge(30.05, 30.0, ">=", 0.1) == "marginal"
    assert judge(30.1, 30.0, ">=", 0.1) == "pass"
    assert judge(29.99, 30.0, ">=", 0.1) == "fail"
    assert judge(0.95, 1.0, "<=", 0.1) == "marginal"
    assert judge(0.9, 1.0, "<=", 0.1) == "pass"
    assert judge(1.01, 1.0, "<=", 0.1) == "fail"
    ok = TestOutcome("t", "X-1", "passed")
    assert requirement_verdict("X-1", RunResults([_m("pass"), _m("marginal")], [ok])) == "marginal"
    assert requirement_verdict("X-1", RunResults([_m("marginal"), _m("fail")], [ok])) == "fail"


def test_recorder_judges_with_the_limit_object_and_its_band():
    from conformance.limits import Limit
    from reports.pytest_results import Recorder

    r = Recorder(RunResults(), "PRE-001")
    limit = r.req.main()
    assert r.against(limit, "cam", "coverage", 30.05).verdict == "marginal"
    assert r.against(limit, "cam", "coverage", 30.2).verdict == "pass"
    assert r.against(limit, "cam", "coverage", 30.2, uncertainty=0.3).verdict == "marginal"  # its own uncertainty widens the band
    assert r.against(Limit(30.0, "s", "<="), "cam", "other", 29.95).verdict == "pass"  # a limit without a band
    assert r.expect("cam", "a fact", False, expected=False).verdict == "pass"
    r.verdict()  # marginal passes: no failure raised


def _scheduled(*pairs):
    return [{"nodeid": n, "requirement": r} for n, r in pairs]


def test_a_scheduled_requirement_that_did_not_run_is_not_neutral():
    """Issue 11: Ctrl-C after a few tests gave 'overall PASS ... 14 not tested'."""
    from reports.results import requirement_status

    sched = _scheduled(("a", "X-1"), ("b", "X-2"), ("c", "X-2"), ("d", "X-3"), ("e", "X-4"))
    ran = RunResults([_m("pass"), _m("pass", "X-2"), _m("fail", "X-4")],
                     [TestOutcome("a", "X-1", "passed"), TestOutcome("b", "X-2", "passed"), TestOutcome("e", "X-4", "failed")], scheduled=sched)
    stopped = RunResults(ran.measurements, ran.tests, scheduled=sched, interrupted={"reason": "SIGINT"})
    assert requirement_status("X-1", stopped) == ("pass", None)
    assert requirement_status("X-2", stopped) == ("error", "run interrupted"), "one of its two tests did not run"
    assert requirement_status("X-3", stopped) == ("error", "run interrupted")
    assert requirement_status("X-4", stopped) == ("fail", None), "a failure stays a failure"
    assert requirement_status("X-9", stopped) == ("not-tested", "not in this suite")
    assert requirement_status("X-3", ran) == ("error", "scheduled, not measured"), "nothing explains why it did not run"
    skipped = RunResults([], [TestOutcome("d", "X-3", "skipped", "the target declares no group recording")], scheduled=sched)
    assert requirement_status("X-3", skipped) == ("not-tested", "skipped: the target declares no group recording")
    unknown = RunResults([], [], scheduled=None, interrupted={"reason": "SIGTERM"})  # stopped before collection finished
    assert requirement_status("X-9", unknown) == ("error", "run interrupted")
    assert requirement_status("X-9", RunResults([], [], deselected=["X-9"], scheduled=[])) == ("not-tested", "not selected for this run")


def test_an_interrupted_run_is_incomplete_and_keeps_its_failures(tmp_path):
    from conformance.catalogue import load_catalogue
    from reports.build import build_report

    first, second, *rest = list(load_catalogue())
    sched = _scheduled(("t1", first), ("t2", second), ("t3", rest[0]))
    results = RunResults([_m("pass", first), _m("fail", second)], [TestOutcome("t1", first, "passed"), TestOutcome("t2", second, "failed")],
                         scheduled=sched, interrupted={"reason": "SIGINT", "signal": "SIGINT", "phase": "measuring", "during": "t3", "detail": ""})
    report = build_report(results)
    s = report["summary"]
    assert s["overall"] == "incomplete" and report["run"]["interrupted"]["during"] == "t3"
    assert s["attention"] == [second, rest[0]] and s["not_measured"] == [rest[0]]
    assert build_report(RunResults(results.measurements[:1], results.tests[:1], scheduled=sched[:1]))["summary"]["overall"] == "pass"
    path = tmp_path / "results.json"
    results.write(path)
    assert RunResults.read(path) == results, "scheduled and interrupted survive results.json"


def test_an_exposure_is_informative_unless_something_fails():
    ok = TestOutcome("t", "SEC-9", "passed")
    exposed = Measurement("SEC-9", "dev", "a replay starts a recording", True, "", False, "==", "exposed", quantity="exposure")
    passed = Measurement("SEC-9", "dev2", "a replay starts a recording", False, "", False, "==", "pass", quantity="exposure")
    assert requirement_verdict("SEC-9", RunResults([passed], [ok])) == "pass"
    assert requirement_verdict("SEC-9", RunResults([passed, exposed], [ok])) == "exposed"
    assert requirement_verdict("SEC-9", RunResults([exposed, _m("fail", "SEC-9")], [TestOutcome("t", "SEC-9", "failed")])) == "fail"
    assert requirement_verdict("SEC-9", RunResults([exposed], [TestOutcome("t", "SEC-9", "error")])) == "error"
