"""Scene generators: ``generate:`` entries that stand for many officers or cruisers at once
(a team around a point, a crowd in a polygon, a grid, a convoy), expanded into the plain
officer and vehicle entries of the scene before it is checked (docs/scenes.md, "Generators").

Serials come from the entry's three-character ``code``: body camera ``X6`` + code + a 4-digit
number, CEW ``X8``..., holster sensor ``X5``...; a convoy's DVRs ``F3`` + code + a 3-digit
number + ``1`` (their back-seat cameras end in ``R``, their Signal Vehicle units start with
``S``). Officers are named ``<name>-<n>`` from 1, a convoy's cruisers ``<name><n>``."""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Annotated, Literal, Union

from pydantic import BaseModel, Discriminator, Field

from schemas.names import INPUT_CONFIG, Ident
from schemas.yaml_input import FieldProblem

if TYPE_CHECKING:
    from emulators.scene_schema import OfficerDoc, VehicleDoc

MAX_GENERATED = 1_000  # officers (or cruisers) one entry makes
MAX_FT = 5_000.0
Feet = Annotated[float, Field(ge=-MAX_FT, le=MAX_FT)]
Code = Annotated[str, Field(pattern=r"^[A-Z0-9]{3}$", description="3 characters A-Z, 0-9: the middle of every serial it makes")]
ProfileRef = Annotated[str, Field(min_length=1, max_length=500, description="a built-in profile name or a profile YAML file (relative to the scene file)")]


class _Generator(BaseModel):
    model_config = INPUT_CONFIG
    name: Annotated[Ident, Field(max_length=24)]  # officers are <name>-1, <name>-2, ...
    code: Code
    profile: ProfileRef | None = None  # every device it makes (default: the scene's)
    cew: bool = True  # each officer carries a CEW
    holster: bool = False  # each officer has a Signal holster sensor


class TeamDoc(_Generator):
    """n officers evenly on a circle of radius_ft around ``at`` (one officer: at the point)."""

    kind: Literal["team"]
    n: Annotated[int, Field(ge=1, le=MAX_GENERATED)]
    at: tuple[Feet, Feet] = (0.0, 0.0)
    radius_ft: Annotated[float, Field(ge=0, le=MAX_FT)] = 10.0


class CrowdDoc(_Generator):
    """n officers placed uniformly at random (seeded) inside a polygon."""

    kind: Literal["crowd"]
    n: Annotated[int, Field(ge=1, le=MAX_GENERATED)]
    polygon: Annotated[list[tuple[Feet, Feet]], Field(min_length=3, max_length=64)]
    seed: Annotated[int, Field(ge=0, le=2**31)] = 0


class GridDoc(_Generator):
    """rows x cols officers, spacing_ft apart, the first at ``origin``."""

    kind: Literal["grid"]
    rows: Annotated[int, Field(ge=1, le=MAX_GENERATED)]
    cols: Annotated[int, Field(ge=1, le=MAX_GENERATED)]
    origin: tuple[Feet, Feet] = (0.0, 0.0)
    spacing_ft: Annotated[float, Field(gt=0, le=MAX_FT)] = 10.0


class ConvoyDoc(_Generator):
    """n cruisers in a line from ``start`` along ``heading_deg`` (0: +x, 90: +y), spacing_ft
    apart, each with its officer (paired body camera) inside; with ``speed_mph`` > 0 the
    convoy drives off at ``depart_s`` and keeps going until ``arrive_s``."""

    kind: Literal["convoy"]
    n: Annotated[int, Field(ge=1, le=999)]
    start: tuple[Feet, Feet] = (0.0, 0.0)
    heading_deg: Annotated[float, Field(ge=-360, le=360)] = 0.0
    spacing_ft: Annotated[float, Field(gt=0, le=MAX_FT)] = 40.0
    speed_mph: Annotated[float, Field(ge=0, le=150)] = 0.0
    depart_s: Annotated[float, Field(ge=0, le=600)] = 0.0
    arrive_s: Annotated[float, Field(ge=0, le=600)] = 600.0
    officers: bool = True  # each cruiser carries its officer (off: DVRs only)


GeneratorDoc = Annotated[Union[TeamDoc, CrowdDoc, GridDoc, ConvoyDoc], Discriminator("kind")]
FT_PER_S_PER_MPH = 5280.0 / 3600.0


def _officer(g: _Generator, i: int, **where: object) -> OfficerDoc:
    from emulators.scene_schema import OfficerDoc

    n = f"{i + 1:04d}"
    return OfficerDoc(name=f"{g.name}-{i + 1}", bwc=f"X6{g.code}{n}", cew=f"X8{g.code}{n}" if g.cew else None,
                      holster=f"X5{g.code}{n}" if g.holster else None, profile=g.profile, **where)  # type: ignore[arg-type]


def _inside(p: tuple[float, float], poly: list[tuple[float, float]]) -> bool:
    """Even-odd rule."""
    x, y, inside = p[0], p[1], False
    for (x0, y0), (x1, y1) in zip(poly, poly[1:] + poly[:1]):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


def _crowd(g: CrowdDoc) -> list[tuple[float, float]]:
    xs, ys = [p[0] for p in g.polygon], [p[1] for p in g.polygon]
    rng = random.Random(f"crowd {g.name} {g.seed}")
    points: list[tuple[float, float]] = []
    for _ in range(200 * g.n):
        p = (round(rng.uniform(min(xs), max(xs)), 2), round(rng.uniform(min(ys), max(ys)), 2))
        if _inside(p, g.polygon):
            points.append(p)
            if len(points) == g.n:
                return points
    raise FieldProblem(("polygon",), "has (almost) no area: could not place the officers inside it")


def expand(g: TeamDoc | CrowdDoc | GridDoc | ConvoyDoc) -> tuple[list[OfficerDoc], list[VehicleDoc]]:
    """The officers and cruisers one entry stands for; FieldProblem (relative to the entry)."""
    from emulators.scene_schema import VehicleDoc

    if isinstance(g, TeamDoc):
        points = [g.at] if g.n == 1 else [
            (round(g.at[0] + g.radius_ft * math.cos(2 * math.pi * i / g.n), 3),
             round(g.at[1] + g.radius_ft * math.sin(2 * math.pi * i / g.n), 3)) for i in range(g.n)]
        return [_officer(g, i, position=p) for i, p in enumerate(points)], []
    if isinstance(g, CrowdDoc):
        return [_officer(g, i, position=p) for i, p in enumerate(_crowd(g))], []
    if isinstance(g, GridDoc):
        if g.rows * g.cols > MAX_GENERATED:
            raise FieldProblem(("cols",), f"rows x cols = {g.rows * g.cols}: at most {MAX_GENERATED} officers per entry")
        return [_officer(g, r * g.cols + c, position=(g.origin[0] + c * g.spacing_ft, g.origin[1] + r * g.spacing_ft))
                for r in range(g.rows) for c in range(g.cols)], []
    if len(f"{g.name}{g.n}") > 8:
        raise FieldProblem(("name",), f"cruisers are named <name><n> and the in-car protocol carries 8 characters: {g.name!r} is too long for {g.n} cruisers")
    if g.arrive_s < g.depart_s:
        raise FieldProblem(("arrive_s",), "must not be before depart_s")
    ux, uy = math.cos(math.radians(g.heading_deg)), math.sin(math.radians(g.heading_deg))
    travel = g.speed_mph * FT_PER_S_PER_MPH * (g.arrive_s - g.depart_s)
    officers, vehicles = [], []
    for i in range(g.n):
        x0, y0 = g.start[0] - i * g.spacing_ft * ux, g.start[1] - i * g.spacing_ft * uy  # the lead car first
        x1, y1 = round(x0 + travel * ux, 3), round(y0 + travel * uy, 3)
        if max(abs(x1), abs(y1)) > MAX_FT:
            raise FieldProblem(("speed_mph",), f"cruiser {i + 1} would drive beyond {MAX_FT:g} ft of the origin")
        path = [(0.0, round(x0, 3), round(y0, 3))] + ([(g.depart_s, round(x0, 3), round(y0, 3)), (g.arrive_s, x1, y1)] if travel else [])
        vid = f"{g.name}{i + 1}"
        officer = _officer(g, i, path=path, vehicle=vid) if g.officers else None
        if officer is not None:
            officers.append(officer)
        vehicles.append(VehicleDoc(id=vid, dvr=f"F3{g.code}{i + 1:03d}1", officer=officer.name if officer else None,
                                   path=path, profile=g.profile))
    return officers, vehicles
