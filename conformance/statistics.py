"""Exact binomial confidence bounds (Clopper-Pearson) without SciPy, and the sequential rule
the ACT-001 sweep uses to decide an activation rate."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from math import lgamma, log

import numpy as np


def _tail_at_least(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p) (log-space terms: exact to float precision at any n)."""
    if p <= 0.0:
        return 1.0 if k <= 0 else 0.0
    if p >= 1.0:
        return 1.0
    i = np.arange(k, n + 1, dtype=np.float64)
    log_terms = lgamma(n + 1) - np.array([lgamma(x + 1) + lgamma(n - x + 1) for x in i]) + i * log(p) + (n - i) * log(1 - p)
    return float(np.exp(log_terms).sum())


def lower_bound(k: int, n: int, confidence: float = 0.95) -> float:
    """One-sided Clopper-Pearson lower bound of p after k successes in n trials."""
    if n <= 0 or k <= 0:
        return 0.0
    alpha = 1 - confidence
    lo, hi = 0.0, 1.0
    for _ in range(40):  # P(X >= k | p) grows with p: find p where it equals alpha (to 1e-12)
        mid = (lo + hi) / 2
        if _tail_at_least(k, n, mid) < alpha:
            lo = mid
        else:
            hi = mid
    return lo


def upper_bound(k: int, n: int, confidence: float = 0.95) -> float:
    """One-sided Clopper-Pearson upper bound of p after k successes in n trials."""
    if n <= 0:
        return 1.0
    if k >= n:
        return 1.0
    return 1.0 - lower_bound(n - k, n, confidence)


@dataclass(frozen=True)
class RateDecision:
    verdict: str  # pass | fail | continue
    lower: float
    upper: float
    confidence: float


@lru_cache(maxsize=4096)
def decide_rate(k: int, n: int, required: float, alpha: float) -> RateDecision:
    """Repeated Clopper-Pearson with the error spent evenly over the looks (Bonferroni):
    at each look the one-sided bounds at confidence 1 - alpha; pass when the lower bound
    reaches the required rate, fail when the upper bound is below it, else more trials.
    Over all looks and bands, the chance of passing a camera whose true rate is below the
    requirement, or of failing one whose rate meets it, is at most the catalogue's 1 - confidence."""
    confidence = 1 - alpha
    lo, hi = lower_bound(k, n, confidence), upper_bound(k, n, confidence)
    verdict = "pass" if lo >= required else "fail" if hi < required else "continue"
    return RateDecision(verdict, round(lo, 4), round(hi, 4), round(confidence, 5))


def trials_to_pass(required: float, alpha: float) -> int:
    """Successes in a row needed before the lower bound reaches the required rate."""
    n = 1
    while lower_bound(n, n, 1 - alpha) < required:
        n += 1
    return n
