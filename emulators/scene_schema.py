"""The scene file format as pydantic models (types, ranges, counts, unknown keys) and the
checks between its entries (names that refer to each other, serials used once, times inside
the scene). Scene files and the scenes built in Python both pass here (docs/scenes.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import BaseModel, Discriminator, Field, TypeAdapter, create_model, field_validator

from emulators.scene_actions import ACTIONS, Args
from emulators.scene_generators import GeneratorDoc, ProfileRef, expand
from schemas.names import INPUT_CONFIG, Ident, RunName, Serial, VehicleId
from schemas.yaml_input import FieldProblem, Loc

SCENE_SCHEMA = "bwc-scene/1"
MAX_END_S = 600.0  # simulated seconds: ten minutes of an incident (the suite's longest scene is 159 s)
MAX_FT = 5_000.0  # positions within a mile of the origin; the Signal range is 30 ft
MAX_OFFICERS = 1_000  # after the generators are expanded
MAX_VEHICLES = 200
MAX_GENERATORS = 64
MAX_BOOT_SPREAD_S = 60.0
MAX_STEPS = 1_000
MAX_WAYPOINTS = 1_000
EPOCH_RANGE_MS = (946_684_800_000, 4_102_444_800_000)  # 2000-01-01 .. 2100-01-01 UTC
DEFAULT_EPOCH_MS = 1_780_000_000_000  # 2026-05-28T20:26:40Z, fixed for reproducible runs

Feet = Annotated[float, Field(ge=-MAX_FT, le=MAX_FT)]
Seconds = Annotated[float, Field(ge=0, le=MAX_END_S)]


class _Model(BaseModel):
    model_config = INPUT_CONFIG


class OfficerDoc(_Model):
    name: Ident
    bwc: Serial | None = None  # None: a person (or a bench source) without a camera
    cew: Serial | None = None
    holster: Serial | None = None
    vehicle: VehicleId | None = None  # default: the vehicle whose officer names this one
    position: tuple[Feet, Feet] | None = None  # [x ft, y ft]
    path: Annotated[list[tuple[Seconds, Feet, Feet]], Field(min_length=1, max_length=MAX_WAYPOINTS)] | None = None  # [t s, x ft, y ft]
    profile: ProfileRef | None = None  # the officer's camera, CEW and holster (default: the scene's)


class VehicleDoc(_Model):
    id: VehicleId
    dvr: Serial
    officer: Ident | None = None  # whose BWC the DVR is paired with
    group: Annotated[list[Ident], Field(max_length=MAX_OFFICERS)] = []  # group-mode DVRs
    position: tuple[Feet, Feet] | None = None  # default [0, 0]
    path: Annotated[list[tuple[Seconds, Feet, Feet]], Field(min_length=1, max_length=MAX_WAYPOINTS)] | None = None  # a cruiser that drives
    signal: Serial | None = None  # its Signal Vehicle unit (default: the DVR serial starting with S)
    profile: ProfileRef | None = None  # its DVR and Signal Vehicle unit (default: the scene's)


class AttackerDoc(_Model):
    """An attacker's radio (docs/security.md): sniffs the air, sends what ``attack`` steps say."""

    name: Ident
    position: tuple[Feet, Feet] = (0.0, 0.0)
    tx_power_db: Annotated[float, Field(ge=-30, le=30)] = 0.0  # relative to the reference transmitter


class ObstacleDoc(_Model):
    """A wall (two or more points, open) or a body (``closed``: a car, a building) that a link
    crossing it loses ``loss_db`` through (docs/scenes.md)."""

    name: str = ""
    points: Annotated[list[tuple[Feet, Feet]], Field(min_length=2, max_length=64)]
    loss_db: Annotated[float, Field(ge=0, le=60)]
    closed: bool = False


class AirDoc(_Model):
    """The radio environment of the scene (emulators/air_model.py, air_links.py)."""

    shadowing_sigma_db: Annotated[float, Field(ge=0, le=12)] = 0.0  # per-link log-normal shadowing
    capture_db: Annotated[float, Field(ge=0, le=40)] = 21.0  # co-channel capture threshold (Core Spec: C/I 21 dB)
    obstacles: Annotated[list[ObstacleDoc], Field(max_length=256)] = []


class StepDoc(_Model):
    t: Seconds
    do: str  # each action's model narrows it to its name (the union's tag)


def _step_model(name: str) -> type[BaseModel]:
    action = ACTIONS[name]
    fields: dict[str, Any] = {"do": (Literal[name], ...)}  # type: ignore[valid-type]
    if action.target is not None:
        fields["target"] = (VehicleId if action.target == "vehicle" else Ident, ...)
    return create_model(f"{name}_step", __base__=(StepDoc, action.args) if action.args is not Args else StepDoc,
                        __doc__=action.doc, **fields)


STEP_MODELS = {name: _step_model(name) for name in ACTIONS}
if TYPE_CHECKING:
    StepUnion = StepDoc
else:  # one model per action, told apart by `do`
    StepUnion = Annotated[Union[tuple(STEP_MODELS.values())], Discriminator("do")]


class ExpectDoc(_Model):
    """The outcome the scene's author expects from ``bwc scene --check`` (an example's promise)."""

    check: Literal["pass", "fail"]
    failing: Annotated[list[Annotated[str, Field(max_length=48)]], Field(max_length=MAX_OFFICERS)] = []  # devices with a failed row (BWC-<officer>, DVR-<vehicle>)


class SceneDoc(_Model):
    """A scene: who stands (or walks) where, which cruiser belongs to whom, what happens when."""

    schema_: Literal["bwc-scene/1"] | None = Field(None, alias="schema")
    name: RunName | None = None  # default: the file name
    description: str = ""
    end_s: Annotated[float, Field(gt=0, le=MAX_END_S)] | None = None  # default: the last step + 5 s
    profile: ProfileRef | None = None  # every device without its own (default: bwc scene --profile, else reference)
    boot_spread_s: Annotated[float, Field(ge=0, le=MAX_BOOT_SPREAD_S)] = 0.0  # devices power on at seeded times in [0, this)
    officers: Annotated[list[OfficerDoc], Field(max_length=MAX_OFFICERS)] = []
    vehicles: Annotated[list[VehicleDoc], Field(max_length=MAX_VEHICLES)] = []
    attackers: Annotated[list[AttackerDoc], Field(max_length=16)] = []
    generate: Annotated[list[GeneratorDoc], Field(max_length=MAX_GENERATORS)] = []
    timeline: Annotated[list[StepUnion], Field(max_length=MAX_STEPS)] = []
    expect: ExpectDoc | None = None
    air: AirDoc | None = None
    epoch_utc_ms: Annotated[int, Field(ge=EPOCH_RANGE_MS[0], le=EPOCH_RANGE_MS[1])] = DEFAULT_EPOCH_MS

    @field_validator("officers", "vehicles", "attackers", "timeline", "generate", mode="before")
    @classmethod
    def _empty(cls, value: object) -> object:
        return [] if value is None else value  # `vehicles:` with nothing after it

    @property
    def duration_s(self) -> float:
        return self.end_s if self.end_s is not None else min(max((s.t for s in self.timeline), default=5.0) + 5.0, MAX_END_S)


SCENE_ADAPTER = TypeAdapter(SceneDoc)


def rear_serial(dvr: str) -> str:
    return dvr[:-1] + "R"


def signal_serial(dvr: str) -> str:
    return "S" + dvr[1:]


def expand_generators(doc: SceneDoc) -> dict[Loc, Loc]:
    """Append the officers and cruisers of every ``generate:`` entry to the scene (in place);
    returns, for each generated entry's location, the generator's (for error messages)."""
    origin: dict[Loc, Loc] = {}
    for j, g in enumerate(doc.generate):
        try:
            officers, vehicles = expand(g)
        except FieldProblem as problem:
            raise FieldProblem(("generate", j) + tuple(problem.loc), problem.problem) from None
        for kind, made, into, limit in (("officers", officers, doc.officers, MAX_OFFICERS), ("vehicles", vehicles, doc.vehicles, MAX_VEHICLES)):
            for entry in made:
                origin[(kind, len(into))] = ("generate", j)
                into.append(entry)  # type: ignore[arg-type]
            if len(into) > limit:
                raise FieldProblem(("generate", j), f"the scene would hold {len(into)} {kind}: at most {limit}")
    doc.generate = []
    return origin


def check_references(doc: SceneDoc) -> None:
    """What the models cannot see: names that refer to each other, serials used once,
    paths in time order, steps inside the scene. Raises FieldProblem."""
    officers: dict[str, OfficerDoc] = {}
    for i, o in enumerate(doc.officers):
        if o.name in officers:
            raise FieldProblem(("officers", i, "name"), f"officer {o.name!r} is named twice")
        officers[o.name] = o
        if o.position is not None and o.path is not None:
            raise FieldProblem(("officers", i, "path"), "give position or path, not both")
        if o.path is not None and any(b[0] < a[0] for a, b in zip(o.path, o.path[1:])):
            raise FieldProblem(("officers", i, "path"), "waypoints must be in time order")
    vehicles: set[str] = set()
    for i, v in enumerate(doc.vehicles):
        if v.position is not None and v.path is not None:
            raise FieldProblem(("vehicles", i, "path"), "give position or path, not both")
        if v.path is not None and any(b[0] < a[0] for a, b in zip(v.path, v.path[1:])):
            raise FieldProblem(("vehicles", i, "path"), "waypoints must be in time order")
        if v.id in vehicles:
            raise FieldProblem(("vehicles", i, "id"), f"vehicle {v.id!r} is listed twice")
        vehicles.add(v.id)
        for loc, member in [(("vehicles", i, "officer"), v.officer)] + [(("vehicles", i, "group", j), m) for j, m in enumerate(v.group)]:
            if member is not None and member not in officers:
                raise FieldProblem(loc, f"no officer named {member!r}")
    for i, ob in enumerate(doc.air.obstacles if doc.air else ()):
        if ob.closed and len(ob.points) < 3:
            raise FieldProblem(("air", "obstacles", i, "points"), "a closed obstacle needs at least 3 points")
    attackers: set[str] = set()
    for i, a in enumerate(doc.attackers):
        if a.name in attackers or a.name in officers:
            raise FieldProblem(("attackers", i, "name"), f"{a.name!r} already names an {'attacker' if a.name in attackers else 'officer'}")
        attackers.add(a.name)
    _check_serials(doc)
    end_s = doc.duration_s
    for i, step in enumerate(doc.timeline):
        _check_step(i, step, officers, vehicles, attackers, end_s)


def _check_serials(doc: SceneDoc) -> None:
    seen: dict[str, str] = {}

    def use(loc: Loc, serial: str | None, what: str) -> None:
        if serial is None:
            return
        if serial in seen:
            raise FieldProblem(loc, f"serial {serial!r} ({what}) is already used by {seen[serial]}")
        seen[serial] = what

    for i, o in enumerate(doc.officers):
        for kind in ("bwc", "cew", "holster"):
            use(("officers", i, kind), getattr(o, kind), f"officer {o.name}'s {kind}")
    for i, v in enumerate(doc.vehicles):
        use(("vehicles", i, "dvr"), v.dvr, f"{v.id}'s DVR")
        use(("vehicles", i, "dvr"), rear_serial(v.dvr), f"{v.id}'s back-seat camera, the DVR serial ending in R")
        use(("vehicles", i, "signal" if v.signal else "dvr"), v.signal or signal_serial(v.dvr), f"{v.id}'s Signal Vehicle unit")


def _check_step(i: int, step: Any, officers: dict[str, OfficerDoc], vehicles: set[str], attackers: set[str], end_s: float) -> None:
    action = ACTIONS[step.do]
    where: Loc = ("timeline", i)
    if step.t > end_s:
        raise FieldProblem(where + ("t",), f"t={step.t:g} is after the end of the scene (end_s {end_s:g})")
    if action.target == "vehicle" and step.target not in vehicles:
        raise FieldProblem(where + ("target",), f"no vehicle with id {step.target!r}")
    if action.target == "attacker" and step.target not in attackers:
        raise FieldProblem(where + ("target",), f"no attacker named {step.target!r}")
    if step.do == "attack" and step.kind in ("replay", "spoof") and step.serial is None:
        raise FieldProblem(where + ("serial",), f"a {step.kind} attack names the serial it {'replays' if step.kind == 'replay' else 'claims'}")
    if step.do == "icp_attack":
        if step.vehicle not in vehicles:
            raise FieldProblem(where + ("vehicle",), f"no vehicle with id {step.vehicle!r}")
        if step.to is not None and (step.to not in officers or officers[step.to].bwc is None):
            raise FieldProblem(where + ("to",), f"no officer named {step.to!r} with a body camera")
    if action.target == "officer":
        officer = officers.get(step.target)
        if officer is None:
            raise FieldProblem(where + ("target",), f"no officer named {step.target!r}")
        carries = {"bwc": ("wears no body camera", officer.bwc), "cew": ("carries no CEW", officer.cew),
                   "holster": ("has no holster sensor", officer.holster)}
        if action.needs is not None and carries[action.needs][1] is None:
            raise FieldProblem(where + ("target",), f"officer {step.target} {carries[action.needs][0]}")
        if step.do == "hand_over" and step.to not in officers:
            raise FieldProblem(where + ("to",), f"no officer named {step.to!r}")
