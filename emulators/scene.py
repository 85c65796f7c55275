"""Scenes: who stands (or walks) where, which cruiser belongs to whom, and a timeline of
stimuli; the virtual runner builds every emulator on one air and one loop and plays it.

Scene files are YAML (docs/scenes.md); ``hartford()`` is the default incident."""

from __future__ import annotations

import asyncio
import math
from bisect import bisect_right
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulators.air import Air, PathLossModel, Point, radio
from emulators.bwc import BwcEmulator
from emulators.camera import CameraCore, CameraIdentity, Recording
from emulators.clock import DeviceClock, SceneClock
from emulators.dvr import DvrEmulator
from emulators.profiles import ClockSpec, Profile
from emulators.scene_actions import ACTIONS
from emulators.scene_schema import SCENE_ADAPTER, SceneDoc, check_references, rear_serial, signal_serial
from emulators.signal_source import SignalSourceEmulator
from emulators.video import VideoFormat
from protocols.signal import SourceClass
from schemas.names import safe_name
from schemas.yaml_input import Document, FieldProblem, InputError, read_yaml, validate

class SceneError(InputError):
    """A scene that cannot be played; the message names the file (or the scene built in
    Python), the line, the field and the problem."""


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
    # (officer, delay_s): from t on, wait until the harness hears that officer's camera announce
    # a recording, then act delay_s later (a probe timed from what the harness observes)
    anchor: tuple[str, float] | None = None


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
def _validated(document: Document) -> SceneDoc:
    """The one validation of every scene: the models, then the references between entries."""
    doc: SceneDoc = validate(SCENE_ADAPTER.validate_python, document, SceneError, SceneDoc)
    try:
        check_references(doc)
    except FieldProblem as problem:
        raise document.error(SceneError, problem) from None
    return doc


def _spec(doc: SceneDoc, default_name: str) -> SceneSpec:
    paired = {v.officer: v.id for v in doc.vehicles if v.officer}
    officers = tuple(
        OfficerSpec(o.name, Path2D(tuple(o.path)) if o.path else still(o.position or (0.0, 0.0)), o.bwc, o.cew, o.holster,
                    o.vehicle or paired.get(o.name))
        for o in doc.officers)
    vehicles = tuple(VehicleSpec(v.id, v.position, v.dvr, v.officer, tuple(v.group), v.signal) for v in doc.vehicles)
    steps = sorted((Step(s.t, s.do, getattr(s, "target", None), s.model_dump(exclude={"t", "do", "target"}, exclude_unset=True))
                    for s in doc.timeline), key=lambda s: s.t)
    return SceneSpec(doc.name or default_name, officers, vehicles, tuple(steps), doc.duration_s, doc.description, doc.epoch_utc_ms)


def scene_from_dict(data: object, source: str = "<scene>") -> SceneSpec:
    return _spec(_validated(Document(source, data)), safe_name(Path(source).stem))


def load_scene(path: Path) -> SceneSpec:
    """A scene file (docs/scenes.md); SceneError names the file, line, field and problem."""
    return _spec(_validated(read_yaml(Path(path), SceneError, "scene")), safe_name(Path(path).stem))


def scene_to_dict(spec: SceneSpec) -> dict[str, Any]:
    """The scene as its file would say it (what validate_scene checks)."""
    def some(**kw: Any) -> dict[str, Any]:
        return {k: v for k, v in kw.items() if v is not None}

    return some(
        name=spec.name, description=spec.description, end_s=spec.end_s, epoch_utc_ms=spec.epoch_utc_ms,
        officers=[some(name=o.name, bwc=o.bwc_serial, cew=o.cew_serial, holster=o.holster_serial, vehicle=o.vehicle,
                       path=[list(w) for w in o.path.waypoints]) for o in spec.officers],
        vehicles=[some(id=v.vehicle_id, dvr=v.dvr_serial, officer=v.officer, group=list(v.group), position=list(v.position),
                       signal=v.signal_serial) for v in spec.vehicles],
        timeline=[{**s.args, **some(t=s.t, do=s.action, target=s.target)} for s in spec.timeline],
    )


def validate_scene(spec: SceneSpec, source: str | None = None) -> None:
    """A scene built in Python passes the same validation as a scene file, and its timeline
    must be in time order (the runner plays it in order)."""
    document = Document(source or f"scene {spec.name!r}", scene_to_dict(spec))
    for i, step in enumerate(spec.timeline):
        clash = sorted(set(step.args) & {"t", "do", "target"})
        if clash:
            raise document.error(SceneError, FieldProblem(("timeline", i, clash[0]), "is a step field, not an argument"))
        if i and step.t < spec.timeline[i - 1].t:
            raise document.error(SceneError, FieldProblem(("timeline", i, "t"), "the timeline must be in time order"))
    _validated(document)


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
        # (officer, since loop time) -> loop time the harness heard the officer's camera announce
        # a recording (None: never); the target that runs the scene sets it
        self.heard: Callable[[str, float], Awaitable[float | None]] | None = None
        validate_scene(self.spec)

    @property
    def evidence_dir(self) -> Path:
        return self.out_dir / "evidence"

    def _camera(self, serial: str, role: str, rec: Recording, clock: DeviceClock) -> CameraCore:
        vendor = self.profile.bwc if role == "bwc" else self.profile.dvr
        return CameraCore(CameraIdentity(serial, vendor.model, vendor.firmware, role), clock, rec, self.evidence_dir)

    async def build(self) -> None:
        p = self.profile
        b = p.bwc
        for o in self.spec.officers:
            if o.bwc_serial:
                clock = _device_clock(self.clock, b.clock)
                core = self._camera(o.bwc_serial, "bwc", Recording.of_bwc(b, self.video_override), clock)
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
            front = self._camera(v.dvr_serial, "dvr-front", Recording.of_dvr(d, "front", self.video_override), clock)
            rear_cam = self._camera(rear_serial(v.dvr_serial), "dvr-rear", Recording.of_dvr(d, "rear", self.video_override), clock)
            unit = SignalSourceEmulator(v.signal_serial or signal_serial(v.dvr_serial), radio(self.air, f"SIGNAL-{v.vehicle_id}", v.position, kind="vehicle",
                                                             tx_power_db=d.signal.tx_power_dbm), d.signal, SourceClass.VEHICLE)
            self.dvrs[v.vehicle_id] = DvrEmulator(v.dvr_serial, pairing.vehicle_id, paired, d, front, rear_cam, clock, unit)
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
        anchored: list[asyncio.Task] = []
        for step in self.spec.timeline:
            delay = step.t - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if step.anchor is not None:
                anchored.append(loop.create_task(self._anchored(step)))
                continue
            outcome = await self._do(step)
            self.results.append(StepResult(step, loop.time(), self.clock.utc_ms(), outcome))
        remaining = self.spec.end_s - loop.time()
        if remaining > 0:
            await asyncio.sleep(remaining)
        for task in anchored:
            task.cancel()
        return self.results

    async def _anchored(self, step: Step) -> None:
        """Wait for the harness to hear the anchor camera announce a recording (``heard``,
        set by the target that runs the scene), then act ``delay_s`` later."""
        assert step.anchor is not None
        loop = asyncio.get_running_loop()
        who, delay_s = step.anchor
        heard_at = await self.heard(who, loop.time()) if self.heard is not None else None
        outcome = "done"
        if heard_at is None:
            outcome = f"anchor not heard: {who} announced no recording"
            heard_at = loop.time()
        wait = heard_at + delay_s - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        done = await self._do(step)
        self.results.append(StepResult(step, loop.time(), self.clock.utc_ms(), outcome if outcome != "done" else done))

    async def _do(self, step: Step) -> str:
        return await ACTIONS[step.action].run(self, step)

    def all_cameras(self) -> list[CameraCore]:
        cams = [b.core for b in self.bwcs.values()]
        for d in self.dvrs.values():
            cams += d.cameras
        return cams

    async def shutdown(self) -> None:
        """Stop every device; every clip writer is joined even when a device fails to stop or
        the run is interrupted (a run is hashed only after every writer is done)."""
        failure: Exception | None = None
        stops = [b.stop for b in self.bwcs.values()] + [d.stop for d in self.dvrs.values()] + [s.stop for s in self.sources.values()]
        for stop in stops:
            try:
                await stop()
            except Exception as exc:  # the others still stop; raised below
                failure = failure or exc
        for cam in (c for c in self.all_cameras() if c.active_clip is not None):  # its device failed to stop
            await cam.shutdown()
        await asyncio.sleep(0)
        if failure is not None:
            raise failure
