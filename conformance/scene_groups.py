"""Which scenes a conformance test plays, so that a parallel run plays each scene once.

A test declares the procedures it plays with ``@pytest.mark.scene(NAME, ...)``; asking for the
``incident`` fixture plays the main scene and asking for ``sweep`` plays the activation sweep,
without a mark. ``scenarios.run(name)`` refuses a scene the test did not declare (in every
run, serial or parallel: a test that would pass serially and misbehave in parallel is worse
than one that fails at once naming the fix).

Under pytest-xdist with ``--dist loadgroup`` (``bwc run --jobs N``) every test gets an
``xdist_group`` of its scenes, tests that share a scene joined into one group (connected
components), so one worker plays each scene and every scene writes its folder once, where a
serial run writes it. xdist marks a grouped test's node id with ``@GROUP``; ``plain_nodeid``
takes that off again wherever a node id is recorded, so results.json names tests as a serial
run does."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

MARK = "scene"
GROUP_PREFIX = "bwc-scene:"


class UndeclaredScene(Exception):
    """A test played a scene it did not declare with @pytest.mark.scene."""


def declared_scenes(item: pytest.Item) -> frozenset[str]:
    """The scenes ``item`` plays: its scene marks plus those its fixtures play."""
    from conformance.scenarios import MAIN, SWEEP  # the emulators: not for the light commands that read node ids

    fixture_scenes = {"incident": MAIN, "sweep": SWEEP.name}
    names = {str(a) for mark in item.iter_markers(MARK) for a in mark.args}
    names |= {scene for fixture, scene in fixture_scenes.items() if fixture in getattr(item, "fixturenames", ())}
    return frozenset(names)


def scene_groups(items: list[pytest.Item]) -> dict[str, str]:
    """Node id -> group name for every test that plays a scene: the tests that share a scene,
    directly or through others, are in one group (union-find over the scenes)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    scenes = {item.nodeid: sorted(declared_scenes(item)) for item in items}
    for names in scenes.values():
        for other in names[1:]:
            parent[find(other)] = find(names[0])
    members: dict[str, list[str]] = {}
    for name in {n for names in scenes.values() for n in names}:
        members.setdefault(find(name), []).append(name)
    label = {root: GROUP_PREFIX + "+".join(sorted(names)) for root, names in members.items()}
    return {nodeid: label[find(names[0])] for nodeid, names in scenes.items() if names}


def mark_groups(items: list[pytest.Item]) -> None:
    """Groups the tests by scene (xdist_group) and puts the two longest procedures first, the
    main incident (every officer's full-size video) and then the activation sweep (up to
    looks x trials scenes), so that with ``--no-loadscope-reorder`` they start at once on two
    workers and the short scenes fill in around them. Only the schedule changes: every scene
    is the same deterministic function of its inputs wherever and whenever it plays."""
    from conformance.scenarios import MAIN, SWEEP

    groups = scene_groups(items)
    for item in items:
        if item.nodeid in groups:
            item.add_marker(pytest.mark.xdist_group(groups[item.nodeid]))
    rank = {MAIN: 0, SWEEP.name: 1}
    items.sort(key=lambda item: min((rank.get(s, 2) for s in declared_scenes(item)), default=2))


def plain_nodeid(nodeid: str) -> str:
    """The node id without the ``@bwc-scene:...`` suffix xdist gives a grouped test."""
    at = nodeid.rfind("@")
    return nodeid[:at] if at >= 0 and GROUP_PREFIX in nodeid[at:] and "]" not in nodeid[at:] else nodeid


def loadgroup(config: pytest.Config) -> bool:
    """--dist loadgroup, on the controller (option dist) or on an xdist worker (which runs with
    dist 'no' and the option loadgroup)."""
    return config.getoption("dist", default="no") == "loadgroup" or bool(getattr(config.option, "loadgroup", False))


def claims_folder(config: pytest.Config) -> Path | None:
    """The folder of scene claims this xdist worker shares with the others (None: serial, or
    --dist load, where every worker has a folder of its own)."""
    claims = getattr(config, "workerinput", {}).get("bwc_claims")
    return Path(claims) if claims else None


def claim_in(folder: Path) -> Callable[[str], None]:
    """claim(name): this process plays scene ``name``; RuntimeError when another one did."""
    def claim(name: str) -> None:
        try:
            os.close(os.open(folder / name, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            raise RuntimeError(f"scene {name!r} was already played by another worker of this run, or that worker died while playing it "
                               "(a scene plays once per run: its tests share one xdist group)") from None
    return claim
