"""The procurement policy (``--policy FILE``, schema ``bwc-policy/1``): which attack
*exposures* fail this procurement.

Some requirements (the catalogue's ``exposure:`` entries, SEC-001/002/005) ask what an
attacker can do to a camera that speaks the legacy, unauthenticated Signal: a replayed or
forged advert that starts a recording is a property of the protocol, not a defect of one
device. By default (the built-in catalogue) such a result is reported as an informative
*exposure*: the requirement's verdict is ``exposed``, the run can still pass, and the report
lists it in plain words. An agency that requires authenticated triggers names those
requirements in its policy file; a measured exposure then fails.

    schema: bwc-policy/1
    name: Authenticated triggers required
    fail_exposures: [SEC-001, SEC-002, SEC-005]     # or: all
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from conformance.catalogue import load_catalogue
from schemas.names import format_version
from schemas.yaml_input import FieldProblem, InputError, read_yaml, validate

SCHEMA = "bwc-policy/1"


class PolicyError(InputError):
    """A policy file that cannot be used (one line: file:line: field: problem)."""


class PolicyFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    schema_: Annotated[str, Field(alias="schema"), AfterValidator(format_version(SCHEMA))]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=2000)] = ""
    fail_exposures: Literal["all"] | Annotated[list[Annotated[str, Field(pattern=r"^[A-Z]{2,5}-\d{3}$")]], Field(max_length=200)] = []


@dataclass(frozen=True)
class Policy:
    name: str
    fails: frozenset[str]  # exposure requirements whose measured exposure fails
    source: str | None = None  # the file, None for the built-in default
    sha256: str | None = None

    def fails_on(self, requirement: str) -> bool:
        return requirement in self.fails

    def to_json(self) -> dict:
        return {"name": self.name, "fail_exposures": sorted(self.fails), "file": self.source, "sha256": self.sha256}


DEFAULT = Policy("built-in catalogue: attack exposures are informative", frozenset())
_ACTIVE = DEFAULT


def exposure_requirements() -> list[str]:
    return [rid for rid, r in load_catalogue().items() if r.exposure]


def read_policy(path: Path) -> Policy:
    document = read_yaml(path, PolicyError, "procurement policy")
    parsed: PolicyFile = validate(PolicyFile.model_validate, document, PolicyError, PolicyFile)
    known = exposure_requirements()
    if parsed.fail_exposures == "all":
        fails = frozenset(known)
    else:
        for i, rid in enumerate(parsed.fail_exposures):
            if rid not in known:
                raise document.error(PolicyError, FieldProblem(("fail_exposures", i), f"{rid} is not an exposure requirement (these are: {', '.join(known)})"))
        fails = frozenset(parsed.fail_exposures)
    return Policy(parsed.name, fails, str(path), hashlib.sha256(Path(path).read_bytes()).hexdigest())


def use_policy(path: str | Path | None) -> Policy:
    """Make this policy the one exposures are judged by in this process (None: the default)."""
    global _ACTIVE
    _ACTIVE = DEFAULT if path is None else read_policy(Path(path))
    return _ACTIVE


def active_policy() -> Policy:
    return _ACTIVE
