"""Clip analyzer: decodes a clip (ours or a vendor export of our timecode) and measures it
from the pictures: per-frame timecodes, coverage around a trigger, gaps, fps, size.
Never trusts container metadata for time. Damaged files give partial results plus the
reason, never a traceback."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import av
import numpy as np

from protocols.timecode import TimecodeError, TimecodeReader


@dataclass
class ClipAnalysis:
    path: str
    frames: int = 0
    readable: int = 0
    width: int = 0
    height: int = 0
    codec: str = ""
    first_utc_ms: int | None = None
    last_utc_ms: int | None = None
    fps: float | None = None
    gaps: list[dict] = field(default_factory=list)
    clock_unset_frames: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.readable > 0

    def coverage_before_s(self, trigger_utc_ms: int) -> float | None:
        """Seconds of picture before the trigger instant (from the first frame's timecode).
        Negative when the clip starts after the trigger."""
        if self.first_utc_ms is None:
            return None
        return (trigger_utc_ms - self.first_utc_ms) / 1000.0

    def coverage_after_s(self, trigger_utc_ms: int) -> float | None:
        if self.last_utc_ms is None:
            return None
        return (self.last_utc_ms - trigger_utc_ms) / 1000.0

    def to_dict(self) -> dict:
        return asdict(self)


def _luma(frame: av.VideoFrame) -> np.ndarray:
    plane = frame.planes[0]
    arr = np.frombuffer(plane, dtype=np.uint8).reshape(frame.height, plane.line_size)
    return arr[:, : frame.width]


def analyze_clip(path: str | Path, *, gap_factor: float = 1.5) -> ClipAnalysis:
    path = Path(path)
    result = ClipAnalysis(str(path))
    if not path.exists():
        result.error = f"file not found: {path}"
        return result
    times: list[int] = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                result.error = "no video stream"
                return result
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            result.codec = stream.codec_context.name
            reader: TimecodeReader | None = None
            for frame in container.decode(stream):
                result.frames += 1
                if reader is None:
                    result.width, result.height = frame.width, frame.height
                    try:
                        reader = TimecodeReader(frame.width, frame.height)
                    except TimecodeError as exc:
                        result.error = str(exc)
                        return result
                tc = reader.read(_luma(frame))
                if tc is None:
                    continue
                result.readable += 1
                times.append(tc.utc_ms)
                if tc.clock_unset:
                    result.clock_unset_frames += 1
    except (av.FFmpegError, OSError, ValueError) as exc:
        result.error = f"decoding stopped after {result.frames} frames: {exc}"
    if times:
        arr = np.array(times, dtype=np.int64)
        result.first_utc_ms = int(arr.min())
        result.last_utc_ms = int(arr.max())
        if len(arr) > 1:
            ordered = np.sort(arr)
            steps = np.diff(ordered)
            nominal = float(np.median(steps))
            if nominal > 0:
                regular = steps[steps <= gap_factor * nominal]
                result.fps = round(1000.0 / float(regular.mean()), 3) if regular.size else None
                for i in np.nonzero(steps > gap_factor * nominal)[0]:
                    a, b = int(ordered[i]), int(ordered[i + 1])
                    result.gaps.append({"from_utc_ms": a, "to_utc_ms": b, "missing_ms": round(b - a - nominal)})
    elif result.error is None:
        result.error = "no readable timecode in any frame"
    return result
