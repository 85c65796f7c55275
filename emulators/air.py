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
import functools
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

from emulators.air_index import Node, ReceiverIndex, Still
from emulators.air_model import FT_PER_M, PathLossModel

_log = logging.getLogger("bumble.host")
_clog = logging.getLogger("bumble.controller")

Point = tuple[float, float]
PositionFn = Callable[[float], Point]
__all__ = ["FT_PER_M", "Node", "PathLossModel", "Still"]  # re-exported (emulators.air_model, emulators.air_index)

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


def distance_ft(a: Point, b: Point) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


class Air(LocalLink):
    """A LocalLink that knows where every controller is (positions in feet)."""

    def __init__(self, model: PathLossModel | None = None, *, seed: int = 0, keep_deliveries: bool = True, index: bool = True) -> None:
        """``index``: try each PDU only on the receivers a spatial index says could be in reach
        (emulators.air_index); without it, on every scanning radio. The results are identical."""
        super().__init__()
        self.model = model or PathLossModel()
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
        tx_db, reach_sq, index = sender.tx_power_db, self._reach_sq, self.index
        if index is None:  # every scanning radio, in placement order
            receivers = [node for node in self.nodes.values() if node.controller.le_scan_enable]
        else:  # those that could be in reach, in placement order; the others are out of reach
            receivers = index.near(here, tx_db, now)
            left_out = index.scanning - len(receivers)
            if sender_controller.le_scan_enable and sender not in receivers:
                left_out -= 1
            stats.out_of_reach += n * left_out
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
            mean = tx_db + node.rx_gain_db + model.mean_rssi(d)
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
        return self._scan_state(super().on_hci_le_set_extended_scan_enable_command(command))

    def on_hci_le_set_scan_enable_command(self, command: hci.HCI_LE_Set_Scan_Enable_Command):
        self._scanning_from(bool(command.le_scan_enable))
        return self._scan_state(super().on_hci_le_set_scan_enable_command(command))

    def _scan_state(self, result: hci.HCI_StatusReturnParameters) -> hci.HCI_StatusReturnParameters:
        """bumble sets le_scan_enable only in the two commands above: the air's index files scanners only."""
        air, node = self.link, getattr(self.link, "nodes", {}).get(self)
        if isinstance(air, Air) and air.index is not None and node is not None:
            air.index.touch(node)
        return result

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

    def on_advertising_pdu(self, pdu: ll.AdvInd | ll.AdvExtInd) -> None:
        """A PDU the air delivered, to a plain extended scanner: the one report bumble sends
        (it builds a scan response too; send_hci_packet drops it), serialised once per PDU with
        the RSSI byte set per receiver: the same bytes reach the host, without the waste."""
        rssi = self._rx_rssi
        if (rssi is None or not isinstance(pdu, ll.AdvExtInd) or not self.le_scan_enable or self.pending_periodic_advertising_syncs
                or self.established_periodic_advertising_syncs or self.pending_le_connection
                or not self.le_features & hci.LeFeatureMask.LE_EXTENDED_ADVERTISING):
            super().on_advertising_pdu(pdu)
        elif _clog.isEnabledFor(logging.DEBUG) or not self.host or not -128 <= rssi <= 127:
            self._to_host(_report(pdu, rssi))
        else:
            if _last_report[0] is not pdu:
                _last_report[:] = [pdu, bytearray(bytes(_report(pdu, 0)))]
            _last_report[1][_rssi_offset()] = rssi & 0xFF
            asyncio.get_running_loop().call_soon(self.host.on_packet, bytes(_last_report[1]))

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
        self._to_host(packet)

    def _to_host(self, packet: hci.HCI_Packet) -> None:
        if _clog.isEnabledFor(logging.DEBUG):
            super().send_hci_packet(packet)
        elif self.host:
            asyncio.get_running_loop().call_soon(self.host.on_packet, bytes(packet))


def _report(pdu: ll.AdvExtInd, rssi: int) -> hci.HCI_LE_Extended_Advertising_Report_Event:
    """The report bumble sends for a PDU, as AirController.send_hci_packet rewrites it."""
    E = hci.HCI_LE_Extended_Advertising_Report_Event
    direct = pdu.target_address
    return E([E.Report(
        event_type=E.EventType.LEGACY_ADVERTISING_PDU_USED, address_type=pdu.advertiser_address.address_type, address=pdu.advertiser_address,
        primary_phy=hci.Phy.LE_1M, secondary_phy=hci.Phy.LE_1M, advertising_sid=0xFF, tx_power=E.TX_POWER_INFORMATION_NOT_AVAILABLE,
        rssi=rssi, periodic_advertising_interval=0, direct_address_type=direct.address_type if direct else 0,
        direct_address=direct or hci.Address.ANY, data=pdu.data)])


_last_report: list = [None, bytearray()]  # the last PDU reported and its report's bytes (every receiver of an event gets the same PDU)


@functools.cache
def _rssi_offset() -> int:
    """Where the RSSI byte is in a serialised report (the fields before it have fixed sizes)."""
    pdu = ll.AdvExtInd(advertiser_address=hci.Address("C0:00:00:00:00:01"), data=b"")
    a, b = bytes(_report(pdu, 0)), bytes(_report(pdu, -1))
    (offset,) = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
    return offset


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
