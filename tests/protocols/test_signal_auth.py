"""The authenticated Signal dialect (protocols/signal_auth.py, docs/signal-auth.md): layout,
MAC, replay window, and the 10^4-frame forgery and replay counts SEC-001/002 ask for."""

import hashlib
import hmac
import random

import pytest

from protocols.signal import Event, SignalDecodeError, SignalFrame, decode_adv_data, decode_payload, encode_payload
from protocols.signal_auth import (
    COUNTER_MAX, DOMAIN, AuthFrame, Verdict, decode_auth_payload, device_key, emulation_agency_key,
    encode_auth_adv_data, encode_auth_payload, iter_forgeries, mac, verifier_for,
)

AGENCY = "Springfield PD"
SERIAL = "X8CEW0001"
KEY = device_key(emulation_agency_key(AGENCY, 7), SERIAL)


def signed(counter: int, event: Event = Event.CEW_ARMED, serial: str = SERIAL, key: bytes = KEY, key_id: int = 7) -> bytes:
    return encode_auth_payload(AuthFrame.for_event(serial, event, counter, key_id), key)


def test_byte_layout_is_the_documented_one():
    p = signed(0x030201, Event.CEW_TRIGGER)
    assert len(p) == 24
    assert p[0] == 0x02
    assert p[1:10] == b"X8CEW0001"
    assert (p[10], p[11]) == (0x01, 0x02)
    assert p[12:20] == mac(p, KEY)
    assert p[20:23] == bytes((0x01, 0x02, 0x03))
    assert p[23] == 7


def test_round_trip_every_field():
    frame = AuthFrame(SERIAL, 0x03, 0x05, 0xABCDEF, 0xFE)
    p = encode_auth_payload(frame, KEY)
    back = decode_auth_payload(p)
    assert (back.serial, back.source_class, back.event_code, back.counter, back.key_id) == (SERIAL, 3, 5, 0xABCDEF, 0xFE)
    assert back.mac == mac(p, KEY)
    assert encode_auth_payload(back, KEY) == p


def test_a_legacy_decoder_still_reads_serial_event_and_event_id():
    frame = decode_payload(signed(0x01BEEF, Event.CEW_ARC))
    assert (frame.version, frame.serial, frame.event, frame.event_id) == (2, SERIAL, Event.CEW_ARC, 0xBEEF)
    adv = decode_adv_data(encode_auth_adv_data(AuthFrame.for_event(SERIAL, Event.CEW_ARMED, 9, 7), KEY))
    assert adv.activates_cameras and adv.event_id == 9


def test_legacy_frames_decode_as_before_and_are_not_authenticated():
    capture = bytes.fromhex("01 58 38 37 30 30 32 46 50 34 01 02 00 00 00 00 CE 1B 33 00 00 02 00 00")
    assert encode_payload(decode_payload(capture)) == capture
    assert decode_payload(capture).event is Event.CEW_TRIGGER
    assert verifier_for(AGENCY, (7,)).check(capture, 0.0) is Verdict.NOT_AUTHENTICATED
    with pytest.raises(SignalDecodeError):
        decode_auth_payload(capture)


@pytest.mark.parametrize("bad", [{"counter": 0}, {"counter": COUNTER_MAX + 1}, {"key_id": 256}, {"serial": "SHORT"}])
def test_out_of_range_fields_are_refused(bad):
    fields = {"serial": SERIAL, "source_class": 1, "event_code": 1, "counter": 1, "key_id": 7, **bad}
    with pytest.raises(SignalDecodeError):
        encode_auth_payload(AuthFrame(**fields), KEY)


def test_the_mac_is_bound_to_the_domain_and_to_the_sender():
    p = signed(5)
    assert p[12:20] != hmac.new(KEY, p[:12] + p[20:], hashlib.sha256).digest()[:8]  # DOMAIN is mixed in
    assert DOMAIN.startswith(b"bwc-harness/signal-auth/v2")
    other = signed(5, serial="X8CEW0002")  # signed with SERIAL's device key, claiming another serial
    assert verifier_for(AGENCY, (7,)).check(other, 0.0) is Verdict.FORGED
    assert verifier_for("Shelbyville PD", (7,)).check(p, 0.0) is Verdict.FORGED
    assert verifier_for(AGENCY, (8,)).check(p, 0.0) is Verdict.UNKNOWN_KEY


@pytest.mark.parametrize("offset", range(24))
def test_tampering_with_any_byte_is_rejected(offset):
    genuine = signed(1000)
    for bit in range(8):
        tampered = bytearray(genuine)
        tampered[offset] ^= 1 << bit
        verdict = verifier_for(AGENCY, (7,)).check(bytes(tampered), 0.0)
        assert not verdict.acts, (offset, bit, verdict)
        assert verdict in (Verdict.FORGED, Verdict.NOT_AUTHENTICATED, Verdict.UNKNOWN_KEY)


def test_repeats_of_one_payload_are_one_acceptance():
    v = verifier_for(AGENCY, (7,))
    p = signed(42)
    verdicts = [v.check(p, i * 0.05 + ch * 0.0004) for i in range(600) for ch in range(3)]  # 30 s burst, 3 channels
    assert verdicts.count(Verdict.ACCEPTED) == 1 and verdicts[0] is Verdict.ACCEPTED
    assert set(verdicts[1:]) == {Verdict.REPEAT}


def test_out_of_order_counters_inside_the_window_are_accepted_once():
    v = verifier_for(AGENCY, (7,))
    assert [v.check(signed(c), 0.0) for c in (10, 8, 9, 8, 10)] == [
        Verdict.ACCEPTED, Verdict.ACCEPTED, Verdict.ACCEPTED, Verdict.REPEAT, Verdict.REPEAT]
    assert v.check(signed(10 + 64), 1.0) is Verdict.ACCEPTED
    assert v.check(signed(10), 1.0) is Verdict.REPLAY  # fell out of the 64-counter window
    assert v.check(signed(11), 1.0) is Verdict.ACCEPTED  # never seen, still inside it


def test_a_replay_after_the_hold_is_rejected():
    v = verifier_for(AGENCY, (7,))
    p = signed(3)
    assert v.check(p, 0.0) is Verdict.ACCEPTED
    assert v.check(p, 35.0) is Verdict.REPEAT
    assert v.check(p, 35.5) is Verdict.REPLAY
    assert v.check(p, 3600.0) is Verdict.REPLAY


def test_ten_thousand_forged_frames_none_accepted():
    v = verifier_for(AGENCY, (7,))
    genuine = signed(500)
    assert v.check(genuine, 0.0) is Verdict.ACCEPTED
    rng = random.Random(15)
    forged = list(iter_forgeries(genuine, 5000, seed=1))  # valid-looking counters, guessed MACs
    forged += [bytes((2,)) + SERIAL.encode() + bytes((1, rng.choice((1, 2, 3)))) + rng.randbytes(11) + bytes((7,)) for _ in range(5000)]
    verdicts = [v.check(f, 1.0 + i * 0.02) for i, f in enumerate(forged)]
    assert len(verdicts) == 10_000 and verdicts.count(Verdict.ACCEPTED) == 0
    assert set(verdicts) == {Verdict.FORGED}
    assert list(v.senders) == [SERIAL] and v.senders[SERIAL].highest == 500  # forgeries leave no state


def test_ten_thousand_replays_none_accepted():
    v = verifier_for(AGENCY, (7,))
    genuine = [signed(c, Event.CEW_ARMED if c % 2 else Event.CEW_PRESENCE) for c in range(1, 201)]
    assert all(v.check(p, i * 1.0) is Verdict.ACCEPTED for i, p in enumerate(genuine))
    rng = random.Random(16)
    replays = [rng.choice(genuine) for _ in range(10_000)]
    verdicts = [v.check(p, 300.0 + i * 0.02) for i, p in enumerate(replays)]
    assert verdicts.count(Verdict.ACCEPTED) == 0 and set(verdicts) == {Verdict.REPLAY}


def test_seeded_defects_accept_replays_and_forgeries():
    genuine = signed(9)
    no_window = verifier_for(AGENCY, (7,), replay_window=False)
    assert [no_window.check(genuine, t) for t in (0.0, 3600.0)] == [Verdict.ACCEPTED, Verdict.ACCEPTED]
    no_mac = verifier_for(AGENCY, (7,), checks_mac=False)
    assert no_mac.check(genuine, 0.0) is Verdict.ACCEPTED
    assert all(no_mac.check(f, 1.0).acts for f in iter_forgeries(genuine, 100))
    assert not any(verifier_for(AGENCY, (7,)).check(f, 1.0).acts for f in iter_forgeries(genuine, 100))


def test_legacy_and_authenticated_frames_of_one_event_share_serial_and_event():
    legacy = decode_payload(encode_payload(SignalFrame.for_event(SERIAL, Event.CEW_ARMED, event_id=4)))
    auth = decode_payload(signed(4))
    assert (legacy.serial, legacy.event, legacy.event_id) == (auth.serial, auth.event, auth.event_id)
