"""Simulated time: one scene epoch (UTC) mapped onto the asyncio loop clock, and device
clocks that may be offset, drift, or be unset."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timezone


def iso_utc(utc_ms: int | float) -> str:
    return datetime.fromtimestamp(utc_ms / 1000, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class SceneClock:
    """Maps loop time (seconds) to true UTC milliseconds."""

    epoch_utc_ms: int

    def loop_time(self) -> float:
        return asyncio.get_running_loop().time()

    def utc_ms(self, loop_t: float | None = None) -> int:
        t = self.loop_time() if loop_t is None else loop_t
        return self.epoch_utc_ms + int(round(t * 1000))


@dataclass
class DeviceClock:
    """A device's own clock: true time + offset + drift. The drift (ppm) runs from the clock's
    last sync, ``synced_h_before`` hours before the scene started (loop time 0), so a clock
    synced at the start of a shift can be ``offset_s + drift x hours`` off when the scene begins."""

    scene: SceneClock
    offset_s: float = 0.0
    drift_ppm: float = 0.0
    unset: bool = False
    synced_h_before: float = 0.0

    def utc_ms(self, loop_t: float | None = None) -> int:
        t = self.scene.loop_time() if loop_t is None else loop_t
        skew = self.offset_s + (t + self.synced_h_before * 3600.0) * self.drift_ppm * 1e-6
        return self.scene.utc_ms(t) + int(round(skew * 1000))
