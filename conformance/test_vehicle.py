"""ACT-002, VEH-001 and GRP-001: cruiser inputs, routing, debounce and group recording. Every
DVR time is put on the harness clock with the DVR's clock measured from its own frames."""

from __future__ import annotations

import pytest

from conformance.catalogue import requirement
from conformance.incident_view import clips, require_capability, started_in, step_utc_ms, subject
from conformance.limits import Limit
from conformance.scenarios import GLITCHES_MS, VEHICLE_INPUTS

NONE_STARTED = Limit(0, "recordings", "==")


def _step_after(rec, action: str, target: str, after_ms: float) -> int:
    return min(int(s["t_utc_ms"]) for s in rec.steps_of(action, target) if s["t_utc_ms"] > after_ms)


def _held_steps(rec) -> list[tuple[str, str, int]]:
    """(vehicle, input, when it was switched on and held) for the five vehicle inputs."""
    out = []
    for i, name in enumerate(VEHICLE_INPUTS):
        car = f"CAR-C{i + 1}"
        held = [s for s in rec.steps_of("input", car) if s["args"].get("input") == name and "pulse_ms" not in s["args"] and s["args"].get("level") == "on"]
        out.append((car, name, int(held[0]["t_utc_ms"])))
    return out


@pytest.mark.requirement("ACT-002")
@pytest.mark.scene("vehicle")
def test_act002_vehicle_event_routing(scenarios, measure):
    rec = scenarios.run("vehicle")
    delay_ms = requirement("VEH-001").named("max_delay").value
    near, far = rec.camera("V"), rec.camera("W")
    windows: dict[str, tuple[int, float]] = {}
    first_glitch = step_utc_ms(rec, "input", "CAR-C1", 0)  # C1's glitches come first: a start they cause is VEH-001's failure
    for car, name, t in _held_steps(rec):
        dvr = rec.dvr(car)
        begin, end = (first_glitch if car == "CAR-C1" else t), t + delay_ms + 500.0
        windows[car] = (begin, end)
        measure.expect(subject(dvr, "front"), f"{name}: own dash camera records", bool(started_in(dvr.evidence, begin, end)))
        measure.expect(subject(dvr, "rear"), f"{name}: own back-seat camera records", bool(started_in(dvr.rear_evidence, begin, end)))
        v_stop = _step_after(rec, "stop", "V", t)  # a late camera is still judged on routing: until V's stop
        measure.expect(subject(near), f"{name} of {car}: body camera {requirement('ACT-002').parameter('range_ft') - 1.0:g} ft away records", bool(started_in(near.evidence, begin, v_stop)))
        measure.info(subject(far), f"{name} of {car}: body camera W beyond 30 ft records (informative)",
                     bool(started_in(far.evidence, begin, v_stop)))
    for dvr in rec.dvrs:
        own = windows.get(dvr.vehicle_id)
        for part, evidence in (("front", dvr.evidence), ("rear", dvr.rear_evidence)):
            stray = [c for c in clips(evidence) if own is None or not c.started_in(*own)]
            fact = "recordings started by another vehicle's event" if own else "recordings of a cruiser none of whose inputs changed"
            measure.against(NONE_STARTED, subject(dvr, part), fact, len(stray), quantity="recordings")


@pytest.mark.requirement("VEH-001")
@pytest.mark.scene("vehicle")
def test_veh001_input_debounce(scenarios, measure):
    rec = scenarios.run("vehicle")
    limit, max_delay = measure.req.main(), measure.req.named("max_delay")
    dvr = rec.dvr("CAR-C1")
    who = subject(dvr)
    glitch_from = step_utc_ms(rec, "input", "CAR-C1", 0)
    held = _held_steps(rec)[0][2]
    glitch_starts = [c for c in started_in(dvr.evidence, glitch_from, held) if c.activation is not None and c.activation.ms < held]
    measure.against(NONE_STARTED, who, f"recordings started by {', '.join(map(str, GLITCHES_MS))} ms light-bar glitches", len(glitch_starts),
                    quantity="recordings")
    after = [c for c in clips(dvr.evidence) if c.activation is not None and c.activation.ms >= held - c.activation.uncertainty_ms - 1]
    first = (glitch_starts or after)[0] if glitch_starts or after else None
    started = first.activation if first is not None else None
    if first is None or started is None:
        measure.cannot_measure(who, "input-to-recording delay", "the held light bar started no recording")
        return
    delay = started.ms - held
    note = "negative: the DVR was already recording from a glitch; " if delay < 0 else ""
    measure.against(limit, who, "held light bar: rising edge to recording start", delay, digits=1, uncertainty=started.uncertainty_ms,
                    quantity="input_delay_ms", note=note + first.fix.source)
    measure.against(max_delay, who, "held light bar starts the DVR promptly", delay, digits=1, uncertainty=started.uncertainty_ms,
                    quantity="input_delay_ms")


@pytest.mark.requirement("GRP-001")
@pytest.mark.scene("group")
def test_grp001_group_recording(scenarios, profile, measure):
    require_capability(measure, "GRP-001", {"group_mode": bool(profile.dvr.group_mode)})
    rec = scenarios.run("group")
    limit = measure.req.main()
    gop_ms = float(getattr(profile.bwc, "gop_s", 1.0)) * 1000
    dvr = rec.dvr("CAR-G")
    start = step_utc_ms(rec, "record", "G1")
    member_stop = step_utc_ms(rec, "stop", "G1")
    dvr_stop = step_utc_ms(rec, "dvr_stop", "CAR-G")
    devices = [(subject(c), c.evidence) for c in rec.cameras] + [(subject(dvr, "front"), dvr.evidence)]
    for who, evidence in devices:
        group_clips = started_in(evidence, start, member_stop)
        if not group_clips:
            measure.expect(who, "starts with the group", False)
            continue
        c = group_clips[0]
        assert c.activation is not None
        measure.against(limit, who, "start after the first member's record press", c.activation.minus(start),
                        uncertainty=c.activation.uncertainty_ms / 1000, quantity="group_start_s")
        stopped = c.stop
        measure.expect(who, "still recording after a member pressed stop", stopped is None or stopped.ms > member_stop + gop_ms + 500)
        if stopped is not None:
            measure.against(limit, who, "stops when the DVR stops the group", stopped.minus(dvr_stop), uncertainty=stopped.uncertainty_ms / 1000,
                            quantity="group_stop_s")
