"""INT-001 catches a flipped byte, a removed clip and a foreign signature (the real test code)."""

from __future__ import annotations

import json
import shutil

import pytest

from conformance.test_integrity import test_int001_evidence_is_signed_and_intact as int001
from emulators.evidence_seal import device_key, device_public_key_b64, seal_folder
from emulators.video import ClipWriter, EncoderSession, Sensor, VideoFormat
from fixtures.roles import CameraObservation, DeviceInfo, EvidenceItem, IncidentRecord
from reports.pytest_results import Recorder
from reports.results import RunResults

SERIAL = "X6INT00A1"


def _device_folder(root):
    folder = root / SERIAL
    fmt = VideoFormat(320, 180, 5)
    s = EncoderSession(fmt, Sensor(fmt, SERIAL))
    frags = s.encode_gop([1_780_000_000_000 + 200 * i for i in range(5)]) + s.close()
    w = ClipWriter(folder / f"{SERIAL}_1.mp4", s.init_segment)
    w.write(frags)
    w.close()
    (folder / f"{SERIAL}_1.json").write_text(json.dumps({"trigger_utc": "2026-05-28T20:26:40.000Z"}))
    seal_folder(folder, device_key(SERIAL), "2026-05-28T20:27:00.000Z")
    return folder


def _verdict(folder) -> str:
    item = EvidenceItem(folder / f"{SERIAL}_1.mp4", folder / f"{SERIAL}_1.json")
    record = IncidentRecord("t", "virtual", "t", 0, "CEW_ARMED", "X87002FP4", 0, (0.0, 0.0),
                            [CameraObservation(SERIAL, "A", 0.0, None, [item], None)], [],
                            devices=[DeviceInfo("BWC-A", "bwc", SERIAL, "v", "m", "f", device_public_key_b64(SERIAL))])
    recorder = Recorder(RunResults(), "INT-001")
    try:
        int001(incident=record, measure=recorder)
        recorder.conclude()  # the verdict, as the plugin gives it when the test's body returns
    except pytest.fail.Exception:
        return "fail"
    return "pass"


def test_intact_folder_passes(tmp_path):
    assert _verdict(_device_folder(tmp_path)) == "pass"


@pytest.mark.parametrize("offset", [0, 1000, -1])
def test_flipped_byte_fails(tmp_path, offset):
    folder = _device_folder(tmp_path)
    clip = folder / f"{SERIAL}_1.mp4"
    data = bytearray(clip.read_bytes())
    data[offset] ^= 0x01
    clip.write_bytes(bytes(data))
    assert _verdict(folder) == "fail"


def test_resealed_with_another_key_fails(tmp_path):
    folder = _device_folder(tmp_path)
    seal_folder(folder, device_key("X6SOMEONE"), "2026-05-28T20:28:00.000Z")  # an editor re-signs
    assert _verdict(folder) == "fail"


def test_extra_file_fails(tmp_path):
    folder = _device_folder(tmp_path)
    shutil.copy(folder / f"{SERIAL}_1.json", folder / "injected.json")
    assert _verdict(folder) == "fail"
