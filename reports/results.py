"""Measurements and verdicts. A test records measurements; the verdict follows from them."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from conformance.subjects import Subject


RESULTS_SCHEMA = "bwc-results/1"


@dataclass
class Measurement:
    requirement: str
    subject: str  # which device (or "scene") the value is about, as text for people
    name: str
    value: float | bool | str | None
    unit: str = ""
    limit: float | bool | None = None
    comparator: str | None = None  # ">=", "<=", "==", or None for informative values
    verdict: str = "info"  # pass | marginal | fail | error | info | exposed
    note: str = ""
    uncertainty: float | None = None  # of the value, in its unit (widens the marginal band)
    quantity: str = ""  # stable key of what was measured (e.g. "pre_event_s"), for reports and diffs
    device: dict | None = None  # the subject by key {label, serial, part}; None: not a device

    @property
    def who(self) -> Subject:
        return Subject.from_json(self.device, self.subject)


@dataclass
class TestOutcome:
    __test__ = False  # not a pytest test class
    nodeid: str
    requirement: str | None
    outcome: str  # passed | failed | error | skipped
    message: str = ""
    duration_s: float = 0.0


@dataclass
class RunResults:
    measurements: list[Measurement] = field(default_factory=list)
    tests: list[TestOutcome] = field(default_factory=list)
    incident: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    # the tests collected for this run, [{nodeid, requirement}]; None: collection did not finish
    scheduled: list[dict] | None = None
    deselected: list[str] = field(default_factory=list)  # requirements whose tests a -k selection left out
    # why the run did not finish: {reason, signal, during, detail}; None: it ran to the end
    interrupted: dict | None = None
    # requirements of the extension catalogues the run was given (--bwc-catalogue), as plain data
    catalogue_extra: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "schema": RESULTS_SCHEMA,
            "options": self.options,
            "interrupted": self.interrupted,
            "scheduled": self.scheduled,
            "deselected": self.deselected,
            "catalogue_extra": self.catalogue_extra,
            "incident": self.incident,
            "tests": [asdict(t) for t in self.tests],
            "measurements": [asdict(m) for m in self.measurements],
        }

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=2, default=str) + "\n")

    @classmethod
    def read(cls, path: Path) -> RunResults:
        doc = json.loads(path.read_text())
        if doc.get("schema") != RESULTS_SCHEMA:
            raise ValueError(f"{path}: schema: {doc.get('schema')!r} is not {RESULTS_SCHEMA} (written by another harness version?)")
        return cls.from_json(doc)

    def plain(self) -> RunResults:
        """A copy holding plain JSON data only (paths as strings), as results.json stores it."""
        return RunResults.from_json(json.loads(json.dumps(self.to_json(), default=str)))

    @classmethod
    def from_json(cls, doc: dict) -> RunResults:
        return cls(
            measurements=[Measurement(**m) for m in doc["measurements"]],
            tests=[TestOutcome(**t) for t in doc["tests"]],
            incident=doc.get("incident", {}),
            options=doc.get("options", {}),
            scheduled=doc.get("scheduled"),
            deselected=doc.get("deselected", []),
            interrupted=doc.get("interrupted"),
            catalogue_extra=doc.get("catalogue_extra", []),
        )


def requirement_verdict(requirement: str, results: RunResults) -> str:
    return requirement_status(requirement, results)[0]


def requirement_status(requirement: str, results: RunResults) -> tuple[str, str | None]:
    """(verdict, why). fail if any measurement failed; else error if a test errored or a value
    could not be measured; fail if a test failed; error if a test scheduled for this run did
    not run ("run interrupted", or "scheduled, not measured" when nothing explains it);
    exposed if an attack worked and the procurement policy accepts that (informative);
    marginal if a measurement passed within the limit's marginal band; pass if at least one
    measurement passed; not-tested when the suite has no test for it ("not in this suite") or
    the target declared it out of scope (the skip reason). ``why`` explains a verdict that is
    not read off the measurements."""
    tests = [t for t in results.tests if t.requirement == requirement]
    ms = [m for m in results.measurements if m.requirement == requirement]
    unrun = _not_run(requirement, results, tests)
    stopped = "run interrupted" if results.interrupted else "scheduled, not measured"
    if any(m.verdict == "fail" for m in ms):
        return "fail", (f"{stopped} before {len(unrun)} of its tests ran" if unrun else None)
    if any(t.outcome == "error" for t in tests) or any(m.verdict == "error" for m in ms):
        return "error", (stopped if unrun else None)
    if any(t.outcome == "failed" for t in tests):
        return "fail", (f"{stopped} before {len(unrun)} of its tests ran" if unrun else None)
    if unrun:
        return "error", stopped
    if not tests and not ms:
        if requirement in results.deselected:
            return "not-tested", "not selected for this run"
        return "not-tested", ("not in this suite" if results.scheduled is not None else "no test measured it")
    if any(m.verdict == "exposed" for m in ms):
        return "exposed", "informative: an attack worked; the procurement policy does not make it a failure"
    if any(m.verdict == "marginal" for m in ms):
        return "marginal", None
    if any(m.verdict == "pass" for m in ms):
        return "pass", None
    if tests and all(t.outcome == "skipped" for t in tests):
        return "not-tested", "; ".join(sorted({_skip_reason(t.message) for t in tests}))
    return "error", "a test ran but measured nothing against a limit"


def _not_run(requirement: str, results: RunResults, tests: list[TestOutcome]) -> list[str]:
    """Tests of this requirement that were scheduled but have no outcome. When collection did
    not finish (scheduled unknown) in an interrupted run, a requirement nothing was recorded
    for may have been scheduled: it counts as not run."""
    if results.scheduled is None:
        return ["(unknown)"] if results.interrupted and not tests and requirement not in results.deselected else []
    ran = {t.nodeid for t in tests}
    return [s["nodeid"] for s in results.scheduled if s.get("requirement") == requirement and s["nodeid"] not in ran]


def _skip_reason(message: str) -> str:
    return f"skipped: {message.strip()}" if message.strip() else "skipped"
