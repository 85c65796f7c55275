"""Helpers shared by conformance modules: decode evidence once per clip (cached per run)."""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache

from conformance.subjects import Subject
from fixtures.roles import EvidenceItem
from instruments.clip_analyzer import ClipAnalysis
from instruments.clip_isolation import analyze_clip_isolated


@lru_cache(maxsize=256)
def _analyze(path: str, mtime_ns: int) -> ClipAnalysis:
    return analyze_clip_isolated(path)  # a clip that crashes or hangs the decoder is an error result, not the end of the run


def analysis(item: EvidenceItem) -> ClipAnalysis:
    return _analyze(str(item.clip), item.clip.stat().st_mtime_ns if item.clip.exists() else 0)


def iso_ms(value: object) -> int | None:
    """'2026-05-28T20:27:40.600Z' -> epoch milliseconds; None for anything else."""
    if not isinstance(value, str) or not value:
        return None
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return int(round(stamp.timestamp() * 1000))


def activation_utc_ms(item: EvidenceItem) -> int | None:
    """The activation instant the device exported with the clip (device clock, the same
    clock as its frame timecodes)."""
    return iso_ms(item.metadata.get("trigger_utc"))


def coverage_before_activation_s(item: EvidenceItem, activation_harness_ms: float | None = None) -> float | None:
    """Seconds of decoded picture before the clip's activation instant. Our cameras' frame
    timecodes are on the device clock, like the exported activation: no conversion. A clip of
    a filmed reference clock page has harness-clock timecodes: the activation instant must be
    given on the harness clock."""
    clip = analysis(item)
    if clip.first_utc_ms is None:
        return None
    if clip.timecode_kind == "qr":
        return None if activation_harness_ms is None else (activation_harness_ms - clip.first_utc_ms) / 1000.0
    device = activation_utc_ms(item)
    return None if device is None else (device - clip.first_utc_ms) / 1000.0


def decoded(measure, who: Subject | str, item: EvidenceItem) -> ClipAnalysis | None:
    """The clip's analysis, or None after recording that it does not decode (a failed check:
    unreadable evidence is the device's fault, not the harness's)."""
    clip = analysis(item)
    if clip.ok:
        return clip
    measure.expect(who, "clip decodes with readable timecodes", False, note=clip.error or "")
    return None
