"""pcap files written from raw bytes: the air (air.pcap, link type 256, BLE LL with
pseudo-header) and the in-car network (icp.pcap, Ethernet/IPv4/UDP), both on the scene clock."""

from __future__ import annotations

import collections
import contextlib
import csv
import datetime as dt
import heapq
import struct
from collections.abc import Iterator
from pathlib import Path

from emulators.air import ADV_CHANNEL_GAP_S, ADV_CHANNELS, Point, PathLossModel, Transmission, distance_ft, pdu_air_time_s
from emulators.incar_net import ICP_TAP, Addr
from protocols.blell import DLT_BLUETOOTH_LE_LL_WITH_PHDR, adv_pdu, ll_packet, phdr_header
from protocols.incar import DEFAULT_PORT

LINKTYPE_ETHERNET = 1
ICP_CAPTURE_NET = (169, 254, 76)  # icp.pcap: endpoint N (in the order they opened) is 169.254.76.N, port 47600


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
    in time order.

    PDUs that overlapped in time on one channel (a collision wherever both reach a receiver)
    are all kept, as they went on the air, and each overlapping pair is listed in a companion
    table next to the capture (``air-collisions.csv``: both frame numbers, the channel, the
    overlap, both RSSIs at the sniffer and which one a receiver there would decode, stronger by
    the model's capture threshold, or neither)."""

    # an advertising event is reported at its start, with PDUs up to this much later: a record
    # this much older than the PDU being written can no longer be preceded by another event's
    HOLD_S = (len(ADV_CHANNELS) - 1) * (pdu_air_time_s(bytes(31)) + ADV_CHANNEL_GAP_S) + pdu_air_time_s(bytes(31))
    COLUMNS = ("frame_a", "frame_b", "channel", "time_a_utc", "adva_a", "adva_b", "overlap_us", "rssi_a_dbm", "rssi_b_dbm", "sniffer_decodes")

    def __init__(self, path: Path, *, epoch_utc_ms: int, position: Point = (0.0, 0.0), model: PathLossModel | None = None) -> None:
        self.writer = PcapWriter(path)
        self.collisions_path = path.with_name(f"{path.stem}-collisions.csv")
        self.epoch_s = epoch_utc_ms / 1000.0
        self.position = position
        self.model = model or PathLossModel()
        # the advertising event in progress: the same PDU and RSSI on every channel
        self._event: tuple[tuple[str, bytes, Point], float, bytes] = (("", b"", (0.0, 0.0)), 0.0, b"")
        self._pending: list[tuple[float, int, bytes, list[int]]] = []  # (t, arrival order, record, [frame number]), a heap
        self._recent: list[tuple[float, float, int, str, float, list[int]]] = []  # (t0, t1, channel, AdvA, RSSI, [frame]) that may overlap
        # overlapping pairs waiting for both frame numbers (set when the records are written),
        # then streamed to the table: nothing per PDU stays in memory for the whole scene
        self._overlaps: collections.deque[tuple[list[int], list[int], int, float, str, str, float, float, float]] = collections.deque()
        self._overlap_count = 0
        self._count = 0
        self._table = self.collisions_path.open("w", newline="")
        self._rows = csv.writer(self._table)
        self._rows.writerow(self.COLUMNS)

    def __call__(self, tx: Transmission) -> None:
        key, rssi, packet = self._event
        if key != (tx.address, tx.adv_data, tx.position):
            key = (tx.address, tx.adv_data, tx.position)
            rssi = self.model.mean_rssi(distance_ft(tx.position, self.position))
            packet = ll_packet(adv_pdu(tx.address, tx.adv_data))
            self._event = (key, rssi, packet)
        pending = self._pending
        while pending and pending[0][0] <= tx.t - self.HOLD_S:
            self._write(*heapq.heappop(pending))
        self._count += 1
        slot = [0]
        heapq.heappush(pending, (tx.t, self._count, phdr_header(adv_channel=tx.channel, rssi_dbm=rssi) + packet, slot))
        t1 = tx.t + pdu_air_time_s(tx.adv_data)
        recent = [r for r in self._recent if r[1] > tx.t - self.HOLD_S]
        for t0_b, t1_b, channel, address, rssi_b, slot_b in recent:
            if channel == tx.channel and t0_b < t1 and tx.t < t1_b:
                first, second = ((t0_b, address, rssi_b, slot_b), (tx.t, tx.address, rssi, slot)) if t0_b <= tx.t else \
                    ((tx.t, tx.address, rssi, slot), (t0_b, address, rssi_b, slot_b))
                overlap = min(t1, t1_b) - max(tx.t, t0_b)
                self._overlaps.append((first[3], second[3], channel, first[0], first[1], second[1], overlap, first[2], second[2]))
                self._overlap_count += 1
        recent.append((tx.t, t1, tx.channel, tx.address, rssi, slot))
        self._recent = recent

    def _write(self, t: float, _order: int, record: bytes, slot: list[int]) -> None:
        self.writer.write(self.epoch_s + t, record)
        slot[0] = self.writer.records
        self._flush_overlaps()

    def _flush_overlaps(self) -> None:
        """Table rows, in the order the overlaps happened, once both frames have their numbers."""
        capture_db, pending = self.model.capture_db, self._overlaps
        while pending and pending[0][0][0] and pending[0][1][0]:
            slot_a, slot_b, channel, t_a, adva_a, adva_b, overlap, rssi_a, rssi_b = pending.popleft()
            decodes = "a" if rssi_a - rssi_b >= capture_db else "b" if rssi_b - rssi_a >= capture_db else "neither"
            when = dt.datetime.fromtimestamp(self.epoch_s + t_a, dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
            self._rows.writerow((slot_a[0], slot_b[0], channel, when, adva_a, adva_b, round(overlap * 1e6, 1), round(rssi_a, 1), round(rssi_b, 1), decodes))

    def close(self) -> None:
        while self._pending:
            self._write(*heapq.heappop(self._pending))
        self.writer.close()
        self._flush_overlaps()
        self._table.close()

    @property
    def overlaps(self) -> int:
        return self._overlap_count


def _checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def udp_frame(host_src: int, host_dst: int, payload: bytes, ident: int, port: int = DEFAULT_PORT) -> bytes:
    """An Ethernet II / IPv4 / UDP frame between hosts of the capture's in-car segment,
    with valid IPv4 and UDP checksums."""
    src, dst = bytes((*ICP_CAPTURE_NET, host_src)), bytes((*ICP_CAPTURE_NET, host_dst))
    length = 8 + len(payload)
    udp = struct.pack("!HHHH", port, port, length, 0) + payload
    udp_sum = _checksum(src + dst + struct.pack("!BBH", 0, 17, length) + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", udp_sum) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + length, ident & 0xFFFF, 0x4000, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
    mac_src, mac_dst = bytes((2, 0, 0, 0, 0, host_src)), bytes((2, 0, 0, 0, 0, host_dst))
    return mac_dst + mac_src + b"\x08\x00" + ip + udp


class IcpCapture:
    """A sniffer on the in-car network segment: every ICP datagram an endpoint sends, as an
    Ethernet/IPv4/UDP frame timestamped on the scene clock (so it lines up with air.pcap). The
    emulators bind ephemeral ports on 127.0.0.1; the capture shows each endpoint as a physical
    installation would address it: its own host 169.254.76.N (N in the order the endpoints
    opened, locally administered MAC 02:00:00:00:00:N) on the ICP port 47600."""

    def __init__(self, path: Path, *, epoch_utc_ms: int) -> None:
        self.writer = PcapWriter(path, LINKTYPE_ETHERNET)
        self.epoch_s = epoch_utc_ms / 1000.0
        self.hosts: dict[Addr, int] = {}
        self.names: dict[int, str] = {}  # host number -> the endpoint's name (the device serial)

    def _host(self, address: Addr, name: str = "") -> int:
        if address not in self.hosts:
            if len(self.hosts) >= 254:
                raise ValueError("icp.pcap: more than 254 in-car endpoints")
            self.hosts[address] = len(self.hosts) + 1
        if name:
            self.names[self.hosts[address]] = name
        return self.hosts[address]

    def opened(self, name: str, address: Addr) -> None:
        self._host(address, name)

    def sent(self, loop_t: float, source: Addr, destination: Addr, datagram: bytes) -> None:
        frame = udp_frame(self._host(source), self._host(destination), datagram, self.writer.records)
        self.writer.write(self.epoch_s + loop_t, frame)

    def close(self) -> None:
        self.writer.close()


@contextlib.contextmanager
def icp_capture(path: Path, *, epoch_utc_ms: int) -> Iterator[IcpCapture]:
    """Capture the ICP endpoints opened inside the block (emulators.incar_net.ICP_TAP)."""
    capture = IcpCapture(path, epoch_utc_ms=epoch_utc_ms)
    token = ICP_TAP.set(capture)
    try:
        yield capture
    finally:
        ICP_TAP.reset(token)
        capture.close()
