"""Which radios on the air could possibly hear a PDU: a uniform grid of the scanning receivers.

The air tries a PDU only on the receivers this index returns, so its cost follows the useful
work (receivers within reach), not the number of radios on the air. The index never decides
anything itself: it returns a superset of the scanning receivers within reach of the sender,
in the order the radios were placed, and the air runs the same reach test, the same draws in
the same order as it does without the index (``Air(index=False)``): the results are identical.

Cell size. A PDU sent with ``tx_db`` and heard with ``rx_db`` is never received beyond
``reach(tx_db + rx_db)`` (``Air.reach_ft``: where the mean RSSI of the path-loss model is
REACH_SIGMAS fading deviations below its sensitivity, a chance below 1e-15 per PDU). Receivers
are filed by their receive gain, one grid per gain: the +25 dB harness observer (reach about
380 ft) does not widen the cells of the cameras (about 55 ft). The grid of gain ``g`` has
cells of ``reach(g) * (1 + MOTION_SLACK)``: the longest link from a reference transmitter (0 dB,
every device's default; weaker ones reach less) to such a receiver, plus what a receiver may
have moved since it was filed, so every receiver a reference sender can reach lies in the 3 x 3
cells around the sender's cell. A stronger transmitter (an attacker at +10 dB) searches
``ceil((reach(tx + g) + slack) / cell)`` rings of cells around its own instead: one strong
radio does not make every cell larger.

Motion. The air reads positions at each advert (``Node.at(t)``); a receiver is filed at where
it was when last filed. A position function that says how it moves (``motion()``: constant
before ``start`` and after ``end``, at most ``speed`` ft/s in between; ``Still`` and the
scenes' ``Path2D`` do) is filed again before it can have moved ``MOTION_SLACK * reach``; one
that does not (any other callable) is tried on every PDU, as without the index. Setting a
node's position (a CEW dropped or handed over), gains or scan state files it again.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulators.air import AirController

Point = tuple[float, float]
PositionFn = Callable[[float], Point]
Cell = tuple[int, int]

MOTION_SLACK = 0.25  # a moving receiver is filed again before it moves this fraction of the reach


class Still:
    """A position that never changes."""

    __slots__ = ("point",)

    def __init__(self, point: Point) -> None:
        self.point = (float(point[0]), float(point[1]))

    def __call__(self, _t: float) -> Point:
        return self.point

    def motion(self) -> tuple[float, float, float]:
        return (0.0, 0.0, 0.0)


def _fixed_point(fn: PositionFn) -> Point | None:
    """Where a radio that never moves is (its position function says so), else None."""
    motion = getattr(fn, "motion", None)
    if motion is None:
        return None
    start, end, speed = motion()
    return fn(start) if speed == 0 and start == end else None


class Node:
    """A radio on the air: where it is (a function of loop time) and its gains. Setting any of
    them after placement files it again in the air's index (reading them costs nothing more)."""

    name: str
    controller: AirController
    position: PositionFn
    kind: str
    rx_gain_db: float  # a bench sniffer with a better antenna/receiver hears farther
    tx_power_db: float  # transmit power relative to the reference (negative: a weak transmitter)
    seq: int  # placement order: the order PDUs are tried in
    _fixed: Point | None
    _index: ReceiverIndex | None

    def __init__(self, name: str, controller: AirController, position: PositionFn, kind: str = "radio", rx_gain_db: float = 0.0,
                 tx_power_db: float = 0.0, *, seq: int = 0, index: ReceiverIndex | None = None) -> None:
        object.__setattr__(self, "_index", None)
        self.name, self.controller, self.kind, self.seq = name, controller, kind, seq
        self.position, self.rx_gain_db, self.tx_power_db = position, rx_gain_db, tx_power_db
        self._index = index

    def __setattr__(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)
        if name == "position":
            object.__setattr__(self, "_fixed", _fixed_point(value))  # type: ignore[arg-type]
        if name in _WATCHED and self._index is not None:
            self._index.touch(self)

    def at(self, t: float) -> Point:
        fixed = self._fixed
        return fixed if fixed is not None else self.position(t)

    def __repr__(self) -> str:
        return f"Node({self.name!r}, kind={self.kind!r}, rx_gain_db={self.rx_gain_db}, tx_power_db={self.tx_power_db})"


_WATCHED = frozenset({"position", "rx_gain_db", "tx_power_db"})


class _Grid:
    """The scanning receivers of one receive gain, by cell."""

    __slots__ = ("gain_db", "cell_ft", "slack_ft", "cells", "_rings", "_reach_ft")

    def __init__(self, gain_db: float, reach_ft: Callable[[float], float]) -> None:
        self.gain_db, self._reach_ft = gain_db, reach_ft
        self.slack_ft = MOTION_SLACK * reach_ft(gain_db)
        self.cell_ft = (reach_ft(gain_db) + self.slack_ft) * (1 + 1e-9) + 1e-9  # strictly wider than reach + slack
        self.cells: dict[Cell, dict[int, Node]] = {}  # by seq
        self._rings: dict[float, int] = {}

    def cell_of(self, p: Point) -> Cell:
        return (math.floor(p[0] / self.cell_ft), math.floor(p[1] / self.cell_ft))

    def rings(self, tx_db: float) -> int:
        """Rings of cells around the sender's that hold every receiver it can reach: a receiver
        filed within reach + slack of it is at most ceil((reach + slack) / cell) cells away."""
        r = self._rings.get(tx_db)
        if r is None:
            span = self._reach_ft(tx_db + self.gain_db) + self.slack_ft
            r = self._rings[tx_db] = max(1, math.ceil(span * (1 + 1e-9) / self.cell_ft))
        return r


class ReceiverIndex:
    """The scanning receivers on the air, by where they could hear from."""

    def __init__(self, reach_ft: Callable[[float], float]) -> None:
        self._reach_ft = reach_ft
        self._grids: dict[float, _Grid] = {}
        # every scanning receiver and where it is filed (grid None: tried on every PDU)
        self._filed: dict[AirController, tuple[Node, _Grid | None, Cell]] = {}
        self._always: dict[int, Node] = {}  # by seq
        self._by_seq: dict[int, Node] = {}  # every filed receiver
        self._dirty: dict[AirController, Node] = {}
        self._due: list[tuple[float, int, int, Node]] = []  # (file again after, seq, version, node)
        self._version: dict[AirController, int] = {}
        self.candidates = 0  # receivers handed to the air (the work the index leaves it)

    @property
    def scanning(self) -> int:
        """Scanning receivers on the air (up to date after ``near``)."""
        return len(self._filed)

    def touch(self, node: Node) -> None:
        """The node was placed, moved, changed gain or scan state: file it again at the next PDU."""
        self._dirty[node.controller] = node

    def _unfile(self, c: AirController) -> None:
        filed = self._filed.pop(c, None)
        if filed is None:
            return
        node, grid, cell = filed
        del self._by_seq[node.seq]
        if grid is None:
            del self._always[node.seq]
            return
        bucket = grid.cells[cell]
        del bucket[node.seq]
        if not bucket:
            del grid.cells[cell]

    def _file(self, node: Node, now: float) -> None:
        c = node.controller
        self._unfile(c)
        self._version[c] = version = self._version.get(c, 0) + 1
        if not c.le_scan_enable:
            return
        self._by_seq[node.seq] = node
        motion = getattr(node.position, "motion", None)
        if motion is None:  # moves in ways we cannot bound: tried on every PDU
            self._filed[c] = (node, None, (0, 0))
            self._always[node.seq] = node
            return
        start, end, speed = motion()
        g = node.rx_gain_db
        grid = self._grids.get(g)
        if grid is None:
            grid = self._grids[g] = _Grid(g, self._reach_ft)
        cell = grid.cell_of(node.at(now))
        grid.cells.setdefault(cell, {})[node.seq] = node
        self._filed[c] = (node, grid, cell)
        if speed > 0 and now < end:  # still moving: file it again before it can leave the slack
            heapq.heappush(self._due, (max(now, start) + grid.slack_ft / speed, node.seq, version, node))

    def near(self, here: Point, tx_db: float, now: float) -> list[Node]:
        """Every scanning receiver that could be within reach of a sender at ``here`` with
        ``tx_db`` now (and maybe others), in the order they were placed on the air."""
        if self._dirty:
            dirty, self._dirty = self._dirty, {}
            for node in dirty.values():
                self._file(node, now)
        due = self._due
        while due and due[0][0] < now:
            _, _, version, node = heapq.heappop(due)
            if self._version[node.controller] == version:
                self._file(node, now)
        seqs = list(self._always)
        for grid in self._grids.values():
            cells = grid.cells
            cx, cy = grid.cell_of(here)
            r = grid.rings(tx_db)
            for i in range(cx - r, cx + r + 1):
                for j in range(cy - r, cy + r + 1):
                    bucket = cells.get((i, j))
                    if bucket:
                        seqs.extend(bucket)
        seqs.sort()
        self.candidates += len(seqs)
        by_seq = self._by_seq
        return [by_seq[s] for s in seqs]
