"""TIME-001, PWR-001, RES-001: what the evidence itself shows."""

from __future__ import annotations

import pytest

from conformance import clocks
from conformance.evidence import analysis, decoded
from conformance.incident_view import Clip, activated_cameras, clip, incident_clip, started_in, step_utc_ms, subject
from conformance.scenarios import power_cut_times
from conformance.subjects import Subject


def _recording_devices(measure, incident, fact: str) -> list[tuple[Subject, Clip, object]]:
    """(who, incident clip, camera or None) for every camera and DVR camera that recorded."""
    out: list[tuple[Subject, Clip, object]] = [(a.who, a.clip, a.camera) for a in activated_cameras(measure, incident, fact=fact)]
    for d in incident.dvrs:
        for part, evidence in (("front", d.evidence), ("rear", d.rear_evidence)):
            found = incident_clip(incident, d, evidence)
            if found is not None:
                out.append((subject(d, part), found, None))
    return out


@pytest.mark.requirement("TIME-001")
def test_time001_frames_carry_utc_and_clocks_agree(incident, measure):
    limit = measure.req.main()
    for who, found, cam in _recording_devices(measure, incident, "clock"):
        a = analysis(found.item)
        measure.expect(who, "every frame carries a readable UTC timecode", a.frames > 0 and a.readable == a.frames,
                       note=f"{a.readable} of {a.frames} frames readable")
        measure.against(measure.req.named("unset_frames"), who, "frames flagged with an unset clock", a.clock_unset_frames, digits=0,
                        quantity="unset_frames")
        fix = clocks.from_frames(found.item)
        if fix is None and cam is not None:
            fix = clocks.from_observation(found.item, incident.stimulus_utc_ms, cam.status_advert_utc_ms)  # type: ignore[attr-defined]
        if fix is None:
            measure.not_measured(who, "device clock minus harness clock", "the frames show no reference clock and the harness heard no announcement to time it by")
            continue
        measure.against(limit, who, "device clock minus harness clock (absolute)", abs(fix.offset_ms) / 1000, uncertainty=fix.uncertainty_ms / 1000,
                        quantity="clock_offset_s", note=f"signed {fix.offset_ms / 1000:+.3f} s +- {fix.uncertainty_ms / 1000:.3f} s ({fix.source})")
        heard = cam.status_advert_utc_ms if cam is not None else None  # type: ignore[attr-defined]
        if fix.source == clocks.FROM_FRAMES and heard is not None and found.activation is not None:
            act, u = found.activation.ms, found.activation.uncertainty_ms + 1
            inside = incident.stimulus_utc_ms - u <= act <= heard + u
            measure.expect(who, "the exported activation time is on the same clock (between the stimulus and the announcement)", inside,
                           note=f"activation {(act - incident.stimulus_utc_ms) / 1000:+.3f} s after the stimulus, announcement heard at "
                           f"{(heard - incident.stimulus_utc_ms) / 1000:+.3f} s (harness clock)")


@pytest.mark.requirement("PWR-001")
@pytest.mark.scene("power-cut")
def test_pwr001_clip_survives_power_loss(scenarios, profile, measure):
    rec = scenarios.run("power-cut")
    limit = measure.req.main()
    _, cuts = power_cut_times(profile)
    record_t = step_utc_ms(rec, "record", rec.cameras[0].label)
    worst: float | None = None
    for cam in rec.cameras:
        who = subject(cam)
        cut = step_utc_ms(rec, "power_cut", cam.label)
        found = started_in(cam.evidence, record_t, record_t + 1000) or [clip(i) for i in cam.evidence]
        if not found:
            measure.expect(who, "a clip exists after the power cut", False)
            continue
        span = clocks.frames(found[0].item, found[0].fix) if analysis(found[0].item).last_utc_ms is not None else None
        if span is None:
            measure.expect(who, "the clip decodes after the power cut", False, note=analysis(found[0].item).error or "")
            continue
        lost = max(0.0, (cut - span[1].ms) / 1000)
        worst = lost if worst is None else max(worst, lost)
        measure.against(limit, who, f"video lost before the cut (cut {(cut - record_t) / 1000:.2f} s into the recording)", lost,
                        uncertainty=span[1].uncertainty_ms / 1000, quantity="lost_s", note=found[0].fix.source)
    if worst is not None:
        measure.info("scene", f"worst loss over {len(cuts)} cuts", round(worst, 3), "s")


@pytest.mark.requirement("RES-001")
def test_res001_minimum_resolution(incident, measure):
    for who, found, cam in _recording_devices(measure, incident, "resolution"):
        role = "bwc" if cam is not None else ("dvr-rear" if who.part == "rear" else "dvr-front")
        a = decoded(measure, who, found.item)
        if a is None:
            continue
        measure.against(measure.req.named(role), who, f"decoded picture height ({a.width}x{a.height})", a.height, digits=0, quantity="lines")
