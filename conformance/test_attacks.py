"""SEC-001..005: what an attacker's radio (and its host on the in-car network) can do to a camera (conformance/attack_scenarios.py).
Whether an attack worked is read from the exported clips and the recording-started adverts the
harness heard, on the harness clock, never from the device's own log. SEC-001/002 on the
legacy Signal are exposures (informative unless the procurement policy fails them,
conformance/policy.py); SEC-003/004 are requirements every camera must meet."""

from __future__ import annotations

import pytest

from conformance.attack_scenarios import ATTACKER_POWER_DB, SEEN_S, attack_count, attack_plan, incar_plan, requires_authentication
from conformance.catalogue import requirement
from conformance.incident_view import first_heard, scene_utc_ms, started_in, step_utc_ms, subject
from conformance.limits import Limit

NONE_STARTED = Limit(0, "recordings", "==")


def _started(cam, t0_ms: float, t1_ms: float) -> int:
    """Recordings a camera started in [t0, t1]: exported clips, or announcements heard (a
    recording announced and never exported still started)."""
    clips = len(started_in(cam.evidence, t0_ms, t1_ms))
    heard = sum(1 for t in cam.status_starts_utc_ms if t0_ms <= t <= t1_ms)
    return max(clips, heard)


def _attack_started(measure, rec, attacker: str, action: str = "attack") -> int:
    """When the attacker's first such step started; cannot measure if any of them did not start."""
    steps = rec.steps_of(action, attacker)
    refused = next((s for s in steps if not str(s.get("outcome", "")).startswith("started")), None)
    if not steps or refused is not None:
        why = refused.get("outcome") if refused is not None else "the step did not run"
        measure.cannot_measure(attacker, "attack", f"the attack could not be made: {why}")
    return int(steps[0]["t_utc_ms"])


def _attack_outcome(measure, profile, who, attack: str, started: int, sent: int, note: str) -> None:
    """Legacy cameras: an exposure (did the attack work?). Cameras that require the
    authenticated dialect: a requirement, 0 recordings started over ``sent`` frames."""
    if requires_authentication(profile):
        measure.against(NONE_STARTED, who, f"recordings started by {sent} frames: {attack}", started, quantity="recordings",
                        note=f"the camera requires authenticated Signal; {note}")
    else:
        measure.exposure(who, f"a {attack} starts a recording", started > 0, note=f"{note}; {started} recording(s) started")


def _latency_s(cam, t: int) -> tuple[float | None, float, str]:
    """(latency, its uncertainty, how measured) of the first start after ``t``: the first
    recording-started advert heard, else the exported activation time; None: no start."""
    heard = first_heard(cam, t, t + SEEN_S * 1000)
    if heard is not None:
        return (heard - t) / 1000, 0.0, "first recording-started advert heard"
    clips = started_in(cam.evidence, t, t + SEEN_S * 1000)
    if clips and (start := clips[0].activation) is not None:
        return start.minus(t), start.uncertainty_ms / 1000, "exported activation time"
    return None, 0.0, ""


def _genuine_latency(measure, rec, cam, baseline: str, cew: str, *, what: str) -> None:
    """The genuine CEW event after (or during) the attack starts the camera within ACT-001's
    limit, judged where the same camera met that limit without the attack (the baseline
    event before it); one too slow even then is ACT-001's failure, shown here for information."""
    limit = requirement("ACT-001").main()
    who = subject(cam)
    base, base_u, _ = _latency_s(cam, step_utc_ms(rec, "cew", baseline))
    if base is None or limit.judge(base, base_u).value == "fail":
        shown = "did not start" if base is None else f"started after {base:.3f} s"
        measure.info(who, f"the genuine event {what}: not judged", None,
                     note=f"without the attack the camera {shown} (ACT-001 {limit.describe()}): the attack's effect cannot be told from its own speed")
        return
    measure.info(who, "baseline latency without the attack", round(base, 3), "s", quantity="baseline_latency_s")
    latency, u, how = _latency_s(cam, step_utc_ms(rec, "cew", cew))
    measure.expect(who, f"the genuine CEW event {what} starts the camera", latency is not None, quantity="activated")
    if latency is not None:
        measure.against(limit, who, f"latency of the genuine event {what} ({how})", latency, uncertainty=u, quantity="latency_s")


@pytest.mark.requirement("SEC-001")
@pytest.mark.scene("attacks")
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
    replays = attack_count(profile, measure.req, "replays")
    _attack_outcome(measure, profile, who, "replayed CEW advert", n, replays,
                    f"{replays} copies of the captured advert, byte for byte, from another address at +{ATTACKER_POWER_DB:g} dB")


@pytest.mark.requirement("SEC-002")
@pytest.mark.scene("attacks")
def test_sec002_forged_listed_sender(scenarios, profile, measure):
    rec = scenarios.run("attacks")
    plan = attack_plan(profile)
    cam = rec.camera("S")
    t0 = _attack_started(measure, rec, "ATK-B")
    n = _started(cam, t0, scene_utc_ms(rec, plan.spoof_end))
    frames = attack_count(profile, measure.req, "frames")
    _attack_outcome(measure, profile, subject(cam), "forged advert claiming an allow-listed CEW", n, frames, f"{frames} forged adverts with a new event id")


@pytest.mark.requirement("SEC-003")
@pytest.mark.scene("attacks")
def test_sec003_malformed_storm(scenarios, profile, measure):
    rec = scenarios.run("attacks")
    cam = rec.camera("M")
    t0 = _attack_started(measure, rec, "ATK-C")
    g3 = step_utc_ms(rec, "cew", "G3")
    frames = int(measure.req.parameter("frames"))
    measure.against(measure.req.main(), subject(cam), "recordings the malformed storm started", _started(cam, t0, g3 - 1), quantity="recordings",
                    note=f"{frames} malformed adverts at {measure.req.parameter('interval_ms'):g} ms")
    _genuine_latency(measure, rec, cam, "B3", "G3", what="right after the storm")


@pytest.mark.requirement("SEC-004")
@pytest.mark.scene("attacks")
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
        _genuine_latency(measure, rec, cam, "B4", "G4", what="during the flood")
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
@pytest.mark.scene("incar-attacks")
def test_sec005_forged_and_malformed_incar_messages(scenarios, profile, measure):
    rec = scenarios.run("incar-attacks")
    plan = incar_plan(profile)
    chain = requirement("CHN-001").main()
    slack_ms = float(getattr(profile.dvr, "gop_s", 1.0)) * 1000 + 500.0  # a stop ends a clip at the next GOP boundary
    record = step_utc_ms(rec, "input", "CAR-1")
    stop = step_utc_ms(rec, "dvr_stop", "CAR-1")
    forged = int(measure.req.parameter("forged"))
    _attack_started(measure, rec, "NET", "icp_attack")
    # 1. forged STOP_GROUP claiming CAR-1's camera, at CAR-1's DVR (and claiming the DVR, at a member)
    dvr1 = rec.dvr("CAR-1")
    started = started_in(dvr1.evidence, record, record + SEEN_S * 1000)
    who = subject(dvr1, "front")
    if not started:
        measure.cannot_measure(who, "forged stop", "the DVR did not start on its light bar (see ACT-002), so a stop could not be forged")
    measure.expect(who, f"{forged} forged STOP_GROUPs claiming its camera do not stop the DVR", _kept_recording(started[0], stop, slack_ms),
                   quantity="kept_recording", note="sent from another host on the in-car network, before the DVR's own stop")
    if profile.dvr.group_mode:
        member = rec.camera("W1")
        clips = started_in(member.evidence, record, record + SEEN_S * 1000)
        if clips:
            measure.expect(subject(member), f"{forged} forged STOP_GROUPs claiming the DVR do not stop a group member",
                           _kept_recording(clips[0], stop, slack_ms), quantity="kept_recording")
        else:
            measure.not_measured(subject(member), "forged stop at a member", "the group did not start the member (see GRP-001)")
    # 2. forged RECORDING_STARTED at CAR-2's DVR (exposure)
    dvr2 = rec.dvr("CAR-2")
    t0 = next(s["t_utc_ms"] for s in rec.steps_of("icp_attack", "NET") if s["args"].get("kind") == "forge-start")
    forged_starts = len(started_in(dvr2.evidence, t0, scene_utc_ms(rec, plan.forge_start_end)))
    note = f"{forged} datagrams claiming its camera from another host, half ICP1, half ICP2 with guessed MACs"
    if profile.dvr.icp_auth.mode == "required":
        measure.against(NONE_STARTED, subject(dvr2, "front"), "recordings forged in-car RECORDING_STARTEDs started",
                        forged_starts, quantity="recordings", note=f"the DVR requires authenticated in-car messages (ICP2); {note}")
    else:
        measure.exposure(subject(dvr2, "front"), "a forged in-car RECORDING_STARTED starts the DVR", forged_starts > 0, note=note)
    # 3. junk, then its camera starts: the DVR still follows within CHN-001's limit (judged
    #    where it followed within the limit without the junk: the baseline)
    who2 = subject(dvr2, "front")
    base = _chain_latency_s(measure, rec, dvr2, step_utc_ms(rec, "record", "V2", 0))
    if base is None or chain.judge(*base).value == "fail":
        shown = "did not follow its camera" if base is None else f"followed after {base[0]:.3f} s"
        measure.info(who2, "junk then start: not judged", None,
                     note=f"without the junk the DVR {shown} (CHN-001 {chain.describe()}): the junk's effect cannot be told from its own chaining")
        return
    measure.info(who2, "baseline chain latency without the junk", round(base[0], 3), "s", quantity="baseline_chain_latency_s")
    after = _chain_latency_s(measure, rec, dvr2, step_utc_ms(rec, "record", "V2", 1))
    measure.expect(who2, f"starts with its camera right after {int(measure.req.parameter('junk'))} junk datagrams", after is not None)
    if after is not None:
        measure.against(chain, who2, "chain latency after the junk (DVR activation - camera activation, harness clock)", after[0],
                        uncertainty=after[1], quantity="chain_latency_s")


def _chain_latency_s(measure, rec, dvr, pressed: int) -> tuple[float, float] | None:
    """(DVR activation - camera activation, uncertainty) for the camera's record press at
    ``pressed``; None when the DVR did not follow."""
    cam = started_in(rec.camera("V2").evidence, pressed, pressed + 1000)
    cam_start = cam[0].activation if cam else None
    if cam_start is None:
        measure.cannot_measure(subject(rec.camera("V2")), "junk then start", "the record button started no recording")
        return None
    follow = started_in(dvr.evidence, pressed, pressed + SEEN_S * 1000)
    if not follow or (d := follow[0].activation) is None:
        return None
    return (d.ms - cam_start.ms) / 1000, (d.uncertainty_ms + cam_start.uncertainty_ms) / 1000
