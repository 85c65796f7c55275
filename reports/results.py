"""Measurements and verdicts. A test records measurements; the verdict follows from them."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from conformance.limits import Limit, Verdict

RESULTS_SCHEMA = "bwc-results/1"


@dataclass
class Measurement:
    requirement: str
    subject: str  # which device (or "scene") the value is about
    name: str
    value: float | bool | str | None
    unit: str = ""
    limit: float | bool | None = None
    comparator: str | None = None  # ">=", "<=", "==", or None for informative values
    verdict: str = "info"  # pass | marginal | fail | error | info
    note: str = ""
    uncertainty: float | None = None  # of the value, in its unit (widens the marginal band)
    quantity: str = ""  # stable key of what was measured (e.g. "pre_event_s"), for reports and diffs


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

    def to_json(self) -> dict:
        return {
            "schema": RESULTS_SCHEMA,
            "options": self.options,
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
            raise ValueError(f"{path} is not a {RESULTS_SCHEMA} file")
        return cls(
            measurements=[Measurement(**m) for m in doc["measurements"]],
            tests=[TestOutcome(**t) for t in doc["tests"]],
            incident=doc.get("incident", {}),
            options=doc.get("options", {}),
        )


def judge(value: float | bool | None, limit: float | bool | None, comparator: str | None, marginal: float = 0.0,
          uncertainty: float = 0.0) -> str:
    """pass | marginal (passes, but within the band of the limit) | fail | error | info
    (conformance.limits.Limit holds the rule)."""
    if comparator is None:
        return Verdict.INFO.value
    if limit is None:
        return Verdict.ERROR.value
    return Limit(float(limit), "", comparator, marginal).judge(value, uncertainty).value


def requirement_verdict(requirement: str, results: RunResults) -> str:
    """fail if any measurement failed; else error if a test errored or a value could not be
    measured; marginal if a measurement passed within the limit's marginal band; pass if at
    least one measurement passed; not-tested when nothing ran."""
    tests = [t for t in results.tests if t.requirement == requirement]
    ms = [m for m in results.measurements if m.requirement == requirement]
    if not tests and not ms:
        return "not-tested"
    if any(m.verdict == "fail" for m in ms):
        return "fail"
    if any(t.outcome == "error" for t in tests) or any(m.verdict == "error" for m in ms):
        return "error"
    if any(t.outcome == "failed" for t in tests):
        return "fail"
    if any(m.verdict == "marginal" for m in ms):
        return "marginal"
    if any(m.verdict == "pass" for m in ms):
        return "pass"
    if tests and all(t.outcome == "skipped" for t in tests):
        return "not-tested"
    return "error"  # a test ran but measured nothing against a limit
