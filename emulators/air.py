"""The simulated air: a position-aware bumble link with path loss, fading, loss and taps.

Each emulated radio is a real bumble Device (host) talking HCI to a bumble Controller that
sits on this link. The link decides, for every advertising PDU and every other controller,
whether the PDU arrives and with which RSSI, then hands it to that controller, which reports
it to its host in a real HCI LE Extended Advertising Report (re-serialised with our RSSI).

Link-layer timing follows the Bluetooth Core Specification (Vol 6, Part B, 4.4.2): an
advertising event sends its PDU on each channel of the advertiser's channel map in turn
(37, 38, 39; air time 8 us per byte at LE 1M, a short radio turnaround between channels) and
the next event comes advInterval + advDelay (pseudo-random 0-10 ms, from the air's seed)
later. A scanner listens on one advertising channel per scan interval, rotating 37 -> 38 ->
39, its window open for scanWindow at the start of each interval (phase from when it began
scanning); a PDU is heard only if the receiver listens on its channel for its whole air time.

PDUs that overlap in time on one channel collide at a receiver: the wanted one survives only
if it is ``capture_db`` stronger than the rest there (emulators/air_collisions.py). A link may
add shadowing and obstacle losses to the path loss (emulators/air_links.py). The bumble
controller and host of each radio are in emulators/air_controller.py.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from bumble import hci, ll
from bumble.controller import Controller
from bumble.device import Device
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from emulators.air_collisions import ChannelBook, OnAir, Reception
from emulators.air_controller import ADV_CHANNELS, HCI_SLOT_S, AirController, QuietHost
from emulators.air_index import Node, ReceiverIndex, Still
from emulators.air_links import LinkBudget, Obstacle
from emulators.air_model import FT_PER_M, PathLossModel

Point = tuple[float, float]
PositionFn = Callable[[float], Point]
__all__ = ["ADV_CHANNELS", "HCI_SLOT_S", "FT_PER_M", "AirController", "Node", "Obstacle", "PathLossModel", "Still"]  # re-exported

LE_1M_S_PER_BYTE = 8e-6
ADV_PDU_OVERHEAD_BYTES = 1 + 4 + 2 + 6 + 3  # preamble, access address, header, AdvA, CRC
ADV_CHANNEL_GAP_S = 150e-6  # radio turnaround between the channels of one advertising event
ADV_DELAY_MAX_S = 0.010  # advDelay: pseudo-random 0..10 ms added to every advertising event
REACH_SIGMAS = 8.0  # a receiver whose mean RSSI is this many fading deviations below sensitivity is out of reach


def pdu_air_time_s(adv_data: bytes) -> float:
    """Air time of a legacy advertising PDU at LE 1M (31 bytes of AdvData: 376 us)."""
    return (ADV_PDU_OVERHEAD_BYTES + len(adv_data)) * LE_1M_S_PER_BYTE


EVENT_SPAN_MAX_S = 3 * pdu_air_time_s(bytes(31)) + 2 * ADV_CHANNEL_GAP_S  # a full legacy advertising event on 37, 38, 39


@dataclass(frozen=True)
class Transmission:
    """One advertising PDU put on the air."""

    t: float
    sender: str
    address: str
    adv_data: bytes
    channel: int
    position: Point


@dataclass
class Delivery:
    """A PDU tried on a receiver listening on its channel; ``received``: it reached the host
    (path loss let it through and no overlapping PDU on its channel took it: ``collided``)."""

    t: float
    sender: str
    receiver: str
    distance_ft: float
    rssi_dbm: float
    received: bool
    channel: int = 37
    collided: bool = False


@dataclass
class AirStats:
    transmitted: int = 0  # PDUs put on the air (one per channel of every advertising event)
    attempts: int = 0  # (PDU, receiver listening on its channel) pairs: path loss decides
    delivered: int = 0
    not_listening: int = 0  # PDUs a scanning receiver missed: window closed or another channel
    out_of_reach: int = 0  # (PDU, scanning receiver) pairs too far apart to be received at all (no draw made)
    overlaps: int = 0  # PDU pairs on the air at once on one channel
    collided: int = 0  # receptions lost to overlapping PDUs (path loss had let them through)
    captured: int = 0  # receptions that survived an overlap, stronger by the capture threshold
    deliveries: list[Delivery] = field(default_factory=list)


def distance_ft(a: Point, b: Point) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


class Air(LocalLink):
    """A LocalLink that knows where every controller is (positions in feet)."""

    def __init__(self, model: PathLossModel | None = None, *, seed: int = 0, keep_deliveries: bool = True, index: bool = True,
                 obstacles: tuple[Obstacle, ...] = ()) -> None:
        """``index``: try each PDU only on the receivers a spatial index says could be in reach
        (emulators.air_index); without it, on every scanning radio. The results are identical.
        ``obstacles``: walls and bodies with their loss (emulators.air_links)."""
        super().__init__()
        self.model = model or PathLossModel()
        self.links = LinkBudget(seed, self.model.shadowing_sigma_db, tuple(obstacles))
        self.book = ChannelBook(self.model, self.links)
        self.rng = random.Random(seed)
        self.nodes: dict[AirController, Node] = {}
        self.observers: list[Callable[[Transmission], None]] = []
        self.stats = AirStats()
        self.keep_deliveries = keep_deliveries
        self._adv_delay = random.Random(f"advDelay {seed}")
        self._reach: dict[float, float] = {}
        self.index = ReceiverIndex(self.reach_ft) if index else None

    # -- topology ---------------------------------------------------------------------
    def place(self, controller: AirController, name: str, position: Point | PositionFn, kind: str = "radio", rx_gain_db: float = 0.0,
              tx_power_db: float = 0.0) -> Node:
        fn: PositionFn = position if callable(position) else Still(position)
        old = self.nodes.get(controller)
        if old is not None:
            old._index = None  # replaced: only the new node files itself in the index
        node = Node(name, controller, fn, kind, rx_gain_db, tx_power_db, seq=old.seq if old else len(self.nodes), index=self.index)
        self.nodes[controller] = node  # dict order (placement order) is the order PDUs are tried in
        if self.index is not None:
            self.index.touch(node)
        return node

    def node(self, name: str) -> Node:
        for n in self.nodes.values():
            if n.name == name:
                return n
        raise KeyError(f"no radio named {name!r} on the air")

    def add_observer(self, observer: Callable[[Transmission], None]) -> None:
        self.observers.append(observer)

    # -- bumble link hook -------------------------------------------------------------
    def send_advertising_pdu(self, sender_controller: Controller, packet: ll.AdvertisingPdu) -> None:
        if not isinstance(sender_controller, AirController) or sender_controller not in self.nodes:  # no position: as LocalLink
            super().send_advertising_pdu(sender_controller, packet)
            return
        self.advertising_event(sender_controller, packet, ADV_CHANNELS)

    def _reach_sq(self, gain_db: float) -> float:
        """Squared distance (ft) beyond which a PDU sent and heard with these gains cannot be
        received: its mean RSSI is REACH_SIGMAS fading deviations below the sensitivity (a
        chance below 1e-15 per PDU; a link's shadowing can add at most LinkBudget.max_gain_db). Cached per gain: the loop over receivers stays a
        multiplication and a comparison for every radio out of reach."""
        reach = self._reach.get(gain_db)
        if reach is None:
            m = self.model
            floor = m.sensitivity_dbm - REACH_SIGMAS * max(m.fading_sigma_db, 0.0)
            d_m = 10 ** ((m.tx_power_dbm + gain_db + self.links.max_gain_db - m.pl_1m_db - floor) / (10.0 * m.exponent))
            reach = self._reach[gain_db] = (max(d_m, 0.3) * FT_PER_M) ** 2
        return reach

    def reach_ft(self, gain_db: float) -> float:
        """Beyond this distance a PDU sent and heard with these gains is never received."""
        return math.sqrt(self._reach_sq(gain_db))

    def adv_delay_s(self) -> float:
        return self._adv_delay.uniform(0.0, ADV_DELAY_MAX_S)

    def advertising_event(self, sender_controller: AirController, packet: ll.AdvertisingPdu, channels: tuple[int, ...]) -> None:
        """One advertising event starting now: the PDU on each channel in turn. Path loss is
        decided at its start, collisions at its end, when the receptions that survived are
        reported to their hosts (at most ~1.1 ms late for the first channel; two loop
        instants per event: every distinct instant costs the virtual-time loop dozens of idle
        cycles). The capture and the scanners' windows see each PDU at its real time."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        sender = self.nodes[sender_controller]
        here = sender.at(now)
        data = bytes(getattr(packet, "data", b""))
        address = str(getattr(packet, "advertiser_address", "")).split("/")[0]
        air_s = pdu_air_time_s(data)
        n = len(channels)
        starts = [now + i * (air_s + ADV_CHANNEL_GAP_S) for i in range(n)]
        stats = self.stats
        stats.transmitted += n
        if self.observers:
            for t0, channel in zip(starts, channels):
                tx = Transmission(t0, sender.name, address, data, channel, here)
                for observer in self.observers:
                    observer(tx)
        model, rng, links = self.model, self.rng, self.links
        sens, sigma, loss = model.sensitivity_dbm, model.fading_sigma_db, model.loss_rate
        span = starts[-1] + air_s - now
        hx, hy = here
        tx_db, reach_sq, index = sender.tx_power_db, self._reach_sq, self.index
        on_air = [OnAir(t0, t0 + air_s, c, sender.name, here, tx_db) for t0, c in zip(starts, channels)]
        if index is None:  # every scanning radio, in placement order
            receivers = [node for node in self.nodes.values() if node.controller.le_scan_enable]
        else:  # those that could be in reach, in placement order; the others are out of reach
            receivers = index.near(here, tx_db, now)
            left_out = index.scanning - len(receivers)
            if sender_controller.le_scan_enable and sender not in receivers:
                left_out -= 1
            stats.out_of_reach += n * left_out
        heard = False
        for node in receivers:
            controller = node.controller
            if controller is sender_controller:
                continue
            at = node.at(now)
            dx, dy = at[0] - hx, at[1] - hy
            if dx * dx + dy * dy > reach_sq(tx_db + node.rx_gain_db):
                stats.out_of_reach += n  # cannot be received: no draw, no cost beyond this test
                continue
            interval, window, since = controller.scan_timing
            k, phase = divmod(now - since, interval)  # the scan interval the event starts in, and how far into it
            pdus: tuple[int, ...] | list[int]
            if k >= 0 and phase + span <= window + 1e-9:  # the whole event inside one window: one channel
                listened = ADV_CHANNELS[int(k) % 3]
                pdus = (channels.index(listened),) if listened in channels else ()
            else:
                pdus = [i for i, (t0, c) in enumerate(zip(starts, channels)) if _listens(t0 - since, air_s, interval, window, c)]
            stats.not_listening += n - len(pdus)  # window closed for part of a PDU, or another channel
            if not pdus:
                continue
            d = math.hypot(dx, dy)
            mean = links.mean_dbm(model, tx_db, node.rx_gain_db, d, sender.name, node.name, here, at)
            for i in pdus:
                rssi = mean + (rng.gauss(0.0, sigma) if sigma > 0 else 0.0)
                received = rssi >= sens and rng.random() >= loss
                stats.attempts += 1
                record = None
                if self.keep_deliveries:
                    record = Delivery(starts[i], sender.name, node.name, d, rssi, received, channels[i])
                    stats.deliveries.append(record)
                if received:
                    on_air[i].receptions.append(Reception(controller, node.name, at, node.rx_gain_db, rssi, record))
                    heard = True
        stats.overlaps += self.book.put(on_air, now)
        if heard:
            loop.call_at(now + span, self._report, packet, on_air)

    def _report(self, packet: ll.AdvertisingPdu, on_air: list[OnAir]) -> None:
        """The end of an advertising event: every reception that no overlapping PDU took
        reaches its host."""
        stats, book = self.stats, self.book
        for pdu in on_air:
            for r in pdu.receptions:
                if not book.survives(r):
                    stats.collided += 1
                    if r.record is not None:
                        r.record.received, r.record.collided = False, True
                    continue
                if r.interference_mw > 0.0:
                    stats.captured += 1
                stats.delivered += 1
                r.controller.receive_advertising_pdu(packet, int(round(r.rssi)))


def _listens(since_start: float, air_s: float, interval: float, window: float, channel: int) -> bool:
    """A scanner that began ``since_start`` seconds before a PDU hears it on ``channel`` (if
    the path allows): its window is open for the PDU's whole air time, on that channel."""
    k, phase = divmod(since_start, interval)
    return k >= 0 and phase + air_s <= window + 1e-9 and ADV_CHANNELS[int(k) % 3] == channel


def static_random_address(seed_text: str) -> str:
    """A deterministic static random address (two top bits set) for a device serial."""
    h = 0xCBF29CE484222325
    for ch in seed_text.encode():
        h = ((h ^ ch) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    raw = bytearray(h.to_bytes(8, "big")[:6])
    raw[0] |= 0xC0
    return ":".join(f"{b:02X}" for b in raw)


def radio(air: Air, name: str, position: Point | PositionFn, *, kind: str = "radio", address: str | None = None, rx_gain_db: float = 0.0,
          tx_power_db: float = 0.0) -> Device:
    """A bumble Device on the air: Device -> Host -HCI-> AirController -> Air."""
    address = address or static_random_address(name)
    controller = AirController(name, link=air, public_address=address)
    host = QuietHost(controller, AsyncPipeSink(controller))
    device = Device(name=name, address=hci.Address(address), host=host)
    air.place(controller, name, position, kind, rx_gain_db, tx_power_db)
    return device
