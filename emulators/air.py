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
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from bumble import hci, ll
from bumble.controller import AdvertisingSet, Controller
from bumble.device import Device
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

FT_PER_M = 3.28084
_log = logging.getLogger("bumble.host")
_clog = logging.getLogger("bumble.controller")

Point = tuple[float, float]
PositionFn = Callable[[float], Point]

ADV_CHANNELS = (37, 38, 39)
LE_1M_S_PER_BYTE = 8e-6
ADV_PDU_OVERHEAD_BYTES = 1 + 4 + 2 + 6 + 3  # preamble, access address, header, AdvA, CRC
ADV_CHANNEL_GAP_S = 150e-6  # radio turnaround between the channels of one advertising event
ADV_DELAY_MAX_S = 0.010  # advDelay: pseudo-random 0..10 ms added to every advertising event
HCI_SLOT_S = 0.000625  # scan and advertising intervals are counted in 0.625 ms slots
REACH_SIGMAS = 8.0  # a receiver whose mean RSSI is this many fading deviations below sensitivity is out of reach


def pdu_air_time_s(adv_data: bytes) -> float:
    """Air time of a legacy advertising PDU at LE 1M (31 bytes of AdvData: 376 us)."""
    return (ADV_PDU_OVERHEAD_BYTES + len(adv_data)) * LE_1M_S_PER_BYTE


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
    tx_power_db: float = 0.0  # transmit power relative to the reference (negative: a weak transmitter)

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
    channel: int = 37


@dataclass
class AirStats:
    transmitted: int = 0  # PDUs put on the air (one per channel of every advertising event)
    attempts: int = 0  # (PDU, receiver listening on its channel) pairs: path loss decides
    delivered: int = 0
    not_listening: int = 0  # PDUs a scanning receiver missed: window closed or another channel
    out_of_reach: int = 0  # (PDU, scanning receiver) pairs too far apart to be received at all (no draw made)
    deliveries: list[Delivery] = field(default_factory=list)


def _still(p: Point) -> PositionFn:
    return lambda _t: p


def distance_ft(a: Point, b: Point) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


class Air(LocalLink):
    """A LocalLink that knows where every controller is (positions in feet)."""

    def __init__(self, model: PathLossModel | None = None, *, seed: int = 0, keep_deliveries: bool = True) -> None:
        super().__init__()
        self.model = model or PathLossModel()
        self.rng = random.Random(seed)
        self.nodes: dict[AirController, Node] = {}
        self.observers: list[Callable[[Transmission], None]] = []
        self.stats = AirStats()
        self.keep_deliveries = keep_deliveries
        self._adv_delay = random.Random(f"advDelay {seed}")
        self._reach: dict[float, float] = {}

    # -- topology ---------------------------------------------------------------------
    def place(self, controller: AirController, name: str, position: Point | PositionFn, kind: str = "radio", rx_gain_db: float = 0.0,
              tx_power_db: float = 0.0) -> Node:
        fn: PositionFn = position if callable(position) else _still(position)
        node = Node(name, controller, fn, kind, rx_gain_db, tx_power_db)
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
        if not isinstance(sender_controller, AirController) or sender_controller not in self.nodes:  # no position: as LocalLink
            super().send_advertising_pdu(sender_controller, packet)
            return
        self.advertising_event(sender_controller, packet, ADV_CHANNELS)

    def _reach_sq(self, gain_db: float) -> float:
        """Squared distance (ft) beyond which a PDU sent and heard with these gains cannot be
        received: its mean RSSI is REACH_SIGMAS fading deviations below the sensitivity (a
        chance below 1e-15 per PDU). Cached per gain: the loop over receivers stays a
        multiplication and a comparison for every radio out of reach."""
        reach = self._reach.get(gain_db)
        if reach is None:
            m = self.model
            floor = m.sensitivity_dbm - REACH_SIGMAS * max(m.fading_sigma_db, 0.0)
            d_m = 10 ** ((m.tx_power_dbm + gain_db - m.pl_1m_db - floor) / (10.0 * m.exponent))
            reach = self._reach[gain_db] = (max(d_m, 0.3) * FT_PER_M) ** 2
        return reach

    def reach_ft(self, gain_db: float) -> float:
        """Beyond this distance a PDU sent and heard with these gains is never received."""
        return math.sqrt(self._reach_sq(gain_db))

    def adv_delay_s(self) -> float:
        return self._adv_delay.uniform(0.0, ADV_DELAY_MAX_S)

    def advertising_event(self, sender_controller: AirController, packet: ll.AdvertisingPdu, channels: tuple[int, ...]) -> None:
        """One advertising event starting now: the PDU on each channel in turn. The whole event
        is decided at its start (one loop instant per event: every distinct instant costs the
        virtual-time loop dozens of idle cycles); the capture and the scanners' windows see
        each PDU at its real time, and a scanner's host gets its report at the event start
        (at most ~1.1 ms early for the last channel)."""
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
        model, rng = self.model, self.rng
        sens, sigma, loss = model.sensitivity_dbm, model.fading_sigma_db, model.loss_rate
        span = starts[-1] + air_s - now
        hx, hy = here
        for controller, node in self.nodes.items():
            if controller is sender_controller or not controller.le_scan_enable:
                continue
            at = node.at(now)
            dx, dy = at[0] - hx, at[1] - hy
            if dx * dx + dy * dy > self._reach_sq(sender.tx_power_db + node.rx_gain_db):
                stats.out_of_reach += n  # cannot be received: no draw, no cost beyond this test
                continue
            interval, window, since = controller.scan_timing
            k, phase = divmod(now - since, interval)  # the scan interval the event starts in, and how far into it
            pdus: tuple[tuple[float, int], ...] | list[tuple[float, int]]
            if k >= 0 and phase + span <= window + 1e-9:  # the whole event inside one window: one channel
                listened = ADV_CHANNELS[int(k) % 3]
                pdus = ((starts[channels.index(listened)], listened),) if listened in channels else ()
            else:
                pdus = [(t0, c) for t0, c in zip(starts, channels) if _listens(t0 - since, air_s, interval, window, c)]
            stats.not_listening += n - len(pdus)  # window closed for part of a PDU, or another channel
            if not pdus:
                continue
            d = math.hypot(dx, dy)
            mean = sender.tx_power_db + node.rx_gain_db + model.mean_rssi(d)
            for t0, channel in pdus:
                rssi = mean + (rng.gauss(0.0, sigma) if sigma > 0 else 0.0)
                received = rssi >= sens and rng.random() >= loss
                stats.attempts += 1
                if self.keep_deliveries:
                    stats.deliveries.append(Delivery(t0, sender.name, node.name, d, rssi, received, channel))
                if received:
                    stats.delivered += 1
                    loop.call_soon(controller.receive_advertising_pdu, packet, int(round(rssi)))


def _listens(since_start: float, air_s: float, interval: float, window: float, channel: int) -> bool:
    """A scanner that began ``since_start`` seconds before a PDU hears it on ``channel`` (if
    the path allows): its window is open for the PDU's whole air time, on that channel."""
    k, phase = divmod(since_start, interval)
    return k >= 0 and phase + air_s <= window + 1e-9 and ADV_CHANNELS[int(k) % 3] == channel


class AirAdvertisingSet(AdvertisingSet):
    """bumble's advertising set with the specification's event timing: each event goes out on
    the set's channel map and the next one follows advInterval + advDelay later."""

    def _on_extended_advertising_timer_fired(self) -> None:
        if not self.enabled:
            return
        air = self.controller.link
        p = self.parameters
        assert isinstance(air, Air) and isinstance(self.controller, AirController) and self.address is not None
        pdu = ll.AdvExtInd(advertiser_address=self.address, data=bytes(self.data), sid=p.advertising_sid if p else 0)
        channel_map = p.primary_advertising_channel_map if p else 0b111
        air.advertising_event(self.controller, pdu, tuple(c for i, c in enumerate(ADV_CHANNELS) if channel_map & (1 << i)) or ADV_CHANNELS)
        interval = max(p.primary_advertising_interval_min * HCI_SLOT_S if p else 1.0, 0.01)
        self.timer_handle = asyncio.get_running_loop().call_later(interval + air.adv_delay_s(), self._on_extended_advertising_timer_fired)


class AirController(Controller):
    """A bumble Controller that reports the RSSI the air computed, reports legacy
    non-connectable adverts as such, and skips bumble's per-packet debug formatting."""

    def __init__(self, name: str, *, link: Air, public_address: str, host_source=None, host_sink=None) -> None:
        super().__init__(name, host_source=host_source, host_sink=host_sink, link=link, public_address=public_address)
        self._rx_rssi: int | None = None
        # (scan interval s, scan window s, loop time scanning began): the scanner listens on
        # channel 37 + k % 3 during [since + k * interval, since + k * interval + window)
        self.scan_timing = (0.0, 0.0, 0.0)

    # -- advertising with advDelay, scanning with interval and window ---------------------
    def on_hci_le_set_extended_advertising_parameters_command(self, command: hci.HCI_LE_Set_Extended_Advertising_Parameters_Command):
        if command.advertising_handle not in self.advertising_sets:
            self.advertising_sets[command.advertising_handle] = AirAdvertisingSet(controller=self, handle=command.advertising_handle)
        return super().on_hci_le_set_extended_advertising_parameters_command(command)

    def on_hci_le_set_extended_scan_parameters_command(self, command: hci.HCI_LE_Set_Extended_Scan_Parameters_Command):
        if command.scan_intervals:  # bumble keeps only the legacy command's; both end up here
            self.le_scan_interval, self.le_scan_window = command.scan_intervals[0], command.scan_windows[0]
        return super().on_hci_le_set_extended_scan_parameters_command(command)

    def on_hci_le_set_extended_scan_enable_command(self, command: hci.HCI_LE_Set_Extended_Scan_Enable_Command):
        self._scanning_from(bool(command.enable))
        return super().on_hci_le_set_extended_scan_enable_command(command)

    def on_hci_le_set_scan_enable_command(self, command: hci.HCI_LE_Set_Scan_Enable_Command):
        self._scanning_from(bool(command.le_scan_enable))
        return super().on_hci_le_set_scan_enable_command(command)

    def _scanning_from(self, enable: bool) -> None:
        """Scanning starts (parameters cannot change while it runs): its intervals begin now."""
        if enable and not self.le_scan_enable:
            interval = self.le_scan_interval * HCI_SLOT_S
            self.scan_timing = (interval, min(self.le_scan_window * HCI_SLOT_S, interval), asyncio.get_running_loop().time())

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


def radio(air: Air, name: str, position: Point | PositionFn, *, kind: str = "radio", address: str | None = None, rx_gain_db: float = 0.0,
          tx_power_db: float = 0.0) -> Device:
    """A bumble Device on the air: Device -> Host -HCI-> AirController -> Air."""
    address = address or static_random_address(name)
    controller = AirController(name, link=air, public_address=address)
    host = QuietHost(controller, AsyncPipeSink(controller))
    device = Device(name=name, address=hci.Address(address), host=host)
    air.place(controller, name, position, kind, rx_gain_db, tx_power_db)
    return device
