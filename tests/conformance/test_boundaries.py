"""The suite's own limits, right at the boundary: the real conformance test functions are fed
synthetic incidents (real clips encoded for the purpose) and must pass or fail exactly there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.test_activation import test_act001_every_camera_in_range_activates as act001
from conformance.test_pre_event import test_pre001_clip_holds_pre_event_buffer as pre001
from emulators.clock import iso_utc
from emulators.video import ClipWriter, EncoderSession, Sensor, VideoFormat
from fixtures.roles import CameraObservation, EvidenceItem, IncidentRecord
from reports.pytest_results import Recorder
from reports.results import RunResults

STIM = 1_780_000_062_500
FMT = VideoFormat(320, 180, 10)


def _clip(folder: Path, serial: str, first_ms: int, activation_ms: int, end_ms: int) -> EvidenceItem:
    """A real H.264 clip whose frames carry timecodes from first_ms (10 fps) and metadata
    saying the camera activated at activation_ms."""
    session = EncoderSession(FMT, Sensor(FMT, serial))
    frags = []
    t = first_ms
    while t < end_ms:
        frags += session.encode_gop([t + 100 * i for i in range(10)])
        t += 1000
    frags += session.close()
    path = folder / f"{serial}.mp4"
    writer = ClipWriter(path, session.init_segment)
    writer.write(frags)
    writer.close()
    meta = folder / f"{serial}.json"
    meta.write_text(json.dumps({"trigger_utc": iso_utc(activation_ms), "stop_utc": iso_utc(end_ms), "trigger_reason": "CEW_ARMED"}))
    return EvidenceItem(path, meta)


def _incident(cameras: list[CameraObservation]) -> IncidentRecord:
    return IncidentRecord("synthetic", "virtual", "test", 0, "CEW_ARMED", "X87002FP4", STIM, (0.0, 0.0), cameras, [])


def _verdict(test, requirement: str, **fixtures) -> tuple[str, list]:
    results = RunResults()
    recorder = Recorder(results, requirement)
    try:
        test(measure=recorder, **fixtures)
    except pytest.fail.Exception:
        return "fail", results.measurements
    return "pass", results.measurements


@pytest.mark.parametrize("covered_ms, expected, judged", [(29_900, "fail", "fail"), (29_999, "fail", "fail"), (30_000, "pass", "marginal"), (30_100, "pass", "pass")])
def test_pre001_at_30_s(tmp_path, covered_ms, expected, judged):
    activation = STIM + 100
    item = _clip(tmp_path, "X6BND00A1", activation - covered_ms, activation, activation + 2000)
    cam = CameraObservation("X6BND00A1", "A", 10.0, None, [item], activation)
    verdict, ms = _verdict(pre001, "PRE-001", incident=_incident([cam]))
    assert verdict == expected
    (m,) = [m for m in ms if m.comparator == ">="]
    assert m.value == pytest.approx(covered_ms / 1000)
    assert m.verdict == judged  # 30.0 s passes, at the margin (within one 10 fps frame of the limit)


@pytest.mark.parametrize(
    "distance_ft, activated, expected",
    [(29.0, True, "pass"), (29.0, False, "fail"), (30.0, False, "fail"), (31.0, False, "pass")],
)
def test_act001_range_boundary(distance_ft, activated, expected):
    cam = CameraObservation("X6BND00D1", "D", distance_ft, None, [], STIM + 300 if activated else None,
                            [STIM + 300] if activated else [])
    anchor = CameraObservation("X6BND00A1", "A", 0.0, None, [], STIM + 100, [STIM + 100])  # something measured in range
    verdict, _ = _verdict(act001, "ACT-001", incident=_incident([anchor, cam]))
    assert verdict == expected


@pytest.mark.parametrize("latency_ms, expected", [(1000, "pass"), (1001, "fail"), (1100, "fail")])
def test_act001_latency_boundary(latency_ms, expected):
    cam = CameraObservation("X6BND00B1", "B", 10.0, None, [], STIM + latency_ms, [STIM + latency_ms])
    verdict, ms = _verdict(act001, "ACT-001", incident=_incident([cam]))
    assert verdict == expected
    assert any(m.name.startswith("activation latency") and m.value == latency_ms / 1000 for m in ms)
