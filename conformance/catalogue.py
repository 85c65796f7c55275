"""Loads conformance/requirements.yaml into typed requirements."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

CATALOGUE_PATH = Path(__file__).with_name("requirements.yaml")


class CatalogueError(ValueError):
    pass


@dataclass(frozen=True)
class Limit:
    value: float
    unit: str
    comparator: str
    marginal: float = 0.0  # passing values this close to the limit are reported as marginal

    def holds(self, measured: float) -> bool:
        if self.comparator == ">=":
            return measured >= self.value
        if self.comparator == "<=":
            return measured <= self.value
        if self.comparator == "==":
            return measured == self.value
        raise CatalogueError(f"unknown comparator {self.comparator!r}")

    def describe(self) -> str:
        band = f" (marginal within {self.marginal:g})" if self.marginal else ""
        return f"{self.comparator} {self.value:g} {self.unit}{band}"


@dataclass(frozen=True)
class Requirement:
    id: str
    family: str
    title: str
    text: str
    source: str
    method: str = ""
    limit: Limit | None = None
    roles: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)


@lru_cache(maxsize=4)
def load_catalogue(path: Path = CATALOGUE_PATH) -> dict[str, Requirement]:
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"cannot read requirement catalogue {path}: {exc}") from exc
    out: dict[str, Requirement] = {}
    for i, raw in enumerate(doc.get("requirements", [])):
        try:
            limit = raw.get("limit")
            req = Requirement(
                id=raw["id"], family=raw["family"], title=raw["title"], text=" ".join(str(raw.get("text", raw["title"])).split()),
                source=raw["source"], method=raw.get("method", ""),
                limit=Limit(float(limit["value"]), str(limit["unit"]), str(limit["comparator"]), float(limit.get("marginal", 0.0))) if limit else None,
                roles=tuple(raw.get("roles", ())),
                extra={k: v for k, v in raw.items() if k not in {"id", "family", "title", "text", "source", "method", "limit", "roles"}},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CatalogueError(f"requirement #{i + 1} in {path.name} is missing or has a bad field: {exc}") from exc
        if req.id in out:
            raise CatalogueError(f"requirement {req.id} appears twice in {path.name}")
        out[req.id] = req
    return out
