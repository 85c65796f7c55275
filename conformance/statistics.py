"""Exact binomial confidence bounds (Clopper-Pearson) without SciPy."""

from __future__ import annotations

from math import comb


def _tail_at_least(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    return sum(comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))


def lower_bound(k: int, n: int, confidence: float = 0.95) -> float:
    """One-sided Clopper-Pearson lower bound of p after k successes in n trials."""
    if n <= 0 or k <= 0:
        return 0.0
    alpha = 1 - confidence
    lo, hi = 0.0, 1.0
    for _ in range(60):  # P(X >= k | p) grows with p: find p where it equals alpha
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
