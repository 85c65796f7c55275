"""Device clocks (offset, drift, unset) in the evidence; the holster sensor and the CEW's
events on the real air; presence adverts at the idle rate."""

from instruments.clip_analyzer import analyze_clip
from protocols.signal import Event
from tests.emulators.scene_helpers import play, profile


def _scene(timeline, end_s=30.0):
    return {"name": "t", "end_s": end_s,
            "officers": [{"name": "S", "cew": "X8CLK000S", "holster": "X8CLK000H", "position": [0, 0]},
                         {"name": "B", "bwc": "X6CLK00B1", "position": [10, 0]}],
            "timeline": timeline}


def test_clock_offset_and_drift_show_in_timecodes_and_metadata(tmp_path):
    vs = play(_scene([{"t": 10, "do": "record", "target": "B"}, {"t": 14, "do": "stop", "target": "B"}]), tmp_path,
              profile({"bwc": {"clock": {"offset_s": 4.0, "drift_ppm": 1000}}}))
    (clip,) = vs.bwcs["B"].core.clips
    true_ms = vs.clock.utc_ms(clip.trigger.loop_t)
    assert clip.trigger.utc_ms - true_ms == 4000 + round(clip.trigger.loop_t * 1.0)  # 4 s + 1 ms per s of drift
    a = analyze_clip(clip.path)
    assert a.ok and a.clock_unset_frames == 0


def test_unset_clock_is_flagged_in_every_frame(tmp_path):
    vs = play(_scene([{"t": 10, "do": "record", "target": "B"}, {"t": 13, "do": "stop", "target": "B"}]), tmp_path,
              profile({"bwc": {"clock": {"unset": True}}}))
    (clip,) = vs.bwcs["B"].core.clips
    a = analyze_clip(clip.path)
    assert a.readable > 0 and a.clock_unset_frames == a.readable
    assert '"clock_state": "unset"' in clip.metadata_path.read_text()


def test_holster_draw_and_cew_events_on_the_air(tmp_path):
    vs = play(_scene([{"t": 5, "do": "holster", "target": "S", "event": "draw"}, {"t": 9, "do": "stop", "target": "B"},
                      {"t": 20, "do": "cew", "target": "S", "event": "arc"}, {"t": 24, "do": "stop", "target": "B"}]), tmp_path)
    assert [c.trigger.reason for c in vs.bwcs["B"].core.clips] == ["HOLSTER_DRAW", "CEW_ARC"]
    heard = vs.bwcs["B"].heard
    presence = [h for h in heard if h.frame.event is Event.CEW_PRESENCE and h.loop_t < 5]
    assert 2 <= len(presence) <= 5  # ~1/s idle presence before any event (95 % delivery at 10 ft)
    burst = [h for h in heard if h.frame.event is Event.CEW_ARC and 20 <= h.loop_t < 21]
    assert len(burst) >= 15  # 20/s during the burst


def test_drift_accumulates_from_the_last_sync_before_the_scene(tmp_path):
    """0.5 s/h (139 ppm) since a sync 8 h before the scene: the clock is ~4 s off at the start."""
    vs = play(_scene([{"t": 10, "do": "record", "target": "B"}, {"t": 12, "do": "stop", "target": "B"}], end_s=14), tmp_path,
              profile({"bwc": {"clock": {"drift_ppm": 139.0, "synced_h_before": 8.0}}}))
    (clip,) = vs.bwcs["B"].core.clips
    t = clip.trigger.loop_t
    assert clip.trigger.utc_ms - vs.clock.utc_ms(t) == round((8 * 3600 + t) * 139e-6 * 1000)  # 4004 ms


def test_a_profiles_radio_settings_reach_the_air(tmp_path):
    """A CEW 6 dB weaker starts the camera 15 ft away, not the one 25 ft away; the cameras
    scan with the profile's interval and window."""
    scene = {"name": "t", "end_s": 12,
             "officers": [{"name": "S", "cew": "X8CLK000S", "position": [0, 0]},
                          {"name": "N", "bwc": "X6CLK00N1", "position": [15, 0]}, {"name": "F", "bwc": "X6CLK00F1", "position": [0, 25]}],
             "timeline": [{"t": 5, "do": "cew", "target": "S", "event": "armed"}, {"t": 10, "do": "stop_all"}]}
    vs = play(scene, tmp_path, profile({"cew": {"tx_power_dbm": -6.0}, "bwc": {"scan_interval_ms": 100.0, "scan_window_ms": 50.0}}))
    assert [c.trigger.reason for c in vs.bwcs["N"].core.clips] == ["CEW_ARMED"] and vs.bwcs["F"].core.clips == []
    assert vs.air.node("CEW-S").tx_power_db == -6.0
    camera = vs.air.node("BWC-N").controller
    assert (camera.le_scan_interval * 0.625, camera.le_scan_window * 0.625) == (100.0, 50.0)
