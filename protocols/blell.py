"""BLE link-layer advertising PDUs as raw bytes, for pcaps with link type 256
(LINKTYPE_BLUETOOTH_LE_LL_WITH_PHDR). Pure: builds bytes, no file I/O.

Record layout: 10-byte pseudo-header (RF channel, signal dBm, noise dBm, AA offenses,
reference AA, flags) + access address + PDU header + AdvA + AdvData + CRC-24.
"""

from __future__ import annotations

import struct

DLT_BLUETOOTH_LE_LL_WITH_PHDR = 256
ADV_ACCESS_ADDRESS = 0x8E89BED6
ADV_CRC_INIT = 0x555555
PDU_ADV_IND = 0x0
PDU_ADV_NONCONN_IND = 0x2

# Flags of the pseudo-header: dewhitened, signal valid, noise valid, reference AA valid
# (LE 1M PHY, advertising channel type 0). Not "CRC checked" (0x0400) nor "CRC valid"
# (0x0800): the harness computes the CRC of the PDUs it writes and checks none received, so a
# reader computes and checks the CRC itself (Wireshark flags a wrong one as btle.crc.incorrect).
PHDR_FLAGS = 0x0001 | 0x0002 | 0x0004 | 0x0010

# RF channel index (0..39, 2402 MHz + 2 MHz * n) of the advertising channels 37, 38, 39.
RF_CHANNEL_OF_ADV_CHANNEL = {37: 0, 38: 12, 39: 39}


def _crc24_table() -> list[int]:
    # The BLE CRC polynomial x^24+x^10+x^9+x^6+x^4+x^3+x+1, processed LSB first
    # (reflected polynomial 0xDA6000).
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xDA6000 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc24_table()


def _reverse24(value: int) -> int:
    out = 0
    for _ in range(24):
        out = (out << 1) | (value & 1)
        value >>= 1
    return out


_INIT_REFLECTED = _reverse24(ADV_CRC_INIT)


def crc24(pdu: bytes, init: int = ADV_CRC_INIT) -> bytes:
    """BLE CRC-24 over a PDU (header + payload), returned as the 3 bytes sent on air."""
    crc = _INIT_REFLECTED if init == ADV_CRC_INIT else _reverse24(init)
    for byte in pdu:
        crc = (crc >> 8) ^ _TABLE[(crc ^ byte) & 0xFF]
    return crc.to_bytes(3, "little")


def address_bytes(address: str) -> bytes:
    """'AA:BB:CC:DD:EE:FF' -> 6 bytes in over-the-air (little endian) order."""
    parts = address.split(":")
    if len(parts) != 6:
        raise ValueError(f"bad BLE address {address!r}")
    return bytes(int(p, 16) for p in reversed(parts))


def adv_pdu(adv_address: str, adv_data: bytes, *, pdu_type: int = PDU_ADV_NONCONN_IND, random_address: bool = True) -> bytes:
    """PDU header + AdvA + AdvData (no access address, no CRC)."""
    if len(adv_data) > 31:
        raise ValueError(f"legacy AdvData is at most 31 bytes, got {len(adv_data)}")
    header0 = (pdu_type & 0x0F) | (0x40 if random_address else 0)
    payload = address_bytes(adv_address) + bytes(adv_data)
    return bytes((header0, len(payload))) + payload


def ll_packet(pdu: bytes) -> bytes:
    """Access address + PDU + CRC, as on air."""
    return struct.pack("<I", ADV_ACCESS_ADDRESS) + pdu + crc24(pdu)


def phdr_header(*, adv_channel: int, rssi_dbm: float, noise_dbm: float = -100) -> bytes:
    """The 10-byte pseudo-header of a link-type-256 record."""
    rf = RF_CHANNEL_OF_ADV_CHANNEL.get(adv_channel)
    if rf is None:
        raise ValueError(f"advertising channel must be 37, 38 or 39, got {adv_channel}")
    rssi = max(-128, min(127, int(round(rssi_dbm))))
    noise = max(-128, min(127, int(round(noise_dbm))))
    return struct.pack("<BbbBIH", rf, rssi, noise, 0, ADV_ACCESS_ADDRESS, PHDR_FLAGS)


def phdr_record(pdu: bytes, *, adv_channel: int, rssi_dbm: float, noise_dbm: float = -100) -> bytes:
    """One link-type-256 record: pseudo-header + LL packet."""
    return phdr_header(adv_channel=adv_channel, rssi_dbm=rssi_dbm, noise_dbm=noise_dbm) + ll_packet(pdu)
