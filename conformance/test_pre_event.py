"""PRE-xxx: the pre-event buffer, measured from decoded frame timecodes."""

from __future__ import annotations

import pytest

from conformance.catalogue import load_catalogue
from conformance.evidence import activation_utc_ms, analysis, decoded
from conformance.attachments import attach_stills
from conformance.incident_view import clips, incident_clip, step_utc_ms, subject


def _coverage(measure, who: str, item, limit, *, label: str) -> float | None:
    clip = decoded(measure, who, item)
    if clip is None:
        return None
    activated = activation_utc_ms(item)
    if activated is None:
        measure.cannot_measure(who, label, "the clip's metadata has no activation time")
    before = round(clip.coverage_before_s(activated), 3)
    measure.check(who, label, before, "s", limit.value, limit.comparator)
    return before


@pytest.mark.requirement("PRE-001")
def test_pre001_clip_holds_pre_event_buffer(incident, measure):
    limit = load_catalogue()["PRE-001"].limit
    measured_any = False
    for cam in incident.cameras:
        item = incident_clip(incident, cam.evidence)
        if item is None:
            continue  # did not activate: ACT-001's business, not PRE-001's
        who = subject(cam)
        if _coverage(measure, who, item, limit, label="video before activation (decoded timecodes)") is not None:
            clip = analysis(item)
            measure.info(who, "video before the CEW event", round(clip.coverage_before_s(incident.stimulus_utc_ms), 3), "s",
                         note="harness clock vs device timecodes")
            measure.info(who, "frame gaps in clip", len(clip.gaps))
            activated = activation_utc_ms(item)
            if activated is not None and clip.first_utc_ms is not None:
                attach_stills(who, item.clip, {"first frame": clip.first_utc_ms, "activation frame": activated})
        measured_any = True
    if not measured_any:
        measure.cannot_measure("scene", "video before activation", "no body camera produced a clip for the incident")
    measure.verdict()


@pytest.mark.requirement("PRE-002")
def test_pre002_buffer_holds_at_high_bitrate(scenarios, measure):
    rec = scenarios.run("high-bitrate")
    limit = load_catalogue()["PRE-002"].limit
    cam = rec.camera("H")
    item = incident_clip(rec, cam.evidence)
    if item is None:
        measure.cannot_measure(subject(cam), "video before activation", "the camera did not record the CEW event")
    _coverage(measure, subject(cam), item, limit, label="video before activation in a busy scene (decoded)")
    clip = analysis(item)
    if clip.ok and clip.last_utc_ms and clip.first_utc_ms:
        size = item.clip.stat().st_size
        measure.info(subject(cam), "clip bitrate", round(size * 8 / ((clip.last_utc_ms - clip.first_utc_ms) / 1000) / 1e6, 2), "Mbit/s")
    measure.verdict()


@pytest.mark.requirement("PRE-004")
def test_pre004_no_video_from_sleep_or_dock(scenarios, measure):
    rec = scenarios.run("sleep-dock")
    limit = load_catalogue()["PRE-004"].limit
    sleeper = rec.camera("S")
    after_sleep = [i for i in sleeper.evidence if (activation_utc_ms(i) or 0) >= step_utc_ms(rec, "sleep", "S")]
    if not after_sleep:
        measure.cannot_measure(subject(sleeper), "video from sleep", "no recording was started after the camera went to sleep")
    item = after_sleep[0]
    clip = decoded(measure, subject(sleeper), item)
    act = activation_utc_ms(item)
    if clip is not None and act is not None:
        measure.check(subject(sleeper), "video before a recording started from sleep", round(max(0.0, clip.coverage_before_s(act)), 3),
                      "s", limit.value, limit.comparator)
    docked = rec.camera("K")
    recorded = clips(docked.evidence, reason="BUTTON")
    if not recorded:
        measure.cannot_measure(subject(docked), "video from the dock", "the record button after undocking started no recording")
    item = recorded[0]
    clip = decoded(measure, subject(docked), item)
    act = activation_utc_ms(item)
    ready_for = (step_utc_ms(rec, "record", "K") - step_utc_ms(rec, "undock", "K")) / 1000
    if clip is not None and act is not None:
        docked_video = round(max(0.0, clip.coverage_before_s(act) - ready_for), 3)
        measure.check(subject(docked), f"video older than the undocking ({ready_for:g} s before the record press)", docked_video,
                      "s", limit.value, limit.comparator)
    measure.verdict()
