"""Clip analyzer: decodes a clip (ours, or a vendor camera's export of a clip that filmed the
``bwc clock`` page) and measures it from the pictures and the sound: per-frame timecodes
(bar band or QR, detected per clip), coverage around a trigger, picture gaps, dropped and
repeated frames, fps, size, the timecode against the container timestamps (clock drift),
when audio starts and the A/V offset (audio time marks). Never trusts container metadata
for time. Damaged files give what was recoverable plus the reason, never a traceback.
See docs/analyzer.md."""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import av
import numpy as np

from instruments.clip_timing import AudioAnalysis, audio_timing, video_timing
from instruments.frame_timecode import KIND_BAND, KIND_QR, FrameTimecodeReader, frame_luma
from instruments.mp4_integrity import check_boxes
from protocols.timecode import FLAG_REFERENCE, REFERENCE_QUANTUM_MS, TimecodeError, TimecodeReader

DISPLAY_QUANTUM_MS = 1000.0 / 60  # a filmed display shows a new timecode at most every refresh
_SAMPLE_TYPES = {name: np.dtype(t) for name, t in (("u8", np.uint8), ("s16", np.int16), ("s32", np.int32), ("s64", np.int64),
                                                   ("flt", np.float32), ("dbl", np.float64))}  # FFmpeg sample formats (planar: + "p")


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
    container: str = ""
    timecode_kind: str | None = None  # "band" (our cameras) or "qr" (a filmed clock page)
    dropped_frames: int = 0  # frame slots with no frame, per the container's own timestamps
    duplicate_frames: int = 0  # a picture repeated (same timecode as the previous frame)
    backward_steps: int = 0  # timecode going backwards between neighbouring frames
    container_fps: float | None = None
    duration_s: float | None = None  # container timeline of the video
    clock_origin_utc_ms: float | None = None  # the timecode at container time 0 (linear fit)
    clock_drift_ppm: float | None = None  # > 0: the timecode clock runs fast against the container clock
    clock_drift_stderr_ppm: float | None = None  # standard error of that figure (timecode quantisation, jitter)
    timing_jitter_ms: float | None = None  # largest deviation of a frame's timecode from the fit
    creation_time: str | None = None  # what the file claims (container metadata), for comparison only
    creation_time_offset_s: float | None = None  # that claim minus the first frame's timecode
    # the harness's reference clock filmed in the picture (emulated cameras, docs/timecode.md):
    # device timecode minus the true time of capture, the same instant on both clocks
    reference_frames: int = 0  # frames where both the device timecode and the reference were read
    reference_offset_ms: float | None = None  # device clock minus harness clock over the clip (median)
    reference_offset_first_ms: float | None = None  # ... over the first second of the clip
    reference_offset_last_ms: float | None = None  # ... over the last second (drift during the clip)
    reference_uncertainty_ms: float | None = None  # half the width of the interval the frames bracket the offset to
    audio: AudioAnalysis | None = None
    truncated: bool = False
    damaged_packets: int = 0  # packets the decoder rejected (it conceals them and goes on)
    corrupt_frames: int = 0  # frames the decoder output with concealed errors (FFmpeg's corrupt flag)
    notes: list[str] = field(default_factory=list)  # why something is missing or doubtful

    @property
    def ok(self) -> bool:
        return self.error is None and self.readable > 0

    @property
    def damaged(self) -> bool:
        """The file is cut short or damaged: the measurements cover what could be recovered."""
        return self.truncated or self.damaged_packets > 0 or self.corrupt_frames > 0 or self.error is not None

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

    def audio_before_trigger_s(self, trigger_utc_ms: int) -> float | None:
        """Seconds of sound before the trigger (from the first non-silent sample, on the video
        timecode). Negative when the sound starts after the trigger; None without sound."""
        if self.audio is None or self.audio.start_utc_ms is None:
            return None
        return round((trigger_utc_ms - self.audio.start_utc_ms) / 1000.0, 4)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["ok"] = self.ok
        out["damaged"] = self.damaged
        return out


class _Decode:
    """One pass over the file: per video frame (pts, timecode), audio chunks."""

    def __init__(self, result: ClipAnalysis) -> None:
        self.result = result
        self.pts: list[float] = []
        self.utc: list[float] = []
        self.audio_chunks: list[tuple[float, np.ndarray]] = []
        self.reader: FrameTimecodeReader | None = None
        self.reference: TimecodeReader | None = None
        self.pairs: list[tuple[float, float]] = []  # (device timecode, filmed reference) of the same frame
        self.creation_s: float | None = None
        self.decode_errors = 0
        self.video_tb = 0.0  # stream time bases as floats (Fraction arithmetic per frame is slow)
        self.audio_tb = 0.0
        self.last_decode_error = ""
        self.audio_shape: tuple[int, int, str] | None = None  # (sample rate, channels, sample format) of the first audio frame

    def video_frame(self, frame: av.VideoFrame) -> None:
        r = self.result
        r.frames += 1
        if self.reader is None:
            r.width, r.height = frame.width, frame.height
            self.reader = FrameTimecodeReader(frame.width, frame.height)
            try:
                self.reference = TimecodeReader(frame.width, frame.height, bottom=True)
            except TimecodeError:
                self.reference = None
        self.pts.append(frame.pts * self.video_tb if frame.pts is not None and self.video_tb else float("nan"))
        luma = frame_luma(frame) if (frame.width, frame.height) == (r.width, r.height) else None
        if frame.is_corrupt or luma is None:  # concealed errors, a picture size the stream did not start with, a short plane
            r.corrupt_frames += 1
        tc = None if luma is None else self.reader.read(luma)
        if tc is None:
            self.utc.append(float("nan"))
            return
        if self.reference is not None and luma is not None and self.reader.kind == KIND_BAND:
            ref = self.reference.read(luma)
            if ref is not None and ref.flags & FLAG_REFERENCE:
                self.pairs.append((float(tc.utc_ms), float(ref.utc_ms)))
        r.readable += 1
        self.utc.append(float(tc.utc_ms))
        if tc.clock_unset:
            r.clock_unset_frames += 1

    def audio_frame(self, frame: av.AudioFrame) -> None:
        """The first channel, read from the first plane only and copied: a damaged stream can
        declare more channels than the decoder filled (PyAV's to_ndarray then follows wild
        pointers and the process dies)."""
        if frame.pts is None or not self.audio_tb:
            return
        fmt = frame.format
        dtype = _SAMPLE_TYPES.get(fmt.name.removesuffix("p"))
        shape = (frame.sample_rate, len(frame.layout.channels), fmt.name)
        stride = 1 if fmt.is_planar else shape[1]  # plane 0: the first channel, or all of them interleaved
        count = frame.samples * stride
        plane = frame.planes[0]
        if dtype is None or count == 0 or plane.buffer_size < count * dtype.itemsize or shape != (self.audio_shape or shape):
            self.result.corrupt_frames += 1  # a frame that contradicts itself or the stream: not used
            return
        self.audio_shape = shape
        raw = np.frombuffer(memoryview(plane), dtype=dtype, count=count)[::stride]
        if dtype.kind == "f":
            pcm = raw.astype(np.float32)
        elif dtype.kind == "u":  # 8-bit audio is offset binary
            pcm = (raw.astype(np.float32) - 128.0) / 128.0
        else:
            pcm = raw.astype(np.float32) / float(np.iinfo(dtype.name).max)
        self.audio_chunks.append((frame.pts * self.audio_tb, pcm))


class _Prefix(io.RawIOBase):
    """The first ``size`` bytes of a file, for FFmpeg: a cut-short file without its torn last box."""

    def __init__(self, path: Path, size: int) -> None:
        self._fh = path.open("rb")
        self._size = size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        left = self._size - self._fh.tell()
        if left <= 0:
            return 0
        view = memoryview(buffer)[:left]
        return self._fh.readinto(view) or 0

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_END:
            return self._fh.seek(self._size + offset)
        return self._fh.seek(offset, whence)

    def tell(self) -> int:
        return self._fh.tell()

    def close(self) -> None:
        self._fh.close()
        super().close()


def _decode(path: Path, result: ClipAnalysis, size: int | None = None) -> _Decode | None:
    """Decode the file (or its first ``size`` bytes)."""
    state = _Decode(result)
    source: str | _Prefix = str(path) if size is None else _Prefix(path, size)
    try:
        container = av.open(source, "r")
    except (av.FFmpegError, OSError, ValueError) as exc:
        result.error = f"cannot open the file as a media container: {exc}"
        if isinstance(source, _Prefix):
            source.close()
        return None
    with container:
        result.container = container.format.name
        state.creation_s = _creation_time(container, result)
        if not container.streams.video:
            result.error = "no video stream"
            return None
        vstream = container.streams.video[0]
        if vstream.codec_context is None:
            result.error = "the video stream cannot be decoded: FFmpeg has no decoder for the codec its header declares"
            return None
        vstream.thread_type = "AUTO"
        result.codec = vstream.codec_context.name
        streams: list[av.stream.Stream] = [vstream]
        state.video_tb = float(vstream.time_base) if vstream.time_base else 0.0
        astream = container.streams.audio[0] if container.streams.audio else None
        if astream is not None and astream.codec_context is None:
            result.notes.append("the audio stream cannot be decoded (no decoder for the codec its header declares): sound not measured")
            astream = None
        if astream is not None:
            streams.append(astream)
            state.audio_tb = float(astream.time_base) if astream.time_base else 0.0
            result.audio = AudioAnalysis(codec=astream.codec_context.name, sample_rate=astream.sample_rate or 0, channels=astream.channels or 0)
        demux = container.demux(*streams)
        while True:
            try:
                packet = next(demux)
            except StopIteration:
                break
            except (av.FFmpegError, OSError, ValueError, EOFError) as exc:
                result.error = f"reading the file stopped after {result.frames} frames: {exc}"
                _flush(state, vstream, astream)
                break
            try:
                frames = packet.decode()
            except (av.FFmpegError, ValueError) as exc:  # a damaged packet: the decoder conceals it, go on
                state.decode_errors += 1
                state.last_decode_error = str(exc)
                continue
            for frame in frames:
                if isinstance(frame, av.VideoFrame):
                    state.video_frame(frame)
                elif isinstance(frame, av.AudioFrame):
                    state.audio_frame(frame)
    result.damaged_packets = state.decode_errors
    if state.decode_errors:
        result.notes.append(f"{state.decode_errors} damaged packet(s) could not be decoded (last: {state.last_decode_error})")
    if result.corrupt_frames:
        result.notes.append(f"{result.corrupt_frames} decoded frame(s) carry errors the decoder concealed, or contradict the stream "
                            "(picture size, audio format): the file is damaged")
    return state


def _flush(state: _Decode, vstream: av.VideoStream, astream: av.AudioStream | None) -> None:
    """After a read error, take the frames still inside the (threaded) decoders."""
    for stream in (vstream, astream):
        if stream is None:
            continue
        try:
            for frame in stream.codec_context.decode(None):
                if isinstance(frame, av.VideoFrame):
                    state.video_frame(frame)
                elif isinstance(frame, av.AudioFrame):
                    state.audio_frame(frame)
        except (av.FFmpegError, ValueError):
            pass


def _creation_time(container: av.container.InputContainer, result: ClipAnalysis) -> float | None:
    """The recording start the file claims (UTC seconds), when it claims one."""
    value = container.metadata.get("creation_time")
    if not value:
        return None
    result.creation_time = value
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp.timestamp() if stamp.year > 1970 else None  # 1970/1904: "not set"


def _reference_clock(result: ClipAnalysis, pairs: list[tuple[float, float]]) -> None:
    """Device clock minus harness clock from the frames that show both (device timecode d_i,
    reference shown r_i). The display shows the time of its last refresh (0 to one refresh +
    1 ms before the capture) and the device rounds to whole ms, so every frame brackets the
    offset: d_i - r_i - quantum - 1.5 < offset <= d_i - r_i + 0.5. The frames fall at every
    phase of the refresh, so the intersection over a clip is narrow; if a drifting clock makes
    the brackets disagree, the median (minus half a refresh, +- half a refresh) is used."""
    if not pairs:
        return
    arr = np.array(sorted(pairs))
    diff = arr[:, 0] - arr[:, 1]
    q = REFERENCE_QUANTUM_MS
    lo, hi = float(diff.max()) - q - 1.5, float(diff.min()) + 0.5
    if lo <= hi:
        offset, uncertainty = (lo + hi) / 2, (hi - lo) / 2
    else:
        offset, uncertainty = float(np.median(diff)) - q / 2, q / 2 + 1.5
    first = diff[arr[:, 0] < arr[0, 0] + 1000.0]
    last = diff[arr[:, 0] > arr[-1, 0] - 1000.0]
    result.reference_frames = int(diff.size)
    result.reference_offset_ms = round(offset, 2)
    result.reference_offset_first_ms = round(float(np.median(first)) - q / 2, 1)
    result.reference_offset_last_ms = round(float(np.median(last)) - q / 2, 1)
    result.reference_uncertainty_ms = round(uncertainty, 2)


def analyze_clip(path: str | Path, *, gap_factor: float = 1.5) -> ClipAnalysis:
    path = Path(path)
    result = ClipAnalysis(str(path))
    if not path.exists():
        result.error = f"file not found: {path}"
        return result
    if not path.is_file():
        result.error = f"not a file: {path}"
        return result
    try:
        boxes = check_boxes(path)
    except OSError as exc:
        result.error = f"cannot read {path}: {exc}"
        return result
    result.truncated = boxes.truncated
    result.notes += boxes.problems
    if boxes.iso_bmff and boxes.fragments:
        result.notes.append(f"fragmented MP4: {boxes.fragments} complete fragment(s)")
    state = _decode(path, result)
    if state is None and boxes.truncated and boxes.has_moov and boxes.complete_bytes:
        first_error = result.error
        result.error = None
        state = _decode(path, result, boxes.complete_bytes)
        if state is not None:
            result.notes.append(
                f"FFmpeg could not open the cut-short file ({first_error}); decoded its first {boxes.complete_bytes:,} bytes "
                "(every complete box) instead"
            )
    if state is None:
        if boxes.problems:
            result.error = f"{result.error}; {boxes.problems[-1]}"
        return result
    reader = state.reader
    result.timecode_kind = reader.kind if reader else None
    tolerance = DISPLAY_QUANTUM_MS if result.timecode_kind == KIND_QR else 0.0
    timing = video_timing(np.array(state.pts), np.array(state.utc), gap_factor=gap_factor, tolerance_ms=tolerance)
    for name in (
        "first_utc_ms", "last_utc_ms", "fps", "gaps", "dropped_frames", "duplicate_frames", "backward_steps",
        "container_fps", "duration_s", "clock_origin_utc_ms", "clock_drift_ppm", "clock_drift_stderr_ppm", "timing_jitter_ms",
    ):
        setattr(result, name, getattr(timing, name))
    if state.creation_s is not None and result.first_utc_ms is not None:
        result.creation_time_offset_s = round(state.creation_s - result.first_utc_ms / 1000.0, 3)
    _reference_clock(result, state.pairs)
    if result.audio is not None:
        rate = result.audio.sample_rate or 48000
        measured = audio_timing(state.audio_chunks, rate, timing.utc_at)
        measured.codec, measured.channels = result.audio.codec, result.audio.channels
        result.audio = measured
    if result.frames and result.readable < result.frames:
        where = "at the bar band's place" if result.timecode_kind == "band" else "anywhere in the picture"
        result.notes.append(f"{result.frames - result.readable} of {result.frames} frames have no readable timecode {where}")
    if result.readable == 0 and result.error is None:
        result.error = (
            "no readable timecode in any frame" if result.frames else "the video stream decoded to no frames"
        ) + (f" ({boxes.problems[-1]})" if boxes.problems else "")
    return result
