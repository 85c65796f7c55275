"""Evidence clips with a known truth, for the analyzer's tests, its benchmark and demos.

Writes a real MP4 with PyAV: H.264 (libx264, 1 s GOPs, no B-frames) carrying a timecode in
every frame (the bar band, the QR timecode or none) and, optionally, AAC audio carrying the
audio time marks (protocols/audio_marks.py). Fragmented like the emulated cameras
(``frag_keyframe+empty_moov+default_base_moof``) or a plain MP4 (index at the end, as many
vendor cameras write). Defects can be built in: frames never recorded (container timestamps
jump with them), frames spliced out (timestamps closed up: a hidden gap), audio that starts
late or is silent at first, an A/V offset, and a device clock that drifts against the
container clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from instruments.filmed_screen import Camera, ClockDisplay
from protocols import audio_marks
from protocols.qr_timecode import QrTimecodeRenderer
from protocols.timecode import Timecode, TimecodeRenderer

EPOCH_MS = 1_780_000_000_000  # 2026-05-28T20:26:40Z, the scene epoch of the emulators
AAC_FRAME = 1024


@dataclass(frozen=True)
class ClipSpec:
    width: int = 320
    height: int = 180
    fps: int = 10
    seconds: float = 6.0
    start_utc_ms: int = EPOCH_MS
    timecode: str = "band"  # "band" | "qr" | "filmed-clock" (a camera filming the clock page) | "none"
    crf: int = 30
    fragmented: bool = True
    audio: bool = True
    audio_from_utc_ms: int | None = None  # device time of the first audio sample (None: with the first frame)
    audio_silent_until_utc_ms: int | None = None  # the track carries digital silence before this
    av_offset_ms: float = 0.0  # audio muxed this much later than the picture of the same instant
    drift_ppm: float = 0.0  # the device (timecode) clock runs this much fast against the container clock
    drop_frames: frozenset[int] = field(default_factory=frozenset)  # never recorded; timestamps jump
    splice_frames: frozenset[int] = field(default_factory=frozenset)  # cut out; timestamps closed up
    threads: int = 0  # x264 threads (0: auto)

    @property
    def frame_count(self) -> int:
        return int(round(self.seconds * self.fps))

    def frame_utc_ms(self, index: int) -> int:
        """Device-clock capture time of frame ``index`` (counting frames never recorded too)."""
        return self.start_utc_ms + int(round(index * 1000.0 / self.fps * (1 + self.drift_ppm * 1e-6)))

    def device_ms_at(self, container_s: float) -> float:
        """Device-clock time of the instant the container places at container_s (video timeline)."""
        return self.start_utc_ms + container_s * 1000.0 * (1 + self.drift_ppm * 1e-6)


def _background(width: int, height: int) -> np.ndarray:
    yy, xx = np.mgrid[0:height, 0:width]
    planes = np.empty((height * 3 // 2, width), dtype=np.uint8)
    planes[:height] = (60 + (xx * 80 // width + yy * 40 // height) % 100).astype(np.uint8)
    planes[height:] = 128
    return planes


class _Frames:
    def __init__(self, spec: ClipSpec) -> None:
        self.spec = spec
        self.background = _background(spec.width, spec.height)
        self.buf = self.background.copy()
        self.band = TimecodeRenderer(spec.width, spec.height) if spec.timecode == "band" else None
        self.qr = QrTimecodeRenderer(spec.width, spec.height) if spec.timecode == "qr" else None
        if spec.timecode not in ("band", "qr", "filmed-clock", "none"):
            raise ValueError(f"timecode {spec.timecode!r}: expected band, qr, filmed-clock or none")
        self.display = ClockDisplay(spec.width, spec.height) if spec.timecode == "filmed-clock" else None
        self.rng = np.random.default_rng(7)
        self.marker = max(8, spec.height // 10)

    def frame(self, index: int) -> np.ndarray:
        s = self.spec
        if self.display is not None:
            return self._filmed(index)
        np.copyto(self.buf, self.background)
        m = self.marker
        x = (index * 7) % (s.width - m)
        y = s.height // 2 + int((s.height // 4) * np.sin(index / 20.0)) - m // 2
        self.buf[y : y + m, x : x + m] = 220
        tc = Timecode(s.frame_utc_ms(index))
        luma = self.buf[: s.height]
        if self.band is not None:
            self.band.stamp(luma, tc)
        if self.qr is not None:
            self.qr.stamp(luma, tc)
        return self.buf


    def _filmed(self, index: int) -> np.ndarray:
        """The camera's picture of the clock page at this frame's capture instant: the exposure
        straddles two display refreshes by a random share, the camera drifts slowly (hand-held)."""
        s, display = self.spec, self.display
        assert display is not None
        t = s.frame_utc_ms(index)
        share = float(self.rng.uniform(0.0, 1.0))
        screen = (1 - share) * display.picture(t).astype(np.float32) + share * display.picture(t + 1000.0 / display.hz)
        w, h = s.width, s.height
        dx, dy = 0.04 * w * np.sin(index / 15.0), 0.03 * h * np.cos(index / 20.0)
        quad = ((0.12 * w + dx, 0.10 * h + dy), (0.90 * w + dx, 0.16 * h + dy), (0.86 * w + dx, 0.92 * h + dy), (0.10 * w + dx, 0.84 * h + dy))
        camera = Camera(quad, shape=(h, w), blur_sigma=max(0.6, h / 600), noise_sigma=5.0)
        self.buf[:h] = camera.film(screen, self.rng)
        return self.buf


def _audio_events(spec: ClipSpec, end_s: float) -> list[tuple[float, int]]:
    """(container time, pts in 1/48000) of every AAC frame of input."""
    if not spec.audio:
        return []
    k = 1 + spec.drift_ppm * 1e-6
    first_ms = spec.start_utc_ms if spec.audio_from_utc_ms is None else spec.audio_from_utc_ms
    a0 = int(round(((first_ms - spec.start_utc_ms) / (1000.0 * k) + spec.av_offset_ms / 1000.0) * audio_marks.SAMPLE_RATE))
    out = []
    pts = a0
    while pts / audio_marks.SAMPLE_RATE < end_s:
        if pts >= 0:
            out.append((pts / audio_marks.SAMPLE_RATE, pts))
        pts += AAC_FRAME
    return out


def _audio_frame(spec: ClipSpec, pts: int) -> av.AudioFrame:
    rate = audio_marks.SAMPLE_RATE
    container_s = pts / rate - spec.av_offset_ms / 1000.0  # the instant these samples were heard
    t0 = spec.device_ms_at(container_s)
    pcm = audio_marks.synthesize(t0, AAC_FRAME, rate)
    if spec.audio_silent_until_utc_ms is not None:
        times = audio_marks.sample_times_ms(t0, AAC_FRAME, rate)
        pcm[times < spec.audio_silent_until_utc_ms] = 0.0
    frame = av.AudioFrame.from_ndarray(pcm[None, :], format="flt", layout="mono")
    frame.sample_rate = rate
    frame.pts = pts
    frame.time_base = Fraction(1, rate)
    return frame


def write_clip(path: str | Path, spec: ClipSpec = ClipSpec()) -> Path:
    """Encode the clip the spec describes; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"movflags": "frag_keyframe+empty_moov+default_base_moof"} if spec.fragmented else {}
    frames = _Frames(spec)
    with av.open(str(path), "w", format="mp4", options=options) as out:
        video = out.add_stream(
            "libx264",
            rate=spec.fps,
            options={
                "preset": "ultrafast",
                "tune": "zerolatency",
                "crf": str(spec.crf),
                "x264-params": f"keyint={spec.fps}:min-keyint={spec.fps}:scenecut=0:bframes=0:threads={spec.threads}",
            },
        )
        video.width, video.height, video.pix_fmt = spec.width, spec.height, "yuv420p"
        audio = out.add_stream("aac", rate=audio_marks.SAMPLE_RATE, layout="mono") if spec.audio else None
        tb = Fraction(1, spec.fps)
        events: list[tuple[float, int, int]] = []  # (container time, kind 0 video / 1 audio, index or pts)
        spliced = 0
        for i in range(spec.frame_count):
            if i in spec.splice_frames:
                spliced += 1
                continue
            if i in spec.drop_frames:
                continue
            events.append(((i - spliced) / spec.fps, 0, i))
        end_s = (spec.frame_count - spliced) / spec.fps
        events += [(t, 1, pts) for t, pts in _audio_events(spec, end_s)]
        events.sort()
        spliced = 0
        for _, kind, value in events:
            if kind == 0:
                spliced = sum(1 for j in spec.splice_frames if j < value)
                frame = av.VideoFrame.from_ndarray(frames.frame(value), format="yuv420p")
                frame.pts = value - spliced
                frame.time_base = tb
                if value % spec.fps == 0:
                    frame.pict_type = av.video.frame.PictureType.I
                for packet in video.encode(frame):
                    out.mux(packet)
            elif audio is not None:
                for packet in audio.encode(_audio_frame(spec, value)):
                    out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        if audio is not None:
            for packet in audio.encode(None):
                out.mux(packet)
    return path
