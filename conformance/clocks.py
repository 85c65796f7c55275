"""Device clocks put on the harness clock, with their uncertainty.

Every time a device exports (activation, stop) and every frame timecode is on the device's own
clock, which TIME-001 allows to be off by up to 1 s. Before any other requirement compares a
device time with a harness instant (a stimulus, an advert heard, a power cut), it is converted:

* **From the evidence** (emulated cameras, and any camera that films a reference clock): each
  frame shows the device's timecode and the harness's reference clock display at the same
  capture instant, so the clip itself says how far the device clock is off (to within half a
  display refresh; see instruments/clip_analyzer.py ``reference_offset_ms``).
* **From the harness's own observation** (a device whose frames carry no reference clock): the
  exported activation instant of a Signal-started clip lies between the stimulus and the first
  "recording started" advert the harness heard, which brackets the offset.
* Otherwise the offset is unknown: assumed within TIME-001's limit, and that limit is the
  uncertainty (only good enough to tell which clip belongs to which event).
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.catalogue import requirement
from conformance.evidence import activation_utc_ms, analysis, iso_ms
from fixtures.roles import EvidenceItem

FROM_FRAMES = "reference clock filmed in the clip"
FROM_OBSERVATION = "exported activation vs the harness's observation"
ASSUMED = "not measurable: assumed within the TIME-001 limit"


@dataclass(frozen=True)
class ClockFix:
    offset_ms: float  # device clock minus harness clock
    uncertainty_ms: float
    source: str

    @property
    def measured(self) -> bool:
        return self.source != ASSUMED

    def to_harness(self, device_ms: float) -> float:
        return device_ms - self.offset_ms


def assumed() -> ClockFix:
    return ClockFix(0.0, requirement("TIME-001").main().value * 1000.0, ASSUMED)


def from_frames(item: EvidenceItem) -> ClockFix | None:
    clip = analysis(item)
    if clip.reference_offset_ms is None:
        return None
    return ClockFix(clip.reference_offset_ms, clip.reference_uncertainty_ms or 0.0, FROM_FRAMES)


def from_observation(item: EvidenceItem, stimulus_ms: int, first_heard_ms: int | None) -> ClockFix | None:
    """The activation happened (harness clock) between the stimulus and the first advert heard."""
    device = activation_utc_ms(item)
    if device is None or first_heard_ms is None or first_heard_ms < stimulus_ms:
        return None
    lo, hi = device - first_heard_ms, device - stimulus_ms
    return ClockFix((lo + hi) / 2, (hi - lo) / 2, FROM_OBSERVATION)


def clip_clock(item: EvidenceItem, *, stimulus_ms: int | None = None, first_heard_ms: int | None = None) -> ClockFix:
    """The best fix for this clip's device clock."""
    fix = from_frames(item)
    if fix is None and stimulus_ms is not None:
        fix = from_observation(item, stimulus_ms, first_heard_ms)
    return fix or assumed()


@dataclass(frozen=True)
class Instant:
    """A device time put on the harness clock."""

    ms: float
    uncertainty_ms: float

    def minus(self, harness_ms: float) -> float:
        """Seconds from a harness instant to this one."""
        return (self.ms - harness_ms) / 1000.0


def activation(item: EvidenceItem, fix: ClockFix | None = None) -> Instant | None:
    device = activation_utc_ms(item)
    if device is None:
        return None
    fix = fix or clip_clock(item)
    return Instant(fix.to_harness(device), fix.uncertainty_ms)


def stop(item: EvidenceItem, fix: ClockFix | None = None) -> Instant | None:
    device = iso_ms(item.metadata.get("stop_utc"))
    if device is None:
        return None
    fix = fix or clip_clock(item)
    return Instant(fix.to_harness(device), fix.uncertainty_ms)


def frames(item: EvidenceItem, fix: ClockFix | None = None) -> tuple[Instant, Instant] | None:
    """First and last decoded frame of the clip, on the harness clock (the timecodes of a
    filmed reference clock page are already on it)."""
    clip = analysis(item)
    if clip.first_utc_ms is None or clip.last_utc_ms is None:
        return None
    if clip.timecode_kind == "qr":
        return Instant(clip.first_utc_ms, 0.0), Instant(clip.last_utc_ms, 0.0)
    fix = fix or clip_clock(item)
    return Instant(fix.to_harness(clip.first_utc_ms), fix.uncertainty_ms), Instant(fix.to_harness(clip.last_utc_ms), fix.uncertainty_ms)
