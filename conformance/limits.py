"""Verdicts and the limit objects that hand them out (as OpenHTF's validators do): a limit
knows its comparator, its marginal band and how to print itself, and judges a measured value
together with the value's measurement uncertainty.

Decision rule (docs/conformance.md): the measured value decides. A value beyond the limit
fails; a value on the passing side but closer to the limit than the marginal band (the
catalogue's band or the measurement's own uncertainty, whichever is wider) is *marginal*: it
passes and the report says how close it came. A value that could not be measured is an error.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

COMPARATORS = (">=", "<=", "==")


class Verdict(enum.StrEnum):
    PASS = "pass"
    MARGINAL = "marginal"  # passes, within the marginal band of the limit
    FAIL = "fail"
    ERROR = "error"  # could not be measured (or statistically inconclusive)
    NOT_TESTED = "not-tested"
    INFO = "info"  # an informative measurement, judged against nothing
    EXPOSED = "exposed"  # an attack worked where the procurement policy accepts it (informative; passes)

    @property
    def passed(self) -> bool:
        return self in (Verdict.PASS, Verdict.MARGINAL, Verdict.EXPOSED)


@dataclass(frozen=True)
class Limit:
    value: float
    unit: str = ""
    comparator: str = ">="
    marginal: float = 0.0  # passing values this close to the limit are reported as marginal

    def __post_init__(self) -> None:
        if self.comparator not in COMPARATORS:
            raise ValueError(f"unknown comparator {self.comparator!r} (known: {', '.join(COMPARATORS)})")
        if not math.isfinite(self.value) or not math.isfinite(self.marginal) or self.marginal < 0:
            raise ValueError("limit value and marginal band must be finite numbers (band >= 0)")

    def judge(self, measured: float | bool | None, uncertainty: float = 0.0) -> Verdict:
        """pass / marginal / fail for a measured value; error when nothing was measured."""
        if measured is None or (isinstance(measured, float) and math.isnan(measured)):
            return Verdict.ERROR
        if self.comparator == "==":
            return Verdict.PASS if measured == self.value else Verdict.FAIL
        value = float(measured)
        margin = value - self.value if self.comparator == ">=" else self.value - value
        if margin < 0:
            return Verdict.FAIL
        band = max(self.marginal, abs(uncertainty))
        return Verdict.MARGINAL if band > 0 and margin < band - 1e-9 * max(1.0, abs(self.value)) else Verdict.PASS

    def at_least(self, value: float) -> Limit:
        """The same limit, made stricter where the target's configuration asks for more
        (a camera configured for 60 s of pre-event video is held to 60 s, not 30 s)."""
        if self.comparator == ">=":
            return Limit(max(self.value, value), self.unit, self.comparator, self.marginal)
        if self.comparator == "<=":
            return Limit(min(self.value, value), self.unit, self.comparator, self.marginal)
        return self

    def describe(self) -> str:
        band = f" (marginal within {self.marginal:g})" if self.marginal else ""
        return f"{self.comparator} {self.value:g} {self.unit}{band}".replace("  ", " ")


YES = Limit(1.0, "", "==")  # a yes/no fact that must hold
