"""ACT-001, ACT-003, ACT-006: which cameras a Signal event activates, how fast, and what may
never start them. ACT-002 (vehicle events) is in test_vehicle.py, ACT-004/005 in test_signal_rules.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.attachments import attach_pcap
from conformance.catalogue import requirement
from conformance.subjects import Subject
from conformance.incident_view import first_heard, incident_clip, started_in, step_utc_ms, subject
from conformance.limits import Limit
from instruments.air_import import import_capture
from conformance.scenarios import ALLOWED_SENDER, EVENT_SOURCES, UNLISTED_SENDER, event_spacing_s

NONE_STARTED = Limit(0, "recordings", "==")


def _latency(measure, who: Subject, start_ms: int, heard_ms: int | None, clip, what: str) -> None:
    """From the event to the camera's first recording-started advert (on a virtual target the
    start of its advertising event on the air, from the capture of every PDU; on a bench, when
    the observer or sniffer heard it); without one, to the exported activation instant put on
    the harness clock."""
    limit = measure.req.main()
    if heard_ms is not None:
        measure.against(limit, who, f"{what} latency (first recording-started advert)", (heard_ms - start_ms) / 1000, quantity="latency_s")
    elif clip is not None and clip.activation is not None:
        measure.against(limit, who, f"{what} latency (exported activation time, no advert heard)", clip.activation.minus(start_ms),
                        quantity="latency_s", uncertainty=clip.activation.uncertainty_ms / 1000, note=clip.fix.source)
    else:
        measure.not_measured(who, f"{what} latency", "no recording-started advert heard and no activation time exported")


@pytest.mark.requirement("ACT-001")
def test_act001_every_camera_in_range_activates(incident, measure):
    range_ft = measure.req.parameter("range_ft")
    pcap = incident.artifacts.get("pcap")
    if pcap:
        t = incident.stimulus_utc_ms / 1000
        attach_pcap("air around the CEW event (-1 s .. +3 s)", Path(pcap), t - 1.0, t + 3.0)
    for cam in incident.cameras:
        who = subject(cam)
        clip = incident_clip(incident, cam)
        heard = cam.status_advert_utc_ms
        activated = clip is not None or heard is not None
        if cam.distance_ft > range_ft:
            measure.info(who, f"activated at {cam.distance_ft:g} ft (beyond {range_ft:g} ft, informative)", activated)
            continue
        measure.expect(who, f"activated at {cam.distance_ft:g} ft", activated, quantity="activated")
        if not activated:
            continue
        measure.expect(who, "the recording it announced was exported", clip is not None, quantity="exported",
                       note="" if clip is not None else "the harness heard the camera announce a recording, but no clip of it was exported")
        _latency(measure, who, incident.stimulus_utc_ms, heard, clip, "activation")


@pytest.mark.requirement("ACT-001")
@pytest.mark.scene("event-types")
def test_act001_every_source_event_activates(scenarios, profile, measure):
    """CEW armed, trigger, arc and holster draw each start a camera 10 ft away."""
    rec = scenarios.run("event-types")
    cam = rec.camera("X")
    limit_s = measure.req.main().value
    for tag, kind, event in EVENT_SOURCES:
        start = step_utc_ms(rec, kind, tag)
        reason = f"{'CEW' if kind == 'cew' else 'HOLSTER'}_{event.upper()}"
        window_end = start + (limit_s + 1.0) * 1000
        started = started_in(cam.evidence, start, window_end)
        heard = first_heard(cam, start, start + event_spacing_s(profile) * 1000 - 1)
        measure.expect(subject(cam), f"activated by {reason} at 10 ft", bool(started) or heard is not None, quantity="activated")
        if started or heard is not None:
            _latency(measure, subject(cam), start, heard, started[0] if started else None, reason)
    _source_channel_maps(rec, measure)


ALL_ADV_CHANNELS = (37, 38, 39)


def _source_channel_maps(rec, measure) -> None:
    """Every advertising event of each source on 37, 38 and 39. A camera may scan continuously
    with any scan interval the Core Specification allows (up to 10.24 s), listening on one
    channel per interval: one parked on a channel a source leaves out hears nothing from it for
    a whole interval, longer than the limit. Read from the air's own capture (every PDU); a
    bench capture from a sniffer that follows one channel at a time is not complete enough to
    judge, so there it is informative."""
    pcap = rec.artifacts.get("pcap")
    if not pcap:
        measure.info(Subject.other("sources"), "advertising channel map", None, note="no capture of the air in this run")
        return
    adverts = import_capture(Path(pcap)).adverts
    for tag, kind, _event in EVENT_SOURCES:
        serial = f"X8EVT0{tag}"
        events = [a for a in adverts if a.frame.serial == serial]
        missing = sorted({c for a in events for c in ALL_ADV_CHANNELS if c not in a.channels})
        who = Subject(f"{'CEW' if kind == 'cew' else 'HOLSTER'}-{tag}", serial)
        fact = f"each of its {len(events)} advertising events on 37, 38 and 39"
        note = f"events without channel {', '.join(map(str, missing))}" if missing else ""
        if rec.target != "virtual":
            measure.info(who, fact, bool(events) and not missing, note=note or "a bench sniffer's capture: informative")
        else:
            measure.expect(who, fact, bool(events) and not missing, quantity="all_channels", note=note or ("" if events else "no advert captured"))


@pytest.mark.requirement("ACT-001")
def test_act001_activation_rate_vs_distance(sweep, measure):
    """Repeated independent trials under seeded RF noise. Rule (conformance.statistics.decide_rate):
    in each band (25-30 ft, and everything within 30 ft) the activation rate must be at least
    95 %: a band passes when the exact lower confidence bound reaches 95 %, fails when the upper
    bound is below it; trials are added in looks until every band is decided; a band still
    undecided after the last look is inconclusive (error), never a pass."""
    range_ft = measure.req.parameter("range_ft")
    rate = measure.req.named("rate")
    for p in sweep.points:
        informative = "" if p["distance_ft"] <= range_ft else f" (beyond {range_ft:g} ft, informative)"
        lat = sorted(p["latencies_s"])
        spread = f"; latency median {lat[len(lat) // 2]:.3f} s, p95 {lat[min(len(lat) - 1, int(0.95 * len(lat)))]:.3f} s, max {lat[-1]:.3f} s" if lat else ""
        measure.info(f"{p['distance_ft']:g} ft", "activation rate" + informative, round(p["activations"] / p["trials"], 3) if p["trials"] else None,
                     note=f"{p['activations']}/{p['trials']} trials{spread}", quantity="activation_rate")
    for band in sweep.bands:
        d = band.decision
        assert d is not None
        who = f"sweep {band.name}"
        note = f"{band.activations}/{band.trials} after {sweep.trials} trials in {sweep.looks} look(s); {d.confidence:.2%} interval {d.lower:.3f}..{d.upper:.3f}"
        if d.verdict == "pass":
            measure.against(rate, who, "activation rate, lower confidence bound", d.lower, note=note, digits=4, quantity="rate_lower_bound")
        elif d.verdict == "fail":
            measure.against(rate, who, "activation rate, upper confidence bound", d.upper, note=note, digits=4, quantity="rate_upper_bound")
        else:
            measure.not_measured(who, "activation rate", f"inconclusive: {note}; the rule needs more trials than the catalogue allows")


@pytest.mark.requirement("ACT-003")
@pytest.mark.scene("sleep-dock")
def test_act003_sleep_suppresses_activation(scenarios, measure):
    rec = scenarios.run("sleep-dock")
    cam = rec.camera("S")
    event_t = step_utc_ms(rec, "cew", "CEW")
    record_t = step_utc_ms(rec, "record", "S")
    started = [c for c in started_in(cam.evidence, event_t, record_t) if c.activation is not None and c.activation.ms < record_t - c.activation.uncertainty_ms - 1]
    measure.against(Limit(0, "activations", "=="), subject(cam), "recordings started by a CEW event while asleep", len(started), quantity="recordings")


@pytest.mark.requirement("ACT-006")
@pytest.mark.scene("allow-list")
def test_act006_allow_list(scenarios, measure):
    rec = scenarios.run("allow-list")
    cam = rec.camera("Y")
    who = subject(cam)
    unlisted_t = step_utc_ms(rec, "cew", "U")
    listed_t = step_utc_ms(rec, "cew", "L")
    requirement("ACT-001").main().value
    unlisted = [c for c in started_in(cam.evidence, unlisted_t, listed_t) if c.activation and c.activation.ms < listed_t]
    listed = started_in(cam.evidence, listed_t, step_utc_ms(rec, "stop_all"))
    measure.against(NONE_STARTED, who, f"recordings started by a sender not on the allow-list ({UNLISTED_SENDER})", len(unlisted), quantity="recordings")
    measure.expect(who, f"the allow-listed sender ({ALLOWED_SENDER}) starts a recording", bool(listed))
