"""Scene generators (team, crowd, grid, convoy), per-device profiles, boot spread: what a
scene file expands to, and the errors that point at the entry that made the problem."""

import math
from pathlib import Path

import pytest

from emulators.scene import SceneError, scene_from_dict
from emulators.scene_generators import _inside


def _scene(**doc):
    return scene_from_dict({"name": "g", "end_s": 10, **doc}, "g.yaml")


def test_team_is_a_circle_with_serials_from_the_code():
    spec = _scene(generate=[{"kind": "team", "name": "T", "code": "TMA", "n": 4, "at": [10, 0], "radius_ft": 5}])
    assert [o.name for o in spec.officers] == ["T-1", "T-2", "T-3", "T-4"]
    assert [o.bwc_serial for o in spec.officers] == ["X6TMA0001", "X6TMA0002", "X6TMA0003", "X6TMA0004"]
    assert spec.officers[0].cew_serial == "X8TMA0001" and spec.officers[0].holster_serial is None
    assert all(math.dist(o.position, (10, 0)) == pytest.approx(5) for o in spec.officers)


def test_crowd_is_inside_its_polygon_and_seeded():
    poly = [[0, 0], [100, 0], [0, 100]]  # a triangle: half its bounding box
    gen = {"kind": "crowd", "name": "P", "code": "CRW", "n": 200, "polygon": poly, "seed": 4, "cew": False}
    a, b = _scene(generate=[gen]), _scene(generate=[gen])
    assert len(a.officers) == 200 and all(_inside(o.position, [tuple(p) for p in poly]) for o in a.officers)
    assert [o.position for o in a.officers] == [o.position for o in b.officers]
    assert [o.position for o in _scene(generate=[{**gen, "seed": 5}]).officers] != [o.position for o in a.officers]
    assert all(o.cew_serial is None for o in a.officers)


def test_grid_and_a_convoy_that_drives():
    spec = _scene(end_s=60, generate=[
        {"kind": "grid", "name": "G", "code": "GRD", "rows": 2, "cols": 3, "origin": [0, 0], "spacing_ft": 20},
        {"kind": "convoy", "name": "K", "code": "CNV", "n": 3, "start": [0, -50], "heading_deg": 0, "spacing_ft": 40,
         "speed_mph": 30, "depart_s": 10, "arrive_s": 20}])
    grid = [o.position for o in spec.officers if o.name.startswith("G-")]
    assert grid == [(0, 0), (20, 0), (40, 0), (0, 20), (20, 20), (40, 20)]
    cars = spec.vehicles
    assert [v.vehicle_id for v in cars] == ["K1", "K2", "K3"] and [v.dvr_serial for v in cars] == ["F3CNV0011", "F3CNV0021", "F3CNV0031"]
    assert cars[1].at(0) == (-40, -50) and cars[1].at(10) == (-40, -50)
    assert cars[1].at(20) == pytest.approx((-40 + 440, -50))  # 30 mph = 44 ft/s for 10 s
    k2 = spec.officer("K-2")
    assert k2.vehicle == "K2" and k2.path(15) == cars[1].at(15)  # the officer rides in the car


def test_per_device_profiles_and_boot_spread(tmp_path):
    vendor = tmp_path / "vendor.yaml"
    vendor.write_text("name: vendor-x\nbase: reference\nbwc: {vendor: Vendor X}\n")
    (tmp_path / "s.yaml").write_text(
        "end_s: 10\nprofile: axon-like\nboot_spread_s: 3\n"
        "officers:\n  - {name: A, bwc: X6AAA0001, profile: vendor.yaml}\n  - {name: B, bwc: X6AAA0002}\n"
        "vehicles:\n  - {id: CAR, dvr: F3AAA0011, officer: A, profile: watchguard-like}\n"
        "generate:\n  - {kind: team, name: T, code: TMB, n: 2, profile: reference}\n")
    from emulators.scene import load_scene
    spec = load_scene(tmp_path / "s.yaml")
    assert spec.profile == "axon-like" and spec.boot_spread_s == 3
    assert spec.officer("A").profile == str(vendor.resolve()) and spec.officer("B").profile is None
    assert spec.officer("T-1").profile == "reference" and spec.vehicle("CAR").profile == "watchguard-like"
    assert spec.profiles == {str(vendor.resolve()), "reference", "watchguard-like"}


@pytest.mark.parametrize("doc, needle", [
    ({"officers": [{"name": "A", "bwc": "X6AAA0001", "profile": "nope"}]}, "g.yaml: officers[0].profile: unknown profile 'nope'"),
    ({"profile": "missing.yaml"}, "g.yaml: profile: profile file"),
    ({"generate": [{"kind": "team", "name": "T", "code": "ab", "n": 2}]}, "generate[0].code: string should match pattern"),
    ({"generate": [{"kind": "swarm", "name": "T", "code": "ABC", "n": 2}]}, "generate[0].kind: unknown value 'swarm' (known: team, crowd, grid, convoy)"),
    ({"officers": [{"name": "T-2"}], "generate": [{"kind": "team", "name": "T", "code": "ABC", "n": 2}]},
     "generate[0]: generated officer T-2: name: officer 'T-2' is named twice"),
    ({"generate": [{"kind": "team", "name": "T", "code": "ABC", "n": 2}, {"kind": "grid", "name": "U", "code": "ABC", "rows": 1, "cols": 1}]},
     "generate[1]: generated officer U-1: bwc: serial 'X6ABC0001' (officer U-1's bwc) is already used by officer T-1's bwc"),
    ({"generate": [{"kind": "crowd", "name": "C", "code": "ABC", "n": 2, "polygon": [[0, 0], [1, 1], [2, 2]]}]},
     "generate[0].polygon: has (almost) no area"),
    ({"generate": [{"kind": "convoy", "name": "LONGNAME", "code": "ABC", "n": 2}]}, "generate[0].name: cruisers are named <name><n>"),
    ({"generate": [{"kind": "grid", "name": "G", "code": "ABC", "rows": 1000, "cols": 2}]}, "generate[0].cols: rows x cols = 2000"),
    ({"generate": [{"kind": "team", "name": "T", "code": "ABC", "n": 1000}, {"kind": "team", "name": "U", "code": "ABD", "n": 1}]},
     "generate[1]: the scene would hold 1001 officers: at most 1000"),
    ({"vehicles": [{"id": "C", "dvr": "F3AAA0011", "position": [0, 0], "path": [[0, 1, 1]]}]}, "vehicles[0].path: give position or path, not both"),
    ({"boot_spread_s": 61}, "boot_spread_s: should be less than or equal to 60"),
])
def test_generator_and_profile_errors_name_the_entry(doc, needle):
    with pytest.raises(SceneError) as err:
        _scene(**doc)
    assert needle in str(err.value), str(err.value)
    assert "\n" not in str(err.value)


def test_example_scenes_load():
    for path in sorted((Path(__file__).resolve().parents[2] / "examples" / "scenes").glob("*.yaml")):
        from emulators.scene import load_scene
        assert load_scene(path).officers, path
