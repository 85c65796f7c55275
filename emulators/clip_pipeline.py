"""Background clip writing: one worker thread per camera encodes GOPs and appends them to
the clip file in order, while the simulation goes on in virtual time.

Nothing in the simulation depends on when a GOP's bytes reach the disk, so encoding can
overlap the radio simulation on the other core. The loop waits for a camera's queue only
when its clip closes (no virtual time passes then), so the timeline is exactly the one a
synchronous encoder would give.

What a power cut leaves is decided from the timeline, not from when the worker got to it: a
real-time camera closes fragment k when it captures the first frame of GOP k+1, so every GOP
the loop has handed over (a complete GOP) was on disk at the cut; ``written_at`` records when
(the activation for the GOPs of the pre-event buffer), so a camera that makes the file
durable only at intervals keeps just what it wrote before its last flush."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from emulators.audio_track import AudioSpec
from emulators.video import ClipWriter, EncoderSession, Fragment, PendingGop, Sensor, VideoFormat

_UNDRAINED: set[ClipPipeline] = set()  # pipelines whose worker thread may still write to their clip
_DROP_QUEUED = threading.Event()  # set while an interrupted scene shuts down


def open_writers() -> int:
    """Clip writers not yet drained in this process (bwc run hashes a run only when 0)."""
    return len(_UNDRAINED)


@contextmanager
def dropping_queued_gops() -> Iterator[None]:
    """While an interrupted scene shuts down: GOPs still queued are not encoded, every clip is
    closed where it stands (an interrupted run keeps its files, it need not finish them)."""
    _DROP_QUEUED.set()
    try:
        yield
    finally:
        _DROP_QUEUED.clear()


class ClipPipeline:
    def __init__(self, name: str, fmt: VideoFormat, sensor: Sensor, path: Path, audio: AudioSpec | None = None,
                 gop_frames: int | None = None, opened_at: float = 0.0) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"clip-{name}")
        self._session = EncoderSession(fmt, sensor, audio, gop_frames)
        self._path = path
        self._writer: ClipWriter | None = None
        self._last: Future | None = None
        self._opened_at = opened_at  # loop time the file was created (the activation)
        self._written_at: list[float] = []  # loop time each GOP's fragment reached the file
        self.frames_encoded = 0
        self.encode_s = 0.0  # thread CPU spent rendering and encoding (time.thread_time)
        self.error: BaseException | None = None
        self._closing = False
        _UNDRAINED.add(self)

    # -- called from the event loop ---------------------------------------------------------
    def encode(self, gop: PendingGop, written_at: float) -> None:
        self._written_at.append(written_at)
        self._submit(self._encode_and_append, gop)

    def finish(self) -> tuple[int | None, int]:
        """Flush the encoder, close the file; blocks until the queue is done. Called again
        after an interrupted wait, it only waits (the file is closed once)."""
        self._close_once(None)
        return self._drain()

    def abandon(self, cut_at: float, durable_until: float) -> tuple[int | None, int]:
        """Power cut at loop time ``cut_at``; the file was last made durable at ``durable_until``
        (== cut_at for a camera whose every closed fragment is durable). The GOP in progress
        was never handed over; of the rest, what was written after the last flush is lost."""
        kept = sum(1 for t in self._written_at if t <= durable_until)
        trailing = durable_until >= cut_at  # sound after the last picture, muxed at the cut
        self._close_once((kept, self._opened_at <= durable_until, trailing))
        return self._drain()

    def _close_once(self, cut: tuple[int, bool, bool] | None) -> None:
        if not self._closing:
            self._closing = True
            self._submit(self._close, cut)

    # -- worker side --------------------------------------------------------------------------
    def _submit(self, fn, arg) -> None:
        self._last = self._pool.submit(self._guard, fn, arg)

    def _guard(self, fn, arg) -> None:
        if self.error is not None or (_DROP_QUEUED.is_set() and fn != self._close):
            return
        try:
            fn(arg)
        except BaseException as exc:  # reported when the clip closes
            self.error = exc

    def _append(self, fragments: list[Fragment]) -> None:
        if not fragments:
            return
        if self._writer is None:
            self._writer = ClipWriter(self._path, self._session.init_segment)
        self._writer.write(fragments)

    def _encode_and_append(self, gop: PendingGop) -> None:
        t0 = time.thread_time()
        fragments = self._session.encode_gop(list(gop.times), gop.clock_unset, gop.complexity, gop.end_utc_ms, gop.audible_from_ms,
                                             gop.reference_times)
        self.encode_s += time.thread_time() - t0
        self.frames_encoded += len(gop.times)
        self._append(fragments)

    def _close(self, cut: tuple[int, bool, bool] | None) -> None:
        self._append(self._session.close())  # the muxer's last fragment: the newest complete GOP
        if self._writer is None:
            return
        if cut is not None:
            kept, init_durable, trailing = cut
            if not (trailing and kept == len(self._written_at)):
                self._writer.keep_only(kept, init_durable)
        self._writer.close()

    def _drain(self) -> tuple[int | None, int]:
        if self._last is not None:
            self._last.result()
        self._pool.shutdown(wait=True)
        _UNDRAINED.discard(self)
        if self.error is not None:
            raise RuntimeError(f"writing {self._path.name} failed: {self.error}") from self.error
        if self._writer is None:
            return None, 0
        return self._writer.first_utc_ms, self._writer.fragments
