"""What a link adds to the path loss of the model: log-normal shadowing per link and the
obstacles in between (walls, car bodies).

Shadowing. Two radios a fixed distance apart do not see the same mean loss everywhere: bodies,
cars and the ground between them add or take a few dB that stay while the link stays. The
air draws one offset per (sender, receiver) pair from N(0, shadowing_sigma_db), truncated at
SHADOW_TRUNC sigmas (so the reach of the spatial index stays a bound), from a generator
seeded with the air's seed and both names: the same link has the same offset whatever else
is on the air or in which order the links are first used. Fading (per PDU) comes on top.

Obstacles. A polygon (three or more points, closed: a car body, a building) or a polyline (a
wall) with a loss in dB; a link whose straight line crosses it (or that starts or ends inside
a closed one, with the other end outside) loses that much, once per obstacle.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulators.air_model import PathLossModel

Point = tuple[float, float]
SHADOW_TRUNC = 3.0  # shadowing offsets are drawn within +-3 sigmas


@dataclass(frozen=True)
class Obstacle:
    """A wall (two or more points, open) or a body (three or more points, ``closed``) with its loss."""

    points: tuple[Point, ...]
    loss_db: float
    closed: bool = False
    name: str = ""

    def edges(self) -> list[tuple[Point, Point]]:
        pts = self.points
        pairs = list(zip(pts, pts[1:]))
        if self.closed and len(pts) >= 3:
            pairs.append((pts[-1], pts[0]))
        return pairs

    def contains(self, p: Point) -> bool:
        """Inside a closed obstacle (even-odd rule)."""
        if not self.closed or len(self.points) < 3:
            return False
        x, y = p
        inside = False
        for (x1, y1), (x2, y2) in self.edges():
            if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
        return inside

    def blocks(self, a: Point, b: Point) -> bool:
        if any(_cross(a, b, p, q) for p, q in self.edges()):
            return True
        return self.contains(a) != self.contains(b)


def _orient(a: Point, b: Point, c: Point) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _cross(a: Point, b: Point, p: Point, q: Point) -> bool:
    """The segments a-b and p-q cross (touching an end counts: a radio on a wall is behind it)."""
    d1, d2, d3, d4 = _orient(p, q, a), _orient(p, q, b), _orient(a, b, p), _orient(a, b, q)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True
    def on(u: Point, v: Point, w: Point, d: float) -> bool:
        return d == 0 and min(u[0], v[0]) <= w[0] <= max(u[0], v[0]) and min(u[1], v[1]) <= w[1] <= max(u[1], v[1])
    return on(p, q, a, d1) or on(p, q, b, d2) or on(a, b, p, d3) or on(a, b, q, d4)


class LinkBudget:
    """The per-link extra loss (dB, negative: a loss) of the air: shadowing and obstacles."""

    def __init__(self, seed: int, shadowing_sigma_db: float = 0.0, obstacles: tuple[Obstacle, ...] = ()) -> None:
        self.seed = seed
        self.sigma = max(shadowing_sigma_db, 0.0)
        self.obstacles = obstacles
        self._shadow: dict[tuple[str, str], float] = {}

    @property
    def active(self) -> bool:
        return self.sigma > 0 or bool(self.obstacles)

    @property
    def max_gain_db(self) -> float:
        """The most a link can gain over the model's mean (what the reach must allow for)."""
        return SHADOW_TRUNC * self.sigma

    def shadow_db(self, sender: str, receiver: str) -> float:
        key = (sender, receiver)
        value = self._shadow.get(key)
        if value is None:
            value = 0.0
            if self.sigma > 0:
                rng = random.Random(f"shadowing {self.seed} {sender} -> {receiver}")
                value = rng.gauss(0.0, self.sigma)
                while abs(value) > SHADOW_TRUNC * self.sigma:
                    value = rng.gauss(0.0, self.sigma)
            self._shadow[key] = value
        return value

    def obstacle_db(self, a: Point, b: Point) -> float:
        return -sum(o.loss_db for o in self.obstacles if o.blocks(a, b))

    def extra_db(self, sender: str, receiver: str, a: Point, b: Point) -> float:
        return self.shadow_db(sender, receiver) + (self.obstacle_db(a, b) if self.obstacles else 0.0)

    def mean_dbm(self, model: PathLossModel, tx_db: float, rx_gain_db: float, d_ft: float, sender: str, receiver: str, a: Point, b: Point) -> float:
        """The mean level (dBm, before fading) of sender's PDU at receiver, d_ft apart from a
        to b: the one formula for a wanted signal and for the interference it meets."""
        level = tx_db + rx_gain_db + model.mean_rssi(d_ft)
        return level + self.extra_db(sender, receiver, a, b) if self.active else level


def db_to_mw(db: float) -> float:
    return 10.0 ** (db / 10.0)


def mw_to_db(mw: float) -> float:
    return 10.0 * math.log10(mw) if mw > 0 else -math.inf
