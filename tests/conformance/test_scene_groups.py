"""The xdist groups of `bwc run --jobs N`: real pytest items collected from a module of checks;
tests that share a scene, directly or through another test, are one group; the main incident
and the sweep go first; xdist's `@group` suffix comes off the recorded node ids."""

from __future__ import annotations

import pytest

from conformance.scene_groups import GROUP_PREFIX, declared_scenes, mark_groups, plain_nodeid, scene_groups

pytest_plugins = ["pytester"]

CHECKS = """
import pytest

@pytest.mark.scene("vehicle")
def test_a(scenarios): pass

@pytest.mark.scene("vehicle", "attacks")
def test_b(scenarios): pass

@pytest.mark.scene("attacks")
def test_c(scenarios): pass

@pytest.mark.scene("power-cut")
def test_d(scenarios): pass

def test_e(sweep): pass

def test_f(incident): pass

def test_g(): pass
"""


@pytest.fixture
def items(pytester):
    pytester.makeconftest("import pytest\n\n@pytest.fixture\ndef scenarios(): pass\n\n@pytest.fixture\ndef sweep(): pass\n\n"
                          "@pytest.fixture\ndef incident(): pass\n")
    return pytester.getitems(CHECKS)


def test_tests_that_share_a_scene_are_one_group(items):
    groups = {item.name: group for item, group in ((i, scene_groups(items).get(i.nodeid)) for i in items)}
    assert groups == {"test_a": GROUP_PREFIX + "attacks+vehicle", "test_b": GROUP_PREFIX + "attacks+vehicle", "test_c": GROUP_PREFIX + "attacks+vehicle",
                      "test_d": GROUP_PREFIX + "power-cut", "test_e": GROUP_PREFIX + "sweep", "test_f": GROUP_PREFIX + "hartford", "test_g": None}
    assert declared_scenes(next(i for i in items if i.name == "test_b")) == {"vehicle", "attacks"}


def test_marks_put_the_main_incident_and_the_sweep_first(items):
    mark_groups(items)
    assert [i.name for i in items] == ["test_f", "test_e", "test_a", "test_b", "test_c", "test_d", "test_g"]
    assert [m.args for m in next(i for i in items if i.name == "test_d").iter_markers("xdist_group")] == [(GROUP_PREFIX + "power-cut",)]


@pytest.mark.parametrize("nodeid, plain", [
    ("test_x.py::test_a@bwc-scene:attacks+vehicle", "test_x.py::test_a"),
    ("test_x.py::test_a[p@q]", "test_x.py::test_a[p@q]"),  # an @ in a parameter is not a group
    ("test_x.py::test_a[1]@bwc-scene:hartford", "test_x.py::test_a[1]"),
    ("test_x.py::test_a@shared-runs", "test_x.py::test_a@shared-runs"),  # somebody else's group stays
])
def test_plain_nodeid(nodeid, plain):
    assert plain_nodeid(nodeid) == plain
