"""The JSON Schemas of the input formats, generated from the pydantic models that validate
them, so that editors (yaml-language-server) check and complete the files the harness reads.
``scripts/gen-schemas`` writes them next to this module; a test keeps them up to date."""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
import typing
from pathlib import Path
from typing import Any

from schemas import SCHEMA_DIR

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def field_comments(cls: type) -> dict[str, str]:
    """The comment after each field of a dataclass's source (its documentation)."""
    out = {}
    for line in inspect.getsource(cls).splitlines():
        m = re.match(r"\s+(\w+):.*?#\s*(.*)$", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def _closed(node: Any) -> None:
    """Every object with properties refuses other keys (as the loaders do)."""
    if isinstance(node, dict):
        if "properties" in node and node.get("type") == "object":
            node.setdefault("additionalProperties", False)
        for value in node.values():
            _closed(value)
    elif isinstance(node, list):
        for value in node:
            _closed(value)


def _document_dataclasses(schema: dict[str, Any], root: type) -> None:
    """Descriptions from the field comments, and the defaults pydantic leaves out (those
    built by a default_factory: sections, video formats)."""
    from emulators.video import VideoFormat

    seen: set[type] = set()

    def visit(cls: type) -> None:
        if cls in seen:
            return
        seen.add(cls)
        node = schema if cls is root else schema["$defs"][cls.__name__]
        hints = typing.get_type_hints(cls)
        notes = field_comments(cls)
        for f in dataclasses.fields(cls):
            prop = node["properties"][f.name]
            prop.pop("title", None)
            if notes.get(f.name):
                prop["description"] = notes[f.name]
            if f.default_factory is not dataclasses.MISSING:
                prop["default"] = dataclasses.asdict(f.default_factory())  # type: ignore[call-overload]
            if dataclasses.is_dataclass(hints[f.name]) and hints[f.name] is not VideoFormat:
                visit(hints[f.name])
        if cls is not root:
            node.pop("title", None)

    visit(root)
    for prop in schema["$defs"]["VideoFormat"]["properties"].values():
        prop.pop("default", None)  # a partial video: keeps the other fields of the profile's format
        prop.pop("title", None)


def profile_schema() -> dict[str, Any]:
    from emulators.profiles import _PROFILE, PROFILE_SCHEMA, Profile

    schema = _PROFILE.json_schema()
    _document_dataclasses(schema, Profile)
    schema["properties"] = {
        "schema": {"const": PROFILE_SCHEMA, "description": "the format version (optional)"},
        "base": {"type": "string", "description": "start from this profile (a built-in name or a file) and override only what follows"},
        **schema["properties"],
    }
    schema["title"] = "bwc-harness device profile (docs/profiles.md)"
    return schema


def scene_schema() -> dict[str, Any]:
    from emulators.scene_schema import SCENE_ADAPTER

    schema = SCENE_ADAPTER.json_schema(by_alias=True)
    schema["title"] = "bwc-harness scene (docs/scenes.md)"
    return schema


def bench_schema() -> dict[str, Any]:
    from fixtures.bench_schema import BENCH_ADAPTER, DECLARED_SECTIONS

    schema = BENCH_ADAPTER.json_schema(by_alias=True)
    profile = profile_schema()
    schema["$defs"].update(profile["$defs"])
    schema["properties"]["declares"] = {
        "type": "object", "description": "what the devices are configured to do: profile sections (docs/profiles.md)",
        "properties": {name: profile["properties"][name] for name in DECLARED_SECTIONS},
    }
    schema["title"] = "bwc-harness bench of physical devices (docs/bench.md)"
    return schema


def catalogue_schema() -> dict[str, Any]:
    from conformance.catalogue import SCHEMA, CatalogueFile

    schema = CatalogueFile.model_json_schema(by_alias=True)
    schema["properties"]["schema"] = {"const": SCHEMA, "description": "the format version"}
    schema["title"] = "bwc-harness requirement catalogue (conformance/requirements.yaml, --bwc-catalogue)"
    return schema


def policy_schema() -> dict[str, Any]:
    from conformance.policy import SCHEMA, PolicyFile

    schema = PolicyFile.model_json_schema(by_alias=True)
    schema["properties"]["schema"] = {"const": SCHEMA, "description": "the format version"}
    schema["title"] = "bwc-harness procurement policy (--policy, docs/security.md)"
    return schema


SCHEMAS = {"bwc-profile-1.schema.json": profile_schema, "bwc-scene-1.schema.json": scene_schema, "bwc-bench-1.schema.json": bench_schema,
           "bwc-requirements-2.schema.json": catalogue_schema, "bwc-policy-1.schema.json": policy_schema}


def render(name: str) -> str:
    schema = {"$schema": DRAFT, **SCHEMAS[name]()}
    _closed(schema)
    return json.dumps(schema, indent=1, sort_keys=False) + "\n"


def write(directory: Path = SCHEMA_DIR) -> list[Path]:
    paths = []
    for name in SCHEMAS:
        path = directory / name
        path.write_text(render(name))
        paths.append(path)
    return paths
