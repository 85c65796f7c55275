"""The attacker's flood and the sender-table defects, on the real air (the suite's SEC-004
procedure is proven in tests/conformance/test_suite_verdicts.py)."""

from __future__ import annotations

from tests.emulators.scene_helpers import clip_reasons, play, profile

LISTED = "X8TST000P"


def _flood_scene(end_s: float = 30.0) -> dict:
    """Camera B with CEW P 10 ft away; an attacker 5 ft away floods 200 unlisted senders from
    t=5 s at 20 ms; P fires at 10 s (all 200 heard), B is stopped at 12 s while P's burst and
    the flood go on."""
    return {"name": "flood", "end_s": end_s,
            "officers": [{"name": "B", "position": [0, 0], "bwc": "X6TST00B1"}, {"name": "P", "position": [10, 0], "cew": LISTED}],
            "attackers": [{"name": "A", "position": [5, 0]}],
            "timeline": [{"t": 5, "do": "attack", "target": "A", "kind": "flood", "senders": 200, "count": 1000, "interval_ms": 20, "event": "armed"},
                         {"t": 10, "do": "cew", "target": "P", "event": "armed"}, {"t": 12, "do": "stop", "target": "B"}]}


def test_a_flood_claims_a_new_sender_in_each_advert(tmp_path):
    vs = play(_flood_scene(), tmp_path, profile({"bwc": {"allow_list": [LISTED]}}))
    unlisted = {s for _, s, why in vs.bwcs["B"].ignored if why == "not on the allow-list"}
    assert len(unlisted) == 200 and all(s.startswith("X8") and len(s) == 9 for s in unlisted)
    assert vs.attackers["A"].sent["flood"] == 1000
    assert clip_reasons(vs, "B") == [("CEW_ARMED", LISTED, "button")]  # the reference: one recording, the genuine event's
    assert len(vs.bwcs["B"].heard) <= 2000  # its inspection log is bounded


def test_a_full_sender_table_that_drops_new_senders_misses_the_genuine_cew(tmp_path):
    vs = play(_flood_scene(), tmp_path, profile({"bwc": {"allow_list": [LISTED], "sender_table_size": 64, "sender_table_full": "drop-new"}}))
    assert vs.bwcs["B"].core.clips == []
    assert any(s == LISTED and why == "sender table full" for _, s, why in vs.bwcs["B"].ignored)


def test_an_evicting_sender_table_forgets_the_genuine_events_deduplication(tmp_path):
    vs = play(_flood_scene(), tmp_path, profile({"bwc": {"allow_list": [LISTED], "sender_table_size": 64, "sender_table_full": "evict-oldest"}}))
    reasons = clip_reasons(vs, "B")
    assert len(reasons) == 2 and {r[:2] for r in reasons} == {("CEW_ARMED", LISTED)}  # P's repeats started a second recording
