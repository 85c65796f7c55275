"""PRE-001, PRE-002, PRE-004: the pre-event buffer, measured from decoded frame timecodes and
held to the configured buffer where the target is configured for more than the catalogue's
minimum."""

from __future__ import annotations

import pytest

from conformance import clocks
from conformance.attachments import attach_stills
from conformance.evidence import activation_utc_ms, analysis, coverage_before_activation_s, decoded
from conformance.subjects import Subject
from conformance.incident_view import activated_cameras, first_heard, started_in, step_utc_ms, subject
from conformance.scenarios import declared


def _limit(measure, profile):
    req = measure.req
    limit = req.main()
    return limit.at_least(declared(profile, req.configured)) if req.configured else limit


def _coverage(measure, who: Subject, clip, limit, *, label: str) -> float | None:
    if decoded(measure, who, clip.item) is None:
        return None
    before = coverage_before_activation_s(clip.item, clip.activation.ms if clip.activation else None)
    if before is None:
        measure.not_measured(who, label, "the clip's metadata has no activation time")
        return None
    measure.against(limit, who, label, before, quantity="pre_event_s", note=f"configured {limit.describe()}")
    return before


@pytest.mark.requirement("PRE-001")
def test_pre001_clip_holds_pre_event_buffer(incident, profile, measure):
    limit = _limit(measure, profile)
    for a in activated_cameras(measure, incident, fact="pre-event video"):
        if _coverage(measure, a.who, a.clip, limit, label="video before activation (decoded timecodes)") is None:
            continue
        clip = analysis(a.clip.item)
        span = clocks.frames(a.clip.item, a.clip.fix)
        if span is not None:
            measure.info(a.who, "video before the CEW event (harness clock)", round((incident.stimulus_utc_ms - span[0].ms) / 1000, 3), "s",
                         note=f"device clock put on the harness clock: {a.clip.fix.source}", quantity="pre_event_before_stimulus_s")
        measure.info(a.who, "frame gaps in clip", len(clip.gaps), quantity="gaps")
        act = activation_utc_ms(a.clip.item)
        if act is not None and clip.first_utc_ms is not None:
            attach_stills(a.who, a.clip.item.clip, {"first frame": clip.first_utc_ms, "activation frame": act})


@pytest.mark.requirement("PRE-002")
@pytest.mark.scene("high-bitrate")
def test_pre002_buffer_holds_at_high_bitrate(scenarios, profile, measure):
    rec = scenarios.run("high-bitrate")
    limit = _limit(measure, profile)
    cam = rec.camera("H")
    event = step_utc_ms(rec, "cew", "CEW")
    found = started_in(cam.evidence, event, step_utc_ms(rec, "stop_all"))
    if not found and first_heard(cam, event) is not None:
        measure.expect(subject(cam), "a clip of the activation was exported", False,
                       note="the harness heard the camera announce a recording, but it exported no clip for it")
        measure.verdict()
    if not found:
        measure.cannot_measure(subject(cam), "video before activation", "the camera did not record the CEW event")
    _coverage(measure, subject(cam), found[0], limit, label="video before activation in a busy scene (decoded)")
    clip = analysis(found[0].item)
    if clip.ok and clip.last_utc_ms and clip.first_utc_ms and clip.last_utc_ms > clip.first_utc_ms:
        size = found[0].item.clip.stat().st_size
        measure.info(subject(cam), "clip bitrate", round(size * 8 / ((clip.last_utc_ms - clip.first_utc_ms) / 1000) / 1e6, 2), "Mbit/s")


@pytest.mark.requirement("PRE-004")
@pytest.mark.scene("sleep-dock")
def test_pre004_no_video_from_sleep_or_dock(scenarios, measure):
    rec = scenarios.run("sleep-dock")
    limit = measure.req.main()
    sleeper = rec.camera("S")
    slept = step_utc_ms(rec, "sleep", "S")
    record_s = step_utc_ms(rec, "record", "S")
    from_sleep = started_in(sleeper.evidence, record_s, record_s + 1000)
    if not from_sleep:
        measure.not_measured(subject(sleeper), "video from sleep", "the record button pressed in sleep started no recording")
    else:
        item = from_sleep[0]
        span = clocks.frames(item.item, item.fix) if decoded(measure, subject(sleeper), item.item) is not None else None
        if span is not None:
            older = max(0.0, (record_s - span[0].ms) / 1000)
            measure.against(limit, subject(sleeper), f"video from before the record press (asleep since {(record_s - slept) / 1000:g} s)", older,
                            uncertainty=span[0].uncertainty_ms / 1000, quantity="video_before_s")
    docked = rec.camera("K")
    undock = step_utc_ms(rec, "undock", "K")
    record_k = step_utc_ms(rec, "record", "K")
    recorded = started_in(docked.evidence, record_k, record_k + 1000)
    if not recorded:
        measure.not_measured(subject(docked), "video from the dock", "the record button after undocking started no recording")
    else:
        item = recorded[0]
        span = clocks.frames(item.item, item.fix) if decoded(measure, subject(docked), item.item) is not None else None
        if span is not None:
            older = max(0.0, (undock - span[0].ms) / 1000)
            measure.against(limit, subject(docked), f"video older than the undocking ({(record_k - undock) / 1000:g} s before the record press)",
                            older, uncertainty=span[0].uncertainty_ms / 1000, quantity="video_before_s")
