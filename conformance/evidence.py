"""Helpers shared by conformance modules: decode evidence once per clip (cached per run)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from fixtures.roles import EvidenceItem
from instruments.clip_analyzer import ClipAnalysis
from instruments.clip_isolation import analyze_clip_isolated


@lru_cache(maxsize=256)
def _analyze(path: str, mtime_ns: int) -> ClipAnalysis:
    return analyze_clip_isolated(path)  # a clip that crashes or hangs the decoder is an error result, not the end of the run


def analysis(item: EvidenceItem) -> ClipAnalysis:
    return _analyze(str(item.clip), item.clip.stat().st_mtime_ns if item.clip.exists() else 0)


def utc_ms(iso: str) -> int:
    """'2026-05-28T20:27:40.600Z' -> epoch milliseconds."""
    return int(round(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000))


def activation_utc_ms(item: EvidenceItem) -> int | None:
    """The activation instant the device exported with the clip (device clock, the same
    clock as its frame timecodes)."""
    value = item.metadata.get("trigger_utc")
    return utc_ms(value) if value else None


def decoded(measure, who: str, item: EvidenceItem) -> ClipAnalysis | None:
    """The clip's analysis, or None after recording that it does not decode (a failed check:
    unreadable evidence is the device's fault, not the harness's)."""
    clip = analysis(item)
    if clip.ok:
        return clip
    measure.check(who, "clip decodes with readable timecodes", False, "", True, "==", note=clip.error or "")
    return None
