"""Codec for the Signal advert: legacy BLE AdvData carrying Service Data for UUID 0xFE6C.

Wire layout (31 bytes of AdvData; see docs/signal-codec.md)::

    02 01 06                      Flags AD: LE General Discoverable, BR/EDR not supported
    1B 16 6C FE <24-byte payload>  Service Data - 16-bit UUID AD, UUID 0xFE6C (little endian)

24-byte payload, laid out like the public capture in shared/domain.md::

    0      version / frame type (0x01 observed)
    1..9   sender serial, 9 ASCII characters ("X87002FP4" observed)
    10     source class (CEW, holster, vehicle, camera)
    11     event code within the class
    12..15 reserved, zero
    16..18 payload sequence counter, 24-bit little endian (bumped per new payload, repeated by its adverts)
    19     reserved, zero
    20..21 event id, 16-bit little endian (all adverts of one event share it)
    22..23 reserved, zero

Bytes 10, 11, 16-18 and 20-21 are our assignment where the public reverse engineering is
silent or unsure; the decoder accepts unknown classes/codes so that third-party frames decode.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

SIGNAL_UUID16 = 0xFE6C
PAYLOAD_LEN = 24
ADV_DATA_LEN = 31
FLAGS_AD = bytes((0x02, 0x01, 0x06))
SERVICE_DATA_HEADER = bytes((0x1B, 0x16, 0x6C, 0xFE))
SERIAL_LEN = 9
AD_TYPE_FLAGS = 0x01
AD_TYPE_SERVICE_DATA_16 = 0x16


class SignalDecodeError(ValueError):
    """Raised for any byte string that is not a well-formed Signal advert."""


class SourceClass(enum.IntEnum):
    UNKNOWN = 0x00
    CEW = 0x01
    HOLSTER = 0x02
    VEHICLE = 0x03
    CAMERA = 0x04


class Event(enum.Enum):
    """Events with their (source class, code) on the wire."""

    CEW_ARMED = (SourceClass.CEW, 0x01)
    CEW_TRIGGER = (SourceClass.CEW, 0x02)
    CEW_ARC = (SourceClass.CEW, 0x03)
    CEW_PRESENCE = (SourceClass.CEW, 0x00)
    HOLSTER_DRAW = (SourceClass.HOLSTER, 0x01)
    HOLSTER_RETURN = (SourceClass.HOLSTER, 0x02)
    VEHICLE_LIGHT_BAR = (SourceClass.VEHICLE, 0x01)
    VEHICLE_SIREN = (SourceClass.VEHICLE, 0x02)
    VEHICLE_DOOR = (SourceClass.VEHICLE, 0x03)
    VEHICLE_CRASH = (SourceClass.VEHICLE, 0x04)
    VEHICLE_SPEED = (SourceClass.VEHICLE, 0x05)
    CAMERA_PRESENCE = (SourceClass.CAMERA, 0x00)
    CAMERA_RECORDING_STARTED = (SourceClass.CAMERA, 0x01)
    CAMERA_RECORDING_STOPPED = (SourceClass.CAMERA, 0x02)

    @property
    def source_class(self) -> SourceClass:
        return self.value[0]

    @property
    def code(self) -> int:
        return int(self.value[1])

    @property
    def activates_cameras(self) -> bool:
        """Events that start a camera recording. Presence, holster return and camera status
        adverts never do (cameras do not chain each other over BLE)."""
        return self in ACTIVATING_EVENTS


ACTIVATING_EVENTS = frozenset(
    {
        Event.CEW_ARMED,
        Event.CEW_TRIGGER,
        Event.CEW_ARC,
        Event.HOLSTER_DRAW,
        Event.VEHICLE_LIGHT_BAR,
        Event.VEHICLE_SIREN,
        Event.VEHICLE_DOOR,
        Event.VEHICLE_CRASH,
        Event.VEHICLE_SPEED,
    }
)
_BY_WIRE = {(e.source_class.value, e.code): e for e in Event}


@dataclass(frozen=True)
class SignalFrame:
    """One decoded Signal payload. ``event`` is None when the class/code pair is unknown."""

    serial: str
    source_class: int
    event_code: int
    sequence: int = 0
    event_id: int = 0
    version: int = 1

    @classmethod
    def for_event(cls, serial: str, event: Event, *, sequence: int = 0, event_id: int = 0) -> SignalFrame:
        return cls(serial, event.source_class.value, event.code, sequence, event_id)

    @property
    def event(self) -> Event | None:
        return _BY_WIRE.get((self.source_class, self.event_code))

    @property
    def activates_cameras(self) -> bool:
        event = self.event
        return event is not None and event.activates_cameras

    def describe(self) -> str:
        name = self.event.name if self.event else f"unknown(class=0x{self.source_class:02x},code=0x{self.event_code:02x})"
        return f"{self.serial} {name} seq={self.sequence} event_id={self.event_id}"


def _check_serial(serial: str) -> bytes:
    try:
        raw = serial.encode("ascii")
    except UnicodeEncodeError as exc:
        raise SignalDecodeError(f"serial {serial!r} is not ASCII") from exc
    if len(raw) != SERIAL_LEN or not all(0x20 < b < 0x7F for b in raw):
        raise SignalDecodeError(f"serial {serial!r} must be exactly {SERIAL_LEN} printable ASCII characters")
    return raw


def encode_payload(frame: SignalFrame) -> bytes:
    """The 24-byte Service Data payload (without the UUID)."""
    serial = _check_serial(frame.serial)
    for name, value, limit in (
        ("version", frame.version, 0xFF),
        ("source_class", frame.source_class, 0xFF),
        ("event_code", frame.event_code, 0xFF),
        ("sequence", frame.sequence, 0xFFFFFF),
        ("event_id", frame.event_id, 0xFFFF),
    ):
        if not 0 <= value <= limit:
            raise SignalDecodeError(f"{name}={value} out of range 0..{limit}")
    payload = (
        bytes((frame.version,))
        + serial
        + bytes((frame.source_class, frame.event_code))
        + bytes(4)
        + frame.sequence.to_bytes(3, "little")
        + bytes(1)
        + frame.event_id.to_bytes(2, "little")
        + bytes(2)
    )
    assert len(payload) == PAYLOAD_LEN
    return payload


def encode_adv_data(frame: SignalFrame) -> bytes:
    """The full 31-byte legacy AdvData."""
    return FLAGS_AD + SERVICE_DATA_HEADER + encode_payload(frame)


def decode_payload(payload: bytes) -> SignalFrame:
    payload = bytes(payload)
    if len(payload) != PAYLOAD_LEN:
        raise SignalDecodeError(f"Signal payload must be {PAYLOAD_LEN} bytes, got {len(payload)}")
    serial_raw = payload[1:10]
    if not all(0x20 < b < 0x7F for b in serial_raw):
        raise SignalDecodeError(f"Signal payload bytes 1-9 are not a printable ASCII serial: {serial_raw.hex(' ')}")
    return SignalFrame(
        serial=serial_raw.decode("ascii"),
        source_class=payload[10],
        event_code=payload[11],
        sequence=int.from_bytes(payload[16:19], "little"),
        event_id=int.from_bytes(payload[20:22], "little"),
        version=payload[0],
    )


def iter_ad_structures(adv_data: bytes) -> list[tuple[int, bytes]]:
    """Split AdvData into (AD type, value) pairs; raise on a truncated structure."""
    out: list[tuple[int, bytes]] = []
    i = 0
    data = bytes(adv_data)
    while i < len(data):
        length = data[i]
        if length == 0:  # zero padding ends the significant part
            break
        if i + 1 + length > len(data):
            raise SignalDecodeError(
                f"AD structure at offset {i} claims {length} bytes but only {len(data) - i - 1} remain"
            )
        out.append((data[i + 1], data[i + 2 : i + 1 + length]))
        i += 1 + length
    return out


def find_signal_payload(adv_data: bytes) -> bytes | None:
    """The 24-byte payload if AdvData carries Service Data for 0xFE6C, else None.

    Raises SignalDecodeError when the AdvData is malformed or the 0xFE6C service data has
    the wrong size."""
    if len(adv_data) > ADV_DATA_LEN:
        raise SignalDecodeError(f"legacy AdvData is at most {ADV_DATA_LEN} bytes, got {len(adv_data)}")
    for ad_type, value in iter_ad_structures(adv_data):
        if ad_type == AD_TYPE_SERVICE_DATA_16 and len(value) >= 2 and int.from_bytes(value[:2], "little") == SIGNAL_UUID16:
            if len(value) - 2 != PAYLOAD_LEN:
                raise SignalDecodeError(
                    f"service data for UUID 0xFE6C carries {len(value) - 2} bytes, expected {PAYLOAD_LEN}"
                )
            return value[2:]
    return None


def find_signal_frame(adv_data: bytes) -> SignalFrame | None:
    """The Signal frame an AdvData carries, None when it carries no 0xFE6C service data;
    SignalDecodeError when it is malformed (what every listener on the air calls)."""
    payload = find_signal_payload(adv_data)
    return None if payload is None else decode_payload(payload)


def decode_adv_data(adv_data: bytes) -> SignalFrame:
    """Decode a complete AdvData; raise SignalDecodeError if it is not a Signal advert."""
    payload = find_signal_payload(adv_data)
    if payload is None:
        raise SignalDecodeError("AdvData carries no Service Data for UUID 0xFE6C")
    return decode_payload(payload)
