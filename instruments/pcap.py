"""pcap files of the air (link type 256, BLE LL with pseudo-header), written from raw bytes."""

from __future__ import annotations

import heapq
import struct
from pathlib import Path

from emulators.air import ADV_CHANNEL_GAP_S, ADV_CHANNELS, Point, PathLossModel, Transmission, distance_ft, pdu_air_time_s
from protocols.blell import DLT_BLUETOOTH_LE_LL_WITH_PHDR, adv_pdu, ll_packet, phdr_header


class PcapWriter:
    def __init__(self, path: Path, linktype: int = DLT_BLUETOOTH_LE_LL_WITH_PHDR) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fh = path.open("wb")
        self._fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype))
        self.records = 0

    def write(self, utc_s: float, record: bytes) -> None:
        sec = int(utc_s)
        usec = int(round((utc_s - sec) * 1_000_000))
        if usec >= 1_000_000:
            sec, usec = sec + 1, usec - 1_000_000
        self._fh.write(struct.pack("<IIII", sec, usec, len(record), len(record)) + record)
        self.records += 1

    def close(self) -> None:
        self._fh.close()


class AirCapture:
    """A monitor on the air: every advertising PDU put on the air (each channel of every
    advertising event), with the RSSI a sniffer at ``position`` would measure (mean path
    loss, no fading), timestamped in scene UTC. The air reports an event's later channels
    ahead of their time; records are held until nothing earlier can come, so the file is
    in time order."""

    # an advertising event is reported at its start, with PDUs up to this much later: a record
    # this much older than the PDU being written can no longer be preceded by another event's
    HOLD_S = (len(ADV_CHANNELS) - 1) * (pdu_air_time_s(bytes(31)) + ADV_CHANNEL_GAP_S) + pdu_air_time_s(bytes(31))

    def __init__(self, path: Path, *, epoch_utc_ms: int, position: Point = (0.0, 0.0), model: PathLossModel | None = None) -> None:
        self.writer = PcapWriter(path)
        self.epoch_s = epoch_utc_ms / 1000.0
        self.position = position
        self.model = model or PathLossModel()
        # the advertising event in progress: the same PDU and RSSI on every channel
        self._event: tuple[tuple[str, bytes, Point], float, bytes] = (("", b"", (0.0, 0.0)), 0.0, b"")
        self._pending: list[tuple[float, int, bytes]] = []  # (t, arrival order, record), a heap
        self._count = 0

    def __call__(self, tx: Transmission) -> None:
        key, rssi, packet = self._event
        if key != (tx.address, tx.adv_data, tx.position):
            key = (tx.address, tx.adv_data, tx.position)
            rssi = self.model.mean_rssi(distance_ft(tx.position, self.position))
            packet = ll_packet(adv_pdu(tx.address, tx.adv_data))
            self._event = (key, rssi, packet)
        pending = self._pending
        while pending and pending[0][0] <= tx.t - self.HOLD_S:
            t, _, record = heapq.heappop(pending)
            self.writer.write(self.epoch_s + t, record)
        self._count += 1
        heapq.heappush(pending, (tx.t, self._count, phdr_header(adv_channel=tx.channel, rssi_dbm=rssi) + packet))

    def close(self) -> None:
        while self._pending:
            t, _, record = heapq.heappop(self._pending)
            self.writer.write(self.epoch_s + t, record)
        self.writer.close()
