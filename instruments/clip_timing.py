"""Timing measurements of a decoded clip, from per-frame numbers only (no decoding here):
picture gaps, dropped and repeated frames, the clock fit of timecode against container
timestamps (drift, offset, jitter), and the audio measurements (start, A/V offset) placed
on the timecode through that fit. Pure numpy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from protocols import audio_marks

MIN_DRIFT_SPAN_S = 2.0  # shorter clips give no drift figure: 1 ms of rounding would be 500 ppm
STUB_SEGMENT_S = 0.1  # a leading audio stretch shorter than this, then a hole, is a muxer artefact
AUDIO_CONTIGUOUS_S = 0.002
EDGE_MARKS = 3  # av_offset_first_ms / _last_ms: median over this many marks (seconds) at each end


@dataclass
class VideoTiming:
    first_utc_ms: int | None = None
    last_utc_ms: int | None = None
    fps: float | None = None
    gaps: list[dict] = field(default_factory=list)
    dropped_frames: int = 0
    duplicate_frames: int = 0
    backward_steps: int = 0
    container_fps: float | None = None
    duration_s: float | None = None
    clock_origin_utc_ms: float | None = None
    clock_drift_ppm: float | None = None
    clock_drift_stderr_ppm: float | None = None
    timing_jitter_ms: float | None = None
    slope_ms_per_s: float = 1000.0
    anchors: tuple[np.ndarray, np.ndarray] = (np.zeros(0), np.zeros(0))  # (pts s, utc ms) of readable frames
    pieces: list[tuple[float, float, float, float]] = field(default_factory=list)  # (pts from, pts to, a, b) per gap-free stretch

    def utc_at(self, container_s: float) -> float | None:
        """The timecode the video shows at a container time: the line fitted to the gap-free
        stretch of frames around it (which averages out a filmed display's quantisation), or
        the nearest readable frame plus the slope when there is no fit."""
        if self.pieces:
            lo, hi, a, b = min(self.pieces, key=lambda p: max(p[0] - container_s, container_s - p[1], 0.0))
            return float(a + b * container_s)
        pts, utc = self.anchors
        if pts.size == 0:
            return None
        i = int(np.clip(np.searchsorted(pts, container_s), 1, pts.size - 1)) if pts.size > 1 else 0
        if pts.size > 1 and abs(pts[i - 1] - container_s) <= abs(pts[i] - container_s):
            i -= 1
        return float(utc[i] + (container_s - pts[i]) * self.slope_ms_per_s)


def _fit(pts: np.ndarray, utc: np.ndarray) -> tuple[float, float, float, float, np.ndarray] | None:
    """utc = a + b * pts, least squares with one pass of outlier rejection (a muxer that
    clamps the first frame to 0, a misread): (a, b, standard error of b, max |residual| of
    the kept, kept mask)."""
    if pts.size < 3 or float(pts.max() - pts.min()) <= 0:
        return None
    b, a = np.polyfit(pts, utc, 1)
    res = utc - (a + b * pts)
    mad = float(np.median(np.abs(res - np.median(res))))
    keep = np.abs(res) <= max(5.0, 4.0 * 1.4826 * mad)
    if keep.sum() < 3:
        return None  # no line through three frames: timestamps or timecodes out of any sane relation
    if not keep.all():
        b, a = np.polyfit(pts[keep], utc[keep], 1)
        res = utc - (a + b * pts)
    x = pts[keep]
    sxx = float(((x - x.mean()) ** 2).sum())
    dof = max(1, int(keep.sum()) - 2)
    se_b = float(np.sqrt((res[keep] ** 2).sum() / dof / sxx)) if sxx > 0 else float("inf")
    return float(a), float(b), se_b, float(np.abs(res[keep]).max()), keep


def video_timing(pts_s: np.ndarray, utc_ms: np.ndarray, *, gap_factor: float = 1.5, tolerance_ms: float = 0.0) -> VideoTiming:
    """pts_s: presentation time of every decoded frame (nan when unknown); utc_ms: its
    timecode (nan when unreadable). A gap is a timecode step between neighbouring readable
    frames above gap_factor x the nominal frame interval + tolerance_ms (the quantisation of
    a filmed display)."""
    out = VideoTiming()
    pts_s = np.asarray(pts_s, dtype=np.float64)
    utc_ms = np.asarray(utc_ms, dtype=np.float64)
    if not np.isnan(pts_s).any():  # presentation order (decoders may emit reordered frames)
        order = np.argsort(pts_s, kind="stable")
        pts_s, utc_ms = pts_s[order], utc_ms[order]
    has_pts = ~np.isnan(pts_s)
    p = pts_s[has_pts]
    if p.size >= 2:
        steps = np.diff(p)
        nominal = float(np.median(steps))
        if nominal > 0:
            regular = steps[(steps >= 0.9 * nominal) & (steps <= 1.1 * nominal)]
            out.container_fps = round(1.0 / float(regular.mean()), 3) if regular.size else None
            slots = np.round(steps / nominal).astype(np.int64)
            out.dropped_frames = int(np.maximum(slots - 1, 0).sum())
            out.duration_s = round(float(p[-1] - p[0] + nominal), 6)
    readable = np.nonzero(~np.isnan(utc_ms))[0]
    if readable.size == 0:
        return out
    utc_r = utc_ms[readable]
    out.first_utc_ms = int(utc_r.min())
    out.last_utc_ms = int(utc_r.max())
    if readable.size < 2:
        out.anchors = (pts_s[readable], utc_r) if has_pts[readable].all() else out.anchors
        return out
    tc_steps = np.diff(utc_r)
    between = np.diff(readable) - 1  # undecodable/unreadable frames between neighbours
    out.duplicate_frames = int(((tc_steps == 0) & (between == 0)).sum())
    out.backward_steps = int((tc_steps < 0).sum())
    adjacent = tc_steps[(between == 0) & (tc_steps > 0)]
    if adjacent.size == 0:
        out.anchors = (pts_s[readable][has_pts[readable]], utc_r[has_pts[readable]])
        return out
    nominal_ms = float(np.median(adjacent))
    regular = adjacent[adjacent <= gap_factor * nominal_ms + tolerance_ms]
    out.fps = round(1000.0 / float(regular.mean()), 3) if regular.size else None
    pts_r = pts_s[readable]
    container_nominal = 1000.0 / out.container_fps if out.container_fps else nominal_ms
    breaks = np.nonzero((tc_steps > gap_factor * nominal_ms + tolerance_ms) | (tc_steps < 0))[0]
    for i in np.nonzero(tc_steps > gap_factor * nominal_ms + tolerance_ms)[0]:
        a, b = int(utc_r[i]), int(utc_r[i + 1])
        cstep = float(pts_r[i + 1] - pts_r[i]) * 1000.0 if has_pts[readable[i]] and has_pts[readable[i + 1]] else None
        gap = {
            "from_utc_ms": a,
            "to_utc_ms": b,
            "missing_ms": round(b - a - nominal_ms),
            "missing_frames": max(0, int(round((b - a) / nominal_ms)) - 1 - int(between[i])),
            "unreadable_frames": int(between[i]),
            "container_step_ms": None if cstep is None else round(cstep, 3),
            # the file's timestamps claim continuity where pictures are missing (a splice)
            "hidden": cstep is not None and cstep <= gap_factor * container_nominal * (1 + int(between[i])),
        }
        out.gaps.append(gap)
    _clock_fit(out, pts_r, utc_r, has_pts[readable], breaks)
    return out


def _clock_fit(out: VideoTiming, pts: np.ndarray, utc: np.ndarray, has_pts: np.ndarray, breaks: np.ndarray) -> None:
    """Fit timecode against container time over the longest stretch without a gap (a splice
    would bend a fit over the whole clip); anchors for utc_at are all readable frames but
    the fit's outliers."""
    anchor = has_pts.copy()
    bounds = np.concatenate(([0], breaks + 1, [pts.size]))
    lo, hi = max(zip(bounds[:-1], bounds[1:]), key=lambda r: r[1] - r[0])
    sel = np.arange(lo, hi)[has_pts[lo:hi]]
    fit = _fit(pts[sel], utc[sel]) if sel.size >= 3 else None
    if fit is not None:
        a_ms, b_ms, se_b, jitter, keep = fit
        anchor[sel[~keep]] = False
        out.slope_ms_per_s = b_ms
        out.clock_origin_utc_ms = round(a_ms, 3)
        out.timing_jitter_ms = round(jitter, 3)
        if float(pts[sel].max() - pts[sel].min()) >= MIN_DRIFT_SPAN_S:
            out.clock_drift_ppm = round((b_ms / 1000.0 - 1.0) * 1e6, 1)
            out.clock_drift_stderr_ppm = round(se_b / 1000.0 * 1e6, 1)
    order = np.argsort(pts[anchor], kind="stable")
    out.anchors = (pts[anchor][order], utc[anchor][order])
    for lo, hi in zip(bounds[:-1], bounds[1:]):  # one line per gap-free stretch, for utc_at
        sel = np.arange(lo, hi)[anchor[lo:hi]]
        if sel.size == 0:
            continue
        piece = _fit(pts[sel], utc[sel]) if sel.size >= 3 else None
        a_ms, b_ms = (piece[0], piece[1]) if piece is not None else (float(np.mean(utc[sel] - out.slope_ms_per_s * pts[sel])), out.slope_ms_per_s)
        out.pieces.append((float(pts[sel].min()), float(pts[sel].max()), a_ms, b_ms))


@dataclass
class AudioAnalysis:
    codec: str = ""
    sample_rate: int = 0
    channels: int = 0
    track_start_utc_ms: float | None = None  # first decoded sample, on the video timecode
    start_utc_ms: float | None = None  # first non-silent sample, on the video timecode
    end_utc_ms: float | None = None
    beeps: int = 0  # audio time marks found
    marks_read: int = 0  # of them, marks whose second number was read (the offset is unambiguous)
    av_offset_ms: float | None = None  # median; > 0: sound comes later than the picture
    av_offset_min_ms: float | None = None
    av_offset_max_ms: float | None = None
    av_offset_first_ms: float | None = None  # median over the first EDGE_MARKS marks (a drifting sound clock ...)
    av_offset_last_ms: float | None = None  # ... shows here: the offset at the end of the clip)
    dropouts: int = 0  # holes in the audio timeline after its start
    notes: list[str] = field(default_factory=list)


def _segments(chunks: list[tuple[float, np.ndarray]], rate: int) -> list[tuple[float, np.ndarray]]:
    """Join decoded audio frames (start time, mono samples) into contiguous stretches."""
    chunks = sorted(((t, x) for t, x in chunks if x.size), key=lambda c: c[0])
    out: list[tuple[float, list[np.ndarray], float]] = []
    for t, x in chunks:
        if out and abs(t - out[-1][2]) <= AUDIO_CONTIGUOUS_S:
            start, parts, _ = out[-1]
            parts.append(x)
            out[-1] = (start, parts, t + x.size / rate)
        else:
            out.append((t, [x], t + x.size / rate))
    return [(start, np.concatenate(parts)) for start, parts, _ in out]


def audio_timing(chunks: list[tuple[float, np.ndarray]], rate: int, utc_at: Callable[[float], float | None]) -> AudioAnalysis:
    """chunks: (container time of the first sample, mono float samples) per decoded frame."""
    out = AudioAnalysis(sample_rate=rate)
    segments = _segments(chunks, rate)
    if len(segments) > 1 and segments[0][1].size / rate < STUB_SEGMENT_S:
        t, x = segments.pop(0)
        out.notes.append(
            f"ignored {x.size} samples at {t:.3f} s followed by a {segments[0][0] - t:.3f} s hole in the audio timeline "
            "(a muxer that starts every track at 0 stretches the first audio sample)"
        )
    if not segments:
        out.notes.append("the audio stream decoded to no samples")
        return out
    out.dropouts = len(segments) - 1
    out.track_start_utc_ms = _round(utc_at(segments[0][0]))
    last_t, last_x = segments[-1]
    out.end_utc_ms = _round(utc_at(last_t + last_x.size / rate))
    marks: list[tuple[float, int | None]] = []  # (video timecode at the beep, the second it marks if read)
    for t, x in segments:
        if out.start_utc_ms is None:
            first = audio_marks.first_sound(x, rate)
            if first is not None:
                out.start_utc_ms = _round(utc_at(t + first / rate))
        for onset in audio_marks.beep_onsets(x, rate):
            utc = utc_at(t + onset / rate)
            if utc is not None:
                code = audio_marks.read_code(x, onset, rate)
                marks.append((utc, None if code is None else audio_marks.nearest_second(code, utc)))
    if out.start_utc_ms is None:
        out.notes.append(f"the audio is silent throughout (below {audio_marks.SILENCE_DBFS:g} dBFS)")
    out.beeps = len(marks)
    if marks:
        _offsets(out, marks)
    elif out.start_utc_ms is not None:
        out.notes.append("no audio time marks (1 kHz beeps at whole seconds) found: A/V offset not measured")
    return out


def _offsets(out: AudioAnalysis, marks: list[tuple[float, int | None]]) -> None:
    """Each mark's offset: the video timecode at the beep minus the second it marks. A mark
    whose number was not read is placed on the whole second nearest the read marks' median
    (on the nearest whole second when none was read: then the offset is known only modulo 1 s)."""
    read = [utc - second * 1000.0 for utc, second in marks if second is not None]
    out.marks_read = len(read)
    if read:
        ref = float(np.median(read))
    else:
        ref = float(np.median([utc - round(utc / 1000.0) * 1000.0 for utc, _ in marks]))
        out.notes.append("no audio mark carried a readable second number: the A/V offset is known only modulo 1 s")
    arr = np.array([utc - second * 1000.0 if second is not None else ((utc - ref + 500.0) % 1000.0) - 500.0 + ref for utc, second in marks])
    out.av_offset_ms = round(float(np.median(arr)), 2)
    out.av_offset_min_ms = round(float(arr.min()), 2)
    out.av_offset_max_ms = round(float(arr.max()), 2)
    out.av_offset_first_ms = round(float(np.median(arr[:EDGE_MARKS])), 2)
    out.av_offset_last_ms = round(float(np.median(arr[-EDGE_MARKS:])), 2)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
