"""The pre-event buffer of a camera: the newest captured GOPs, bounded in time, in frames or in
bytes.

* ``seconds`` (buffer_unit "gops"): whole GOPs reaching back at least ``seconds`` from the live
  edge (the end of the newest complete GOP), so a clip made of them always holds at least that
  much before the activation; fractional seconds are honoured to the millisecond of the device
  clock.
* ``frames`` (buffer_unit "frames"): the buffer is exactly that many frames, counting the frames
  of the GOP in progress captured before the activation; a clip can only start at a key frame
  inside it, so it holds between (frames / fps - one GOP) and frames / fps before activation.
* ``max_bytes``: at most that many bytes as well (a buffer sized in bytes falls short at high
  bitrate).

Items are encoded Fragments (tests) or PendingGops (the cameras' deferred encoding)."""

from __future__ import annotations

from collections import deque
from typing import Generic, Protocol, TypeVar

from emulators.video import PendingGop


class RingItem(Protocol):
    @property
    def start_utc_ms(self) -> int: ...

    @property
    def size(self) -> int: ...


Item = TypeVar("Item", bound=RingItem)


class GopRing(Generic[Item]):
    def __init__(self, seconds: float, max_bytes: int | None = None, frames: int | None = None) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self.frames = frames
        self._items: deque[Item] = deque()

    def push(self, item: Item, live_edge_utc_ms: int) -> None:
        items = self._items
        items.append(item)
        if self.frames is not None:  # keep the fewest newest GOPs that still hold the buffer's frames
            while items and self._frame_count() - _frames(items[0]) >= self.frames:
                items.popleft()
        else:
            keep_from = live_edge_utc_ms - self.seconds * 1000.0
            while len(items) > 1 and items[1].start_utc_ms <= keep_from:
                items.popleft()
            if self.seconds <= 0:
                items.clear()
        if self.max_bytes is not None:
            while items and self.bytes > self.max_bytes:
                items.popleft()

    def drain(self, frames_in_progress: int = 0) -> list[Item]:
        """Hand over the buffer at an activation. ``frames_in_progress``: frames of the GOP being
        captured that are already in a frame-sized buffer (they push its oldest frames out)."""
        if self.frames is not None:
            budget = self.frames - frames_in_progress
            while self._items and self._frame_count() > budget:
                self._items.popleft()  # its key frame has left the buffer: the clip cannot start there
        items = list(self._items)
        self._items.clear()
        return items

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def bytes(self) -> int:
        return sum(f.size for f in self._items)

    def _frame_count(self) -> int:
        return sum(_frames(g) for g in self._items)


def _frames(item: RingItem) -> int:
    if not isinstance(item, PendingGop):
        raise TypeError("a ring sized in frames holds captured GOPs (PendingGop)")
    return len(item.times)
