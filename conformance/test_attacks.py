"""SEC-001..005: what an attacker's radio (and its host on the in-car network) can do to a camera (conformance/attack_scenarios.py).
Whether an attack worked is read from the exported clips and the recording-started adverts the
harness heard, on the harness clock, never from the device's own log. SEC-001/002 on the
legacy Signal are exposures (informative unless the procurement policy fails them,
conformance/policy.py); SEC-003/004 are requirements every camera must meet."""

from __future__ import annotations

import pytest

from conformance.attack_scenarios import ATTACKER_POWER_DB, attack_plan, incar_plan
from conformance.catalogue import requirement
from conformance.incident_view import first_heard, scene_utc_ms, started_in, step_utc_ms, subject
from conformance.limits import Limit

NONE_STARTED = Limit(0, "recordings", "==")
SEEN_S = 10.0  # a recording started this long after a genuine event counts as its start (the latency is judged apart)


def _started(cam, t0_ms: float, t1_ms: float) -> int:
    """Recordings a camera started in [t0, t1]: exported clips, or announcements heard (a
    recording announced and never exported still started)."""
    clips = len(started_in(cam.evidence, t0_ms, t1_ms))
    heard = sum(1 for t in cam.status_starts_utc_ms if t0_ms <= t <= t1_ms)
    return max(clips, heard)


def _attack_started(measure, rec, attacker: str) -> int:
    steps = rec.steps_of("attack", attacker)
    if not steps or not str(steps[0].get("outcome", "")).startswith("started"):
        why = steps[0].get("outcome") if steps else "the step did not run"
        measure.cannot_measure(attacker, "attack", f"the attack could not be made: {why}")
    return int(steps[0]["t_utc_ms"])


def _genuine_latency(measure, rec, cam, cew: str, *, what: str) -> None:
    """The genuine CEW event after (or during) the attack starts the camera within ACT-001's limit."""
    limit = requirement("ACT-001").main()
    t = step_utc_ms(rec, "cew", cew)
    heard = first_heard(cam, t, t + SEEN_S * 1000)
    clips = started_in(cam.evidence, t, t + SEEN_S * 1000)
    who = subject(cam)
    measure.expect(who, f"the genuine CEW event {what} starts the camera", heard is not None or bool(clips), quantity="activated")
    if heard is not None:
        measure.against(limit, who, f"latency of the genuine event {what} (first recording-started advert heard)", (heard - t) / 1000, quantity="latency_s")
    elif clips and (start := clips[0].activation) is not None:
        measure.against(limit, who, f"latency of the genuine event {what} (exported activation time)", start.minus(t),
                        uncertainty=start.uncertainty_ms / 1000, quantity="latency_s")


@pytest.mark.requirement("SEC-001")
def test_sec001_replayed_advert(scenarios, profile, measure):
    rec = scenarios.run("attacks")
    plan = attack_plan(profile)
    cam = rec.camera("R")
    who = subject(cam)
    g1 = step_utc_ms(rec, "cew", "G1")
    if not _started(cam, g1, g1 + SEEN_S * 1000):
        measure.cannot_measure(who, "replay", "the genuine CEW event did not start the camera (see ACT-001), so there was nothing to replay to a camera that had reacted")
    t0 = _attack_started(measure, rec, "ATK-A")
    n = _started(cam, t0, scene_utc_ms(rec, plan.replay_end))
    replays = int(measure.req.parameter("replays"))
    measure.exposure(who, "a replayed CEW advert starts a recording", n > 0,
                     note=f"{replays} copies of the captured advert, byte for byte, from another address at +{ATTACKER_POWER_DB:g} dB; "
                          f"{n} recording(s) started")


@pytest.mark.requirement("SEC-002")
def test_sec002_forged_listed_sender(scenarios, profile, measure):
    rec = scenarios.run("attacks")
    plan = attack_plan(profile)
    cam = rec.camera("S")
    t0 = _attack_started(measure, rec, "ATK-B")
    n = _started(cam, t0, scene_utc_ms(rec, plan.spoof_end))
    measure.exposure(subject(cam), "a forged advert claiming an allow-listed CEW starts a recording", n > 0,
                     note=f"{int(measure.req.parameter('frames'))} forged adverts with a new event id; {n} recording(s) started")


@pytest.mark.requirement("SEC-003")
def test_sec003_malformed_storm(scenarios, profile, measure):
    rec = scenarios.run("attacks")
    cam = rec.camera("M")
    t0 = _attack_started(measure, rec, "ATK-C")
    g3 = step_utc_ms(rec, "cew", "G3")
    frames = int(measure.req.parameter("frames"))
    measure.against(measure.req.main(), subject(cam), "recordings the malformed storm started", _started(cam, t0, g3 - 1), quantity="recordings",
                    note=f"{frames} malformed adverts at {measure.req.parameter('interval_ms'):g} ms")
    _genuine_latency(measure, rec, cam, "G3", what="right after the storm")


@pytest.mark.requirement("SEC-004")
def test_sec004_spoofed_sender_flood(scenarios, profile, measure):
    rec = scenarios.run("attacks")
    plan = attack_plan(profile)
    t0 = _attack_started(measure, rec, "ATK-D")
    g4 = step_utc_ms(rec, "cew", "G4")
    senders = int(measure.req.parameter("senders"))
    watch_end = scene_utc_ms(rec, plan.watch_end)
    burst_end = g4 + profile.cew.burst_s * 1000
    for label in ("F1", "F2"):
        cam = rec.camera(label)
        who = subject(cam)
        measure.against(NONE_STARTED, who, "recordings the flood started", _started(cam, t0, g4 - 1), quantity="recordings",
                        note=f"{senders} spoofed unlisted senders at {measure.req.parameter('interval_ms'):g} ms")
        _genuine_latency(measure, rec, cam, "G4", what="during the flood")
        stops = [s for s in rec.steps_of("stop", label) if s["t_utc_ms"] >= g4]
        if not stops or not str(stops[0].get("outcome", "")).startswith("accepted"):
            continue  # never started (counted above), nothing to stop
        stop = int(stops[0]["t_utc_ms"])
        until = min(watch_end, burst_end)
        if until <= stop:
            measure.info(who, "repeats of the genuine event after the stop", None,
                         note=f"the genuine burst ({profile.cew.burst_s:g} s) was over before the stop: de-duplication under the flood not probed")
            continue
        measure.against(NONE_STARTED, who, "recordings the genuine event's repeats started after the stop, during the flood",
                        _started(cam, stop + 1, until), quantity="recordings",
                        note=f"watched {(until - stop) / 1000:.1f} s while the genuine burst and the flood went on")


def _kept_recording(clip, until_ms: float, slack_ms: float) -> bool:
    return clip.stop is None or clip.stop.ms >= until_ms - slack_ms - clip.stop.uncertainty_ms


@pytest.mark.requirement("SEC-005")
def test_sec005_forged_and_malformed_incar_messages(scenarios, profile, measure):
    rec = scenarios.run("incar-attacks")
    plan = incar_plan(profile)
    chain = requirement("CHN-001").main()
    slack_ms = float(getattr(profile.dvr, "gop_s", 1.0)) * 1000 + 500.0  # a stop ends a clip at the next GOP boundary
    record = step_utc_ms(rec, "record", "V1")
    stop = step_utc_ms(rec, "dvr_stop", "CAR-1")
    forged = int(measure.req.parameter("forged"))
    for s in rec.steps_of("icp_attack", "NET"):
        if not str(s.get("outcome", "")).startswith("started"):
            measure.cannot_measure("NET", "in-car attack", f"the attack could not be made: {s.get('outcome')}")
    # 1. forged STOP_GROUP claiming CAR-1's camera, at CAR-1's DVR (and claiming the DVR, at a member)
    dvr1 = rec.dvr("CAR-1")
    started = started_in(dvr1.evidence, record, record + (chain.value + profile.dvr.start_delay_s + 1.0) * 1000)
    who = subject(dvr1, "front")
    if not started:
        measure.cannot_measure(who, "forged stop", "the DVR did not start with its camera (see CHN-001), so a stop could not be forged")
    measure.expect(who, f"{forged} forged STOP_GROUPs claiming its camera do not stop the DVR", _kept_recording(started[0], stop, slack_ms),
                   quantity="kept_recording", note="sent from another host on the in-car network, before the DVR's own stop")
    if profile.dvr.group_mode:
        member = rec.camera("W1")
        clips = started_in(member.evidence, record, record + (chain.value + profile.dvr.group_start_delay_s + 2.0) * 1000)
        if clips:
            measure.expect(subject(member), f"{forged} forged STOP_GROUPs claiming the DVR do not stop a group member",
                           _kept_recording(clips[0], stop, slack_ms), quantity="kept_recording")
        else:
            measure.not_measured(subject(member), "forged stop at a member", "the group did not start the member (see GRP-001)")
    # 2. forged RECORDING_STARTED at CAR-2's DVR (exposure)
    dvr2 = rec.dvr("CAR-2")
    t0 = next(s["t_utc_ms"] for s in rec.steps_of("icp_attack", "NET") if s["args"].get("kind") == "forge-start")
    forged_start = bool(started_in(dvr2.evidence, t0, scene_utc_ms(rec, plan.forge_start_end)))
    measure.exposure(subject(dvr2, "front"), "a forged in-car RECORDING_STARTED starts the DVR", forged_start,
                     note=f"{forged} datagrams claiming its camera, from another host")
    # 3. junk, then its camera starts: the DVR still follows within CHN-001's limit
    v2 = rec.camera("V2")
    v2_record = step_utc_ms(rec, "record", "V2")
    cam = started_in(v2.evidence, v2_record, v2_record + 1000)
    cam_start = cam[0].activation if cam else None
    if cam_start is None:
        measure.cannot_measure(subject(v2), "junk then start", "the record button started no recording")
        return
    follow = started_in(dvr2.evidence, v2_record, v2_record + (chain.value + profile.dvr.start_delay_s + 2.0) * 1000)
    who2 = subject(dvr2, "front")
    measure.expect(who2, f"starts with its camera right after {int(measure.req.parameter('junk'))} junk datagrams", bool(follow))
    if follow and (d := follow[0].activation) is not None:
        measure.against(chain, who2, "chain latency after the junk (DVR activation - camera activation, harness clock)", (d.ms - cam_start.ms) / 1000,
                        uncertainty=(d.uncertainty_ms + cam_start.uncertainty_ms) / 1000, quantity="chain_latency_s")
