from reports.results import Measurement, RunResults, TestOutcome, judge, requirement_verdict


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


def test_recorder_applies_the_catalogue_band_only_to_the_catalogue_limit():
    from reports.pytest_results import Recorder

    r = Recorder(RunResults(), "PRE-001")
    assert r.check("cam", "coverage", 30.05, "s", 30.0, ">=").verdict == "marginal"
    assert r.check("cam", "coverage", 30.2, "s", 30.0, ">=").verdict == "pass"
    assert r.check("cam", "other", 29.95, "s", 30.0, "<=").verdict == "pass"  # not the catalogue limit: no band
    r.verdict()  # marginal passes: no failure raised
