"""Scenes: who stands (or walks) where, which cruiser belongs to whom, and a timeline of
stimuli; the virtual runner builds every emulator on one air and one loop and plays it.

Scene files are YAML (docs/scenes.md); ``hartford()`` is the default incident."""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from emulators.air import Obstacle, Point
from emulators.profiles import ProfileError, builtin_names, get_profile
from emulators.scene_schema import SCENE_ADAPTER, AirDoc, SceneDoc, check_references, expand_generators
from schemas.names import safe_name
from schemas.yaml_input import Document, FieldProblem, InputError, Loc, read_yaml, validate

class SceneError(InputError):
    """A scene that cannot be played; the message names the file (or the scene built in
    Python), the line, the field and the problem."""


@dataclass(frozen=True)
class Path2D:
    """Waypoints (t, x, y) in seconds and feet; linear in between, still before/after."""

    waypoints: tuple[tuple[float, float, float], ...]

    @cached_property
    def _times(self) -> tuple[float, ...]:  # read at every advert: not rebuilt per call
        return tuple(p[0] for p in self.waypoints)

    def __call__(self, t: float) -> Point:
        w = self.waypoints
        i = bisect_right(self._times, t)
        if i == 0:
            return (w[0][1], w[0][2])
        if i >= len(w):
            return (w[-1][1], w[-1][2])
        (t0, x0, y0), (t1, x1, y1) = w[i - 1], w[i]
        f = (t - t0) / (t1 - t0) if t1 > t0 else 1.0
        return (x0 + f * (x1 - x0), y0 + f * (y1 - y0))

    def motion(self) -> tuple[float, float, float]:
        """(start, end, speed): still before ``start`` and after ``end``, at most ``speed`` ft/s
        in between (the air's index files a moving radio again before it can leave its cell)."""
        w, times = self.waypoints, self._times
        if list(times) != sorted(times):
            return (-math.inf, math.inf, math.inf)  # not in time order: no bound
        speed = 0.0
        for (t0, x0, y0), (t1, x1, y1) in zip(w, w[1:]):
            step = math.hypot(x1 - x0, y1 - y0)
            if step:
                speed = max(speed, step / (t1 - t0) if t1 > t0 else math.inf)
        return (times[0], times[-1], speed)


@dataclass(frozen=True)
class OfficerSpec:
    name: str
    path: Path2D
    bwc_serial: str | None  # None: a person (or a bench source) without a camera
    cew_serial: str | None = None
    holster_serial: str | None = None
    vehicle: str | None = None
    profile: str | None = None  # its devices' profile (a built-in name or an absolute file path); None: the scene's

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
    path: Path2D | None = None  # a cruiser that drives (position is then where it starts)
    profile: str | None = None  # its DVR's profile (a built-in name or an absolute file path); None: the scene's

    def at(self, t: float) -> Point:
        return self.path(t) if self.path is not None else self.position


@dataclass(frozen=True)
class AttackerSpec:
    name: str
    position: Point
    tx_power_db: float = 0.0


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
class AirSpec:
    """A scene's radio environment: shadowing, capture threshold, obstacles."""

    shadowing_sigma_db: float = 0.0
    capture_db: float = 21.0
    obstacles: tuple[Obstacle, ...] = ()


@dataclass(frozen=True)
class SceneSpec:
    name: str
    officers: tuple[OfficerSpec, ...]
    vehicles: tuple[VehicleSpec, ...]
    timeline: tuple[Step, ...]
    end_s: float
    description: str = ""
    epoch_utc_ms: int = 1_780_000_000_000  # 2026-05-28T20:26:40Z, fixed for reproducible runs
    profile: str | None = None  # the scene file's default profile (bwc scene --profile overrides it)
    boot_spread_s: float = 0.0  # devices power on at seeded times in [0, this)
    expect: tuple[str, tuple[str, ...]] | None = None  # ("pass"|"fail", failing devices): what --check should give
    attackers: tuple[AttackerSpec, ...] = ()
    air: AirSpec | None = None  # the radio environment (default: open ground, PathLossModel's defaults)

    @property
    def profiles(self) -> set[str]:
        """Every per-device profile the scene names (its own default not counted)."""
        return {o.profile for o in self.officers if o.profile} | {v.profile for v in self.vehicles if v.profile}

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
def _validated(document: Document, base: Path) -> SceneDoc:
    """The one validation of every scene: the models, the generators expanded, then the
    references between entries and the profiles named (files relative to ``base``)."""
    doc: SceneDoc = validate(SCENE_ADAPTER.validate_python, document, SceneError, SceneDoc)
    origin: dict = {}
    try:
        origin = expand_generators(doc)
        check_references(doc)
        _resolve_profiles(doc, base)
    except FieldProblem as problem:
        made = origin.get(tuple(problem.loc[:2]))
        if made is not None:  # a generated officer or cruiser: point at its generator
            entry = getattr(doc, str(problem.loc[0]))[int(problem.loc[1])]
            problem = FieldProblem(made, f"generated {str(problem.loc[0])[:-1]} {getattr(entry, 'name', None) or entry.id}: "
                                         f"{'.'.join(map(str, problem.loc[2:]))}: {problem.problem}")
        raise document.error(SceneError, problem) from None
    return doc


def resolve_profile(ref: str, base: Path) -> str:
    """A profile reference as the scene's devices load it: a built-in name as it is, a file
    relative to the scene file's folder made absolute."""
    path = Path(ref)
    if ref in builtin_names() or (path.suffix not in (".yaml", ".yml") and len(path.parts) == 1):
        return ref  # a name (an unknown one is reported as such)
    return str((path if path.is_absolute() else base / path).resolve())


def _resolve_profiles(doc: SceneDoc, base: Path) -> None:
    """Every profile a scene names must load (FieldProblem at the entry that names it)."""
    entries: list[tuple[Loc, Any]] = [((), doc)] + [(("officers", i), o) for i, o in enumerate(doc.officers)]
    entries += [(("vehicles", i), v) for i, v in enumerate(doc.vehicles)]
    loaded: dict[str, str | None] = {}
    for loc, entry in entries:
        if entry.profile is None:
            continue
        ref = resolve_profile(entry.profile, base)
        if ref not in loaded:
            try:
                get_profile(ref)
                loaded[ref] = None
            except ProfileError as exc:
                loaded[ref] = str(exc).splitlines()[0]
        if loaded[ref] is not None:
            raise FieldProblem(loc + ("profile",), f"{loaded[ref]}")
        entry.profile = ref


def _spec(doc: SceneDoc, default_name: str) -> SceneSpec:
    paired = {v.officer: v.id for v in doc.vehicles if v.officer}
    officers = tuple(
        OfficerSpec(o.name, Path2D(tuple(o.path)) if o.path else still(o.position or (0.0, 0.0)), o.bwc, o.cew, o.holster,
                    o.vehicle or paired.get(o.name), o.profile)
        for o in doc.officers)
    vehicles = tuple(VehicleSpec(v.id, (v.path[0][1], v.path[0][2]) if v.path else (v.position or (0.0, 0.0)), v.dvr, v.officer,
                                 tuple(v.group), v.signal, Path2D(tuple(v.path)) if v.path else None, v.profile)
                     for v in doc.vehicles)
    steps = sorted((Step(s.t, s.do, getattr(s, "target", None), s.model_dump(exclude={"t", "do", "target"}, exclude_unset=True))
                    for s in doc.timeline), key=lambda s: s.t)
    return SceneSpec(doc.name or default_name, officers, vehicles, tuple(steps), doc.duration_s, doc.description, doc.epoch_utc_ms,
                     doc.profile, doc.boot_spread_s, (doc.expect.check, tuple(doc.expect.failing)) if doc.expect else None,
                     tuple(AttackerSpec(a.name, a.position, a.tx_power_db) for a in doc.attackers),
                     _air(doc.air) if doc.air else None)


def _air(doc: AirDoc) -> AirSpec:
    return AirSpec(doc.shadowing_sigma_db, doc.capture_db,
                   tuple(Obstacle(tuple(o.points), o.loss_db, o.closed, o.name) for o in doc.obstacles))


def scene_from_dict(data: object, source: str = "<scene>", base: Path | None = None) -> SceneSpec:
    return _spec(_validated(Document(source, data), base or Path.cwd()), safe_name(Path(source).stem))


def load_scene(path: Path) -> SceneSpec:
    """A scene file (docs/scenes.md); SceneError names the file, line, field and problem.
    Profile files it names are relative to the scene file's folder."""
    path = Path(path)
    return _spec(_validated(read_yaml(path, SceneError, "scene"), path.parent), safe_name(path.stem))


def scene_to_dict(spec: SceneSpec) -> dict[str, Any]:
    """The scene as its file would say it (what validate_scene checks)."""
    def some(**kw: Any) -> dict[str, Any]:
        return {k: v for k, v in kw.items() if v is not None}

    return some(
        name=spec.name, description=spec.description, end_s=spec.end_s, epoch_utc_ms=spec.epoch_utc_ms, profile=spec.profile,
        boot_spread_s=spec.boot_spread_s or None,
        expect={"check": spec.expect[0], "failing": list(spec.expect[1])} if spec.expect else None,
        officers=[some(name=o.name, bwc=o.bwc_serial, cew=o.cew_serial, holster=o.holster_serial, vehicle=o.vehicle,
                       path=[list(w) for w in o.path.waypoints], profile=o.profile) for o in spec.officers],
        vehicles=[some(id=v.vehicle_id, dvr=v.dvr_serial, officer=v.officer, group=list(v.group),
                       position=list(v.position) if v.path is None else None,
                       path=[list(w) for w in v.path.waypoints] if v.path is not None else None,
                       signal=v.signal_serial, profile=v.profile) for v in spec.vehicles],
        attackers=[{"name": a.name, "position": list(a.position), "tx_power_db": a.tx_power_db} for a in spec.attackers] or None,
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
    _validated(document, Path.cwd())
