"""The attack procedure (SEC-001..004): four stations 100 ft apart, each a camera under one
attack, so that no attack reaches another station's camera (the nominal range is 30 ft).

* A (SEC-001): CEW G1 starts camera R; R is stopped; once G1's burst and R's configured
  cool-down are over, the attacker replays G1's captured advert byte for byte.
* B (SEC-002): the attacker claims the allow-listed serial L (which never fires) with a
  forged CEW event at camera S.
* C (SEC-003): a baseline CEW (B3) fires and drives off; then a storm of malformed adverts at
  camera M, then the genuine CEW G3 fires.
* D (SEC-004): a baseline CEW (B4) fires and drives off; then a flood of spoofed, unlisted
  senders at cameras F1 and F2; the genuine CEW G4 fires once every spoofed sender has been
  heard; the cameras are stopped while G4's burst goes on and watched for watch_s.

The baselines tell the attack's effect from the camera's own speed: a camera that does not
start within ACT-001's limit without an attack is not judged on it after one (ACT-001 is).

The agency allow-list (G1, L, G3, G4, B3, B4) is configured on every camera. Every wait follows from
the catalogue (counts, intervals, ACT-001's latency limit) and the target's declared cool-down,
burst and boot times."""

from __future__ import annotations

import math
from dataclasses import dataclass

from conformance.catalogue import Requirement, requirement
from conformance.scenarios import STOP_AFTER_HEARD_S, _cew, _free_after_s, _latency_s
from emulators.profiles import Profile
from emulators.scene import AttackerSpec, OfficerSpec, Path2D, SceneSpec, Step, VehicleSpec, still

G1, LISTED, G3, G4, B3, B4 = "X8SEC00G1", "X8SEC000L", "X8SEC00G3", "X8SEC00G4", "X8SEC00B3", "X8SEC00B4"
ALLOW: tuple[str, ...] = (G1, LISTED, G3, G4, B3, B4)
LEAVE_S, LEAVE_FT = 10.0, 600.0  # a baseline CEW drives off after its event (its repeats must not reach the camera under attack)
STATION = {"A": (-50.0, -50.0), "B": (50.0, -50.0), "C": (-50.0, 50.0), "D": (50.0, 50.0)}
SEEN_S = 10.0  # a recording that starts this long after a genuine stimulus counts as its start (its latency is judged apart)
ATTACKER_POWER_DB = 6.0  # the attacker's radio is louder than the CEW (a phone or a Flipper at full power)


def _at(station: str, dx: float, dy: float) -> tuple[float, float]:
    x, y = STATION[station]
    return (x + dx, y + dy)


@dataclass(frozen=True)
class AttackPlan:
    """Scene seconds of each attack and the windows the tests judge."""

    g1: float  # G1's event (starts R); also the baselines B3 and B4
    replay: float  # the replay starts
    replay_end: float  # ... and its window ends
    spoof: float
    spoof_end: float
    storm: float
    g3: float  # the genuine event right after the storm
    flood: float
    g4: float  # the genuine event during the flood
    watch_end: float  # the flood cameras are watched until here
    flood_count: int
    end: float


def requires_authentication(p: Profile) -> bool:
    """The cameras declare that they act only on authenticated Signal (docs/signal-auth.md):
    SEC-001/002 are then requirements, not exposures."""
    return p.bwc.signal_auth.mode == "required"


def attack_count(p: Profile, req: Requirement, name: str) -> int:
    """Replays / forgeries sent: the catalogue's count, or its authenticated_frames when the
    cameras require the authenticated dialect (0 accepted over that many is the requirement)."""
    return int(req.parameter("authenticated_frames" if requires_authentication(p) else name))


def attack_plan(p: Profile) -> AttackPlan:
    latency = _latency_s()
    sec1, sec2, sec3, sec4 = (requirement(f"SEC-00{k}") for k in (1, 2, 3, 4))
    start = p.bwc.boot_s + 3.0
    replays, r_int = attack_count(p, sec1, "replays"), sec1.parameter("interval_ms") / 1000
    replay = start + max(p.cew.burst_s, p.bwc.cooldown_s) + _free_after_s(p) + 2.0
    replay_end = replay + replays * r_int + latency + 1.0
    frames, s_int = attack_count(p, sec2, "frames"), sec2.parameter("interval_ms") / 1000
    spoof = start + 2.0
    storm_frames, m_int = int(sec3.parameter("frames")), sec3.parameter("interval_ms") / 1000
    storm = start + SEEN_S
    g3 = storm + storm_frames * m_int + 0.5
    senders, f_int = int(sec4.parameter("senders")), sec4.parameter("interval_ms") / 1000
    flood = start + SEEN_S
    g4 = flood + senders * f_int + 0.5
    watch_end = g4 + latency + STOP_AFTER_HEARD_S + _free_after_s(p) + sec4.parameter("watch_s")
    flood_count = math.ceil((watch_end + 1.0 - flood) / f_int)
    end = max(replay_end, g3 + latency + STOP_AFTER_HEARD_S + 3.0, watch_end + 1.0)
    return AttackPlan(start, replay, replay_end, spoof, spoof + frames * s_int + latency + 1.0, storm, g3, flood, g4, watch_end, flood_count, end)


def _drives_off(station: str, dx: float, dy: float, t: float) -> Path2D:
    """At its place until t, then away from the square of stations, LEAVE_FT in LEAVE_S."""
    x, y = _at(station, dx, dy)
    sx, sy = (1 if x > 0 else -1), (1 if y > 0 else -1)
    k = LEAVE_FT / math.sqrt(2)
    return Path2D(((0.0, x, y), (t, x, y), (t + LEAVE_S, x + sx * k, y + sy * k)))


def attacks(p: Profile) -> SceneSpec:
    plan = attack_plan(p)
    sec1, sec2, sec3, sec4 = (requirement(f"SEC-00{k}") for k in (1, 2, 3, 4))
    officers = (
        OfficerSpec("G1", still(_at("A", 0, 0)), None, cew_serial=G1),
        OfficerSpec("R", still(_at("A", 0, 10)), "X6SEC00R1"),
        OfficerSpec("S", still(_at("B", 0, 10)), "X6SEC00S1"),
        OfficerSpec("G3", still(_at("C", 0, 0)), None, cew_serial=G3),
        OfficerSpec("B3", _drives_off("C", -5, 0, plan.g1 + 1.0), None, cew_serial=B3),
        OfficerSpec("B4", _drives_off("D", 5, -5, plan.g1 + 1.0), None, cew_serial=B4),
        OfficerSpec("M", still(_at("C", 0, 10)), "X6SEC00M1"),
        OfficerSpec("G4", still(_at("D", 0, 0)), None, cew_serial=G4),
        OfficerSpec("F1", still(_at("D", 0, 10)), "X6SEC0F11"),
        OfficerSpec("F2", still(_at("D", 10, 0)), "X6SEC0F21"),
    )
    attackers = tuple(AttackerSpec(f"ATK-{s}", _at(s, 5, 5), ATTACKER_POWER_DB) for s in "ABCD")
    event = _cew(p)
    timeline = [
        Step(plan.g1, "cew", "G1", event),
        Step(plan.g1, "stop", "R", anchor=("R", STOP_AFTER_HEARD_S)),
        Step(plan.g1, "cew", "B3", event),
        Step(plan.g1, "stop", "M", anchor=("M", STOP_AFTER_HEARD_S)),
        Step(plan.g1, "cew", "B4", event),
        Step(plan.g1, "stop", "F1", anchor=("F1", STOP_AFTER_HEARD_S)),
        Step(plan.g1, "stop", "F2", anchor=("F2", STOP_AFTER_HEARD_S)),
        Step(plan.storm, "attack", "ATK-C", {"kind": "malformed", "serial": G3, "count": int(sec3.parameter("frames")),
                                             "interval_ms": sec3.parameter("interval_ms"), "seed": 3}),
        Step(plan.flood, "attack", "ATK-D", {"kind": "flood", "senders": int(sec4.parameter("senders")), "count": plan.flood_count,
                                             "interval_ms": sec4.parameter("interval_ms"), "event": event["event"], "seed": 4}),
        Step(plan.spoof, "attack", "ATK-B", {"kind": "spoof", "serial": LISTED, "event": event["event"], "count": attack_count(p, sec2, "frames"),
                                             "interval_ms": sec2.parameter("interval_ms"), "seed": 2}),
        Step(plan.g3, "cew", "G3", event),
        Step(plan.g3, "stop", "M", anchor=("M", STOP_AFTER_HEARD_S)),
        Step(plan.g4, "cew", "G4", event),
        Step(plan.g4, "stop", "F1", anchor=("F1", STOP_AFTER_HEARD_S)),
        Step(plan.g4, "stop", "F2", anchor=("F2", STOP_AFTER_HEARD_S)),
        Step(plan.replay - _free_after_s(p), "stop", "R"),  # READY for the replay, whatever restarted it before
        Step(plan.replay, "attack", "ATK-A", {"kind": "replay", "serial": G1, "count": attack_count(p, sec1, "replays"),
                                              "interval_ms": sec1.parameter("interval_ms")}),
        Step(plan.end, "stop_all"),
    ]
    return SceneSpec("attacks", officers, (), tuple(sorted(timeline, key=lambda s: s.t)), end_s=plan.end + _free_after_s(p),
                     description="replay (R), forged listed sender (S), malformed storm (M), spoofed-sender flood (F1, F2)",
                     attackers=attackers)


@dataclass(frozen=True)
class IncarPlan:
    record: float  # CAR-1's light bar comes on: its DVR starts (and its group, in group mode), whatever its chaining
    forge_stop: float  # forged STOP_GROUPs (DVR, and a member for group targets)
    stop: float  # the operator stops CAR-1's recordings
    forge_start: float  # forged RECORDING_STARTED at CAR-2's DVR
    forge_start_end: float
    free2: float  # CAR-2's DVR stopped (whatever the forgery did)
    base2: float  # baseline: V2 starts, its DVR follows (no attack)
    base2_stop: float
    junk: float
    v2: float  # V2 starts right after the junk
    end: float


def incar_plan(p: Profile) -> IncarPlan:
    sec5 = requirement("SEC-005")
    forged, f_int = int(sec5.parameter("forged")), sec5.parameter("interval_ms") / 1000
    junk, j_int = int(sec5.parameter("junk")), sec5.parameter("junk_interval_ms") / 1000
    chain = requirement("CHN-001").main().value
    record = p.bwc.boot_s + 3.0
    forge_stop = record + p.dvr.debounce_ms / 1000 + chain + 1.0
    stop = forge_stop + forged * f_int + _free_after_s(p) + 3.0
    forge_start = record
    forge_start_end = forge_start + forged * f_int + chain + p.dvr.start_delay_s
    free2 = forge_start_end + 0.5
    base2 = free2 + _free_after_s(p)
    base2_stop = base2 + SEEN_S
    j = base2_stop + _free_after_s(p)
    v2 = j + junk * j_int + 0.2
    end = max(stop, v2 + SEEN_S)
    return IncarPlan(record, forge_stop, stop, forge_start, forge_start_end, free2, base2, base2_stop, j, v2, end)


def incar_attacks(p: Profile) -> SceneSpec:
    """SEC-005: CAR-1's DVR records (its light bar: the probe does not depend on CHN-001's
    chaining; in group mode its members V1 and W1 follow); an attacker's host forges
    STOP_GROUPs. CAR-2's DVR gets forged RECORDING_STARTEDs and is stopped; V2 starts and its
    DVR follows (the baseline), both are stopped; a burst of junk, then V2 starts again."""
    plan = incar_plan(p)
    sec5 = requirement("SEC-005")
    officers = (OfficerSpec("V1", still((0.0, 0.0)), "X6ICP00V1", vehicle="CAR-1"),
                OfficerSpec("W1", still((10.0, 0.0)), "X6ICP00W1", vehicle="CAR-1"),
                OfficerSpec("V2", still((200.0, 0.0)), "X6ICP00V2", vehicle="CAR-2"))
    group = ("V1", "W1") if p.dvr.group_mode else ()
    vehicles = (VehicleSpec("CAR-1", (0.0, 15.0), "F3ICP0011", "V1", group=group), VehicleSpec("CAR-2", (200.0, 15.0), "F3ICP0021", "V2"))
    forged = {"count": int(sec5.parameter("forged")), "interval_ms": sec5.parameter("interval_ms")}
    timeline = [
        Step(plan.record, "input", "CAR-1", {"input": "light_bar", "level": "on"}),
        Step(plan.forge_stop, "icp_attack", "NET", {"kind": "forge-stop", "vehicle": "CAR-1", **forged}),
        Step(plan.forge_start, "icp_attack", "NET", {"kind": "forge-start", "vehicle": "CAR-2", **forged}),
        Step(plan.free2, "dvr_stop", "CAR-2"),
        Step(plan.base2, "record", "V2"),
        Step(plan.base2_stop, "stop", "V2"),
        Step(plan.base2_stop, "dvr_stop", "CAR-2"),
        Step(plan.junk, "icp_attack", "NET", {"kind": "malformed", "vehicle": "CAR-2", "count": int(sec5.parameter("junk")),
                                              "interval_ms": sec5.parameter("junk_interval_ms"), "seed": 5}),
        Step(plan.v2, "record", "V2"),
        Step(plan.stop, "input", "CAR-1", {"input": "light_bar", "level": "off"}),
        Step(plan.stop, "dvr_stop", "CAR-1"),  # the operator ends CAR-1's recordings
        Step(plan.stop, "stop", "V1"),
        Step(plan.stop, "stop", "W1"),
        Step(plan.end, "stop_all"),
    ]
    if group:
        timeline.append(Step(plan.forge_stop, "icp_attack", "NET", {"kind": "forge-stop", "vehicle": "CAR-1", "to": "W1", "serial": "F3ICP0011", **forged}))
    return SceneSpec("incar-attacks", officers, vehicles, tuple(sorted(timeline, key=lambda s: s.t)), end_s=plan.end + _free_after_s(p),
                     description="forged STOP_GROUP (CAR-1), forged RECORDING_STARTED and junk (CAR-2) from a host on the in-car network",
                     attackers=(AttackerSpec("NET", (500.0, 500.0)),))
