"""TIME-001, PWR-001, RES-001: what the evidence itself shows."""

from __future__ import annotations

import pytest

from conformance.catalogue import load_catalogue
from conformance.evidence import activation_utc_ms, analysis, decoded
from conformance.incident_view import incident_clip, step_utc_ms, subject

MIN_LINES = {"bwc": 720, "dvr-front": 720, "dvr-rear": 480}


@pytest.mark.requirement("TIME-001")
def test_time001_frames_carry_utc_and_clocks_agree(incident, measure):
    limit = load_catalogue()["TIME-001"].limit
    measured = False
    for cam in incident.cameras:
        item = incident_clip(incident, cam.evidence)
        if item is None:
            continue
        who = subject(cam)
        clip = analysis(item)
        measure.check(who, "frames with a readable UTC timecode", round(clip.readable / clip.frames, 4) if clip.frames else 0.0, "", 1.0, "==")
        measure.check(who, "frames flagged with an unset clock", clip.clock_unset_frames, "frames", 0, "==")
        device = activation_utc_ms(item)
        if device is None or cam.status_advert_utc_ms is None:
            continue
        offset = (device - cam.status_advert_utc_ms) / 1000
        measure.check(who, "device clock minus harness clock at activation", round(abs(offset), 3), "s", limit.value, limit.comparator,
                      note=f"signed offset {offset:+.3f} s (harness: first recording-started advert heard)")
        measured = True
    if not measured:
        measure.cannot_measure("scene", "clock offset", "no camera both exported an activation time and was heard announcing it")
    measure.verdict()


@pytest.mark.requirement("PWR-001")
def test_pwr001_clip_survives_power_loss(scenarios, measure):
    rec = scenarios.run("power-cut")
    limit = load_catalogue()["PWR-001"].limit
    cam = rec.camera("U")
    cut = step_utc_ms(rec, "power_cut", "U")
    if not cam.evidence:
        measure.check(subject(cam), "a clip exists after the power cut", False, "", True, "==")
        measure.verdict()
    clip = analysis(cam.evidence[0])
    if clip.last_utc_ms is None:
        measure.check(subject(cam), "the clip decodes after the power cut", False, "", True, "==", note=clip.error or "")
    else:
        lost = round(max(0.0, (cut - clip.last_utc_ms) / 1000), 3)
        measure.check(subject(cam), "video lost before the cut", lost, "s", limit.value, limit.comparator,
                      note=f"decoded {clip.readable} frames; {clip.error or 'no decoding error'}")
    measure.verdict()


@pytest.mark.requirement("RES-001")
def test_res001_minimum_resolution(incident, measure):
    checked = 0
    devices = [(subject(c), "bwc", c.evidence) for c in incident.cameras]
    for d in incident.dvrs:
        devices += [(f"{subject(d)} front", "dvr-front", d.evidence), (f"{subject(d)} rear", "dvr-rear", d.rear_evidence)]
    for who, role, evidence in devices:
        item = incident_clip(incident, evidence)
        if item is None:
            continue
        clip = decoded(measure, who, item)
        if clip is None:
            continue
        measure.check(who, f"decoded picture height ({clip.width}x{clip.height})", clip.height, "lines", MIN_LINES[role], ">=")
        checked += 1
    if not checked:
        measure.cannot_measure("scene", "resolution", "no clip to decode")
    measure.verdict()
