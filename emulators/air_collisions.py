"""Collisions and capture: PDUs that overlap in time on one channel at a receiver.

Every PDU the air puts on a channel stays on the book until its air time ends. A new PDU that
overlaps a PDU still on the book, on the same channel, interferes with it at each of its
receivers, and it with the new one's: the interferer's level there is its mean RSSI at the
receiver (path loss, the link's shadowing and obstacles; no fading draw, so the result does
not depend on which PDU is looked at first). At the end of its advertising event a reception
survives if its RSSI is at least ``capture_db`` above the summed interference (in mW) of every
PDU that overlapped it; otherwise it is lost. Both PDUs of a collision can be lost, or the
stronger one captured.

The air delivers an event's receptions at the end of the event (its last PDU's end): no PDU
that starts later can overlap one of them, since every overlap needs the later PDU to start
before the earlier one ends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from emulators.air_links import LinkBudget, db_to_mw, mw_to_db
from emulators.air_model import PathLossModel

if TYPE_CHECKING:
    from emulators.air_controller import AirController

Point = tuple[float, float]


@dataclass(slots=True, eq=False)
class Reception:
    """A PDU that path loss lets through to one receiver, until collisions have had their say."""

    controller: AirController
    receiver: str
    at: Point
    rx_gain_db: float
    rssi: float
    record: Any = None  # the air's Delivery of it, if kept
    interference_mw: float = 0.0


@dataclass(slots=True, eq=False)
class OnAir:
    """One PDU on one channel, from t0 to t1."""

    t0: float
    t1: float
    channel: int
    sender: str
    position: Point
    tx_db: float
    receptions: list[Reception] = field(default_factory=list)


class ChannelBook:
    """The PDUs on the air now, and what their overlaps do at each receiver."""

    def __init__(self, model: PathLossModel, links: LinkBudget) -> None:
        self.model = model
        self.links = links
        self.capture_db = model.capture_db
        self.on_air: list[OnAir] = []

    def put(self, pdus: list[OnAir], now: float) -> int:
        """An advertising event's PDUs go on the air (its start is ``now``); returns how many
        PDUs on the air they overlapped on their channels."""
        book = [q for q in self.on_air if q.t1 > now] if self.on_air else self.on_air
        overlaps = 0
        for p in pdus:
            for q in book:
                if q.channel == p.channel and q.t0 < p.t1 and p.t0 < q.t1:
                    overlaps += 1
                    self._interfere(q, p)
                    self._interfere(p, q)
        book.extend(pdus)
        self.on_air = book
        return overlaps

    def _interfere(self, source: OnAir, victim: OnAir) -> None:
        model, links = self.model, self.links
        sx, sy = source.position
        for r in victim.receptions:
            d = math.hypot(r.at[0] - sx, r.at[1] - sy)
            r.interference_mw += db_to_mw(links.mean_dbm(model, source.tx_db, r.rx_gain_db, d, source.sender, r.receiver, source.position, r.at))

    def survives(self, r: Reception) -> bool:
        return r.interference_mw <= 0.0 or r.rssi - mw_to_db(r.interference_mw) >= self.capture_db
