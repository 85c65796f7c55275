"""The rules that judge ACT-001 and ACT-005 from adverts alone, on sightings written out by
hand: late starts, cameras beyond range, cameras that may still be recording, restarts from
an event's repeats, stops a camera advertised, and a capture with no event at all."""

from __future__ import annotations

from conformance.air_verdicts import judge
from protocols.signal import Event, SignalFrame

T0 = 1_780_000_000_000.0


def _burst(serial: str, event: Event, start_ms: float, seconds: float, every_ms: float = 50.0, event_id: int = 1) -> list[tuple[float, SignalFrame]]:
    frame = SignalFrame.for_event(serial, event, event_id=event_id)
    return [(start_ms + i * every_ms, frame) for i in range(int(seconds * 1000 / every_ms))]


def _cam(serial: str, event: Event, start_ms: float, seconds: float = 1.0, recording: int = 1) -> list[tuple[float, SignalFrame]]:
    return _burst(serial, event, start_ms, seconds, 100.0, recording)


def test_latency_range_and_restarts():
    sightings = (_burst("X8CEW0001", Event.CEW_ARMED, T0 + 1000, 10)
                 + _cam("X6CAM000A", Event.CAMERA_RECORDING_STARTED, T0 + 1100)  # 0.1 s: pass
                 + _cam("X6CAM000A", Event.CAMERA_RECORDING_STARTED, T0 + 6000, recording=2)  # again, during the burst: a restart
                 + _cam("X6CAM000B", Event.CAMERA_RECORDING_STARTED, T0 + 2500)  # 1.5 s: late
                 + _cam("X6CAM000C", Event.CAMERA_PRESENCE, T0)  # in range, never started
                 + _cam("X6CAM000D", Event.CAMERA_RECORDING_STARTED, T0 + 1200))  # beyond range
    feet = {"X6CAM000A": 10.0, "X6CAM000B": 20.0, "X6CAM000C": 25.0, "X6CAM000D": 45.0}
    v = judge(sightings, T0, lambda serial, _t: feet[serial])
    r = {x.serial: x for x in v.results}
    assert (r["X6CAM000A"].latency_s, r["X6CAM000A"].act001, r["X6CAM000A"].restarts, r["X6CAM000A"].act005) == (0.1, "pass", 1, "fail")
    assert (r["X6CAM000B"].latency_s, r["X6CAM000B"].act001) == (1.5, "fail")
    assert r["X6CAM000C"].act001 == "fail" and r["X6CAM000C"].why == "did not start at 25 ft"
    assert r["X6CAM000D"].act001 == "info" and "beyond range" in r["X6CAM000D"].why
    assert r["X6CAM000A"].uncertainty_s == 0.1  # its advert interval
    assert v.requirements["ACT-001"]["verdict"] == "fail" and "X6CAM000C did not start at 25 ft" in v.requirements["ACT-001"]["why"]
    assert v.requirements["ACT-005"]["verdict"] == "fail" and "restarted 1 time(s)" in v.requirements["ACT-005"]["why"]


def test_a_camera_recording_already_and_an_advertised_stop():
    sightings = (_cam("X6CAM000A", Event.CAMERA_RECORDING_STARTED, T0)  # a button recording, announced
                 + _cam("X6CAM000B", Event.CAMERA_RECORDING_STARTED, T0)
                 + _burst("X8CEW0001", Event.CEW_ARMED, T0 + 5000, 5)
                 + _cam("X6CAM000B", Event.CAMERA_RECORDING_STOPPED, T0 + 5600))  # stopped by the event
    v = judge(sightings, T0)
    r = {x.serial: x for x in v.results}
    assert r["X6CAM000A"].act001 == "info" and r["X6CAM000A"].why.startswith("already recording")
    assert r["X6CAM000A"].act005 == "not-tested"
    assert (r["X6CAM000B"].stops, r["X6CAM000B"].act005) == (1, "fail") and v.stops_visible
    assert v.requirements["ACT-005"]["verdict"] == "fail" and "stopped 1 time(s)" in v.requirements["ACT-005"]["why"]
    assert v.requirements["ACT-001"]["verdict"] == "error"  # no camera started: nothing measured


def test_no_event_is_not_a_pass():
    v = judge(_cam("X6CAM000A", Event.CAMERA_PRESENCE, T0, 5), T0)
    assert v.events == [] and v.requirements["ACT-001"] == {"verdict": "error", "why": "no activating Signal event (CEW, holster, vehicle) in the adverts"}
    assert v.requirements["ACT-005"]["verdict"] == "error"
