"""Synthetic evidence with a known truth for the conformance tests: real H.264 clips whose
frames carry a device timecode (true time + the device's clock offset) and the filmed
reference clock (true time), and metadata on the device clock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulators.clock import iso_utc
from emulators.video import ClipWriter, EncoderSession, Sensor, VideoFormat
from fixtures.roles import CameraObservation, EvidenceItem, IncidentRecord
from protocols.timecode import reference_display_ms
from reports.pytest_results import Recorder
from reports.results import RunResults

STIM = 1_780_000_062_500
FMT = VideoFormat(320, 180, 10)


def clip(folder: Path, serial: str, first_ms: int, activation_ms: int, end_ms: int, *, offset_ms: int = 0,
         reference: bool = True, stop_ms: int | None = None) -> EvidenceItem:
    """A clip of true times [first_ms, end_ms) at 10 fps; the device clock is offset_ms ahead of
    the truth; activation (and stop) exported on the device clock."""
    session = EncoderSession(FMT, Sensor(FMT, serial))
    frags = []
    t = first_ms
    while t < end_ms:
        true = [t + 100 * i for i in range(10)]
        frags += session.encode_gop([x + offset_ms for x in true], reference_times=tuple(reference_display_ms(x) for x in true) if reference else ())
        t += 1000
    frags += session.close()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{serial}_{activation_ms}.mp4"
    writer = ClipWriter(path, session.init_segment)
    writer.write(frags)
    writer.close()
    meta = path.with_suffix(".json")
    meta.write_text(json.dumps({"trigger_utc": iso_utc(activation_ms + offset_ms), "stop_utc": iso_utc((stop_ms or end_ms) + offset_ms),
                                "trigger_reason": "CEW_ARMED"}))
    return EvidenceItem(path, meta)


def camera(serial: str, label: str, distance_ft: float, evidence: list[EvidenceItem], heard_ms: int | None) -> CameraObservation:
    return CameraObservation(serial, label, distance_ft, None, evidence, heard_ms, [heard_ms] if heard_ms is not None else [])


def incident(cameras: list[CameraObservation], dvrs: list | None = None) -> IncidentRecord:
    return IncidentRecord("synthetic", "virtual", "test", 0, "CEW_ARMED", "X87002FP4", STIM, (0.0, 0.0), cameras, dvrs or [])


def verdict(test, requirement: str, **fixtures) -> tuple[str, list]:
    """Run a real conformance test function on synthetic fixtures: (pass|fail|error, measurements)."""
    from reports.pytest_results import MeasurementError

    results = RunResults()
    recorder = Recorder(results, requirement)
    try:
        test(measure=recorder, **fixtures)
        recorder.conclude()  # as the plugin does when a test's body returns
    except pytest.fail.Exception:
        return "fail", results.measurements
    except MeasurementError:
        return "error", results.measurements
    return "pass", results.measurements
