"""Camera sensor + H.264 encoder + clip writer, on PyAV.

One encoder session writes fragmented MP4 into a byte sink: an init segment (ftyp+moov) then
one moof+mdat fragment per GOP (the camera's gop_s; 1 s by default). The ring
(emulators/gop_ring.py) keeps whole GOPs; a clip is the init segment + ring fragments + the
fragments that follow, written to disk GOP by GOP.

Timing as every reader expects it (docs/analyzer.md, "What the container says"): the AAC
encoder's priming (1024 samples before the first real one) is signalled by the audio track's
edit list (``use_editlist``), so the first picture starts at 0 s and lasts one frame; the moov
waits for the first fragment (``delay_moov``: FFmpeg writes the edit list from the first
packets), which is also when the camera's clip file is created. The movie's creation time is
the clip's first frame on the device clock (mvhd, whole seconds).
"""

from __future__ import annotations

import io
import struct
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from emulators.audio_track import AudioSpec, AudioTrack
from protocols.timecode import FLAG_CLOCK_UNSET, FLAG_REFERENCE, Timecode, TimecodeRenderer


X264_THREADS = 1  # one thread per encoder; each camera encodes on its own worker thread (clip_pipeline)


@dataclass(frozen=True)
class VideoFormat:
    width: int = 640
    height: int = 360
    fps: int = 15
    crf: int = 30

    def __post_init__(self) -> None:
        if self.width % 2 or self.height % 2 or self.width < 296 or self.height < 96:
            raise ValueError(f"video size {self.width}x{self.height} must be even and at least 296x96")
        if not 1 <= self.fps <= 120:
            raise ValueError(f"fps {self.fps} out of range 1..120")


@dataclass(frozen=True)
class PendingGop:
    """A GOP the sensor captured but nobody has encoded yet (deferred ring encoding)."""

    start_utc_ms: int
    end_utc_ms: int
    times: tuple[int, ...]
    clock_unset: bool
    complexity: float
    audible_from_ms: int | None = None  # sound recorded from this device time (None: silent)
    estimated_bytes: int = 0  # what the camera's rate control would spend on it (byte-sized rings)
    reference_times: tuple[int, ...] = ()  # per frame: what the filmed reference clock display showed (true UTC)

    @property
    def size(self) -> int:
        return self.estimated_bytes


_GOP_BYTES: dict[tuple, int] = {}


def estimated_gop_bytes(fmt: "VideoFormat", complexity: float, audio: "AudioSpec | None" = None, gop_frames: int | None = None) -> int:
    """Bytes one GOP of this format, length and scene complexity takes, measured once by really
    encoding three GOPs of the sensor's picture (the steady-state second and third are
    averaged) and cached: the camera's buffer accounting uses its encoder's actual rate."""
    n = gop_frames or fmt.fps
    key = (fmt, round(complexity, 2), audio is not None, n)
    if key not in _GOP_BYTES:
        session = EncoderSession(fmt, Sensor(fmt, "RATE-PROBE"), audio, n)
        frags: list[Fragment] = []
        gop_ms = n * 1000 / fmt.fps
        for g in range(4):
            frags += session.encode_gop([round(g * gop_ms + i * 1000 / fmt.fps) for i in range(n)], False, complexity,
                                        round((g + 1) * gop_ms), 0 if audio is not None else None)
        frags += session.close()
        _GOP_BYTES[key] = int(sum(f.size for f in frags[1:3]) / 2)
    return _GOP_BYTES[key]


@dataclass(frozen=True)
class Fragment:
    """One GOP as a moof+mdat pair, with the device-clock UTC range of its frames."""

    start_utc_ms: int
    end_utc_ms: int  # exclusive: start of the next GOP
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


class _Sink(io.RawIOBase):
    def __init__(self) -> None:
        self.buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:  # type: ignore[override]
        self.buffer += b
        return len(b)


def split_boxes(buffer: bytearray) -> list[tuple[bytes, bytes]]:
    """Pop complete top-level ISO-BMFF boxes off the front of buffer: [(type, bytes)]."""
    out = []
    offset = 0
    while len(buffer) - offset >= 8:
        size, kind = struct.unpack_from(">I4s", buffer, offset)
        if size < 8:
            raise ValueError(f"corrupt box size {size} in encoder output")
        if len(buffer) - offset < size:
            break
        out.append((kind, bytes(buffer[offset : offset + size])))
        offset += size
    del buffer[:offset]
    return out


class Sensor:
    """Renders the frames a camera sees: a per-device background, a moving marker and the
    timecode band of the device clock."""

    def __init__(self, fmt: VideoFormat, seed_text: str) -> None:
        self.fmt = fmt
        h, w = fmt.height, fmt.width
        seed = sum(seed_text.encode()) % 97
        yy, xx = np.mgrid[0:h, 0:w]
        luma = 60 + (xx * 80 // w + yy * 40 // h + seed) % 100
        self._background = np.empty((h * 3 // 2, w), dtype=np.uint8)
        self._background[:h] = luma.astype(np.uint8)
        self._background[h : h + h // 4] = 100 + seed
        self._background[h + h // 4 :] = 150 - seed // 2
        self._frame = self._background.copy()
        self.renderer = TimecodeRenderer(w, h)
        self.reference = TimecodeRenderer(w, h, text=False, bottom=True)  # the harness's clock display in view
        self._marker = max(8, h // 10)
        # Busy-scene texture (foliage, rain, sensor noise at night): a pool of noise tiles
        # cycled frame by frame over the lower half; its amplitude follows the complexity.
        rng = np.random.default_rng(seed)
        self._band = slice(h * 5 // 8, h * 7 // 8)
        self._noise = rng.integers(-48, 48, size=(8, self._band.stop - self._band.start, w), dtype=np.int16)

    def frame(self, utc_ms: int, clock_unset: bool, index: int, complexity: float = 0.0, reference_ms: int | None = None) -> np.ndarray:
        buf = self._frame
        np.copyto(buf, self._background)
        h, w = self.fmt.height, self.fmt.width
        if complexity > 0:
            lower = buf[self._band]
            tile = self._noise[index % len(self._noise)]
            np.copyto(lower, np.clip(lower.astype(np.int16) + (tile * min(complexity, 1.0)).astype(np.int16), 16, 235).astype(np.uint8))
        m = self._marker
        x = (index * 7) % (w - m)
        y = h // 2 + int((h // 4) * np.sin(index / 20.0)) - m // 2
        buf[y : y + m, x : x + m] = 220
        self.renderer.stamp(buf[:h], Timecode(utc_ms, FLAG_CLOCK_UNSET if clock_unset else 0))
        if reference_ms is not None:
            self.reference.stamp(buf[:h], Timecode(reference_ms, FLAG_REFERENCE))
        return buf


class EncoderSession:
    """A continuous H.264 (+ AAC) encode into fragmented MP4, one fragment per GOP of
    ``gop_frames`` frames (default: one second)."""

    def __init__(self, fmt: VideoFormat, sensor: Sensor, audio: AudioSpec | None = None, gop_frames: int | None = None) -> None:
        self.fmt = fmt
        self.sensor = sensor
        self._sink = _Sink()
        self._container = av.open(
            self._sink, "w", format="mp4", options={"movflags": "frag_keyframe+delay_moov+default_base_moof", "use_editlist": "1"}
        )
        fps = fmt.fps
        keyint = gop_frames or fps
        stream = self._container.add_stream(
            "libx264",
            rate=fps,
            options={
                "preset": "ultrafast",
                "tune": "zerolatency",
                "crf": str(fmt.crf),
                "x264-params": f"keyint={keyint}:min-keyint={keyint}:scenecut=0:bframes=0:threads={X264_THREADS}",
            },
        )
        stream.width = fmt.width
        stream.height = fmt.height
        stream.pix_fmt = "yuv420p"
        self._stream = stream
        self._audio = AudioTrack(self._container, audio) if audio is not None else None
        self._time_base = Fraction(1, fps)
        self._index = 0
        self._pending: deque[tuple[int, int]] = deque()  # GOP ranges encoded but not yet flushed
        self.init_segment = b""
        self.closed = False
        self.frames_encoded = 0

    def encode_gop(self, frame_times_utc_ms: list[int], clock_unset: bool = False, complexity: float = 0.0,
                   end_utc_ms: int | None = None, audible_from_ms: int | None = None,
                   reference_times: tuple[int, ...] = ()) -> list[Fragment]:
        """Encode one GOP (frame capture times on the device clock; what the filmed reference
        clock showed at each, if any) and its sound (silent before audible_from_ms; None:
        silent); return the fragments that became complete (the previous GOP's: the muxer
        closes a fragment when the next keyframe arrives)."""
        if not frame_times_utc_ms:
            return []
        if self._index == 0:  # the header is written with the first packet
            start = datetime.fromtimestamp(frame_times_utc_ms[0] / 1000, timezone.utc)
            self._container.metadata["creation_time"] = start.isoformat(timespec="microseconds").replace("+00:00", "Z")
        for i, t_ms in enumerate(frame_times_utc_ms):
            planes = self.sensor.frame(t_ms, clock_unset, self._index, complexity, reference_times[i] if reference_times else None)
            frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
            frame.pts = self._index
            frame.time_base = self._time_base
            if i == 0:
                frame.pict_type = av.video.frame.PictureType.I
            for packet in self._stream.encode(frame):
                self._container.mux(packet)
            self._index += 1
        self.frames_encoded += len(frame_times_utc_ms)
        step = round(1000 / self.fmt.fps)
        if self._audio is not None:
            end = end_utc_ms if end_utc_ms is not None else frame_times_utc_ms[-1] + step
            for packet in self._audio.capture(frame_times_utc_ms[0], end, audible_from_ms):
                self._container.mux(packet)
        self._pending.append((frame_times_utc_ms[0], frame_times_utc_ms[-1] + step))
        return self._collect()

    def close(self) -> list[Fragment]:
        if self.closed:
            return []
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        if self._audio is not None:
            for packet in self._audio.flush():
                self._container.mux(packet)
        self._container.close()
        self.closed = True
        return self._collect()

    def _collect(self) -> list[Fragment]:
        out: list[Fragment] = []
        moof: bytes | None = None
        for kind, box in split_boxes(self._sink.buffer):
            if kind in (b"ftyp", b"moov"):
                self.init_segment += box
            elif kind == b"moof":
                moof = box
            elif kind == b"mdat" and moof is not None:
                if self._pending:
                    start, end = self._pending.popleft()
                else:  # trailing sound after the last picture (written at close)
                    start = end = out[-1].end_utc_ms if out else 0
                out.append(Fragment(start, end, moof + box))
                moof = None
            # mfra/other trailing boxes are not part of any GOP
        if moof is not None:  # a moof whose mdat has not arrived yet: keep it buffered
            self._sink.buffer[:0] = moof
        return out


class ClipWriter:
    """Writes init segment + fragments to disk as they arrive."""

    def __init__(self, path: Path, init_segment: bytes) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = path.open("wb")
        self._fh.write(init_segment)
        self._ends = [len(init_segment)]  # file size after the init segment and after each fragment
        self._starts: list[int] = []  # device-clock UTC of each fragment's first frame
        self.first_utc_ms: int | None = None
        self.fragments = 0

    def write(self, fragments: list[Fragment]) -> None:
        for f in fragments:
            self._fh.write(f.data)
            self.fragments += 1
            self._starts.append(f.start_utc_ms)
            self._ends.append(self._ends[-1] + f.size)
            if self.first_utc_ms is None:
                self.first_utc_ms = f.start_utc_ms
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()

    def keep_only(self, fragments: int, init_segment: bool = True) -> None:
        """Power cut: only what had been made durable survives: the init segment and the first
        ``fragments`` fragments (nothing at all without the init segment)."""
        size = self._ends[fragments] if init_segment else 0
        self._fh.truncate(size)
        self.fragments = fragments if init_segment else 0
        self.first_utc_ms = self._starts[0] if self.fragments else None
