"""pytest plugin: the ``measure`` fixture, test outcomes per requirement, allure labels,
steps and parameters, and at the end of the session results.json and junit.xml regrouped
for CI systems (reports/junit_xml.py)."""

from __future__ import annotations

import json
import platform
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn
from uuid import uuid4

import allure
import allure_commons
import pytest

from conformance.catalogue import CATALOGUE_PATH, Requirement, load_catalogue
from conformance.limits import YES, Limit, Verdict
from conformance.policy import active_policy
from conformance.scene_groups import plain_nodeid
from conformance.subjects import Subject, as_subject
from reports import junit_xml
from reports.build import HARNESS_VERSION, git_revision
from reports.results import Measurement, RunResults, TestOutcome
from reports.run_state import RunState, requirement_of, scheduled_tests

REPO = Path(__file__).resolve().parent.parent  # the checkout (or site-packages: git revision "unknown")

RESULTS_KEY = pytest.StashKey[RunResults]()
RECORDER_KEY = pytest.StashKey["Recorder"]()


class MeasurementError(Exception):
    """The harness could not measure (verdict: error, not fail)."""


class Recorder:
    def __init__(self, results: RunResults, requirement: str) -> None:
        self.results = results
        self.requirement = requirement
        self.mine: list[Measurement] = []
        self.judged = False

    @property
    def req(self) -> Requirement:
        return load_catalogue()[self.requirement]

    def against(self, limit: Limit, subject: Subject | str, name: str, value: float | None, *, quantity: str = "",
                uncertainty: float = 0.0, note: str = "", digits: int = 3) -> Measurement:
        """A value judged by a limit object (the requirement's, a named one, or one the
        target's configuration made stricter); the uncertainty widens its marginal band."""
        shown = None if value is None else round(float(value), digits)
        verdict = limit.judge(shown, uncertainty)
        if value is None and not note:
            note = "could not be measured"
        m = _measurement(self.requirement, subject, name, shown, limit.unit, limit.value, limit.comparator, verdict.value, note,
                         round(uncertainty, digits) if uncertainty else None, quantity)
        return self._keep(m)

    def expect(self, subject: Subject | str, fact: str, ok: bool, *, expected: bool = True, quantity: str = "", note: str = "") -> Measurement:
        """A yes/no fact that must come out as ``expected``."""
        verdict = YES.judge(bool(ok) == expected)
        m = _measurement(self.requirement, subject, fact, bool(ok), "", expected, "==", verdict.value, note, None, quantity)
        return self._keep(m)

    def exposure(self, subject: Subject | str, attack: str, worked: bool, *, quantity: str = "exposure", note: str = "") -> Measurement:
        """Whether an attack worked (a replay started a recording): pass when it did not; when
        it did, *exposed* (informative), or fail where the procurement policy requires the
        protection (conformance/policy.py)."""
        verdict = Verdict.PASS if not worked else Verdict.FAIL if active_policy().fails_on(self.requirement) else Verdict.EXPOSED
        m = _measurement(self.requirement, subject, attack, bool(worked), "", False, "==", verdict.value, note, None, quantity)
        return self._keep(m)

    def conclude(self) -> None:
        """The verdict when the test's body has returned (unless it stopped early with one)."""
        if not self.judged:
            self.verdict()

    def _keep(self, m: Measurement) -> Measurement:
        self.results.measurements.append(m)
        self.mine.append(m)
        allure_step(m)
        return m

    def info(self, subject: Subject | str, name: str, value, unit: str = "", note: str = "", quantity: str = "") -> Measurement:
        return self._keep(_measurement(self.requirement, subject, name, value, unit, None, None, Verdict.INFO.value, note, None, quantity))

    def cannot_measure(self, subject: Subject | str, name: str, why: str) -> NoReturn:
        self._keep(_measurement(self.requirement, subject, name, None, "", None, None, Verdict.ERROR.value, why))
        raise MeasurementError(f"{subject}: {name}: {why}")

    def not_measured(self, subject: Subject | str, name: str, why: str) -> Measurement:
        """Record that one device could not be measured (error) and go on with the others."""
        return self._keep(_measurement(self.requirement, subject, name, None, "", None, None, Verdict.ERROR.value, why))

    def verdict(self) -> None:
        """Fail the test when any measurement failed; error when a device could not be
        measured or nothing was measured against a limit. Called for every test that uses
        ``measure`` when its body returns (``pytest_runtest_call`` below); a test calls it
        itself only to stop early with the verdict so far."""
        self.judged = True
        failed = [m for m in self.mine if m.verdict == "fail"]
        if failed:
            lines = [f"{m.subject}: {m.name} = {m.value} {m.unit} (limit {m.comparator} {m.limit}) {m.note}".rstrip() for m in failed]
            pytest.fail(f"{self.requirement} failed:\n  " + "\n  ".join(lines), pytrace=False)  # the measurements say why
        errors = [m for m in self.mine if m.verdict == "error"]
        if errors:
            raise MeasurementError(f"{self.requirement}: could not measure " + "; ".join(f"{m.subject}: {m.name}: {m.note}" for m in errors))
        if not any(m.verdict in ("pass", "marginal", "exposed") for m in self.mine):
            raise MeasurementError(f"{self.requirement}: nothing was measured against a limit")


def _measurement(requirement: str, subject: Subject | str, name: str, value, unit: str, limit, comparator: str | None,
                 verdict: str, note: str, uncertainty: float | None = None, quantity: str = "") -> Measurement:
    who = as_subject(subject)
    return Measurement(requirement, str(who), name, value, unit, limit, comparator, verdict, note, uncertainty, quantity, who.to_json())


def allure_step(m: Measurement) -> None:
    """The measurement as an Allure step with its value, unit, limit and verdict as parameters;
    a failed one is a failed step, one that could not be measured a broken step."""
    limit = "-" if m.limit is None else f"{m.comparator} {m.limit}"
    params = {"value": "not measured" if m.value is None else str(m.value), "unit": m.unit or "-", "limit": limit, "verdict": m.verdict}
    hook = allure_commons.plugin_manager.hook
    uuid = str(uuid4())
    hook.start_step(uuid=uuid, title=f"{m.subject}: {m.name}", params=params)
    problem: BaseException | None = None
    if m.verdict == "fail":
        problem = AssertionError(f"{m.value} {m.unit} (limit {limit}) {m.note}".strip())
    elif m.verdict == "error":
        problem = MeasurementError(m.note or "could not be measured")
    hook.stop_step(uuid=uuid, title=m.name, exc_type=type(problem) if problem else None, exc_val=problem, exc_tb=None)


def run_properties(config: pytest.Config) -> dict[str, str]:
    """What identifies the run: on the JUnit suites, as Allure parameters and environment."""
    options = config.stash[RESULTS_KEY].options
    run = {k: options.get(k) if options.get(k) is not None else config.getoption(f"bwc_{k}", default=None) for k in ("profile", "seed", "target")}
    return {**{k: str(v) for k, v in run.items() if v is not None}, "harness_version": HARNESS_VERSION, "git_revision": git_revision(REPO)}


def pytest_configure(config: pytest.Config) -> None:
    config.stash[RESULTS_KEY] = RunResults()
    config.addinivalue_line("markers", "requirement(id): the catalogue requirement this test measures")
    if config.pluginmanager.hasplugin("xdist") and getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        config.pluginmanager.register(XdistCollector(config.stash[RESULTS_KEY]), "bwc-xdist-collector")
    out = config.getoption("bwc_out", default=None)
    if out and not is_worker(config):
        config.pluginmanager.register(RunState(config.stash[RESULTS_KEY], Path(out)), "bwc-run-state")


def pytest_collection_finish(session: pytest.Session) -> None:
    if is_worker(session.config):  # the controller's session collects nothing: it learns the schedule from a worker
        session.config.workeroutput["bwc_scheduled"] = scheduled_tests(session.items)  # type: ignore[attr-defined]


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


class XdistCollector:
    """Under pytest-xdist each worker measures; this plugin on the controller gathers what the
    workers attach to their reports, so results.json (and so the verdicts) are the same as a
    serial run's."""

    def __init__(self, results: RunResults) -> None:
        self.results = results
        self.crashed: list[TestOutcome] = []  # tests whose worker died under them

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "???":  # xdist's report for the test a worker was running when it died (DSession.handle_crashitem)
            said = report.longreprtext.splitlines()[-1].replace(report.nodeid, plain_nodeid(report.nodeid)) if report.longreprtext else "worker crashed"
            self.crashed.append(TestOutcome(plain_nodeid(report.nodeid), None, "error", f"{said}: the worker process died under it (killed, "
                                            "out of memory, or a crash in native code); what it measured is lost"))
            return
        for key, payload in report.user_properties:
            if key != "bwc" or not isinstance(payload, dict):
                continue
            self.results.tests.append(TestOutcome(**payload["outcome"]))
            self.results.measurements += [Measurement(**m) for m in payload["measurements"]]
            if payload.get("options"):
                self.results.options = payload["options"]
            merge_incident(self.results.incident, payload.get("incident") or {})

    def pytest_testnodedown(self, node, error) -> None:
        scheduled = getattr(node, "workeroutput", {}).get("bwc_scheduled")
        if scheduled is not None and self.results.scheduled is None:
            self.results.scheduled = scheduled

    @pytest.hookimpl(tryfirst=True)  # before results.json is written
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        requirements = {s["nodeid"]: s["requirement"] for s in self.results.scheduled or []}
        for outcome in self.crashed:
            outcome.requirement = requirements.get(outcome.nodeid)
            self.results.tests.append(outcome)
        self.crashed = []


def merge_incident(into: dict, part: dict) -> None:
    """The main scene's record, plus every scenario's summary and the sweep, from any worker."""
    scenarios = {**into.get("scenarios", {}), **part.get("scenarios", {})}
    devices = {d["serial"]: d for d in into.get("devices", []) + part.get("devices", [])}
    into.update({k: v for k, v in part.items() if k not in ("scenarios", "devices")})
    if scenarios:
        into["scenarios"] = scenarios
    if devices:
        into["devices"] = list(devices.values())


@pytest.fixture
def measure(request: pytest.FixtureRequest) -> Iterator[Recorder]:
    req = requirement_of(request.node)
    if req is None:
        raise MeasurementError(f"{request.node.nodeid} uses 'measure' without @pytest.mark.requirement")
    catalogue = load_catalogue()
    if req not in catalogue:
        raise MeasurementError(f"{req} is not in the requirement catalogue (conformance/requirements.yaml, or a --bwc-catalogue file)")
    r = catalogue[req]
    allure.dynamic.epic(r.family)
    allure.dynamic.feature(r.id)
    allure.dynamic.title(f"{r.id}: {r.title}")
    allure.dynamic.label("source", r.source)
    allure.dynamic.description(r.text)
    allure.dynamic.link(f"{CATALOGUE_PATH.as_uri()}#{r.id}", name=f"{r.id} source: {r.source}")
    for key in ("profile", "seed", "target"):
        value = request.config.getoption(f"bwc_{key}", default=None)
        if value is not None:
            allure.dynamic.parameter(key, value)
    recorder = Recorder(request.config.stash[RESULTS_KEY], req)
    request.node.stash[RECORDER_KEY] = recorder
    yield recorder
    if recorder.mine:
        allure.attach(
            json.dumps([m.__dict__ for m in recorder.mine], indent=2, default=str),
            name=f"{req} measurements", attachment_type=allure.attachment_type.JSON,
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """The verdict of a test that measured is its measurements': judged in the test's own call
    phase once its body returns (a failed measurement fails it, one not measured errors it)."""
    result = yield
    recorder = item.stash.get(RECORDER_KEY, None)
    if recorder is not None:
        recorder.conclude()
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    req = requirement_of(item)
    if call.when == "setup":  # junit.xml groups the case by its requirement (reports/junit_xml.py)
        item.user_properties += [(junit_xml.NODEID, plain_nodeid(item.nodeid))] + ([(junit_xml.REQUIREMENT, req)] if req else [])
    report = yield
    results = item.config.stash[RESULTS_KEY]
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if report.passed:
            outcome = "passed"
        elif report.skipped:
            outcome = "skipped"
        elif call.excinfo is not None and call.excinfo.errisinstance((AssertionError, pytest.fail.Exception)):
            outcome = "failed"
        else:
            outcome = "error"
        message = "" if report.passed else str(call.excinfo.value) if call.excinfo else report.longreprtext[-2000:]
        test = TestOutcome(plain_nodeid(item.nodeid), req, outcome, message[:4000], round(report.duration, 4))
        results.tests.append(test)
        if is_worker(item.config):  # hand the controller what this test measured (see XdistCollector)
            recorder = item.stash.get(RECORDER_KEY, None)
            payload = {
                "outcome": test.__dict__.copy(),
                "measurements": [m.__dict__.copy() for m in (recorder.mine if recorder else [])],
                "options": results.options,
                "incident": results.incident,
            }
            report.user_properties.append(("bwc", json.loads(json.dumps(payload, default=str))))  # plain data for execnet
    return report


@pytest.hookimpl(trylast=True)  # after pytest's junitxml plugin has written junit.xml
def pytest_sessionfinish(session: pytest.Session) -> None:
    out = session.config.getoption("bwc_out", default=None)
    if out and not is_worker(session.config):
        try:
            session.config.stash[RESULTS_KEY].write(Path(out) / "results.json")
        except OSError as exc:  # a full disk or a read-only folder: one line, the run says why it is incomplete
            print(f"bwc: cannot write {Path(out) / 'results.json'}: {exc.strerror or exc}", file=sys.stderr)
    if is_worker(session.config):
        return
    run = run_properties(session.config)
    xmlpath = getattr(session.config.option, "xmlpath", None)
    if xmlpath and Path(xmlpath).is_file():
        try:
            junit_xml.rewrite(Path(xmlpath), run, session.config.stash[RESULTS_KEY].tests)
        except (OSError, ET.ParseError) as exc:
            print(f"bwc: cannot regroup {xmlpath}: {exc}", file=sys.stderr)
    alluredir = session.config.getoption("allure_report_dir", default=None)
    if alluredir and Path(alluredir).is_dir():  # the Environment widget of the Allure report
        lines = [f"{k}={v}" for k, v in run.items()] + [f"python={platform.python_version()}", f"pytest={pytest.__version__}"]
        (Path(alluredir) / "environment.properties").write_text("\n".join(lines) + "\n")
