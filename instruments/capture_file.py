"""Reading BLE capture files as hostile input: pcap (microsecond or nanosecond, either byte
order), pcapng (per-interface link types and time resolutions) and btsnoop (HCI H4, as
bumble's BtSnooper and Android write it). Records stream out one at a time with their
UTC time; anything the file cannot be raises CaptureError with one line naming the file and
the problem. The work per file is bounded: at most MAX_FILE_BYTES, MAX_RECORDS records of
at most MAX_RECORD_BYTES each (a BLE record is a few hundred bytes)."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

LINKTYPE_BLE_LL_PHDR = 256
LINKTYPE_NORDIC_BLE = 272
LINKTYPES = {LINKTYPE_BLE_LL_PHDR: "BLE LL with PHDR", LINKTYPE_NORDIC_BLE: "nRF Sniffer for Bluetooth LE"}
KIND_OF_LINKTYPE = {LINKTYPE_BLE_LL_PHDR: "phdr", LINKTYPE_NORDIC_BLE: "nordic"}
MAX_FILE_BYTES = 1 << 30
MAX_RECORDS = 2_000_000  # hours of a busy scene (a few hundred PDUs a second)
MAX_RECORD_BYTES = 262_144
MAX_BLOCK_BYTES = MAX_RECORD_BYTES + 4096  # a pcapng block: one record and its options

PCAP_MAGICS = {b"\xd4\xc3\xb2\xa1": ("<", 1e-6), b"\xa1\xb2\xc3\xd4": (">", 1e-6), b"\x4d\x3c\xb2\xa1": ("<", 1e-9), b"\xa1\xb2\x3c\x4d": (">", 1e-9)}
PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
BTSNOOP_MAGIC = b"btsnoop\0"
BTSNOOP_H4 = 1002
BTSNOOP_EPOCH_US = 0x00DCDDB30F2F8000  # microseconds from 0000-01-01 to 1970-01-01 (btsnoop's timestamp origin)
H4_EVENT = 0x04


class CaptureError(ValueError):
    """A file that cannot be read as a BLE capture; the message is one line naming it."""


@dataclass(frozen=True)
class Record:
    """One record: ``kind`` says how to decode ``data`` ("phdr", "nordic", "hci" for an HCI
    event packet without its H4 type byte, "other" for what holds no advertising)."""

    index: int  # 1-based, in file order
    t_s: float  # UTC seconds
    kind: str
    data: bytes


class _Reader:
    def __init__(self, path: Path, fh: BinaryIO, partial_ok: bool) -> None:
        self.path, self.fh, self.partial_ok = path, fh, partial_ok
        self.offset = 0
        self.count = 0
        self.format = "unknown"

    def fail(self, problem: str) -> CaptureError:
        return CaptureError(f"{self.path}: {problem}")

    def take(self, n: int, what: str) -> bytes | None:
        """n bytes, or None at a clean end of file (nothing at all left)."""
        data = self.fh.read(n)
        if not data:
            return None
        if len(data) < n:
            if self.partial_ok:  # a capture still being written ends mid-record
                return None
            raise self.fail(f"cut short: {what} at byte {self.offset} needs {n} bytes, {len(data)} remain")
        self.offset += n
        return data

    def record(self, t_s: float, kind: str, data: bytes) -> Record:
        self.count += 1
        if self.count > MAX_RECORDS:
            raise self.fail(f"more than {MAX_RECORDS:,} records; cut it into parts (editcap -c {MAX_RECORDS // 5:,})")
        return Record(self.count, t_s, kind, data)

    def size(self, n: int, what: str) -> int:
        if n > MAX_RECORD_BYTES:
            raise self.fail(f"{what} at byte {self.offset} claims {n:,} bytes (a BLE capture record is at most {MAX_RECORD_BYTES:,})")
        return n


def _linktype(reader: _Reader, linktype: int) -> str:
    kind = KIND_OF_LINKTYPE.get(linktype)
    if kind is None:
        known = ", ".join(f"{k} ({v})" for k, v in LINKTYPES.items())
        raise reader.fail(f"link type {linktype} is not a BLE capture this harness reads (link types {known}; or btsnoop)")
    return kind


def _pcap(r: _Reader, magic: bytes) -> Iterator[Record]:
    order, unit = PCAP_MAGICS[magic]
    header = r.take(20, "the pcap header")
    if header is None:
        raise r.fail("cut short: the pcap header needs 24 bytes")
    _major, _minor, _zone, _sigfigs, _snaplen, linktype = struct.unpack(order + "HHiIII", header)
    kind = _linktype(r, linktype & 0x0FFFFFFF)
    r.format = f"pcap{' (ns)' if unit < 1e-6 else ''}, link type {linktype & 0x0FFFFFFF} ({LINKTYPES[linktype & 0x0FFFFFFF]})"
    while (head := r.take(16, "a record header")) is not None:
        sec, frac, incl, _orig = struct.unpack(order + "IIII", head)
        data = r.take(r.size(incl, f"record {r.count + 1}"), f"record {r.count + 1}")
        if data is None:
            return
        yield r.record(sec + frac * unit, kind, data)


def _pcapng(r: _Reader) -> Iterator[Record]:
    order = "<"
    interfaces: list[tuple[str | None, float, int]] = []  # (kind or None if not BLE, seconds per tick, offset s)
    ignored: set[int] = set()
    ble: set[int] = set()
    while (head := r.take(8, "a pcapng block header")) is not None:
        block_type = struct.unpack(order + "I", head[:4])[0]  # the section header's type reads the same in both orders
        if block_type == 0x0A0D0D0A:
            bom = r.take(4, "the section header")
            if bom is None or bom not in (b"\x4d\x3c\x2b\x1a", b"\x1a\x2b\x3c\x4d"):
                raise r.fail("not a pcapng file: the section header's byte-order magic is wrong")
            order = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            length = struct.unpack(order + "I", head[4:])[0]
            body_len = length - 12 - 4
            interfaces = []
        else:
            length = struct.unpack(order + "I", head[4:])[0]
            body_len = length - 12
        if length < 12 or length % 4 or length > MAX_BLOCK_BYTES or body_len < 0:
            raise r.fail(f"pcapng block at byte {r.offset - 8} has an impossible length {length:,}")
        body = r.take(body_len + 4, "a pcapng block")
        if body is None:
            return
        if struct.unpack(order + "I", body[-4:])[0] != length:
            raise r.fail(f"pcapng block at byte {r.offset - length} does not end with its length")
        body = body[:-4]
        if block_type == 0x00000001:  # interface description
            if len(body) < 8:
                raise r.fail("pcapng interface description too short")
            linktype = struct.unpack(order + "H", body[:2])[0]
            interfaces.append((KIND_OF_LINKTYPE.get(linktype), *_if_time(r, body[8:], order)))
            (ble if linktype in KIND_OF_LINKTYPE else ignored).add(linktype)
            r.format = "pcapng, " + ", ".join(f"link type {k} ({LINKTYPES[k]})" for k in sorted(ble)) if ble else "pcapng"
        elif block_type == 0x00000006:  # enhanced packet
            if len(body) < 20:
                raise r.fail(f"pcapng packet block at byte {r.offset - length} too short")
            iface, ts_hi, ts_lo, incl, _orig = struct.unpack(order + "IIIII", body[:20])
            if iface >= len(interfaces):
                raise r.fail(f"pcapng packet block at byte {r.offset - length} names interface {iface}, which is not described")
            kind, tick, offset_s = interfaces[iface]
            if incl > len(body) - 20:
                raise r.fail(f"pcapng packet block at byte {r.offset - length} claims {incl:,} bytes beyond the block")
            yield r.record(((ts_hi << 32) | ts_lo) * tick + offset_s, kind or "other", body[20 : 20 + incl])
    if ignored and not ble:
        _linktype(r, min(ignored))


def _if_time(r: _Reader, options: bytes, order: str) -> tuple[float, int]:
    """(seconds per timestamp tick, offset in s) from an interface's if_tsresol and if_tsoffset."""
    tick, offset, at = 1e-6, 0, 0
    while at + 4 <= len(options):
        code, size = struct.unpack_from(order + "HH", options, at)
        value = options[at + 4 : at + 4 + size]
        if code == 0 or len(value) < size:  # the end of the options, or an option cut short
            break
        if code == 9 and size == 1:
            v = value[0]
            tick = 2.0 ** -(v & 0x7F) if v & 0x80 else 10.0 ** -v
        elif code == 14 and size == 8:
            offset = struct.unpack(order + "q", value)[0]
        at += 4 + size + (-size % 4)
    if not 1e-12 <= tick <= 1.0:
        raise r.fail(f"pcapng interface time resolution {tick:g} s is not usable")
    return tick, offset


def _btsnoop(r: _Reader) -> Iterator[Record]:
    header = r.take(8, "the btsnoop header")
    if header is None:
        raise r.fail("cut short: the btsnoop header needs 16 bytes")
    version, datalink = struct.unpack(">II", header)
    if version != 1 or datalink != BTSNOOP_H4:
        raise r.fail(f"btsnoop version {version}, datalink {datalink}: only version 1 with HCI H4 (datalink 1002, as bumble and Android write it) is read")
    r.format = "btsnoop, HCI H4"
    while (head := r.take(24, "a btsnoop record header")) is not None:
        _orig, incl, _flags, _drops, ts = struct.unpack(">IIIIq", head)
        data = r.take(r.size(incl, f"record {r.count + 1}"), f"record {r.count + 1}")
        if data is None:
            return
        event = data[:1] == bytes((H4_EVENT,))  # the H4 packet type: events come from the controller
        yield r.record((ts - BTSNOOP_EPOCH_US) / 1e6, "hci" if event else "other", data[1:] if event else data)


class CaptureFile:
    """A capture file; ``records()`` streams its records in file order and sets ``format``
    ("pcap, link type 256 (BLE LL with PHDR)") once the header is read. ``partial_ok``: a
    capture still being written may end mid-record (its last complete record is the end)."""

    def __init__(self, path: Path, *, partial_ok: bool = False) -> None:
        self.path = Path(path)
        self.partial_ok = partial_ok
        self.format = "unknown"

    def records(self) -> Iterator[Record]:
        path = self.path
        try:
            size = path.stat().st_size
            fh = path.open("rb")
        except OSError as exc:
            raise CaptureError(f"{path}: cannot read: {exc.strerror or exc}") from None
        with fh:
            if size > MAX_FILE_BYTES:
                raise CaptureError(f"{path}: {size:,} bytes, more than the {MAX_FILE_BYTES:,} read per file; cut it into parts (editcap -c)")
            r = _Reader(path, fh, self.partial_ok)
            magic = r.take(4, "the file's magic number")
            if magic is None:
                raise CaptureError(f"{path}: empty file")
            if magic in PCAP_MAGICS:
                records = _pcap(r, magic)
            elif magic == PCAPNG_SHB:
                fh.seek(0)
                r.offset = 0
                records = _pcapng(r)
            elif magic + fh.read(4) == BTSNOOP_MAGIC:
                r.offset = 8
                records = _btsnoop(r)
            else:
                raise CaptureError(f"{path}: not a capture file (no pcap, pcapng or btsnoop magic number; starts {magic.hex(' ')})")
            for record in records:
                self.format = r.format
                yield record
            self.format = r.format
