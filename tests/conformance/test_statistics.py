"""The ACT-001 sweep's sequential rule decides: a camera that always activates passes at the
first look, one clearly short of 95 % near the limit fails, and over many simulated sweeps
the rule's error rates stay within the catalogue's 5 % (seeded Bernoulli trials)."""

from __future__ import annotations

import random

import pytest

from conformance.catalogue import requirement
from conformance.statistics import decide_rate, lower_bound, trials_to_pass, upper_bound

REQ = requirement("ACT-001")
RATE = REQ.named("rate").value
LOOKS, PER_LOOK = int(REQ.parameter("sweep_looks")), int(REQ.parameter("sweep_trials_per_look"))
NEAR = 6  # cameras per trial in the 25-30 ft band (conformance/scenarios.py SWEEP_IN_RANGE_FT)
ALPHA = (1 - REQ.parameter("confidence")) / (2 * LOOKS)


def _sweep(p: float, rng: random.Random) -> str:
    """The near band of one simulated sweep: pass | fail | error (inconclusive)."""
    k = n = 0
    for _ in range(LOOKS):
        draws = [rng.random() < p for _ in range(PER_LOOK * NEAR)]
        k, n = k + sum(draws), n + len(draws)
        d = decide_rate(k, n, RATE, ALPHA)
        if d.verdict != "continue":
            return d.verdict
    return "error"


def test_bounds_are_exact():
    assert lower_bound(59, 59, 0.95) == pytest.approx(0.05 ** (1 / 59), abs=1e-6)
    assert upper_bound(0, 10, 0.95) == pytest.approx(1 - 0.05 ** (1 / 10), abs=1e-6)


def test_one_look_is_enough_for_a_camera_that_always_activates():
    assert trials_to_pass(RATE, ALPHA) <= PER_LOOK * NEAR
    assert decide_rate(PER_LOOK * NEAR, PER_LOOK * NEAR, RATE, ALPHA).verdict == "pass"


@pytest.mark.parametrize("p, verdict, at_least", [(1.0, "pass", 1.0), (0.999, "pass", 0.95), (0.80, "fail", 0.99), (0.88, "fail", 0.95)])
def test_the_rule_decides(p, verdict, at_least):
    rng = random.Random(1234)
    outcomes = [_sweep(p, rng) for _ in range(300)]
    assert outcomes.count(verdict) / len(outcomes) >= at_least, {v: outcomes.count(v) for v in set(outcomes)}


def test_a_camera_just_below_the_requirement_is_never_passed_more_than_alpha():
    rng = random.Random(99)
    outcomes = [_sweep(0.94, rng) for _ in range(400)]
    assert outcomes.count("pass") / len(outcomes) <= 0.05
