"""Cruiser DVR behaviours: debounce and delayed-off, routing, chaining, group recording."""

from tests.emulators.scene_helpers import play, profile

VEHICLES = [{"id": "CAR-1", "dvr": "F3TST0011", "officer": "V", "position": [0, 0]},
            {"id": "CAR-2", "dvr": "F3TST0021", "officer": "W", "position": [-20, 0]}]
OFFICERS = [{"name": "V", "bwc": "X6TST00V1", "vehicle": "CAR-1", "position": [10, 0]},
            {"name": "W", "bwc": "X6TST00W1", "vehicle": "CAR-2", "position": [0, 60]}]


def _inputs(timeline, end_s=30.0):
    return {"name": "t", "end_s": end_s, "officers": OFFICERS, "vehicles": VEHICLES, "timeline": timeline}


def test_debounce_glitches_and_delayed_off(tmp_path):
    vs = play(_inputs([
        {"t": 5, "do": "input", "target": "CAR-1", "input": "siren", "level": "on", "pulse_ms": 150},
        {"t": 8, "do": "input", "target": "CAR-1", "input": "siren", "level": "on"},
        {"t": 12, "do": "input", "target": "CAR-1", "input": "siren", "level": "off", "pulse_ms": 500},  # a dip
        {"t": 15, "do": "input", "target": "CAR-1", "input": "siren", "level": "off"},
    ]), tmp_path)
    edges = [(round(t, 3), level) for t, level in vs.dvrs["CAR-1"].inputs["siren"].edges]
    assert edges == [(8.25, True), (17.0, False)]  # the reference's 250 ms debounce; off only after 2 s low


def test_vehicle_event_routing(tmp_path):
    vs = play(_inputs([{"t": 10, "do": "input", "target": "CAR-1", "input": "light_bar", "level": "on"},
                       {"t": 20, "do": "stop_all"}], end_s=25), tmp_path)
    own, other = vs.dvrs["CAR-1"], vs.dvrs["CAR-2"]
    assert [c.trigger.reason for c in own.front.clips] == ["VEHICLE_LIGHT_BAR"] and len(own.rear.clips) == 1
    assert other.front.clips == [] and other.rear.clips == []
    assert [c.trigger.reason for c in vs.bwcs["V"].core.clips] == ["VEHICLE_LIGHT_BAR"]  # 10 ft: Signal Vehicle reached it
    assert vs.bwcs["W"].core.clips == []


def test_wrong_vehicle_defect_follows_other_cars(tmp_path):
    vs = play(_inputs([{"t": 10, "do": "input", "target": "CAR-1", "input": "light_bar", "level": "on"},
                       {"t": 20, "do": "stop_all"}], end_s=25), tmp_path, profile({"dvr": {"accepts_any_vehicle": True}}))
    assert vs.dvrs["CAR-2"].front.clips  # started by CAR-1's Signal or V's in-car message


def test_bwc_chains_its_own_dvr_only(tmp_path):
    vs = play(_inputs([{"t": 10, "do": "record", "target": "V"}, {"t": 15, "do": "stop_all"}], end_s=20), tmp_path)
    assert [c.trigger.reason for c in vs.dvrs["CAR-1"].front.clips] == ["BWC_RECORDING_STARTED"]
    assert vs.dvrs["CAR-2"].front.clips == []
    assert vs.dvrs["CAR-2"].ignored and vs.dvrs["CAR-2"].ignored[0].sender_serial == "X6TST00V1"


def _group(timeline):
    officers = [{"name": f"G{i}", "bwc": f"X6GRT00G{i}", "vehicle": "CAR-G", "position": [40 * i, 40]} for i in (1, 2, 3)]
    return {"name": "g", "end_s": 40, "officers": officers,
            "vehicles": [{"id": "CAR-G", "dvr": "F3GRT00G1", "officer": "G1", "group": ["G1", "G2", "G3"], "position": [0, 0]}],
            "timeline": timeline}


def test_group_any_member_starts_all_only_dvr_stops(tmp_path):
    vs = play(_group([{"t": 10, "do": "record", "target": "G1"}, {"t": 15, "do": "stop", "target": "G2"},
                      {"t": 25, "do": "dvr_stop", "target": "CAR-G"}]), tmp_path, profile(base="watchguard-like"))
    assert [r.outcome for r in vs.results if r.step.action == "stop"] == ["refused"]
    for name in ("G1", "G2", "G3"):
        (clip,) = vs.bwcs[name].core.clips
        assert clip.stop_reason in ("group-stop",) and (clip.trigger.utc_ms - vs.clock.epoch_utc_ms) / 1000 < 10.5
    assert len(vs.dvrs["CAR-G"].front.clips) == 1


def test_group_stop_from_bwc_defect(tmp_path):
    vs = play(_group([{"t": 10, "do": "record", "target": "G1"}, {"t": 15, "do": "stop", "target": "G2"}]), tmp_path,
              profile(base="group-stop-from-bwc"))
    assert all(vs.bwcs[n].core.clips and vs.bwcs[n].core.clips[0].stop_reason in ("button", "group-stop") for n in ("G1", "G2", "G3"))
    assert vs.dvrs["CAR-G"].front.clips[0].stop_reason == "group-stop"


def test_slow_dvr_start_defect(tmp_path):
    vs = play(_inputs([{"t": 10, "do": "record", "target": "V"}, {"t": 16, "do": "stop_all"}], end_s=20), tmp_path,
              profile({"dvr": {"start_delay_s": 2.5}}))
    bwc_start = vs.bwcs["V"].core.clips[0].trigger.loop_t
    assert [round(c.trigger.loop_t - bwc_start, 3) for c in vs.dvrs["CAR-1"].cameras for c in c.clips] == [2.5, 2.5]


def test_slow_group_start_defect(tmp_path):
    vs = play(_group([{"t": 10, "do": "record", "target": "G1"}, {"t": 20, "do": "dvr_stop", "target": "CAR-G"}]), tmp_path,
              profile({"dvr": {"group_start_delay_s": 2.5}}, base="watchguard-like"))
    first = vs.bwcs["G1"].core.clips[0].trigger.loop_t
    assert [round(vs.bwcs[n].core.clips[0].trigger.loop_t - first, 2) for n in ("G2", "G3")] == [2.5, 2.5]
    assert vs.dvrs["CAR-G"].front.clips[0].trigger.loop_t - first < 0.1  # the DVR itself starts at once


def test_cross_wired_dvr_follows_the_next_vehicles_camera(tmp_path):
    vs = play(_inputs([{"t": 10, "do": "record", "target": "V"}, {"t": 14, "do": "stop_all"},
                       {"t": 20, "do": "record", "target": "W"}, {"t": 24, "do": "stop_all"}], end_s=27), tmp_path,
              profile({"dvr": {"cross_wired": True}}))
    started = {car: [round(c.trigger.loop_t) for c in vs.dvrs[car].front.clips] for car in ("CAR-1", "CAR-2")}
    assert started == {"CAR-1": [20], "CAR-2": [10]}  # V's activation starts W's cruiser and the other way round
    assert all(c.trigger.sender_serial == "X6TST00V1" for c in vs.dvrs["CAR-2"].front.clips)


def test_dvr_without_evidence_signing(tmp_path):
    vs = play(_inputs([{"t": 10, "do": "record", "target": "V"}, {"t": 14, "do": "stop_all"}], end_s=17), tmp_path,
              profile({"dvr": {"signs_evidence": False}}))
    dvr_folder = vs.dvrs["CAR-1"].front.clips[0].path.parent
    bwc_folder = vs.bwcs["V"].core.clips[0].path.parent
    assert not (dvr_folder / "manifest.sig.json").exists() and (bwc_folder / "manifest.sig.json").exists()
