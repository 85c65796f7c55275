"""`bwc air replay`: a capture's Signal adverts played on the emulators' air against a
profile, end to end: the output of `bwc scene` plus the ACT-001 table, and the comparison of
the field capture's verdicts with the replay's."""

from __future__ import annotations

import json

import yaml

from bwc.cli import main
from instruments.air_import import import_capture
from conformance.air_verdicts import judge
from emulators.air import EVENT_SPAN_MAX_S
from emulators.replay_source import RING_FT
from tests.instruments.captures import first_seconds


def _replay(capture, out, capsys, *extra: str) -> tuple[int, dict, str]:
    code = main(["air", "replay", str(capture), "--out", str(out), *extra])
    return code, json.loads((out / "replay.json").read_text()), capsys.readouterr().out


def test_replay_against_the_reference_and_a_camera_that_restarts(air_scene, tmp_path, capsys):
    code, doc, printed = _replay(air_scene.pcap, tmp_path / "reference", capsys)
    assert code == 0, printed
    for name in ("air.pcap", "scene.html", "timeline.json", "replay.json", "evidence"):
        assert (tmp_path / "reference" / name).exists(), name
    field, replay = doc["field"], doc["replay"]
    assert doc["adverts_replayed"] == sum(1 for a in import_capture(air_scene.pcap).adverts if not a.frame.serial.startswith("X6"))
    assert [(e["serial"], e["event"], e["event_id"]) for e in replay["events"]] == [(e["serial"], e["event"], e["event_id"]) for e in field["events"]]
    # the field's times are the capture's PDU starts, the replay's its observer's reports (at the
    # advertising event's end, in whole milliseconds)
    lags = [(r["first_ms"] - replay["origin_utc_ms"]) - (f["first_ms"] - field["origin_utc_ms"]) for r, f in zip(replay["events"], field["events"])]
    assert all(0 <= lag <= EVENT_SPAN_MAX_S * 1000 + 1 for lag in lags), lags
    started = {(r["event"], r["distance_ft"]) for r in replay["results"] if r["latency_s"] is not None}
    assert started == {(n, d) for n in (1, 2) for d in RING_FT if d <= 30}  # the ring's 10, 25, 29 ft start; 45 ft does not
    assert doc["comparison"]["requirements"] == {"ACT-001": {"field": "pass", "replay": "pass"}, "ACT-005": {"field": "pass", "replay": "pass"}}
    assert "comparison (field -> replay):" in printed and "did not start at 45 ft" in printed
    # the replay's own air.pcap, imported, measures what the replay's observer measured: within
    # an advertising event's span and the observer's millisecond either way, or one advert later
    again = import_capture(tmp_path / "reference" / "air.pcap")
    verdicts = judge([(a.t_ms, a.frame) for a in again.adverts], replay["origin_utc_ms"])
    imported = {(r.event, r.serial): r.latency_s for r in verdicts.results if r.latency_s is not None}
    observed = {(r["event"], r["serial"]): r["latency_s"] for r in replay["results"] if r["latency_s"] is not None}
    assert imported.keys() == observed.keys() and all(-EVENT_SPAN_MAX_S - 0.001 <= observed[k] - imported[k] <= 0.111 for k in observed), {k: observed[k] - imported[k] for k in observed}

    first = first_seconds(air_scene.pcap, tmp_path / "cew-only.pcap", 8.0)  # the CEW event and 7 s of its repeats
    code, doc, printed = _replay(first, tmp_path / "no-cooldown", capsys, "--profile", "no-cooldown")
    assert code == 1  # the replay's verdict: its cameras restart on the repeats after the operator's stop
    assert doc["comparison"]["requirements"]["ACT-005"] == {"field": "pass", "replay": "fail"}
    assert "ACT-005  pass -> fail  (differs)" in printed and "restarted 1 time(s) by the repeats" in printed


def test_replay_places_the_source_and_the_cameras_of_a_scene_file(air_scene, tmp_path, capsys):
    scene = tmp_path / "cameras.yaml"
    scene.write_text(yaml.safe_dump({"name": "two", "officers": [{"name": "N", "bwc": "X6TWO000N", "position": [105, 0]},
                                                                 {"name": "F", "bwc": "X6TWO000F", "position": [140, 0]}]}))
    code, doc, printed = _replay(air_scene.pcap, tmp_path / "scene", capsys, "--scene", str(scene), "--at", "100,0", "--seed", "2")
    assert code == 0, printed
    results = {(r["event"], r["serial"]): r for r in doc["replay"]["results"]}
    assert results[(1, "X6TWO000N")]["distance_ft"] == 5.0 and results[(1, "X6TWO000N")]["act001"] == "pass"
    assert results[(2, "X6TWO000F")]["distance_ft"] == 40.0 and results[(2, "X6TWO000F")]["latency_s"] is None
    assert doc["scene"] == "two" and doc["source_at_ft"] == [100.0, 0.0] and doc["seed"] == 2


def _scene_file(tmp_path, doc: dict):
    path = tmp_path / "scene.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_replay_refuses_bad_arguments_with_one_line(air_scene, tmp_path, capsys):
    for args, needle in ((["--at", "1e9,0"], "--at '1e9,0': each coordinate must be within 5000 ft"),
                         (["--at", "north"], "--at 'north': give X,Y in feet"),
                         (["--profile", "no-such-profile"], "--profile:"),
                         (["--scene", str(tmp_path / "missing.yaml")], "missing.yaml"),
                         (["--scene", str(_scene_file(tmp_path, {"officers": [{"name": "A", "bwc": "X6TWO000A"}],
                                                                 "timeline": [{"t": 9, "do": "record", "target": "B"}]}))],
                          "timeline[0].target: no officer named 'B'")):
        assert main(["air", "replay", str(air_scene.pcap), "--out", str(tmp_path / "out"), *args]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and needle in err, err
        assert not (tmp_path / "out").exists()  # refused before anything was written
