"""ACT-004 (false-signal cancel) and ACT-005 (never stop, de-duplicate, cool-down), probed at
times derived from the catalogue's limits and the target's declared cool-down
(conformance/scenarios.py: cancel_probe, cooldown_probe). Which event started a recording is
decided from when it started on the harness clock, not from what the device wrote about it."""

from __future__ import annotations

import pytest

from conformance.incident_view import started_in, step_utc_ms, subject
from conformance.limits import Limit
from conformance.scenarios import cooldown_probe

NONE_STARTED = Limit(0, "recordings", "==")


def _gop_ms(profile) -> float:
    return float(getattr(profile.bwc, "gop_s", 1.0)) * 1000


def _stop_slack_ms(profile) -> float:
    """A stop ends the clip at the next GOP boundary: a clip stops within this of the press."""
    return _gop_ms(profile) + 500.0


@pytest.mark.requirement("ACT-004")
@pytest.mark.scene("signal-rules")
def test_act004_false_signal_cancel(scenarios, profile, measure):
    rec = scenarios.run("signal-rules")
    cam = rec.camera("F")
    who = subject(cam)
    window = measure.req.main()
    cancels = rec.steps_of("cancel", "F")
    if len(cancels) < 3:
        measure.cannot_measure(who, "false-signal cancel", f"the scene played {len(cancels)} of its 3 cancel presses")

    # 1. Signal start, cancel just inside the window (timed from the harness hearing the
    #    recording announced): accepted, the clip kept and marked false
    q1 = step_utc_ms(rec, "cew", "Q1")
    inside = cancels[0]
    button_t = step_utc_ms(rec, "record", "F")
    first = started_in(cam.evidence, q1, min(inside["t_utc_ms"], button_t))
    if str(inside.get("outcome", "")).startswith("anchor not heard") and not first:
        measure.not_measured(who, "cancel inside the window", "the CEW event did not start the camera (see ACT-001)")
    elif not first:
        measure.expect(who, "a Signal-started recording that was cancelled is kept", False,
                       note="the harness heard the recording announced, but no clip of it was exported (deleted?)")
    else:
        clip = first[0]
        age_s = (inside["t_utc_ms"] - clip.activation.ms) / 1000 if clip.activation else None
        if age_s is not None and age_s > window.value:
            measure.not_measured(who, "cancel inside the window", f"the cancel came {age_s:.3f} s after the start, outside the window")
        else:
            measure.expect(who, "cancel inside the window: clip kept and marked false", bool(clip.metadata.get("false_signal")),
                           note=f"cancel pressed {age_s:.3f} s after the recording started (harness clock)" if age_s is not None else "")
            if clip.stop is not None:
                measure.expect(who, "the cancelled recording stops", clip.stop.ms <= inside["t_utc_ms"] + _stop_slack_ms(profile) + clip.stop.uncertainty_ms)

    # 2. a button recording: cancel refused, the recording goes on until its stop button
    button_cancel = cancels[1]["t_utc_ms"]
    button_stop = min(s["t_utc_ms"] for s in rec.steps_of("stop", "F") if s["t_utc_ms"] > button_t)
    button = started_in(cam.evidence, button_t, button_t + 1000)
    if not button:
        measure.not_measured(who, "cancel of a button recording", "the record button started no recording")
    else:
        b = button[0]
        measure.expect(who, "cancel of a button recording is refused (clip not marked)", bool(b.metadata.get("false_signal")), expected=False)
        measure.expect(who, "the button recording runs until its stop button",
                       b.stop is not None and b.stop.ms >= button_stop - b.stop.uncertainty_ms - 1,
                       note=f"cancel pressed at +{(button_cancel - button_t) / 1000:.1f} s, stop at +{(button_stop - button_t) / 1000:.1f} s")

    # 3. Signal start, cancel just outside the window (timed from the harness hearing the
    #    recording announced, so the recording is older than that): refused
    q2 = step_utc_ms(rec, "cew", "Q2")
    outside = cancels[2]
    if str(outside.get("outcome", "")).startswith("anchor not heard"):
        measure.not_measured(who, "cancel after the window", "the harness never heard the second Signal start announced")
    else:
        late = started_in(cam.evidence, q2, outside["t_utc_ms"])
        if not late:
            measure.not_measured(who, "cancel after the window", "the second CEW event started no exported recording")
        else:
            clip = late[0]
            age_s = (outside["t_utc_ms"] - clip.activation.ms) / 1000 if clip.activation else None
            measure.info(who, "age of the recording at the late cancel", round(age_s, 3) if age_s is not None else None, "s",
                         note=f"window {window.describe()}; pressed {outside['args'].get('delay_s', '')}".rstrip("; "))
            if age_s is not None and age_s <= window.value:
                measure.not_measured(who, "cancel after the window", f"the late cancel came only {age_s:.3f} s after the recording started")
            else:
                measure.expect(who, f"cancel more than {window.value:g} s after the start is refused (clip not marked)",
                               bool(clip.metadata.get("false_signal")), expected=False)


@pytest.mark.requirement("ACT-005")
@pytest.mark.scene("signal-rules")
def test_act005_never_stop_and_deduplicate(scenarios, profile, measure):
    rec = scenarios.run("signal-rules")
    cam = rec.camera("B")
    who = subject(cam)
    plan = cooldown_probe(profile)
    cooldown_ms = profile.bwc.cooldown_s * 1000
    record_t = step_utc_ms(rec, "record", "B")
    events = rec.steps_of("cew", "P")
    stops = rec.steps_of("stop", "B")
    e1, e2 = events[0]["t_utc_ms"], events[1]["t_utc_ms"]
    stop1, stop2 = stops[0]["t_utc_ms"], stops[1]["t_utc_ms"]
    measure.expect(who, f"a cool-down is configured (declared {profile.bwc.cooldown_s:g} s, must be > 0)", profile.bwc.cooldown_s > 0)

    button = started_in(cam.evidence, record_t, record_t + 1000)
    if not button:
        measure.cannot_measure(who, "never stop", "the record button started no recording")
    b = button[0]
    measure.expect(who, "a Signal event during a button recording does not stop it",
                   b.stop is not None and b.stop.ms >= stop1 - b.stop.uncertainty_ms - 1,
                   note=f"event at +{(e1 - record_t) / 1000:.1f} s, stop button at +{(stop1 - record_t) / 1000:.1f} s"
                   + (f", stopped at +{(b.stop.ms - record_t) / 1000:.2f} s" if b.stop else ""))

    def starts(t0: float, t1: float) -> list:
        return [c for c in started_in(cam.evidence, t0, t1) if c.activation is not None and t0 < c.activation.ms < t1]

    measure.against(NONE_STARTED, who, "recordings started by the repeats of an event first heard during a recording", len(starts(stop1, e2)),
                    quantity="recordings")
    second = started_in(cam.evidence, e2, stop2)
    measure.expect(who, "a new event from the same sender after its cool-down starts a recording", bool(second))
    trigger = second[0].activation.ms if second and second[0].activation else e2
    end = (events[2]["t_utc_ms"] if len(events) > 2 else rec.steps_of("stop_all")[0]["t_utc_ms"])
    measure.against(NONE_STARTED, who, "recordings started again by that event's repeats", len(starts(stop2, end)), quantity="recordings")
    if plan.third is None:
        measure.info(who, "new event within the cool-down", None,
                     note=f"not probed: a {profile.bwc.cooldown_s:g} s cool-down ends before the camera is free again after a stop")
    elif len(events) > 2:
        e3 = events[2]["t_utc_ms"]
        within = starts(e3 - 1, trigger + cooldown_ms - 100.0)
        measure.against(NONE_STARTED, who, f"recordings started by a new event {(e3 - trigger) / 1000:.1f} s into the "
                        f"{profile.bwc.cooldown_s:g} s cool-down", len(within), quantity="recordings")
