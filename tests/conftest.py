"""Shared helpers for the harness's own tests."""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from typing import TypeVar

import looptime
import pytest

T = TypeVar("T")


def run_virtual(factory: Callable[[], Awaitable[T]]) -> tuple[T, float]:
    """Run a coroutine on a fresh looptime loop; return (result, simulated seconds)."""
    loop = looptime.new_event_loop(start=0.0)
    try:
        result = loop.run_until_complete(factory())
        return result, loop.time()
    finally:
        loop.close()


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: run scripts/system-deps (make test does)")
    return path
