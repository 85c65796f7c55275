"""The shipped JSON Schemas are the models' own, and say what the loaders say."""

import json

import pytest

from emulators.scene_actions import ACTIONS
from schemas import SCHEMA_DIR
from schemas.generate import SCHEMAS, render


@pytest.mark.parametrize("name", SCHEMAS)
def test_shipped_schema_is_up_to_date(name):
    assert (SCHEMA_DIR / name).read_text() == render(name), f"schemas/{name} is stale: run scripts/gen-schemas"


def test_schemas_refuse_unknown_keys_and_list_the_vocabulary():
    scene = json.loads((SCHEMA_DIR / "bwc-scene-1.schema.json").read_text())
    assert set(scene["properties"]["timeline"]["items"]["discriminator"]["mapping"]) == set(ACTIONS)
    assert scene["$defs"]["OfficerDoc"]["additionalProperties"] is False
    assert scene["$defs"]["OfficerDoc"]["properties"]["bwc"]["anyOf"][0]["pattern"] == "^[A-Z0-9]{9}$"
    profile = json.loads((SCHEMA_DIR / "bwc-profile-1.schema.json").read_text())
    assert profile["additionalProperties"] is False and profile["$defs"]["VideoFormat"]["additionalProperties"] is False
    assert profile["$defs"]["BwcProfile"]["properties"]["video"]["default"]["fps"] == 10
    bench = json.loads((SCHEMA_DIR / "bwc-bench-1.schema.json").read_text())
    assert bench["properties"]["declares"]["properties"]["bwc"]["$ref"] == "#/$defs/BwcProfile"


def test_the_documented_examples_load(tmp_path):
    import re
    from pathlib import Path

    from emulators.scene import load_scene
    from fixtures.bench import load_bench

    docs = Path(__file__).resolve().parents[1] / "docs"
    for page, load in (("scenes.md", load_scene), ("bench.md", load_bench)):
        path = tmp_path / "example.yaml"
        path.write_text(re.search(r"```yaml\n(.*?)```", (docs / page).read_text(), re.S).group(1))
        load(path)


def test_catalogue_schema_states_the_version_and_refuses_unknown_keys():
    from conformance.catalogue import SCHEMA

    catalogue = json.loads((SCHEMA_DIR / "bwc-requirements-2.schema.json").read_text())
    assert catalogue["properties"]["schema"]["const"] == SCHEMA and catalogue["additionalProperties"] is False
    req = catalogue["$defs"]["RequirementSpec"]
    assert req["additionalProperties"] is False and req["properties"]["id"]["pattern"] == r"^[A-Z]{2,5}-\d{3}$"
    assert catalogue["$defs"]["LimitSpec"]["properties"]["comparator"]["enum"] == [">=", "<=", "=="]
