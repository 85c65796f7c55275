"""Loads conformance/requirements.yaml (schema ``bwc-requirements/2``) into typed requirements.

Every number a check judges against lives in the catalogue: the requirement's main ``limit``,
named secondary ``limits`` (e.g. RES-001's lines per camera role), ``parameters`` the
procedure uses (ACT-001's range), ``configured``: the field of the target's declared
configuration that can make the limit stricter (PRE-001: a camera configured for 60 s is held
to 60 s), and ``capability``: what a device must be able to do for the requirement to apply,
and whether the catalogue makes it mandatory (a device without sound fails PRE-003; one
without group recording is not tested on GRP-001)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from conformance.limits import Limit
from schemas.names import format_version
from schemas.yaml_input import InputError, read_yaml, validate

CATALOGUE_PATH = Path(__file__).with_name("requirements.yaml")
SCHEMA = "bwc-requirements/2"


class CatalogueError(InputError):
    """A catalogue that cannot be used (one line: file:line: field: problem), or a lookup of a
    requirement, limit or parameter it does not have."""


Finite = Annotated[float, Field(allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LimitSpec(_Strict):
    value: Finite
    unit: str = ""
    comparator: Literal[">=", "<=", "=="] = ">="
    marginal: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0

    def limit(self) -> Limit:
        return Limit(self.value, self.unit, self.comparator, self.marginal)


class Capability(_Strict):
    name: str  # a capability of the device (profile/bench declaration), e.g. audio, group_mode
    mandatory: bool  # absent and mandatory: the requirement fails; absent and optional: not tested


class RequirementSpec(_Strict):
    id: Annotated[str, Field(pattern=r"^[A-Z]{2,5}-\d{3}$")]
    family: str
    title: str
    text: str = ""
    source: str
    method: str = ""
    roles: tuple[str, ...] = ()
    limit: LimitSpec | None = None
    limits: dict[str, LimitSpec] = {}
    parameters: dict[str, Finite | str | list[Finite]] = {}
    configured: str | None = None  # dotted field of the declared configuration that can tighten `limit`
    capability: Capability | None = None
    # what an attack can do, asked as a question (SEC-001: "does a replayed advert start a
    # recording?"): a measured "yes" is an informative exposure unless the procurement
    # policy (conformance/policy.py) makes it a failure
    exposure: Annotated[str, Field(max_length=300)] | None = None


class CatalogueFile(_Strict):
    schema_: Annotated[str, Field(alias="schema"), AfterValidator(format_version(SCHEMA))]
    requirements: list[RequirementSpec]


class Requirement:
    """One requirement of the catalogue with its limits as Limit objects."""

    def __init__(self, spec: RequirementSpec) -> None:
        self.spec = spec
        self.id, self.family, self.title, self.source, self.method = spec.id, spec.family, spec.title, spec.source, spec.method
        self.text = " ".join((spec.text or spec.title).split())
        self.roles = spec.roles
        self.limit: Limit | None = spec.limit.limit() if spec.limit else None
        self.limits = {name: s.limit() for name, s in spec.limits.items()}
        self.parameters = dict(spec.parameters)
        self.configured = spec.configured
        self.capability = spec.capability
        self.exposure = spec.exposure

    @property
    def extra(self) -> dict:
        """Parameters, as the report shows them."""
        return dict(self.parameters)

    def named(self, name: str) -> Limit:
        try:
            return self.limits[name]
        except KeyError:
            raise CatalogueError(f"{self.id} has no limit named {name!r} in requirements.yaml") from None

    def parameter(self, name: str) -> float:
        value = self.parameters.get(name)
        if not isinstance(value, (int, float)):
            raise CatalogueError(f"{self.id} has no numeric parameter {name!r} in requirements.yaml")
        return float(value)

    def main(self) -> Limit:
        if self.limit is None:
            raise CatalogueError(f"{self.id} has no limit in requirements.yaml")
        return self.limit


def _where(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    return f"{loc}: {err['msg']}"


def read_catalogue(path: Path) -> dict[str, Requirement]:
    """One catalogue file through the harness's input layer (schemas/yaml_input.py), as every
    other input file is read."""
    document = read_yaml(path, CatalogueError, "requirement catalogue")
    parsed: CatalogueFile = validate(CatalogueFile.model_validate, document, CatalogueError, CatalogueFile)
    out: dict[str, Requirement] = {}
    for i, spec in enumerate(parsed.requirements):
        if spec.id in out:
            raise CatalogueError(document.message(("requirements", i, "id"), f"{spec.id} appears twice"))
        out[spec.id] = Requirement(spec)
    return out


_load_file = lru_cache(maxsize=8)(read_catalogue)
_EXTRA: tuple[Path, ...] = ()  # catalogue files merged with the built-in one (--bwc-catalogue)


@lru_cache(maxsize=8)
def _merged(path: Path, extra: tuple[Path, ...]) -> dict[str, Requirement]:
    out = dict(_load_file(path))
    for other in extra:
        for rid, req in _load_file(other).items():
            if rid in out:
                raise CatalogueError(f"{other}: requirements: {rid}: already in the catalogue (an extension adds requirements of its own ids)")
            out[rid] = req
    return out


def load_catalogue(path: Path = CATALOGUE_PATH) -> dict[str, Requirement]:
    """The requirements of ``path`` (the built-in catalogue by default, with the extension
    files this process was given merged in, in order)."""
    return _merged(path, _EXTRA if path == CATALOGUE_PATH else ())


def use_extra_catalogues(paths: list[str] | tuple[str, ...]) -> list[dict]:
    """Merge these catalogue files (same schema, new ids) into the built-in catalogue for this
    process. Returns their requirements as plain data: results.json keeps them, so a report
    built later from it shows them like the built-in ones."""
    global _EXTRA
    extra = tuple(Path(p).resolve() for p in paths)
    merged = _merged(CATALOGUE_PATH, extra)  # raises on a bad file or a clash before anything changes
    _EXTRA = extra
    builtin = _load_file(CATALOGUE_PATH)
    return [r.spec.model_dump(by_alias=True, exclude_defaults=True) for rid, r in merged.items() if rid not in builtin]


def with_extensions(docs: list[dict]) -> dict[str, Requirement]:
    """The built-in catalogue with the extension requirements a run recorded (results.json)."""
    out = dict(load_catalogue())
    for doc in docs:
        try:
            spec = RequirementSpec.model_validate(doc)
        except ValidationError as exc:
            raise CatalogueError(f"results.json: catalogue_extra: {_where(exc)}") from None
        out.setdefault(spec.id, Requirement(spec))
    return out


def requirement(req_id: str) -> Requirement:
    catalogue = load_catalogue()
    if req_id not in catalogue:
        raise CatalogueError(f"{req_id} is not in conformance/requirements.yaml")
    return catalogue[req_id]
