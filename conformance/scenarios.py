"""The test procedures: one scene (positions + timeline of stimuli) per requirement family.

A procedure is built for the target's *declared configuration* (its profile, or a bench
file's declarations): the harness waits until the longest configured pre-event buffer has
filled before the event, probes a cool-down at half its configured length, waits for a
source's burst to end before it needs a camera free again. Nothing is timed to the
reference device: every wait is derived from a requirement's limit or from the declared
configuration. Cameras that are not under test are left out; sources without a camera are
bench sources (a CEW on a stand). Times are seconds of scene time; cameras power on at 0.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from conformance.catalogue import requirement
from emulators.profiles import Profile
from emulators.scene import OfficerSpec, SceneSpec, Step, VehicleSpec, hartford, still
from emulators.video import VideoFormat

SMALL = (320, 180)  # scenes judged on activation and metadata record small pictures (at the camera's own frame rate)
# ... and no sound, and keep no pre-event buffer: nothing they judge depends on either, and a
# recording's buffered GOPs and its sound are most of what encoding a clip costs
LIGHT_RECORDING = {"bwc.audio": False, "bwc.pre_event_s": 0.0, "dvr.pre_event_s": 0.0, "dvr.rear_pre_event_s": 0.0}
FILL_MARGIN_S = 30.5  # READY this long beyond the longest configured buffer before the event (mid-GOP for 1 s GOPs)
STOP_MARGIN_S = 1.5  # a stop ends the clip at the next GOP boundary; the camera is READY again after this much more
STOP_AFTER_HEARD_S = 1.0  # a Signal-started recording is stopped this long after the harness heard it announced


def _latency_s() -> float:
    return requirement("ACT-001").main().value


def _gop(p: Profile) -> float:
    return float(getattr(p.bwc, "gop_s", 1.0))


def longest_buffer_s(p: Profile) -> float:
    """The longest pre-event buffer configured on any camera of the target (and at least the
    catalogue's 30 s)."""
    return max(requirement("PRE-001").main().value, p.bwc.pre_event_s, p.dvr.pre_event_s, p.dvr.rear_pre_event_s)


def _free_after_s(p: Profile) -> float:
    """From a stop request until the camera is READY again (next GOP boundary plus margin)."""
    return _gop(p) + STOP_MARGIN_S


@dataclass(frozen=True)
class Scenario:
    name: str
    build: Callable[[Profile], SceneSpec]
    small_video: bool = False  # judged on activation/metadata only: record 320x180, no sound, no buffer
    configuration: dict[str, object] = field(default_factory=dict)  # agency configuration the harness applies first

    def configure(self, profile: Profile) -> Profile:
        """The target's profile with the configuration this procedure applies (an allow-list,
        false-signal cancel on) and, for small-video scenes, small pictures."""
        for key, value in self.configuration.items():
            profile = _replace(profile, key, value)
        if self.small_video:
            for key, value in LIGHT_RECORDING.items():
                profile = _replace(profile, key, value)
            for key in ("bwc.video", "dvr.front_video", "dvr.rear_video"):
                fmt = _get(profile, key)
                assert isinstance(fmt, VideoFormat)
                profile = _replace(profile, key, VideoFormat(SMALL[0], SMALL[1], fmt.fps, fmt.crf))
        return profile


def _get(obj: object, dotted: str) -> object:
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _replace(obj, dotted: str, value):
    head, _, rest = dotted.partition(".")
    if not rest:
        return dataclasses.replace(obj, **{head: value})
    return dataclasses.replace(obj, **{head: _replace(getattr(obj, head), rest, value)})


def declared(profile: Profile, dotted: str) -> float:
    """A number from the target's declared configuration (e.g. ``bwc.pre_event_s``)."""
    value = _get(profile, dotted)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise TypeError(f"{dotted} is not a number in the declared configuration")
    return float(value)


CEW_EVENTS = (("CEW_ARMED", "armed"), ("CEW_TRIGGER", "trigger"), ("CEW_ARC", "arc"))  # ACT-001's CEW events, in its order


def cew_events(p: Profile) -> tuple[str, ...]:
    """The CEW events the target is configured to start on, in ACT-001's order (all three when
    it declares none). Every procedure but ACT-001's own (event-types, the sweep) sends these:
    a probe that must start nothing (sleep, allow-list, cool-down) proves something only with an
    event the camera acts on, and a camera that ignores one CEW event fails ACT-001, not every
    requirement measured on its recordings."""
    configured = tuple(event for name, event in CEW_EVENTS if name in p.bwc.activates_on)
    return configured or tuple(event for _, event in CEW_EVENTS)


def _cew(p: Profile, k: int = 0) -> dict[str, str]:
    events = cew_events(p)
    return {"event": events[k % len(events)]}


# -- the procedures ---------------------------------------------------------------------------
RECORD_AFTER_HEARD_S = 6.0  # a camera of the incident records this long after the harness heard it announce (several audio marks)


def hartford_for(p: Profile) -> SceneSpec:
    """The default scene (emulators.scene.hartford), with the event after the longest
    configured buffer has filled (for the reference: 60.5 s of READY time, event at 62.5 s).
    Each camera is stopped 6 s after the harness heard it announce its recording, and each
    cruiser 6 s after its camera, so that a late camera's clip still holds enough sound and
    picture to be measured; whatever is still recording is stopped 29 s after the event."""
    base = hartford()
    t = p.bwc.boot_s + longest_buffer_s(p) + FILL_MARGIN_S
    steps = [Step(t, "cew", "A", _cew(p))]
    steps += [Step(t, "stop", o.name, anchor=(o.name, RECORD_AFTER_HEARD_S)) for o in base.officers if o.bwc_serial]
    steps += [Step(t, "dvr_stop", v.vehicle_id, anchor=(v.officer, RECORD_AFTER_HEARD_S)) for v in base.vehicles if v.officer]
    steps.append(Step(t + 29.0, "stop_all"))
    return dataclasses.replace(base, timeline=tuple(steps), end_s=t + 29.5)


def sleep_dock(p: Profile) -> SceneSpec:
    """PRE-004 and ACT-003. S sleeps, hears a CEW event, then records from sleep; K is docked,
    undocked after the CEW's burst, and records 5 s after it is READY again."""
    ready = p.bwc.boot_s
    officers = (
        OfficerSpec("CEW", still((0.0, 0.0)), None, cew_serial="X8SLP0001"),
        OfficerSpec("S", still((10.0, 0.0)), "X6SLP00S1"),
        OfficerSpec("K", still((0.0, 12.0)), "X6SLP00K1"),
    )
    sleep = ready + 3.0
    event = sleep + 5.0
    undock = event + p.cew.burst_s + 3.0  # K is judged on its buffer, not on Signal
    record_k = undock + p.bwc.boot_s + 5.0
    timeline = (
        Step(ready + 1.0, "dock", "K"),
        Step(sleep, "sleep", "S"),
        Step(event, "cew", "CEW", _cew(p)),
        # a camera that Signal wrongly woke (ACT-003's failure) is stopped and put back to sleep,
        # so that the record press still starts a recording from sleep (PRE-004's probe)
        Step(event + 3.0, "stop", "S"),
        Step(event + 3.0 + _free_after_s(p), "sleep", "S"),
        Step(event + 10.0, "record", "S"),
        Step(undock, "undock", "K"),
        Step(record_k, "record", "K"),
        Step(record_k + 5.0, "stop_all"),
    )
    return SceneSpec("sleep-dock", officers, (), tuple(sorted(timeline, key=lambda s: s.t)), end_s=record_k + 5.0 + _free_after_s(p),
                     description="S asleep when the CEW is armed, then records from sleep; K records soon after leaving the dock")


@dataclass(frozen=True)
class CooldownProbe:
    """When the signal-rules scene sends P's events to camera B (scene seconds)."""

    record: float  # B's record button
    first: float  # P's event E1 while B records (must not stop it)
    stop: float  # B's stop button while E1's burst goes on (its repeats must not restart B)
    second: float  # P's event E2 after E1's burst and cool-down: must start B
    second_stop: float
    third: float | None  # P's event E3 within the cool-down of E2: must start nothing (None: cool-down too short to probe)
    end: float


def cooldown_probe(p: Profile) -> CooldownProbe:
    c, burst = p.bwc.cooldown_s, p.cew.burst_s
    record = p.bwc.boot_s + 3.0
    first = record + 5.0
    stop = first + min(10.0, burst / 2)
    second = max(first + burst, first + c, stop + _free_after_s(p)) + 2.0
    second_stop = second + _latency_s() + 1.0
    free = second_stop + _free_after_s(p)
    third = max(free, second + c / 2)
    if third > second + c - 0.5:  # the camera cannot be READY again inside a cool-down this short
        return CooldownProbe(record, first, stop, second, second_stop, None, free + 2.0)
    return CooldownProbe(record, first, stop, second, second_stop, third, third + _latency_s() + 3.0)


@dataclass(frozen=True)
class CancelProbe:
    """When the signal-rules scene tests false-signal cancel on camera F (scene seconds). The
    cancels of Signal starts are timed from the moment the harness hears F announce the
    recording (the recording is a little older than that): one just inside the window, one
    just outside."""

    first: float  # Q1's event starts F
    inside_after_heard_s: float  # cancel this long after F was heard announcing: accepted, clip kept and marked
    button: float  # F's record button once Q1's burst is over
    button_cancel: float  # cancel of the button recording: refused
    button_stop: float
    second: float  # Q2's event starts F again
    outside_after_heard_s: float  # cancel this long after F was heard announcing: refused
    end: float


INSIDE_MARGIN_S = 1.5  # the inside probe comes this much before the window ends (announcements lag the start)
OUTSIDE_MARGIN_S = 0.3  # the outside probe: this much after the window, counted from the (later) announcement


def cancel_probe(p: Profile) -> CancelProbe:
    window = requirement("ACT-004").main().value
    first = p.bwc.boot_s + 3.0
    inside = window - INSIDE_MARGIN_S
    button = max(first + _latency_s() + inside + _free_after_s(p), first + p.cew.burst_s + _free_after_s(p) + 2.0)
    second = button + 6.0 + _free_after_s(p)
    outside = window + OUTSIDE_MARGIN_S
    return CancelProbe(first, inside, button, button + 3.0, button + 6.0, second, outside, second + _latency_s() + outside + 5.0)


def signal_rules(p: Profile) -> SceneSpec:
    """ACT-005 on camera B (10 ft from CEW P): never-stop, de-duplication, cool-down. ACT-004
    on camera F (near CEWs Q1 and Q2, 80 ft from P): false-signal cancel. Two senders for F
    so that no cool-down value can get in the way."""
    officers = (
        OfficerSpec("P", still((0.0, 0.0)), None, cew_serial="X8RUL000P"),
        OfficerSpec("B", still((10.0, 0.0)), "X6RUL00B1"),
        OfficerSpec("Q1", still((80.0, 0.0)), None, cew_serial="X8RUL00Q1"),
        OfficerSpec("Q2", still((80.0, 8.0)), None, cew_serial="X8RUL00Q2"),
        OfficerSpec("F", still((88.0, 0.0)), "X6RUL00F1"),
    )
    b, f = cooldown_probe(p), cancel_probe(p)
    timeline = [
        Step(b.record, "record", "B"),
        Step(b.first, "cew", "P", _cew(p, 0)),
        Step(b.stop, "stop", "B"),
        Step(b.second, "cew", "P", _cew(p, 1)),
        Step(b.second, "stop", "B", anchor=("B", STOP_AFTER_HEARD_S)),
        Step(f.first, "cew", "Q1", _cew(p)),
        Step(f.first, "cancel", "F", anchor=("F", f.inside_after_heard_s)),
        Step(f.button - _free_after_s(p), "stop", "F"),  # frees F if it (wrongly) restarted on Q1's repeats
        Step(f.button, "record", "F"),
        Step(f.button_cancel, "cancel", "F"),
        Step(f.button_stop, "stop", "F"),
        Step(f.second, "cew", "Q2", _cew(p)),
        Step(f.second, "cancel", "F", anchor=("F", f.outside_after_heard_s)),
    ]
    if b.third is not None:
        timeline += [Step(b.third, "cew", "P", _cew(p, 2)), Step(b.third + _latency_s() + 1.0, "stop", "B")]
    end = max(b.end, f.end)
    timeline.append(Step(end, "stop_all"))
    return SceneSpec("signal-rules", officers, (), tuple(sorted(timeline, key=lambda s: s.t)), end_s=end + _free_after_s(p),
                     description="never-stop, de-duplication, cool-down (B); false-signal cancel (F)")


EVENT_SOURCES = (("ARM", "cew", "armed"), ("TRG", "cew", "trigger"), ("ARC", "cew", "arc"), ("HOL", "holster", "draw"))


def event_spacing_s(p: Profile) -> float:
    return max(p.cew.burst_s, p.holster.burst_s) + 6.0


def event_types(p: Profile) -> SceneSpec:
    """ACT-001 for every activating source event: four bench sources 10 ft around camera X,
    one event each (four senders: no cool-down applies), spaced by the longest burst; X is
    stopped 6 s after each event and again after the burst, so it is READY for the next one
    even if it (wrongly) restarted on the repeats."""
    officers = [OfficerSpec("X", still((0.0, 0.0)), "X6EVT00X1")]
    timeline: list[Step] = []
    positions = ((10.0, 0.0), (0.0, 10.0), (-10.0, 0.0), (0.0, -10.0))
    spacing = event_spacing_s(p)
    t0 = p.bwc.boot_s + 3.0
    for i, ((tag, kind, event), pos) in enumerate(zip(EVENT_SOURCES, positions)):
        serial = f"X8EVT0{tag}"
        officers.append(OfficerSpec(tag, still(pos), None, cew_serial=serial if kind == "cew" else None,
                                    holster_serial=serial if kind == "holster" else None))
        t = t0 + spacing * i
        timeline += [Step(t, kind, tag, {"event": event}), Step(t + 6.0, "stop", "X"), Step(t + spacing - 4.0, "stop", "X")]
    return SceneSpec("event-types", tuple(officers), (), tuple(sorted(timeline, key=lambda s: s.t)), end_s=t0 + spacing * 4,
                     description="CEW armed, trigger, arc and holster draw each start camera X")


VEHICLE_INPUTS = ("light_bar", "siren", "door", "crash", "speed")
GLITCHES_MS = (100, 150, 190)


@dataclass(frozen=True)
class VehiclePlan:
    glitches: tuple[float, ...]  # light-bar pulses on C1 (scene seconds), GLITCHES_MS long
    held: tuple[float, ...]  # each cruiser's input held on (scene seconds), in VEHICLE_INPUTS order
    hold_s: float


def vehicle_plan(p: Profile) -> VehiclePlan:
    t0 = p.bwc.boot_s + 3.0
    glitches = tuple(t0 + 3.0 * i for i in range(len(GLITCHES_MS)))
    hold = requirement("VEH-001").named("max_delay").value / 1000 + _latency_s() + 2.0
    off_s = max(p.dvr.debounce_ms, p.dvr.delayed_off_ms) / 1000
    # the next cruiser's input comes once this one's Signal burst is over and V has been stopped
    # again, so that a camera that restarts on repeats (an ACT-005 defect) is free for it
    burst_end = p.dvr.debounce_ms / 1000 + p.dvr.signal.burst_s + 1.0
    spacing = max(hold + off_s, burst_end) + 2 * _free_after_s(p) + 1.0
    first = glitches[-1] + 3.0
    return VehiclePlan(glitches, tuple(first + spacing * i for i in range(len(VEHICLE_INPUTS))), hold)


def vehicle(p: Profile) -> SceneSpec:
    """ACT-002 and VEH-001. Cruisers C1..C5 stand 29 ft around body camera V (1 ft inside
    ACT-002's range), which belongs to
    no cruiser (so no dash camera can record because of V); each cruiser gets one vehicle
    input. Cruiser X stands 5 ft from V and must never record; W is 60 ft away (informative).
    C1's light bar first gets glitches of 100, 150 and 190 ms."""
    plan = vehicle_plan(p)
    officers = (OfficerSpec("V", still((0.0, 0.0)), "X6VEH00V1"), OfficerSpec("W", still((60.0, 0.0)), "X6VEH00W1"))
    r = requirement("ACT-002").parameter("range_ft") - 1.0  # V near the edge of the range the requirement names
    vehicles = tuple(VehicleSpec(f"CAR-C{i + 1}", (round(r * math.cos(math.radians(72 * i)), 3), round(r * math.sin(math.radians(72 * i)), 3)),
                                 f"F3VEH0{i + 1}C1", None) for i in range(len(VEHICLE_INPUTS)))
    vehicles += (VehicleSpec("CAR-X", (0.0, 5.0), "F3VEH0XC1", None),)
    timeline = [Step(t, "input", "CAR-C1", {"input": "light_bar", "level": "on", "pulse_ms": ms}) for t, ms in zip(plan.glitches, GLITCHES_MS)]
    for i, (name, t) in enumerate(zip(VEHICLE_INPUTS, plan.held)):
        car = f"CAR-C{i + 1}"
        timeline += [Step(t - _free_after_s(p), "stop", "V"), Step(t, "input", car, {"input": name, "level": "on"}), Step(t + plan.hold_s, "stop", "V"),
                     Step(t + plan.hold_s, "dvr_stop", car), Step(t + plan.hold_s + 0.5, "input", car, {"input": name, "level": "off"})]
    end = plan.held[-1] + plan.hold_s + 3.0
    timeline.append(Step(end, "stop_all"))
    return SceneSpec("vehicle", officers, vehicles, tuple(sorted(timeline, key=lambda s: s.t)), end_s=end + _free_after_s(p),
                     description="each vehicle input starts its own cruiser's cameras and V; never cruiser X; glitches start nothing")


def group(p: Profile) -> SceneSpec:
    """GRP-001 (targets with group recording). G1..G8 in CAR-G's group (the catalogue's
    largest group); G1 starts, G1 tries to stop, then the DVR stops the group."""
    n = int(requirement("GRP-001").parameter("members"))
    officers = tuple(OfficerSpec(f"G{i}", still((40.0 * i, 40.0)), f"X6GRP00G{i}", vehicle="CAR-G") for i in range(1, n + 1))
    vehicles = (VehicleSpec("CAR-G", (0.0, 0.0), "F3GRP00G1", "G1", group=tuple(o.name for o in officers)),)
    t = p.bwc.boot_s + 3.0
    timeline = (Step(t, "record", "G1"), Step(t + 10.0, "stop", "G1"), Step(t + 20.0, "dvr_stop", "CAR-G"), Step(t + 28.0, "stop_all"))
    return SceneSpec("group", officers, vehicles, timeline, end_s=t + 28.0 + _free_after_s(p),
                     description="any member starts all; a member's stop does not end the group; the DVR's does")


ALLOWED_SENDER = "X8ALW000L"
UNLISTED_SENDER = "X8ALW000U"


def allow_list(p: Profile) -> SceneSpec:
    """ACT-006: camera Y is configured to accept only CEW L; CEW U (not listed) fires first."""
    officers = (
        OfficerSpec("Y", still((0.0, 0.0)), "X6ALW00Y1"),
        OfficerSpec("U", still((10.0, 0.0)), None, cew_serial=UNLISTED_SENDER),
        OfficerSpec("L", still((0.0, 10.0)), None, cew_serial=ALLOWED_SENDER),
    )
    u = p.bwc.boot_s + 3.0
    listed = u + _latency_s() + 2.0 + _free_after_s(p)
    timeline = (Step(u, "cew", "U", _cew(p)), Step(u + _latency_s() + 2.0, "stop", "Y"),
                Step(listed, "cew", "L", _cew(p)), Step(listed + 4.0, "stop_all"))
    return SceneSpec("allow-list", officers, (), timeline, end_s=listed + 4.0 + _free_after_s(p),
                     description="an unlisted CEW must not start the camera; the listed one must")


def high_bitrate(p: Profile) -> SceneSpec:
    """PRE-002: a busy scene (complexity 1) for the whole configured buffer, then a CEW event."""
    officers = (
        OfficerSpec("CEW", still((0.0, 0.0)), None, cew_serial="X8HBR0001"),
        OfficerSpec("H", still((10.0, 0.0)), "X6HBR00H1"),
    )
    t = p.bwc.boot_s + max(requirement("PRE-002").main().value, p.bwc.pre_event_s) + 15.0
    # H stops 6 s after the harness heard it announce (a camera slow to act on Signal still
    # exports a clip of the event); whatever still records is stopped 20 s after the event
    timeline = (Step(0.0, "complexity", None, {"value": 1.0}), Step(t, "cew", "CEW", _cew(p)),
                Step(t, "stop", "H", anchor=("H", RECORD_AFTER_HEARD_S)), Step(t + 20.0, "stop_all"))
    return SceneSpec("high-bitrate", officers, (), timeline, end_s=t + 20.0 + _free_after_s(p),
                     description="the pre-event buffer under the highest bitrate the camera sees")


def power_cut_times(p: Profile) -> tuple[float, list[float]]:
    """(record press, the cut of each camera): cuts spread evenly over the catalogue's phase
    span, so that whatever the camera's GOP length and phase, some cut falls late in a GOP."""
    req = requirement("PWR-001")
    n, span = int(req.parameter("cuts")), req.parameter("phase_span_s")
    record = p.bwc.boot_s + 3.0
    return record, [record + 10.0 + span * k / n for k in range(n)]


def power_cut(p: Profile) -> SceneSpec:
    """PWR-001: eight recordings lose power at phases spread over two seconds."""
    record, cuts = power_cut_times(p)
    officers = tuple(OfficerSpec(f"U{k + 1}", still((15.0 * k, 0.0)), f"X6PWR00U{k + 1}") for k in range(len(cuts)))
    timeline = tuple(Step(record, "record", o.name) for o in officers) + tuple(Step(t, "power_cut", o.name) for o, t in zip(officers, cuts))
    return SceneSpec("power-cut", officers, (), tuple(sorted(timeline, key=lambda s: s.t)), end_s=cuts[-1] + 2.0,
                     description="power is cut during recordings, at phases spread over 2 s")


MAIN = "hartford"
SCENARIOS = {
    s.name: s for s in (
        Scenario(MAIN, hartford_for),
        Scenario("sleep-dock", sleep_dock),
        Scenario("signal-rules", signal_rules, small_video=True, configuration={"bwc.false_cancel.enabled": True}),
        Scenario("event-types", event_types, small_video=True),
        Scenario("vehicle", vehicle, small_video=True),
        Scenario("group", group, small_video=True),
        Scenario("high-bitrate", high_bitrate),
        Scenario("power-cut", power_cut, small_video=True),
        Scenario("allow-list", allow_list, small_video=True, configuration={"bwc.allow_list": (ALLOWED_SENDER,)}),
    )
}


# -- ACT-001 activation-rate sweep ------------------------------------------------------------
SWEEP_IN_RANGE_FT = (10.0, 20.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0)
SWEEP_BEYOND_FT = (35.0, 45.0)
SWEEP = Scenario("sweep", lambda p: sweep_trial(p, 0), small_video=True)


def sweep_trial(p: Profile, trial: int) -> SceneSpec:
    """One trial: a CEW at the origin, one camera at each sweep distance (spread around the
    circle, turned a little every trial), the CEW armed 1 s after the cameras are READY, every
    camera stopped once the ACT-001 latency limit has passed. Each device powers on at its own
    seeded instant within one of the declared scan intervals, so the event falls at an
    independent, uniformly distributed point of every camera's scan cycle in every trial: with
    all of them switched on together it would fall at the same point every time, and a
    duty-cycled scanner would pass or fail by where that happens to be."""
    officers = [OfficerSpec("CEW", still((0.0, 0.0)), None, cew_serial="X8SWP0001")]
    distances = SWEEP_IN_RANGE_FT + SWEEP_BEYOND_FT
    for i, d in enumerate(distances):
        angle = math.radians(360.0 * i / len(distances) + 13.0 * trial)
        officers.append(OfficerSpec(f"D{int(d):02d}", still((round(d * math.cos(angle), 3), round(d * math.sin(angle), 3))), f"X6SWP{int(d):03d}1"))
    spread = p.bwc.scan_interval_ms / 1000
    t = spread + p.bwc.boot_s + 1.0
    timeline = (Step(t, "cew", "CEW", {"event": "armed"}), Step(t + _latency_s(), "stop_all"))
    return SceneSpec(f"sweep-{trial}", tuple(officers), (), timeline, end_s=t + _latency_s(), description=f"activation sweep trial {trial}",
                     boot_spread_s=spread)


# the attack procedure lives in its own module (it uses the helpers above)
from conformance.attack_scenarios import ALLOW, attacks, incar_attacks  # noqa: E402

SCENARIOS["attacks"] = Scenario("attacks", attacks, small_video=True, configuration={"bwc.allow_list": ALLOW})
SCENARIOS["incar-attacks"] = Scenario("incar-attacks", incar_attacks, small_video=True)
