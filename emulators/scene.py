"""Scenes: who stands (or walks) where, which cruiser belongs to whom, and a timeline of
stimuli; the virtual runner builds every emulator on one air and one loop and plays it.

Scene files are YAML (docs/scenes.md); ``hartford()`` is the default incident."""

from __future__ import annotations

import asyncio
import math
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from emulators.air import Air, PathLossModel, Point, radio
from emulators.bwc import BwcEmulator
from emulators.camera import CameraCore, CameraIdentity
from emulators.clock import DeviceClock, SceneClock
from emulators.dvr import INPUT_EVENTS, DvrEmulator
from emulators.profiles import ClockSpec, Profile
from emulators.signal_source import SignalSourceEmulator
from emulators.audio_track import AudioSpec
from emulators.video import VideoFormat
from protocols.signal import Event, SourceClass

ACTIONS = {
    "cew": "CEW event on the officer's CEW: event armed|trigger|arc",
    "holster": "holster sensor of the officer: event draw|return",
    "input": "vehicle 12 V input: input light_bar|siren|door|crash|speed, level on|off, optional pulse_ms",
    "record": "record button of the officer's BWC",
    "stop": "stop button of the officer's BWC",
    "cancel": "false-signal cancel on the officer's BWC",
    "sleep": "put the officer's BWC to sleep", "wake": "wake the officer's BWC",
    "dock": "dock the officer's BWC", "undock": "undock the officer's BWC",
    "power_cut": "cut the officer's BWC power abruptly",
    "dvr_stop": "stop button of the vehicle's DVR (stops a group)",
    "stop_all": "stop every BWC and DVR",
    "complexity": "scene complexity seen by every camera: value 0..1",
}
CEW_EVENTS = {"armed": Event.CEW_ARMED, "trigger": Event.CEW_TRIGGER, "arc": Event.CEW_ARC}
HOLSTER_EVENTS = {"draw": Event.HOLSTER_DRAW, "return": Event.HOLSTER_RETURN}


class SceneError(ValueError):
    """A scene that cannot be played; the message names the file and the field."""


@dataclass(frozen=True)
class Path2D:
    """Waypoints (t, x, y) in seconds and feet; linear in between, still before/after."""

    waypoints: tuple[tuple[float, float, float], ...]

    def __call__(self, t: float) -> Point:
        w = self.waypoints
        times = [p[0] for p in w]
        i = bisect_right(times, t)
        if i == 0:
            return (w[0][1], w[0][2])
        if i >= len(w):
            return (w[-1][1], w[-1][2])
        (t0, x0, y0), (t1, x1, y1) = w[i - 1], w[i]
        f = (t - t0) / (t1 - t0) if t1 > t0 else 1.0
        return (x0 + f * (x1 - x0), y0 + f * (y1 - y0))


@dataclass(frozen=True)
class OfficerSpec:
    name: str
    path: Path2D
    bwc_serial: str | None  # None: a person (or a bench source) without a camera
    cew_serial: str | None = None
    holster_serial: str | None = None
    vehicle: str | None = None

    @property
    def position(self) -> Point:
        return self.path(0.0)


@dataclass(frozen=True)
class VehicleSpec:
    vehicle_id: str
    position: Point
    dvr_serial: str
    officer: str | None  # whose BWC the DVR is paired with
    group: tuple[str, ...] = ()  # officers in its recording group (group-mode DVRs)
    signal_serial: str | None = None  # its Signal Vehicle unit


@dataclass(frozen=True)
class Step:
    t: float
    action: str
    target: str | None = None
    args: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SceneSpec:
    name: str
    officers: tuple[OfficerSpec, ...]
    vehicles: tuple[VehicleSpec, ...]
    timeline: tuple[Step, ...]
    end_s: float
    description: str = ""
    epoch_utc_ms: int = 1_780_000_000_000  # 2026-05-28T20:26:40Z, fixed for reproducible runs

    def officer(self, name: str) -> OfficerSpec:
        for o in self.officers:
            if o.name == name:
                return o
        raise KeyError(name)

    def vehicle(self, vehicle_id: str) -> VehicleSpec:
        for v in self.vehicles:
            if v.vehicle_id == vehicle_id:
                return v
        raise KeyError(vehicle_id)


def _polar(r: float, deg: float) -> Point:
    return (round(r * math.cos(math.radians(deg)), 3), round(r * math.sin(math.radians(deg)), 3))


def still(p: Point) -> Path2D:
    return Path2D(((0.0, float(p[0]), float(p[1])),))


def hartford() -> SceneSpec:
    """The default scene: A arms the CEW; B, C, D at 10, 25, 29 ft; E at 45 ft; cruisers of
    A, B and E parked >= 40 ft from everyone; everyone READY for 60.5 s first."""
    officers = (
        OfficerSpec("A", still((0.0, 0.0)), "X6BWC00A1", cew_serial="X87002FP4", vehicle="CAR-A"),
        OfficerSpec("B", still(_polar(10, 90)), "X6BWC00B1", vehicle="CAR-B"),
        OfficerSpec("C", still(_polar(25, 200)), "X6BWC00C1"),
        OfficerSpec("D", still(_polar(29, 320)), "X6BWC00D1"),
        OfficerSpec("E", still(_polar(45, 30)), "X6BWC00E1", vehicle="CAR-E"),
    )
    vehicles = (
        VehicleSpec("CAR-A", (-70.0, -40.0), "F3DVR00A1", "A"),
        VehicleSpec("CAR-B", (-60.0, 60.0), "F3DVR00B1", "B"),
        VehicleSpec("CAR-E", (100.0, 40.0), "F3DVR00E1", "E"),
    )
    # cameras boot in 2 s, so they have been READY 60.5 s when A arms the CEW (mid-GOP on
    # purpose); the operator stops every recording 5 s later; 92 s simulated in all
    timeline = (Step(62.5, "cew", "A", {"event": "armed"}), Step(67.5, "stop_all"))
    return SceneSpec("hartford", officers, vehicles, timeline, end_s=92.0,
                     description="A arms the CEW; B, C, D at 10, 25, 29 ft must record, E at 45 ft must not")


# -- scene files ----------------------------------------------------------------------------------
def _point(value, where: str) -> Point:
    if not (isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value)):
        raise SceneError(f"{where}: expected [x_ft, y_ft], got {value!r}")
    return (float(value[0]), float(value[1]))


def scene_from_dict(doc: dict, source: str = "<scene>") -> SceneSpec:
    if not isinstance(doc, dict):
        raise SceneError(f"{source}: a scene is a YAML mapping")
    known = {"name", "description", "end_s", "officers", "vehicles", "timeline", "epoch_utc_ms"}
    for key in doc:
        if key not in known:
            raise SceneError(f"{source}: unknown field {key!r} (known: {', '.join(sorted(known))})")
    officers = []
    for i, o in enumerate(doc.get("officers") or []):
        where = f"{source}: officers[{i}]"
        if not isinstance(o, dict) or "name" not in o:
            raise SceneError(f"{where}: needs at least a name")
        extra = set(o) - {"name", "bwc", "cew", "holster", "vehicle", "position", "path"}
        if extra:
            raise SceneError(f"{where}.{sorted(extra)[0]}: unknown field")
        if "path" in o:
            try:
                pts = tuple((float(t), float(x), float(y)) for t, x, y in o["path"])
            except (TypeError, ValueError):
                raise SceneError(f"{where}.path: expected a list of [t_s, x_ft, y_ft]") from None
            if not pts or any(b[0] < a[0] for a, b in zip(pts, pts[1:])):
                raise SceneError(f"{where}.path: waypoints must be in time order")
            path = Path2D(pts)
        else:
            path = still(_point(o.get("position", [0, 0]), f"{where}.position"))
        officers.append(OfficerSpec(str(o["name"]), path, str(o["bwc"]) if o.get("bwc") else None, o.get("cew"), o.get("holster"), o.get("vehicle")))
    names = {o.name for o in officers}
    vehicles = []
    for i, v in enumerate(doc.get("vehicles") or []):
        where = f"{source}: vehicles[{i}]"
        if not isinstance(v, dict) or "id" not in v or "dvr" not in v:
            raise SceneError(f"{where}: needs at least id and dvr (the DVR serial)")
        extra = set(v) - {"id", "dvr", "officer", "position", "group", "signal"}
        if extra:
            raise SceneError(f"{where}.{sorted(extra)[0]}: unknown field")
        if v.get("officer") is not None and v["officer"] not in names:
            raise SceneError(f"{where}.officer: no officer named {v['officer']!r}")
        for member in v.get("group", []):
            if member not in names:
                raise SceneError(f"{where}.group: no officer named {member!r}")
        vehicles.append(VehicleSpec(str(v["id"]), _point(v.get("position", [0, 0]), f"{where}.position"), str(v["dvr"]),
                                    v.get("officer"), tuple(v.get("group", [])), v.get("signal")))
    paired = {v.officer: v.vehicle_id for v in vehicles if v.officer}
    officers = [o if o.vehicle or o.name not in paired else OfficerSpec(o.name, o.path, o.bwc_serial, o.cew_serial, o.holster_serial, paired[o.name])
                for o in officers]
    steps = []
    for i, s in enumerate(doc.get("timeline") or []):
        where = f"{source}: timeline[{i}]"
        if not isinstance(s, dict) or "t" not in s or "do" not in s:
            raise SceneError(f"{where}: needs t (seconds) and do (one of {', '.join(ACTIONS)})")
        if s["do"] not in ACTIONS:
            raise SceneError(f"{where}.do: unknown action {s['do']!r} (known: {', '.join(ACTIONS)})")
        args = {k: v for k, v in s.items() if k not in ("t", "do", "target")}
        steps.append(Step(float(s["t"]), s["do"], s.get("target"), args))
    steps.sort(key=lambda s: s.t)
    end_s = float(doc.get("end_s", (steps[-1].t + 5.0) if steps else 10.0))
    spec = SceneSpec(str(doc.get("name", Path(source).stem)), tuple(officers), tuple(vehicles), tuple(steps), end_s,
                     str(doc.get("description", "")), int(doc.get("epoch_utc_ms", 1_780_000_000_000)))
    validate_scene(spec, source)
    return spec


def validate_scene(spec: SceneSpec, source: str = "<scene>") -> None:
    officers = {o.name: o for o in spec.officers}
    vehicles = {v.vehicle_id: v for v in spec.vehicles}
    serials = [o.bwc_serial for o in spec.officers] + [o.cew_serial for o in spec.officers] + [o.holster_serial for o in spec.officers]
    serials += [v.dvr_serial for v in spec.vehicles]
    for serial in serials:
        if serial is not None and (len(serial) != 9 or not serial.isascii() or not serial.isprintable() or " " in serial):
            raise SceneError(f"{source}: serial {serial!r} must be 9 printable ASCII characters without spaces")
    seen = [x for x in serials if x is not None]
    dupes = {x for x in seen if seen.count(x) > 1}
    if dupes:
        raise SceneError(f"{source}: serial {sorted(dupes)[0]!r} is used by more than one device")
    for i, s in enumerate(spec.timeline):
        where = f"{source}: timeline[{i}] ({s.action})"
        if s.action in ("cew", "holster", "record", "stop", "cancel", "sleep", "wake", "dock", "undock", "power_cut"):
            if s.target not in officers:
                raise SceneError(f"{where}: target must be an officer name, got {s.target!r}")
            if s.action not in ("cew", "holster") and officers[s.target].bwc_serial is None:
                raise SceneError(f"{where}: officer {s.target} wears no body camera")
        if s.action == "cew":
            if officers[s.target].cew_serial is None:
                raise SceneError(f"{where}: officer {s.target} carries no CEW")
            if s.args.get("event") not in CEW_EVENTS:
                raise SceneError(f"{where}: event must be one of {', '.join(CEW_EVENTS)}")
        if s.action == "holster":
            if officers[s.target].holster_serial is None:
                raise SceneError(f"{where}: officer {s.target} has no holster sensor")
            if s.args.get("event") not in HOLSTER_EVENTS:
                raise SceneError(f"{where}: event must be one of {', '.join(HOLSTER_EVENTS)}")
        if s.action in ("input", "dvr_stop") and s.target not in vehicles:
            raise SceneError(f"{where}: target must be a vehicle id, got {s.target!r}")
        if s.action == "input":
            if s.args.get("input") not in INPUT_EVENTS:
                raise SceneError(f"{where}: input must be one of {', '.join(INPUT_EVENTS)}")
            if s.args.get("level", "on") not in ("on", "off"):
                raise SceneError(f"{where}: level must be on or off")
        if s.action == "complexity" and not 0 <= float(s.args.get("value", -1)) <= 1:
            raise SceneError(f"{where}: value must be between 0 and 1")
        if s.t < 0 or s.t > spec.end_s:
            raise SceneError(f"{where}: t={s.t} is outside 0..end_s ({spec.end_s})")


def load_scene(path: Path) -> SceneSpec:
    try:
        doc = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise SceneError(f"{path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise SceneError(f"{path}: not valid YAML ({exc})") from None
    return scene_from_dict(doc, str(path))


# -- the virtual runner -----------------------------------------------------------------------------
@dataclass
class StepResult:
    step: Step
    loop_t: float
    utc_ms: int
    outcome: str = "done"


def _device_clock(scene: SceneClock, spec: ClockSpec) -> DeviceClock:
    return DeviceClock(scene, spec.offset_s, spec.drift_ppm, spec.unset, spec.synced_h_before)


@dataclass
class VirtualScene:
    """Every emulator of a scene on one air; build() and play() run inside the loop."""

    spec: SceneSpec
    profile: Profile
    out_dir: Path
    seed: int = 0
    model: PathLossModel = field(default_factory=PathLossModel)
    video_override: VideoFormat | None = None  # radio-only trials (sweeps) record small video

    def __post_init__(self) -> None:
        self.clock = SceneClock(self.spec.epoch_utc_ms)
        self.air = Air(self.model, seed=self.seed)
        self.bwcs: dict[str, BwcEmulator] = {}
        self.sources: dict[tuple[str, str], SignalSourceEmulator] = {}  # (officer, "cew"|"holster")
        self.dvrs: dict[str, DvrEmulator] = {}
        self.results: list[StepResult] = []

    @property
    def evidence_dir(self) -> Path:
        return self.out_dir / "evidence"

    def _camera(self, serial: str, role: str, fmt, pre_event_s: float, clock: DeviceClock, **kw) -> CameraCore:
        p = self.profile
        vendor = p.bwc if role == "bwc" else p.dvr
        return CameraCore(CameraIdentity(serial, vendor.model, vendor.firmware, p.name, role), clock, fmt, pre_event_s,
                          self.evidence_dir, **kw)

    async def build(self) -> None:
        p = self.profile
        b = p.bwc
        for o in self.spec.officers:
            if o.bwc_serial:
                clock = _device_clock(self.clock, b.clock)
                video = self.video_override or b.video
                core = self._camera(o.bwc_serial, "bwc", video, b.pre_event_s, clock, buffer_bytes=b.buffer_bytes,
                                    buffer_unit=b.buffer_unit, gop_s=b.gop_s, buffer_in_sleep=b.buffer_in_sleep,
                                    buffer_in_dock=b.buffer_in_dock, write_at_stop=b.write_at_stop, flush_interval_s=b.flush_interval_s,
                                    audio=AudioSpec(b.av_offset_ms, b.av_drift_ppm) if b.audio else None,
                                    buffer_audio=b.buffer_audio != b.buffer_audio_ignored, audio_start_delay_s=b.audio_start_delay_s,
                                    signs_evidence=b.signs_evidence, evidence_key=b.evidence_key)
                device = radio(self.air, f"BWC-{o.name}", o.path, kind="bwc", rx_gain_db=b.rx_gain_db)
                self.bwcs[o.name] = BwcEmulator(o.bwc_serial, device, b, core, vehicle_id=o.vehicle)
            if o.cew_serial:
                dev = radio(self.air, f"CEW-{o.name}", o.path, kind="cew", tx_power_db=p.cew.tx_power_dbm)
                self.sources[(o.name, "cew")] = SignalSourceEmulator(o.cew_serial, dev, p.cew, SourceClass.CEW)
            if o.holster_serial:
                dev = radio(self.air, f"HOLSTER-{o.name}", o.path, kind="holster", tx_power_db=p.holster.tx_power_dbm)
                self.sources[(o.name, "holster")] = SignalSourceEmulator(o.holster_serial, dev, p.holster, SourceClass.HOLSTER)
        d = p.dvr
        vehicles = self.spec.vehicles
        for i, v in enumerate(vehicles):
            # cross-wired (defect): configured with the next vehicle's id and camera, as if its
            # settings were copied from that car's unit
            pairing = vehicles[(i + 1) % len(vehicles)] if d.cross_wired else v
            paired = self.spec.officer(pairing.officer).bwc_serial if pairing.officer else None
            clock = _device_clock(self.clock, d.clock)
            same = {"gop_s": d.gop_s, "signs_evidence": d.signs_evidence, "evidence_key": d.evidence_key}
            front = self._camera(v.dvr_serial, "dvr-front", self.video_override or d.front_video, d.pre_event_s, clock, **same)
            rear_serial = v.dvr_serial[:-1] + "R"
            rear = self._camera(rear_serial, "dvr-rear", self.video_override or d.rear_video, d.rear_pre_event_s, clock, **same)
            signal_serial = v.signal_serial or ("S" + v.dvr_serial[1:])
            unit = SignalSourceEmulator(signal_serial, radio(self.air, f"SIGNAL-{v.vehicle_id}", v.position, kind="vehicle",
                                                             tx_power_db=d.signal.tx_power_dbm), d.signal, SourceClass.VEHICLE)
            self.dvrs[v.vehicle_id] = DvrEmulator(v.dvr_serial, pairing.vehicle_id, paired, d, front, rear, clock, unit)
        for dvr in self.dvrs.values():
            await dvr.start()
        network = [dvr.address for dvr in self.dvrs.values()]
        starts = []
        for bwc in self.bwcs.values():
            bwc.network = list(network)
            starts.append(bwc.start())
        await asyncio.gather(*starts)
        for v in self.spec.vehicles:
            dvr = self.dvrs[v.vehicle_id]
            if p.dvr.group_mode:
                members = list(v.group) or ([v.officer] if v.officer else [])
                for name in members[: p.dvr.group_max_bwc]:
                    if name not in self.bwcs:
                        continue
                    bwc = self.bwcs[name]
                    bwc.group_member = True
                    bwc.vehicle_id = v.vehicle_id
                    bwc._group_dvr = dvr.address
                    dvr.group_members[bwc.serial] = bwc.icp_address
        for src in self.sources.values():
            await src.start()

    async def play(self) -> list[StepResult]:
        loop = asyncio.get_running_loop()
        for step in self.spec.timeline:
            delay = step.t - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            outcome = await self._do(step)
            self.results.append(StepResult(step, loop.time(), self.clock.utc_ms(), outcome))
        remaining = self.spec.end_s - loop.time()
        if remaining > 0:
            await asyncio.sleep(remaining)
        return self.results

    async def _do(self, step: Step) -> str:
        a, target, args = step.action, step.target, step.args
        loop = asyncio.get_running_loop()
        if a == "cew":
            await self.sources[(target, "cew")].emit(CEW_EVENTS[args["event"]])
        elif a == "holster":
            await self.sources[(target, "holster")].emit(HOLSTER_EVENTS[args["event"]])
        elif a == "input":
            dvr = self.dvrs[target]
            dvr.set_input(args["input"], args.get("level", "on") == "on")
            if "pulse_ms" in args:
                loop.call_later(float(args["pulse_ms"]) / 1000, dvr.set_input, args["input"], args.get("level", "on") != "on")
        elif a == "record":
            self.bwcs[target].press_record()
        elif a == "stop":
            return "accepted" if self.bwcs[target].press_stop() else "refused"
        elif a == "cancel":
            return "accepted" if self.bwcs[target].cancel_false_signal() else "refused"
        elif a == "sleep":
            return "accepted" if self.bwcs[target].sleep() else "refused"
        elif a == "wake":
            self.bwcs[target].wake()
        elif a == "dock":
            return "accepted" if self.bwcs[target].dock() else "refused"
        elif a == "undock":
            self.bwcs[target].undock()
        elif a == "power_cut":
            self.bwcs[target].power_cut()
        elif a == "dvr_stop":
            self.dvrs[target].press_stop()
        elif a == "stop_all":
            for bwc in self.bwcs.values():
                bwc.core.request_stop("operator")
            for dvr in self.dvrs.values():
                for cam in dvr.cameras:
                    cam.request_stop("operator")
        elif a == "complexity":
            for cam in self.all_cameras():
                cam.complexity = float(args["value"])
        return "done"

    def all_cameras(self) -> list[CameraCore]:
        cams = [b.core for b in self.bwcs.values()]
        for d in self.dvrs.values():
            cams += d.cameras
        return cams

    async def shutdown(self) -> None:
        for bwc in self.bwcs.values():
            await bwc.stop()
        for dvr in self.dvrs.values():
            await dvr.stop()
        for src in self.sources.values():
            await src.stop()
        await asyncio.sleep(0)
