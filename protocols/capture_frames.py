"""Advertising PDUs out of the records of BLE captures. Pure: bytes in, frames out.

* link type 256 (LINKTYPE_BLUETOOTH_LE_LL_WITH_PHDR: Sniffle, Ubertooth, this harness): a
  10-byte pseudo-header (RF channel, signal, noise, access-address offenses, reference access
  address, flags) and the link-layer packet (access address, PDU header, payload, CRC-24);
* link type 272 (LINKTYPE_NORDIC_BLE: nRF Sniffer for Bluetooth LE), header versions 1 to 3:
  board id, payload length, protocol version, packet counter, packet id, then the event
  packet (its length, flags, channel, RSSI, event counter, time) and the link-layer packet;
* HCI LE Advertising Report and LE Extended Advertising Report events (btsnoop logs, as
  bumble and Android write them): one frame per report a host received.

A record that is not an advertising PDU with AdvData (a data-channel packet, a scan request,
an extended advertising header, another HCI event) gives no frame; one that cannot be what it
says raises FrameError naming the problem, with ``kind`` "bad-crc" or "malformed"."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache

from protocols.blell import ADV_ACCESS_ADDRESS, RF_CHANNEL_OF_ADV_CHANNEL, crc24

ADV_CHANNEL_OF_RF = {rf: adv for adv, rf in RF_CHANNEL_OF_ADV_CHANNEL.items()}
# legacy advertising PDUs that carry AdvA + AdvData (Core Spec Vol 6 Part B 2.3)
ADV_DATA_PDUS = {0x0: "ADV_IND", 0x2: "ADV_NONCONN_IND", 0x4: "SCAN_RSP", 0x6: "ADV_SCAN_IND"}
MAX_ADV_DATA = 31

# pseudo-header flags of link type 256
PHDR_LEN = 10
PHDR_CRC_CHECKED, PHDR_CRC_VALID = 0x0400, 0x0800
PHDR_SIGNAL_VALID = 0x0002
PHDR_PHY_SHIFT = 14

NORDIC_HEADER_LEN = 7  # board id, payload length (2; version 1: header and payload length), version, counter (2), packet id
NORDIC_ADV_PACKET, NORDIC_EVENT_PACKET = 0x02, 0x06  # packet ids: advertising (version 3), any PDU (versions 1-2)

HCI_LE_META_EVENT = 0x3E
LE_ADVERTISING_REPORT, LE_EXTENDED_ADVERTISING_REPORT = 0x02, 0x0D
EXT_REPORT_FIXED = 24  # bytes of an extended report before its data
EXT_LEGACY, EXT_DATA_STATUS = 0x0010, 0x0060
RSSI_NOT_AVAILABLE = 127


class FrameError(ValueError):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class AdvFrame:
    """One advertising PDU (or HCI report) with its AdvData."""

    address: str  # AA:BB:CC:DD:EE:FF
    adv_data: bytes
    channel: int | None = None  # 37, 38, 39; None: a host's report (the channel is not reported)
    rssi: int | None = None


@lru_cache(maxsize=4096)
def _crc24(pdu: bytes) -> bytes:
    """CRC-24 of a PDU, remembered: an advertiser repeats the same PDU for a whole burst."""
    return crc24(pdu)


@lru_cache(maxsize=4096)
def _address(raw: bytes) -> str:
    return ":".join(f"{b:02X}" for b in reversed(raw))


def _malformed(message: str) -> FrameError:
    return FrameError("malformed", message)


def ll_frame(packet: bytes, *, crc_ok: bool | None, channel: int | None, rssi: int | None) -> AdvFrame | None:
    """A link-layer packet (access address, header, payload, CRC-24) on LE 1M. The CRC is
    always checked here; ``crc_ok`` False is the sniffer saying it failed."""
    if len(packet) < 4 + 2 + 3:
        raise _malformed(f"a link-layer packet of {len(packet)} bytes (at least 9)")
    (aa,) = struct.unpack_from("<I", packet)
    if aa != ADV_ACCESS_ADDRESS:
        return None  # a data-channel packet
    header, length = packet[4], packet[5]
    if 6 + length + 3 != len(packet):
        raise _malformed(f"PDU length field says {length} bytes, the record holds {len(packet) - 9}")
    pdu, crc = packet[4 : 6 + length], packet[6 + length :]
    if crc_ok is False or _crc24(pdu) != crc:
        raise FrameError("bad-crc", "CRC-24 does not match")
    if header & 0x0F not in ADV_DATA_PDUS:
        return None  # scan request, connect indication, extended advertising header
    if not 6 <= length <= 6 + MAX_ADV_DATA:
        raise _malformed(f"{ADV_DATA_PDUS[header & 0x0F]} with a {length}-byte payload (6 to 37)")
    return AdvFrame(_address(pdu[2:8]), bytes(pdu[8:]), channel, rssi)


def phdr_frame(record: bytes) -> AdvFrame | None:
    """A record of link type 256."""
    if len(record) < PHDR_LEN:
        raise _malformed(f"a link-type-256 record of {len(record)} bytes (pseudo-header is {PHDR_LEN})")
    rf, signal, _noise, _offenses, _ref_aa, flags = struct.unpack_from("<BbbBIH", record)
    channel = ADV_CHANNEL_OF_RF.get(rf)
    if channel is None or flags >> PHDR_PHY_SHIFT:
        return None  # not a primary advertising channel, or not LE 1M: no legacy advert
    crc_ok = bool(flags & PHDR_CRC_VALID) if flags & PHDR_CRC_CHECKED else None
    return ll_frame(record[PHDR_LEN:], crc_ok=crc_ok, channel=channel, rssi=signal if flags & PHDR_SIGNAL_VALID else None)


def nordic_frame(record: bytes) -> AdvFrame | None:
    """A record of link type 272 (nRF Sniffer header versions 1, 2 and 3)."""
    if record[:2] == b"\xbe\xef":
        raise _malformed("nRF Sniffer legacy header (firmware before 1.0) is not supported")
    if len(record) < NORDIC_HEADER_LEN + 1:
        raise _malformed(f"a link-type-272 record of {len(record)} bytes")
    version, packet_id = record[3], record[6]
    if version == 1:
        header_len, payload_len = record[1] + 1, record[2]
    elif version in (2, 3):
        header_len, payload_len = NORDIC_HEADER_LEN, int.from_bytes(record[1:3], "little")
    else:
        raise _malformed(f"nRF Sniffer protocol version {version} (1 to 3 are known)")
    if header_len != NORDIC_HEADER_LEN or header_len + payload_len != len(record):
        raise _malformed(f"nRF Sniffer lengths (header {header_len}, payload {payload_len}) do not add up to the record's {len(record)} bytes")
    if packet_id not in (NORDIC_ADV_PACKET, NORDIC_EVENT_PACKET) or (version == 3 and packet_id != NORDIC_ADV_PACKET):
        return None  # follow/connect/disconnect notices, or a data-channel PDU
    at = NORDIC_HEADER_LEN
    event_len = record[at]
    if event_len < 10 or at + event_len > len(record):
        raise _malformed(f"nRF Sniffer event header of {event_len} bytes")
    flags, channel, rssi_sample = record[at + 1], record[at + 2], record[at + 3]
    if (flags >> 4) & 0x7 or channel not in ADV_CHANNEL_OF_RF.values():
        return None  # not LE 1M, or a secondary (auxiliary) advertising channel
    return ll_frame(record[at + event_len :], crc_ok=bool(flags & 0x01), channel=channel, rssi=-rssi_sample)


def hci_frames(event: bytes) -> list[AdvFrame]:
    """The advertising reports of one HCI event packet (event code, length, parameters)."""
    if len(event) < 2 or len(event) != 2 + event[1]:
        raise _malformed(f"HCI event of {len(event)} bytes whose length field says {event[1] if len(event) > 1 else '?'}")
    if event[0] != HCI_LE_META_EVENT or len(event) < 4 or event[2] not in (LE_ADVERTISING_REPORT, LE_EXTENDED_ADVERTISING_REPORT):
        return []
    extended, count, at = event[2] == LE_EXTENDED_ADVERTISING_REPORT, event[3], 4
    frames: list[AdvFrame] = []
    for i in range(count):
        fixed = EXT_REPORT_FIXED if extended else 9
        if at + fixed > len(event):
            raise _malformed(f"advertising report {i + 1} of {count} is cut short")
        length = event[at + fixed - 1]
        end = at + fixed + length + (0 if extended else 1)
        if end > len(event):
            raise _malformed(f"advertising report {i + 1} of {count} claims {length} bytes of data beyond the event")
        data = event[at + fixed : at + fixed + length]
        if extended:
            (kind,) = struct.unpack_from("<H", event, at)
            rssi = struct.unpack_from("b", event, at + 13)[0]
            usable = kind & EXT_LEGACY and not kind & EXT_DATA_STATUS  # legacy, complete (Signal is legacy advertising)
        else:
            rssi = struct.unpack_from("b", event, end - 1)[0]
            usable = length <= MAX_ADV_DATA
        if usable:
            frames.append(AdvFrame(_address(event[at + 3 : at + 9] if extended else event[at + 2 : at + 8]), bytes(data),
                                   None, None if rssi == RSSI_NOT_AVAILABLE else rssi))
        at = end
    return frames
