"""In-car protocol (ICP): the datagrams a body camera and its cruiser's DVR exchange over UDP.

Documented in docs/incar-protocol.md. Every datagram is::

    0..3   magic b"ICP1"
    4      message type (see MessageType)
    5      flags (bit 0: ack requested)
    6..7   sequence number, big endian
    8..16  sender serial, 9 ASCII characters
    17..24 vehicle id, 8 ASCII characters (right padded with spaces)
    25..32 event time, UTC milliseconds, big endian (sender's clock)
    33     reason (signal.Event source class)
    34     reason code (signal.Event code)
    35..38 CRC-32 (zlib) of bytes 0..34, big endian

Pure codec: no sockets here.
"""

from __future__ import annotations

import enum
import struct
import zlib
from dataclasses import dataclass

MAGIC = b"ICP1"
DEFAULT_PORT = 47_600
_LAYOUT = struct.Struct(">4sBBH9s8sQBB")
DATAGRAM_LEN = _LAYOUT.size + 4
FLAG_ACK_REQUESTED = 0x01


class IncarDecodeError(ValueError):
    """A datagram that is not a valid ICP message."""


class MessageType(enum.IntEnum):
    HEARTBEAT = 0x01
    RECORDING_STARTED = 0x02
    RECORDING_STOPPED = 0x03
    ACK = 0x04
    STOP_GROUP = 0x05


@dataclass(frozen=True)
class IncarMessage:
    type: MessageType
    sender_serial: str
    vehicle_id: str
    event_utc_ms: int
    sequence: int = 0
    reason_class: int = 0
    reason_code: int = 0
    flags: int = 0

    def encode(self) -> bytes:
        serial = self.sender_serial.encode("ascii")
        vehicle = self.vehicle_id.encode("ascii")
        if len(serial) != 9:
            raise IncarDecodeError(f"sender serial {self.sender_serial!r} must be 9 ASCII characters")
        if len(vehicle) > 8:
            raise IncarDecodeError(f"vehicle id {self.vehicle_id!r} is longer than 8 characters")
        body = _LAYOUT.pack(
            MAGIC, int(self.type), self.flags, self.sequence & 0xFFFF, serial, vehicle.ljust(8),
            self.event_utc_ms, self.reason_class, self.reason_code,
        )
        return body + struct.pack(">I", zlib.crc32(body))


def decode(datagram: bytes) -> IncarMessage:
    if len(datagram) != DATAGRAM_LEN:
        raise IncarDecodeError(f"ICP datagram must be {DATAGRAM_LEN} bytes, got {len(datagram)}")
    body, (crc,) = datagram[:-4], struct.unpack(">I", datagram[-4:])
    if zlib.crc32(body) != crc:
        raise IncarDecodeError("ICP datagram CRC-32 mismatch")
    magic, mtype, flags, seq, serial, vehicle, t_ms, rc, rcode = _LAYOUT.unpack(body)
    if magic != MAGIC:
        raise IncarDecodeError(f"bad ICP magic {magic!r}")
    try:
        kind = MessageType(mtype)
    except ValueError as exc:
        raise IncarDecodeError(f"unknown ICP message type 0x{mtype:02x}") from exc
    try:
        return IncarMessage(kind, serial.decode("ascii"), vehicle.decode("ascii").rstrip(), t_ms, seq, rc, rcode, flags)
    except UnicodeDecodeError as exc:
        raise IncarDecodeError("ICP serial or vehicle id is not ASCII") from exc
