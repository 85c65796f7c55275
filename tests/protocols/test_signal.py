import pytest
from scapy.layers.bluetooth4LE import BTLE_ADV_NONCONN_IND

from protocols.signal import (
    ADV_DATA_LEN, Event, SignalDecodeError, SignalFrame, SourceClass, decode_adv_data, decode_payload,
    encode_adv_data, encode_payload, find_signal_payload,
)

CAPTURE = bytes.fromhex("01 58 38 37 30 30 32 46 50 34 01 02 00 00 00 00 CE 1B 33 00 00 02 00 00")


def test_decodes_the_public_capture():
    frame = decode_payload(CAPTURE)
    assert frame.serial == "X87002FP4"
    assert frame.version == 1
    assert frame.source_class == SourceClass.CEW
    assert frame.event is Event.CEW_TRIGGER
    assert frame.sequence == 0x331BCE
    assert frame.activates_cameras


def test_public_capture_round_trips_byte_exact():
    assert encode_payload(decode_payload(CAPTURE)) == CAPTURE


def test_adv_data_layout_is_the_documented_31_bytes():
    data = encode_adv_data(SignalFrame.for_event("X87002FP4", Event.CEW_ARMED, sequence=7, event_id=3))
    assert len(data) == ADV_DATA_LEN
    assert data[:3] == bytes.fromhex("020106")
    assert data[3:7] == bytes.fromhex("1B166CFE")
    assert data[8:17] == b"X87002FP4"
    assert decode_adv_data(data) == SignalFrame("X87002FP4", 1, 1, 7, 3, 1)


@pytest.mark.parametrize("event", list(Event))
def test_every_event_round_trips(event):
    frame = SignalFrame.for_event("X6BWC00A1", event, sequence=0xABCDEF, event_id=0xBEEF)
    assert decode_adv_data(encode_adv_data(frame)).event is event


def test_scapy_dissects_our_adv_data_as_service_data_for_fe6c():
    data = encode_adv_data(SignalFrame.for_event("X87002FP4", Event.CEW_ARC))
    structures = BTLE_ADV_NONCONN_IND(bytes(6) + data).data  # AdvA + AdvData, as on air
    assert [s.type for s in structures] == [0x01, 0x16]
    service = structures[1]
    assert service.payload.svc_uuid == 0xFE6C
    assert bytes(service.payload.payload)[1:10] == b"X87002FP4"


def test_unknown_event_codes_decode_without_a_name():
    payload = bytearray(CAPTURE)
    payload[10], payload[11] = 0x7E, 0x55
    frame = decode_payload(bytes(payload))
    assert frame.event is None and not frame.activates_cameras
    assert "unknown(class=0x7e,code=0x55)" in frame.describe()


@pytest.mark.parametrize(
    "data, message",
    [
        (bytes.fromhex("020106") + bytes.fromhex("1B166CFE") + CAPTURE[:20], "claims 27 bytes"),
        (bytes.fromhex("020106") + bytes.fromhex("17166CFE") + CAPTURE[:20], "carries 20 bytes, expected 24"),
        (bytes.fromhex("020106") + bytes.fromhex("1B166BFE") + CAPTURE, "no Service Data for UUID 0xFE6C"),
        (bytes(40), "at most 31 bytes"),
        (bytes.fromhex("020106") + bytes.fromhex("1B166CFE") + b"\x01" + b"\xff" * 9 + CAPTURE[10:], "not a printable ASCII serial"),
    ],
)
def test_malformed_bytes_raise_one_typed_error(data, message):
    with pytest.raises(SignalDecodeError, match=message):
        decode_adv_data(data)


def test_payload_of_wrong_length_and_bad_serials_are_rejected():
    with pytest.raises(SignalDecodeError, match="24 bytes"):
        decode_payload(CAPTURE[:-1])
    with pytest.raises(SignalDecodeError, match="exactly 9"):
        encode_payload(SignalFrame("SHORT", 1, 1))
    with pytest.raises(SignalDecodeError, match="not ASCII"):
        encode_payload(SignalFrame("X8700ÄFP4", 1, 1))
    with pytest.raises(SignalDecodeError, match="sequence"):
        encode_payload(SignalFrame("X87002FP4", 1, 1, sequence=1 << 24))


def test_non_signal_adverts_are_not_signal():
    assert find_signal_payload(bytes.fromhex("020106 0509414243 44")) is None
