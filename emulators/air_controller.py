"""The bumble controller and host of every radio on the air: advertising events with
advDelay on the set's channel map, scanning with interval and window, the RSSI the air
computed in real HCI reports, and no per-packet debug formatting when logging is off."""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import TYPE_CHECKING

from bumble import hci, ll
from bumble.controller import AdvertisingSet, Controller
from bumble.host import Host

if TYPE_CHECKING:
    from emulators.air import Air

_log = logging.getLogger("bumble.host")
_clog = logging.getLogger("bumble.controller")

ADV_CHANNELS = (37, 38, 39)
HCI_SLOT_S = 0.000625  # scan and advertising intervals are counted in 0.625 ms slots


def _air(controller: Controller) -> Air | None:
    """The controller's link when it is the position-aware air (not a plain LocalLink)."""
    link = controller.link
    return link if hasattr(link, "advertising_event") else None  # type: ignore[return-value]


class AirAdvertisingSet(AdvertisingSet):
    """bumble's advertising set with the specification's event timing: each event goes out on
    the set's channel map and the next one follows advInterval + advDelay later."""

    def start(self) -> None:
        """Enabled: the first event comes after its advDelay too (the Link Layer draws one for
        each advertising event), so sets enabled at the same instant do not collide forever."""
        self.enabled = True
        air = _air(self.controller)
        delay = air.adv_delay_s() if air is not None else 0.0
        self.timer_handle = asyncio.get_running_loop().call_later(delay, self._on_extended_advertising_timer_fired)

    def _on_extended_advertising_timer_fired(self) -> None:
        if not self.enabled:
            return
        air = _air(self.controller)
        p = self.parameters
        assert air is not None and isinstance(self.controller, AirController) and self.address is not None
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
        air = _air(self)
        node = air.nodes.get(self) if air is not None else None
        if air is not None and air.index is not None and node is not None:
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
