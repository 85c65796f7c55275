import pytest

from protocols.incar import DATAGRAM_LEN, IncarDecodeError, IncarMessage, MessageType, decode


def _msg(**kw):
    base = dict(type=MessageType.RECORDING_STARTED, sender_serial="X6BWC00A1", vehicle_id="CAR-A", event_utc_ms=1_780_000_060_600, sequence=9, reason_class=1, reason_code=1, flags=1)
    base.update(kw)
    return IncarMessage(**base)


def test_round_trip():
    m = _msg()
    raw = m.encode()
    assert len(raw) == DATAGRAM_LEN and raw[:4] == b"ICP1"
    assert decode(raw) == m


def test_corruption_is_detected():
    raw = bytearray(_msg().encode())
    raw[20] ^= 0x01
    with pytest.raises(IncarDecodeError, match="CRC"):
        decode(bytes(raw))
    with pytest.raises(IncarDecodeError, match="39 bytes"):
        decode(bytes(raw[:-1]))


def test_bad_fields_are_named():
    with pytest.raises(IncarDecodeError, match="9 ASCII"):
        _msg(sender_serial="X").encode()
    with pytest.raises(IncarDecodeError, match="longer than 8"):
        _msg(vehicle_id="CAR-A-LONG-ID").encode()
    import struct
    import zlib
    body = bytearray(_msg().encode()[:-4])
    body[4] = 0x7F
    with pytest.raises(IncarDecodeError, match="unknown ICP message type 0x7f"):
        decode(bytes(body) + struct.pack(">I", zlib.crc32(bytes(body))))
