"""The body camera's sound: a microphone hearing the audio time marks (protocols/audio_marks.py),
encoded as AAC (48 kHz mono) into the clip's MP4, continuous across GOPs.

A/V errors a camera can have: a constant offset (the sound is recorded later than the picture)
and an audio sample clock that runs fast or slow against the video clock (``drift_ppm``): the
muxer counts samples at the nominal rate, so the sound slides against the picture by that share
of the time since the track started (3000 ppm: 180 ms after 60 s)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np

from protocols import audio_marks


@dataclass(frozen=True)
class AudioSpec:
    """The camera's microphone and its clock."""

    offset_ms: float = 0.0  # sound recorded this much later than the picture (A/V sync error)
    drift_ppm: float = 0.0  # audio sample clock fast (> 0) or slow against the video clock


class AudioTrack:
    """AAC, 48 kHz mono, continuous across GOPs; silent where the policy says so."""

    def __init__(self, container, spec: AudioSpec) -> None:
        self.spec = spec
        self.rate = audio_marks.SAMPLE_RATE
        stream = container.add_stream("aac", rate=self.rate)
        stream.layout = "mono"
        self.stream = stream
        self._fifo = np.zeros(0, dtype=np.float32)
        self._origin_ms: float | None = None  # device time of the track's first sample slot
        self._next_ms = 0.0  # device time of the next sample slot to fill (nominal rate)
        self._pts = 0
        self.frame_size = 1024

    def capture(self, start_ms: float, end_ms: float, audible_from_ms: float | None) -> list:
        """Samples for device time up to end_ms; silence before audible_from_ms (None: all
        silent). Returns the AAC packets that became ready."""
        if self._origin_ms is None:
            self._origin_ms = self._next_ms = float(start_ms)
        n = int(round((end_ms - self._next_ms) * self.rate / 1000.0))
        if n <= 0:
            return []
        k = 1.0 + self.spec.drift_ppm * 1e-6  # real samples per nominal sample slot
        # what the microphone carries in this slot: a fast sample clock fills the slots faster than
        # real time passes, so the sound heard lags the slot's nominal time more and more
        heard_at = self._origin_ms + (self._next_ms - self._origin_ms) / k - self.spec.offset_ms
        pcm = audio_marks.synthesize(heard_at, n, self.rate * k)
        times = audio_marks.sample_times_ms(self._next_ms, n, self.rate)
        if audible_from_ms is None:
            pcm[:] = 0.0
        else:
            pcm[times < audible_from_ms] = 0.0
        self._next_ms += n * 1000.0 / self.rate
        self._fifo = np.concatenate((self._fifo, pcm))
        packets = []
        while self._fifo.size >= self.frame_size:
            chunk, self._fifo = self._fifo[: self.frame_size], self._fifo[self.frame_size :]
            frame = av.AudioFrame.from_ndarray(chunk[None, :], format="flt", layout="mono")
            frame.sample_rate = self.rate
            frame.pts = self._pts
            frame.time_base = Fraction(1, self.rate)
            self._pts += self.frame_size
            packets += self.stream.encode(frame)
        return packets

    def flush(self) -> list:
        return list(self.stream.encode(None))
