"""Authenticated Signal in the emulators (docs/signal-auth.md): the camera's gate in each mode,
and one scene on the real air where an authenticated CEW starts an authenticated camera while
a replay and a spoof of it start nothing, unless a seeded defect says otherwise."""

import pytest

from emulators.signal_trust import AUTHENTICATED, LEGACY, BwcAuthSpec, SignalGate, SourceAuthSpec, source_signer
from protocols.signal import Event, SignalFrame, encode_adv_data
from protocols.signal_auth import decode_auth_payload, forged_adverts
from tests.emulators.scene_helpers import clip_reasons, play, profile

CEW = "X8AUT000A"


def _signed(sequence: int, agency: str = "emulated agency") -> bytes:
    sign = source_signer(CEW, SourceAuthSpec(enabled=True, agency=agency))
    assert sign is not None
    return sign(SignalFrame.for_event(CEW, Event.CEW_ARMED, sequence=sequence, event_id=1))


def _legacy(event_id: int) -> bytes:
    return encode_adv_data(SignalFrame.for_event(CEW, Event.CEW_ARMED, event_id=event_id))


def test_the_source_signer_uses_the_payload_sequence_as_counter():
    frame = decode_auth_payload(_signed(77)[7:])
    assert (frame.serial, frame.counter, frame.key_id) == (CEW, 77, 1)
    assert source_signer(CEW, SourceAuthSpec()) is None  # legacy by default


@pytest.mark.parametrize("mode, legacy_first, auth, forged, legacy_after", [
    ("legacy", LEGACY, LEGACY, LEGACY, LEGACY),  # nothing is verified
    ("mixed", LEGACY, AUTHENTICATED, None, None),  # a legacy frame claiming a sender heard authenticated: downgrade
    ("required", None, AUTHENTICATED, None, None),
])
def test_the_gate_in_each_mode(mode, legacy_first, auth, forged, legacy_after):
    gate, ignored = SignalGate(BwcAuthSpec(mode=mode)), []
    genuine = _signed(5)
    forgery = next(iter(forged_adverts(genuine, None, 1) or []))
    assert gate.admit(_legacy(1), CEW, 0.0, ignored) == legacy_first
    assert gate.admit(genuine, CEW, 1.0, ignored) == auth
    assert gate.admit(genuine, CEW, 1.1, ignored) == (LEGACY if mode == "legacy" else None)  # a repeat
    assert gate.admit(forgery, CEW, 2.0, ignored) == forged
    assert gate.admit(_legacy(2), CEW, 3.0, ignored) == legacy_after
    why = {w for _, _, w in ignored}
    assert why == {"legacy": set(), "mixed": {"forged", "downgrade"}, "required": {"not authenticated", "forged"}}[mode]
    assert "repeat" not in why and (mode == "legacy" or gate.verdicts["repeat"] == 1)


def test_a_camera_of_another_agency_takes_genuine_frames_for_forgeries():
    gate, ignored = SignalGate(BwcAuthSpec(mode="required", agency="Shelbyville PD")), []
    assert gate.admit(_signed(5), CEW, 0.0, ignored) is None and ignored == [(0.0, CEW, "forged")]


def _scene() -> dict:
    return {
        "name": "auth", "end_s": 62,
        "officers": [{"name": "A", "bwc": "X6AUT00A1", "cew": CEW, "position": [0, 0]},
                     {"name": "B", "bwc": "X6AUT00B1", "position": [8, 0]}],
        "attackers": [{"name": "EVE", "position": [0, 15]}],
        "timeline": [
            {"t": 3, "do": "cew", "target": "A", "event": "armed"},  # EVE sniffs this authenticated advert
            {"t": 38, "do": "stop_all"},  # after the 30 s burst; the replay comes after the 35 s repeat hold
            {"t": 42, "do": "attack", "target": "EVE", "kind": "replay", "serial": CEW, "count": 20},
            {"t": 48, "do": "attack", "target": "EVE", "kind": "spoof", "serial": CEW, "event": "trigger", "count": 20},
            {"t": 58, "do": "stop_all"},
        ],
    }


def _starts(vs, officer: str) -> list[str]:
    return [reason for reason, sender, _ in clip_reasons(vs, officer) if sender == CEW]


@pytest.mark.parametrize("bwc_auth, started", [
    ({"mode": "required"}, ["CEW_ARMED"]),  # the genuine event only
    ({"mode": "required", "replay_window": False}, ["CEW_ARMED", "CEW_ARMED"]),  # the replay starts it again
    ({"mode": "required", "checks_mac": False}, ["CEW_ARMED", "CEW_TRIGGER"]),  # the forgery starts it
    ({"mode": "legacy"}, ["CEW_ARMED", "CEW_TRIGGER"]),  # a legacy camera: the forgery is a new event id to it
])
def test_replay_and_spoof_of_an_authenticated_cew(tmp_path, bwc_auth, started):
    prof = profile({"cew": {"signal_auth": {"enabled": True}}, "bwc": {"signal_auth": bwc_auth}})
    vs = play(_scene(), tmp_path, prof)
    eve = vs.attackers["EVE"]
    assert eve.sent["replay"] == 20 and eve.sent["spoof"] == 20
    assert _starts(vs, "A") == started and _starts(vs, "B") == started
    gate = vs.bwcs["A"].signal_gate
    if bwc_auth == {"mode": "required"}:
        assert gate.verdicts["accepted"] == 1 and gate.verdicts["repeat"] > 100  # one event, one acceptance
        assert gate.verdicts["forged"] >= 10 and gate.verdicts["replay"] >= 10  # (some of 20 missed by the scan)
