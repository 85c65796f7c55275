"""Body camera behaviours through the real air: states, Signal rules, buttons."""

from emulators.camera import CameraState
from protocols.signal import Event
from tests.emulators.scene_helpers import clip_reasons, play, profile


def _scene(timeline, *, end_s=60.0, extra_officers=()):
    return {
        "name": "t", "end_s": end_s,
        "officers": [{"name": "P", "cew": "X8TST000P", "position": [0, 0]},
                     {"name": "B", "bwc": "X6TST00B1", "position": [10, 0]}, *extra_officers],
        "timeline": timeline,
    }


def test_states_sleep_dock_and_buttons(tmp_path):
    vs = play(_scene([
        {"t": 5, "do": "sleep", "target": "B"}, {"t": 10, "do": "wake", "target": "B"},
        {"t": 15, "do": "dock", "target": "B"}, {"t": 20, "do": "undock", "target": "B"},
        {"t": 30, "do": "record", "target": "B"}, {"t": 35, "do": "stop", "target": "B"},
    ], end_s=40), tmp_path)
    states = [s for _, s in vs.bwcs["B"].core.state_log]
    assert states == ["READY", "SLEEP", "READY", "DOCKED", "READY", "RECORDING", "READY", "OFF"]
    times = {s: round(t, 1) for t, s in vs.bwcs["B"].core.state_log}
    assert times["DOCKED"] == 15.0
    assert [round(t, 1) for t, s in vs.bwcs["B"].core.state_log if s == "READY"][1:] == [11.0, 22.0, 35.0]  # wake 1 s, boot 2 s, end of the GOP in progress


def test_signal_is_ignored_in_sleep_and_recording_from_sleep_has_no_pre_event(tmp_path):
    vs = play(_scene([
        {"t": 40, "do": "sleep", "target": "B"}, {"t": 42, "do": "cew", "target": "P", "event": "armed"},
        {"t": 50, "do": "record", "target": "B"}, {"t": 54, "do": "stop", "target": "B"},
    ]), tmp_path)
    clips = vs.bwcs["B"].core.clips
    assert [c.trigger.reason for c in clips] == ["BUTTON"]
    assert clips[0].trigger.from_state == "SLEEP"
    assert clips[0].first_utc_ms == clips[0].trigger.utc_ms  # capture began at the press


def test_defect_wakes_on_signal_and_buffers_in_sleep(tmp_path):
    vs = play(_scene([{"t": 40, "do": "sleep", "target": "B"}, {"t": 42, "do": "cew", "target": "P", "event": "armed"},
                      {"t": 50, "do": "stop", "target": "B"}]), tmp_path,
              profile({"bwc": {"activates_in_sleep": True, "buffer_in_sleep": True}}))
    clip = vs.bwcs["B"].core.clips[0]
    assert clip.trigger.reason == "CEW_ARMED"
    assert (clip.trigger.utc_ms - clip.first_utc_ms) / 1000 >= 30  # it kept buffering while asleep


def test_signal_never_stops_repeats_deduplicated_and_cooldown(tmp_path):
    vs = play(_scene([
        {"t": 10, "do": "record", "target": "B"}, {"t": 12, "do": "cew", "target": "P", "event": "armed"},
        {"t": 20, "do": "stop", "target": "B"},
        {"t": 50, "do": "cew", "target": "P", "event": "trigger"}, {"t": 55, "do": "stop", "target": "B"},
        {"t": 60, "do": "cew", "target": "P", "event": "arc"},
    ], end_s=70), tmp_path)
    assert clip_reasons(vs, "B") == [("BUTTON", None, "button"), ("CEW_TRIGGER", "X8TST000P", "button")]
    assert ("X8TST000P", "cool-down") in {(s, why) for _, s, why in vs.bwcs["B"].ignored}


def test_no_cooldown_defect_retriggers_on_the_same_burst(tmp_path):
    vs = play(_scene([{"t": 10, "do": "cew", "target": "P", "event": "armed"}, {"t": 15, "do": "stop", "target": "B"},
                      {"t": 30, "do": "stop", "target": "B"}], end_s=35), tmp_path, profile({"bwc": {"cooldown_s": 0}}))
    reasons = [r for r, _, _ in clip_reasons(vs, "B")]
    assert len(reasons) == 3 and set(reasons) == {"CEW_ARMED"}  # after each stop while the 30 s burst lasts


def test_allow_list_ignores_other_senders(tmp_path):
    vs = play(_scene([{"t": 10, "do": "cew", "target": "P", "event": "armed"}], end_s=15), tmp_path,
              profile({"bwc": {"allow_list": ["X8OTHER01"]}}))
    assert vs.bwcs["B"].core.clips == [] and vs.bwcs["B"].core.state is CameraState.OFF
    assert any(why == "not on the allow-list" for _, _, why in vs.bwcs["B"].ignored)


def test_false_signal_cancel_window_and_marking(tmp_path):
    vs = play(_scene([
        {"t": 10, "do": "cew", "target": "P", "event": "armed"}, {"t": 14, "do": "cancel", "target": "B"},
        {"t": 45, "do": "record", "target": "B"}, {"t": 47, "do": "cancel", "target": "B"}, {"t": 49, "do": "stop", "target": "B"},
    ], end_s=52), tmp_path)
    outcomes = [r.outcome for r in vs.results if r.step.action == "cancel"]
    assert outcomes == ["accepted", "refused"]
    first, second = vs.bwcs["B"].core.clips
    assert first.marks.get("false_signal") is True and first.stop_reason == "false-signal-cancel" and first.path.exists()
    assert "false_signal" not in second.marks


def test_power_cut_keeps_completed_gops(tmp_path):
    vs = play(_scene([{"t": 10, "do": "record", "target": "B"}, {"t": 20.5, "do": "power_cut", "target": "B"}], end_s=22), tmp_path)
    clip = vs.bwcs["B"].core.clips[0]
    assert clip.stop_reason == "power-loss" and clip.path.exists() and clip.fragments >= 9


def test_lost_clips_defect_announces_signal_recordings_it_never_exports(tmp_path):
    vs = play(_scene([{"t": 10, "do": "cew", "target": "P", "event": "armed"}, {"t": 14, "do": "stop", "target": "B"},
                      {"t": 45, "do": "record", "target": "B"}, {"t": 48, "do": "stop", "target": "B"}], end_s=50,
                     extra_officers=[{"name": "W", "bwc": "X6TST00W1", "position": [0, 15]}]), tmp_path,
              profile({"bwc": {"loses_signal_clips": True}}))
    b = vs.bwcs["B"]
    assert [s for _, s in b.core.state_log].count("RECORDING") == 2  # it did record both times
    assert [c.trigger.reason for c in b.core.clips] == ["BUTTON"]  # only the button recording reaches the export
    folder = b.core.clips[0].path.parent
    assert sorted(p.suffix for p in folder.iterdir() if p.name.startswith("X6TST00B1_")) == [".json", ".mp4"]
    heard = [h.loop_t for h in vs.bwcs["W"].heard if h.frame.serial == "X6TST00B1" and h.frame.event is Event.CAMERA_RECORDING_STARTED]
    assert heard and 10 < heard[0] < 11  # the Signal recording was announced on the air as usual
