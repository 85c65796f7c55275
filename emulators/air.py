"""The simulated air: a position-aware bumble link with path loss, fading, loss and taps.

Each emulated radio is a real bumble Device (host) talking HCI to a bumble Controller that
sits on this link. The link decides, for every advertising PDU and every other controller,
whether the PDU arrives and with which RSSI, then hands it to that controller, which reports
it to its host in a real HCI LE Extended Advertising Report (re-serialised with our RSSI).
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from bumble import hci, ll
from bumble.controller import Controller
from bumble.device import Device
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

FT_PER_M = 3.28084
_log = logging.getLogger("bumble.host")
_clog = logging.getLogger("bumble.controller")

Point = tuple[float, float]
PositionFn = Callable[[float], Point]


@dataclass(frozen=True)
class PathLossModel:
    """Log-distance path loss with per-packet Gaussian fading and random loss.

    rssi(d) = tx_power - pl_1m - 10 * exponent * log10(d / 1 m) + N(0, fading_sigma)
    A PDU is received when rssi >= sensitivity and a uniform draw >= loss_rate. The
    sensitivity is derived so that the mean RSSI at ``nominal_range_ft`` equals it: that
    distance is where half of the PDUs arrive (before random loss).
    """

    tx_power_dbm: float = 0.0
    pl_1m_db: float = 40.0
    exponent: float = 3.0
    fading_sigma_db: float = 1.0
    loss_rate: float = 0.05
    nominal_range_ft: float = 30.0

    def mean_rssi(self, distance_ft: float) -> float:
        d_m = max(distance_ft / FT_PER_M, 0.3)
        return self.tx_power_dbm - self.pl_1m_db - 10.0 * self.exponent * math.log10(d_m)

    @property
    def sensitivity_dbm(self) -> float:
        return self.mean_rssi(self.nominal_range_ft)

    def delivery_probability(self, distance_ft: float) -> float:
        """Analytic probability that one PDU arrives at this distance."""
        margin = self.mean_rssi(distance_ft) - self.sensitivity_dbm
        if self.fading_sigma_db <= 0:
            p = 1.0 if margin >= 0 else 0.0
        else:
            p = 0.5 * (1 + math.erf(margin / (self.fading_sigma_db * math.sqrt(2))))
        return p * (1 - self.loss_rate)


@dataclass
class Node:
    name: str
    controller: AirController
    position: PositionFn
    kind: str = "radio"
    rx_gain_db: float = 0.0  # a bench sniffer with a better antenna/receiver hears farther

    def at(self, t: float) -> Point:
        return self.position(t)


@dataclass(frozen=True)
class Transmission:
    """One advertising PDU put on the air."""

    t: float
    sender: str
    address: str
    adv_data: bytes
    channel: int
    position: Point


@dataclass(frozen=True)
class Delivery:
    t: float
    sender: str
    receiver: str
    distance_ft: float
    rssi_dbm: float
    received: bool


@dataclass
class AirStats:
    transmitted: int = 0
    attempts: int = 0
    delivered: int = 0
    deliveries: list[Delivery] = field(default_factory=list)


def distance_ft(a: Point, b: Point) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


class Air(LocalLink):
    """A LocalLink that knows where every controller is (positions in feet)."""

    def __init__(self, model: PathLossModel | None = None, *, seed: int = 0, keep_deliveries: bool = True) -> None:
        super().__init__()
        self.model = model or PathLossModel()
        self.rng = random.Random(seed)
        self.nodes: dict[Controller, Node] = {}
        self.observers: list[Callable[[Transmission], None]] = []
        self.stats = AirStats()
        self.keep_deliveries = keep_deliveries
        self._channel = 0

    # -- topology ---------------------------------------------------------------------
    def place(self, controller: AirController, name: str, position: Point | PositionFn, kind: str = "radio", rx_gain_db: float = 0.0) -> Node:
        fn: PositionFn = position if callable(position) else (lambda _t, p=position: p)
        node = Node(name, controller, fn, kind, rx_gain_db)
        self.nodes[controller] = node
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
        loop = asyncio.get_running_loop()
        now = loop.time()
        sender = self.nodes.get(sender_controller)
        if sender is None:  # a plain controller without position: behave like LocalLink
            super().send_advertising_pdu(sender_controller, packet)
            return
        here = sender.at(now)
        channel = 37 + self._channel
        self._channel = (self._channel + 1) % 3
        data = getattr(packet, "data", b"")
        address = str(getattr(packet, "advertiser_address", "")).split("/")[0]
        self.stats.transmitted += 1
        tx = Transmission(now, sender.name, address, bytes(data), channel, here)
        for observer in self.observers:
            observer(tx)
        model = self.model
        sens = model.sensitivity_dbm
        for controller, node in self.nodes.items():
            if controller is sender_controller or not controller.le_scan_enable:
                continue
            d = distance_ft(here, node.at(now))
            rssi = node.rx_gain_db + model.mean_rssi(d) + (self.rng.gauss(0.0, model.fading_sigma_db) if model.fading_sigma_db > 0 else 0.0)
            received = rssi >= sens and self.rng.random() >= model.loss_rate
            self.stats.attempts += 1
            if self.keep_deliveries:
                self.stats.deliveries.append(Delivery(now, sender.name, node.name, d, rssi, received))
            if received:
                self.stats.delivered += 1
                loop.call_soon(controller.receive_advertising_pdu, packet, int(round(rssi)))


class AirController(Controller):
    """A bumble Controller that reports the RSSI the air computed, reports legacy
    non-connectable adverts as such, and skips bumble's per-packet debug formatting."""

    def __init__(self, name: str, *, link: Air, public_address: str, host_source=None, host_sink=None) -> None:
        super().__init__(name, host_source=host_source, host_sink=host_sink, link=link, public_address=public_address)
        self._rx_rssi: int | None = None

    def receive_advertising_pdu(self, packet: ll.AdvertisingPdu, rssi: int) -> None:
        self._rx_rssi = rssi
        try:
            self.on_ll_advertising_pdu(packet)
        finally:
            self._rx_rssi = None

    def send_hci_packet(self, packet: hci.HCI_Packet) -> None:
        if self._rx_rssi is not None and isinstance(packet, hci.HCI_LE_Extended_Advertising_Report_Event):
            ET = hci.HCI_LE_Extended_Advertising_Report_Event.EventType
            reports = []
            for report in packet.reports:
                if report.event_type & ET.SCAN_RESPONSE:
                    continue  # our advertisers are not scannable: no scan response exists
                report.rssi = self._rx_rssi
                report.event_type = ET.LEGACY_ADVERTISING_PDU_USED  # ADV_NONCONN_IND
                report.advertising_sid = 0xFF
                report.tx_power = hci.HCI_LE_Extended_Advertising_Report_Event.TX_POWER_INFORMATION_NOT_AVAILABLE
                reports.append(report)
            if not reports:
                return
            packet = hci.HCI_LE_Extended_Advertising_Report_Event(reports)
        if _clog.isEnabledFor(logging.DEBUG):
            super().send_hci_packet(packet)
        elif self.host:
            asyncio.get_running_loop().call_soon(self.host.on_packet, bytes(packet))


class QuietHost(Host):
    """bumble Host without the per-packet debug string (half the CPU when logging is off)."""

    def on_hci_packet(self, packet: hci.HCI_Packet) -> None:
        if _log.isEnabledFor(logging.DEBUG) or self.snooper:
            super().on_hci_packet(packet)
            return
        match packet:
            case hci.HCI_Event():
                self.on_hci_event_packet(packet)
            case _:
                super().on_hci_packet(packet)


def static_random_address(seed_text: str) -> str:
    """A deterministic static random address (two top bits set) for a device serial."""
    h = 0xCBF29CE484222325
    for ch in seed_text.encode():
        h = ((h ^ ch) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    raw = bytearray(h.to_bytes(8, "big")[:6])
    raw[0] |= 0xC0
    return ":".join(f"{b:02X}" for b in raw)


def radio(air: Air, name: str, position: Point | PositionFn, *, kind: str = "radio", address: str | None = None, rx_gain_db: float = 0.0) -> Device:
    """A bumble Device on the air: Device -> Host -HCI-> AirController -> Air."""
    address = address or static_random_address(name)
    controller = AirController(name, link=air, public_address=address)
    host = QuietHost(controller, AsyncPipeSink(controller))
    device = Device(name=name, address=hci.Address(address), host=host)
    air.place(controller, name, position, kind, rx_gain_db)
    return device
