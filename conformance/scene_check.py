"""``bwc scene --check``: the activation requirements applied to any scene (docs/scenes.md,
"Checking a scene"). Measured on the air (every Signal advert where it was sent, the
instrument ``instruments.signal_log``) and on the DVRs' exported clips (decoded, on the
harness clock); the limits are the catalogue's (ACT-001, CHN-001, GRP-001).

Rules, for every body camera and every Signal event burst on the air (a CEW, a holster, a
Signal Vehicle unit):
- **in range** (ACT-001, ACT-002): a camera within ``range_ft`` of the source while it bursts
  announces a recording within the ACT-001 limit of the first advert sent while it was in range;
  unless it could not (not yet booted, asleep, docked or without power at the scene's own
  steps; its configured allow-list does not name the sender; the same sender started it less
  than its configured cool-down before) or was already recording;
- **cause** (ACT-001, ACT-003, ACT-006): every recording a camera announces has a cause: a Signal
  event it could hear from a sender it allows (within the air's reach, during the ACT-001 limit
  before), its own record button, or a member of its recording group starting; and none starts
  while the scene has it asleep, docked or without power (its button aside);
- **group** (GRP-001, group-mode DVRs): a member starting starts every other member within the limit;
- **attacks**: adverts an attacker's radio replays or spoofs expect nothing of a camera; a
  recording they alone explain is reported as an exposure (informative, SEC); a malformed
  advert explains nothing, so a camera it starts fails the cause rule;
- **DVR** (CHN-001): when a cruiser's paired camera announces a recording, each of its DVR's
  cameras starts within the CHN-001 limit; a DVR camera that starts has a cause (its paired
  camera, a group member, an input of its own vehicle)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from conformance.catalogue import Requirement
from conformance.incident_view import clip
from conformance.limits import Limit, Verdict
from emulators.air import ADV_DELAY_MAX_S, distance_ft
from emulators.profiles import Profile
from emulators.scene import SceneSpec
from emulators.scene_runner import VirtualScene
from fixtures.roles import EvidenceItem
from instruments.signal_log import Burst, SignalLog

UNAVAILABLE = {"sleep": "wake", "dock": "undock", "power_cut": None}  # step -> the step that ends it
ENDS_RECORDING = ("stop", "cancel", "stop_all", "power_cut", "dock")
ATTACKER_PREFIX = "ATTACKER-"  # radio names of a scene's attackers (emulators/attacker.py)
INPUT_SLACK_S = 5.0  # a vehicle input explains its own DVR starting this long after it (debounce, delayed-off)
# A camera's first recording-started advert goes on the air up to one advDelay after it started
# (Core Spec Vol 6 Part B 4.4.2.2), while its DVR hears it at once on the in-car network: a DVR
# clip may start this much before the announcement it follows.
ANNOUNCE_LAG_S = ADV_DELAY_MAX_S


@dataclass(frozen=True)
class Row:
    rule: str  # "in range", "cause", "group", "DVR"
    requirement: str
    device: str
    profile: str
    verdict: str
    detail: str
    value_s: float | None = None
    limit: str = ""

    def plain(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Limits:
    activation: Limit  # ACT-001
    range_ft: float
    chain: Limit  # CHN-001
    group: Limit  # GRP-001

    @classmethod
    def of(cls, catalogue: dict[str, Requirement]) -> Limits:
        act = catalogue["ACT-001"]
        return cls(act.main(), act.parameter("range_ft"), catalogue["CHN-001"].main(), catalogue["GRP-001"].main())


class _Camera:
    """One body camera as the check sees it: where it was, when it could record (from the
    scene's own steps and its declared boot and wake times), what it announced on the air."""

    def __init__(self, spec: SceneSpec, vs: VirtualScene, name: str, log: SignalLog) -> None:
        o = spec.officer(name)
        self.name, self.officer, self.profile = name, o, vs.profile_of(o.profile)
        self.serial = o.bwc_serial or ""
        self.starts = log.starts(self.serial)
        b = self.profile.bwc
        on = vs.powered_on.get(f"BWC-{name}", 0.0)
        self.down: list[tuple[float, float]] = [(-math.inf, on + b.boot_s)]
        self.ends: list[float] = []
        steps = [s for s in vs.results if s.step.target == name or s.step.action == "stop_all"]
        for i, r in enumerate(steps):
            if r.step.action in ENDS_RECORDING:
                self.ends.append(r.loop_t)
            if r.step.action in UNAVAILABLE:
                back = UNAVAILABLE[r.step.action]
                until = next((s.loop_t for s in steps[i + 1:] if s.step.action == back), math.inf)
                self.down.append((r.loop_t, until + (b.wake_s if back == "wake" else b.boot_s)))
        self.buttons = [r.loop_t for r in vs.results if r.step.target == name and r.step.action == "record"]

    def available(self, t: float) -> bool:
        return not any(a <= t < b for a, b in self.down)

    def recording_at(self, t: float) -> bool:
        """Announced a recording before t, and no step of the scene ended it since."""
        last = max((s for s in self.starts if s <= t), default=None)
        return last is not None and not any(last < e <= t for e in self.ends)

    def allows(self, sender: str) -> bool:
        allow = self.profile.bwc.allow_list
        return allow is None or sender in allow

    def at(self, t: float) -> tuple[float, float]:
        return self.officer.path(t)


def check_scene(spec: SceneSpec, vs: VirtualScene, log: SignalLog, limits: Limits) -> list[Row]:
    cams = {name: _Camera(spec, vs, name, log) for name in vs.bwcs}
    rows = list(_in_range(cams, log, limits))
    rows += _causes(vs, cams, log, limits)
    rows += _groups(vs, cams, limits)
    rows += _dvrs(spec, vs, cams, limits)
    return rows


def _in_range(cams: dict[str, _Camera], log: SignalLog, limits: Limits) -> Iterator[Row]:
    lim = limits.activation
    last_started_by: dict[tuple[str, str], float] = {}
    for burst in sorted(log.bursts, key=lambda b: b.start):
        if _attack(burst):
            continue  # nothing is expected of a camera an attacker replays or spoofs at (SEC exposures)
        for cam in cams.values():
            entered = next((t for t, p in zip(burst.times, burst.positions) if distance_ft(cam.at(t), p) <= limits.range_ft), None)
            if entered is None:
                continue
            who = f"BWC-{cam.name}"
            what = f"{burst.event.name} from {burst.serial} at {entered:.2f} s, {distance_ft(cam.at(entered), _where(burst, entered)):.1f} ft"
            excuse = _excused(cam, burst, entered, last_started_by)
            if excuse:
                yield Row("in range", "ACT-001", who, cam.profile.name, Verdict.INFO, f"{what}: not expected to start ({excuse})")
                continue
            started = next((s for s in cam.starts if s >= entered - 1e-6), None)
            latency = None if started is None else started - entered
            verdict = Verdict.FAIL if latency is None else lim.judge(latency)
            shown = "announced no recording" if latency is None else f"announced a recording {latency:.3f} s later"
            yield Row("in range", "ACT-001", who, cam.profile.name, verdict, f"{what}: {shown}", latency, lim.describe())
            if started is not None and verdict.passed:
                last_started_by[(cam.name, burst.serial)] = started


def _attack(burst: Burst) -> bool:
    return burst.sender.startswith(ATTACKER_PREFIX)


def _where(burst: Burst, t: float) -> tuple[float, float]:
    return burst.positions[burst.times.index(t)]


def _excused(cam: _Camera, burst: Burst, t: float, last_started_by: dict[tuple[str, str], float]) -> str:
    if not cam.available(t):
        return "booting, asleep, docked or without power at the scene's steps"
    if not cam.allows(burst.serial):
        return "its allow-list does not name the sender"
    if not cam.profile.bwc.signal_enabled:
        return "Signal activation is configured off"
    if cam.recording_at(t):
        return "already recording"
    since = last_started_by.get((cam.name, burst.serial))
    if since is not None and t - since < cam.profile.bwc.cooldown_s:
        return f"the same sender started it {t - since:.1f} s before, inside its configured {cam.profile.bwc.cooldown_s:g} s cool-down"
    return ""


def _causes(vs: VirtualScene, cams: dict[str, _Camera], log: SignalLog, limits: Limits) -> Iterator[Row]:
    lim = limits.activation
    groups = _group_of(vs)
    for cam in cams.values():
        for start in cam.starts:
            causes = []
            if any(start - lim.value - 1.0 <= t <= start for t in cam.buttons):
                causes.append("its record button")
            for b in log.bursts:
                if not cam.allows(b.serial) or not cam.profile.bwc.signal_enabled:
                    continue
                tx_gain = vs.air.node(b.sender).tx_power_db
                if any(start - lim.value - 1.0 <= t <= start and distance_ft(cam.at(t), p) <= vs.air.reach_ft(cam.profile.bwc.rx_gain_db + tx_gain)
                       for t, p in zip(b.times, b.positions)):
                    causes.append(f"{b.event.name} from {b.serial}" + (f" sent by {b.sender} (replayed or spoofed)" if _attack(b) else ""))
            mates = groups.get(cam.name, ())
            if any(start - limits.group.value - 0.5 <= s <= start + ANNOUNCE_LAG_S for m in mates for s in cams[m].starts if m != cam.name):
                causes.append("a member of its recording group")
            if not cam.available(start) and "its record button" not in causes:
                yield Row("cause", "ACT-003", f"BWC-{cam.name}", cam.profile.name, Verdict.FAIL,
                          f"recording announced at {start:.2f} s while asleep, docked or without power at the scene's steps")
                continue
            genuine = [c for c in causes if ATTACKER_PREFIX not in c]
            if causes and not genuine:  # started only by an attacker's valid-looking advert: an exposure, not a verdict
                yield Row("cause", "SEC", f"BWC-{cam.name}", cam.profile.name, Verdict.INFO,
                          f"exposure: recording announced at {start:.2f} s, started by an attack: {', '.join(causes)}")
                continue
            verdict = Verdict.PASS if causes else Verdict.FAIL
            yield Row("cause", "ACT-001" if causes else "ACT-006", f"BWC-{cam.name}", cam.profile.name, verdict,
                      f"recording announced at {start:.2f} s: " + (", ".join(causes) if causes else "no cause (no event it could hear from a sender it allows, no button, no group member)"))


def _group_of(vs: VirtualScene) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for v in vs.spec.vehicles:
        d = vs.profile_of(v.profile).dvr
        if d.group_mode:
            members = tuple(m for m in (list(v.group) or ([v.officer] if v.officer else []))[: d.group_max_bwc] if m in vs.bwcs)
            for m in members:
                out[m] = members
    return out


def _groups(vs: VirtualScene, cams: dict[str, _Camera], limits: Limits) -> Iterator[Row]:
    lim = limits.group
    for members in {g for g in _group_of(vs).values()}:
        firsts = sorted((s, m) for m in members for s in cams[m].starts)
        if not firsts:
            continue
        t0, first = firsts[0]
        for m in members:
            if m == first or not cams[m].available(t0):
                continue
            started = next((s for s in cams[m].starts if s >= t0), None)
            value = None if started is None else started - t0
            verdict = Verdict.FAIL if value is None else lim.judge(value)
            yield Row("group", "GRP-001", f"BWC-{m}", cams[m].profile.name, verdict,
                      f"group member {first} started at {t0:.2f} s: " + ("no recording announced" if value is None else f"announced {value:.3f} s later"),
                      value, lim.describe())


def _dvr_clips(vs: VirtualScene, vid: str) -> dict[str, list[tuple[float, float, float]]]:
    """Each DVR camera's clips as (activation, stop, uncertainty), decoded from the exported
    clips, on the harness clock (loop seconds)."""
    epoch = vs.spec.epoch_utc_ms
    out: dict[str, list[tuple[float, float, float]]] = {}
    for cam in vs.dvrs[vid].cameras:
        clips = []
        for c in cam.clips:
            if not c.metadata_path.exists():
                continue
            seen = clip(EvidenceItem(c.path, c.metadata_path))
            if seen.activation is not None:
                stop = (seen.stop.ms - epoch) / 1000.0 if seen.stop is not None else math.inf
                clips.append(((seen.activation.ms - epoch) / 1000.0, stop, seen.activation.uncertainty_ms / 1000.0))
        out[cam.identity.role] = sorted(clips)
    return out


def _dvrs(spec: SceneSpec, vs: VirtualScene, cams: dict[str, _Camera], limits: Limits) -> Iterator[Row]:
    lim = limits.chain
    for v in spec.vehicles:
        profile: Profile = vs.profile_of(v.profile)
        paired = cams.get(v.officer or "")
        inputs = [r.loop_t for r in vs.results if r.step.target == v.vehicle_id and r.step.action == "input"]
        members = [m for m in v.group if m in cams] if profile.dvr.group_mode else []
        for role, clips in _dvr_clips(vs, v.vehicle_id).items():
            who = f"DVR-{v.vehicle_id} {role.removeprefix('dvr-')}"
            for t_cam in paired.starts if paired is not None else []:
                what = f"its camera BWC-{v.officer} announced a recording at {t_cam:.2f} s: "
                if any(s + u + ANNOUNCE_LAG_S < t_cam < stop for s, stop, u in clips):
                    yield Row("DVR", "CHN-001", who, profile.name, Verdict.INFO, what + "the DVR was already recording")
                    continue
                got = next(((s, u) for s, _, u in clips if s >= t_cam - u - ANNOUNCE_LAG_S), None)
                value = None if got is None else got[0] - t_cam
                verdict = Verdict.FAIL if got is None else lim.judge(value, got[1])
                yield Row("DVR", "CHN-001", who, profile.name, verdict,
                          what + _dvr_lag(value), value, lim.describe())
            for s, _, u in clips:
                causes = []
                if paired and any(s - lim.value - u - 0.5 <= t <= s + u + ANNOUNCE_LAG_S for t in paired.starts):
                    causes.append(f"its camera BWC-{paired.name}")
                if any(s - INPUT_SLACK_S <= t <= s + u for t in inputs):
                    causes.append("an input of its own vehicle")
                if any(s - limits.group.value - u - 0.5 <= t <= s + u + ANNOUNCE_LAG_S for m in members for t in cams[m].starts):
                    causes.append("a member of its recording group")
                yield Row("cause", "CHN-001", who, profile.name, Verdict.PASS if causes else Verdict.FAIL,
                          f"clip starts at {s:.2f} s: " + (", ".join(causes) if causes else "no cause (its camera did not start, no input of its vehicle)"))


def _dvr_lag(value: float | None) -> str:
    if value is None:
        return "the DVR exported no clip after it"
    if value < 0:
        return f"DVR clip starts {-value:.3f} s before the advert (within the camera's advDelay)"
    return f"DVR clip starts {value:.3f} s later"


def overall(rows: list[Row]) -> str:
    return Verdict.FAIL if any(r.verdict == Verdict.FAIL for r in rows) else Verdict.PASS
