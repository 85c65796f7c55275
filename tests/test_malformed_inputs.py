"""Malformed input files, generated: whatever a profile, scene or bench file holds, the
loader either gives a usable object (every number finite and in range, every name by its
rule) or one line naming the file, the field and the problem; never a traceback, never a
hang. Most examples call the loaders directly; a few run the real command line.

Strategies: mutations of a valid document of each format (a value replaced by junk, a key
deleted, misspelt or added, a value wrapped in a list), raw bytes and text, valid YAML with a
byte spliced in, and the known attacks (alias bombs, deep nesting, huge numbers).
BWC_FUZZ_EXAMPLES sets the examples per strategy (default 120)."""

from __future__ import annotations

import copy
import dataclasses
import math
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from conformance.catalogue import CatalogueError, read_catalogue
from conformance.policy import PolicyError, exposure_requirements, read_policy
from emulators.profiles import ProfileError, load_profile_file
from emulators.scene import SceneError, load_scene
from emulators.scene_schema import MAX_END_S, MAX_OFFICERS
from fixtures.bench import BenchError, load_bench
from schemas.names import RUN_NAME, SERIAL
from schemas.yaml_input import MAX_BYTES

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = int(os.environ.get("BWC_FUZZ_EXAMPLES", "120"))
FAST = settings(max_examples=EXAMPLES, deadline=3000, database=None, suppress_health_check=[HealthCheck.too_slow])
WORK = Path(tempfile.mkdtemp(prefix="bwc-fuzz-"))
OUTCOMES: Counter[str] = Counter()

PROFILE = yaml.safe_load((REPO / "emulators" / "profile_library" / "watchguard-like.yaml").read_text()) | {
    "bwc": {"pre_event_s": 45, "video": {"width": 1920, "height": 1080}, "allow_list": ["X87002FP4"], "clock": {"offset_s": 1}},
    "dvr": {"group_mode": True, "signal": {"burst_s": 10}}}
SCENE = yaml.safe_load((REPO / "examples" / "scenes" / "walk-in.yaml").read_text()) | {
    "vehicles": [{"id": "CAR-A", "dvr": "F3WLK00A1", "officer": "A", "group": ["A", "B"], "position": [-60, -40]}],
    "timeline": [{"t": 5, "do": "input", "target": "CAR-A", "input": "siren", "pulse_ms": 150}, {"t": 40, "do": "cew", "target": "A", "event": "armed"},
                 {"t": 50, "do": "complexity", "value": 0.5}, {"t": 70, "do": "stop_all"}]}
BENCH = {
    "bench": "station-7",
    "cameras": [{"label": "BWC-A", "serial": "X6BWC00A1", "distance_ft": 10}, {"serial": "X6BWC00E1", "distance_ft": 45}],
    "sources": [{"label": "CEW", "kind": "cew", "serial": "X87002FP4", "stimulus": "emulated", "transport": "usb:0"}],
    "observer": {"transport": "usb:1"},
    "dvrs": [{"serial": "F3DVR00A1", "vehicle_id": "CAR-A", "paired_camera": "X6BWC00A1", "evidence_path": "/media/dvr"}],
    "procedure": {"ready_s": 35, "post_event_s": 5, "collect": {"from": "folder", "path": "/media/export", "wait_s": 120}},
    "declares": {"bwc": {"buffer_audio": False}},
}
CATALOGUE = yaml.safe_load((REPO / "examples" / "agency-extension" / "agency-requirements.yaml").read_text())
CATALOGUE["requirements"][0] |= {"limit": {"value": 2.0, "unit": "s", "comparator": "<=", "marginal": 0.1},
                                 "limits": {"rear": {"value": 480, "unit": "lines"}}, "parameters": {"range_ft": 30}}
POLICY = yaml.safe_load((REPO / "examples" / "policies" / "authenticated-triggers.yaml").read_text())
ATTACKS = [
    "a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\nd: [*c, *c, *c, *c]\n",  # billion laughs
    "name: x\nbwc: " + "[" * 5000 + "]" * 5000 + "\n",  # deep nesting
    "name: x\nbwc: {pre_event_s: " + "9" * 5000 + "}\n",  # an integer Python will not read
    "end_s: .inf\ntimeline: [{t: 1, do: stop_all}]\n", "end_s: 1e9\n", "end_s: .nan\n",
    "name: x\nname: y\n", "a: 1\n---\nb: 2\n", "!!python/object/apply:os.system [ls]\n", "t: 2020-13-45\n",
    "officers: [{name: A, bwc: ../../etc}]\n", "officers: [{name: A, bwc: /etc/passwd1}]\n", "base: x\nname: x\n",
]
JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**30), 10**30), st.floats(), st.text(max_size=12),
    st.sampled_from(["../../etc", "/tmp/x", "X1", "X87002FP4", "abc", "1e9", ".inf", "usb:1", "", "reference", "A", "CAR-A", "\x00", "on"]),
    st.lists(st.integers(-5, 5), max_size=3), st.dictionaries(st.sampled_from(["x", "t", "do", "name", "width"]), st.integers(-5, 700), max_size=2),
)


def _paths(node: Any, at: tuple = ()) -> list[tuple]:
    out = [at]
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        out += _paths(value, at + (key,))
    return out


@st.composite
def mutated(draw: Any, valid: dict) -> dict:
    doc = copy.deepcopy(valid)
    for _ in range(draw(st.integers(1, 3))):
        loc = draw(st.sampled_from(_paths(doc)))
        parent = doc
        for part in loc[:-1]:
            parent = parent[part]
        op = draw(st.sampled_from(["replace", "delete", "typo", "add", "wrap", "grow"]))
        if not loc:
            op = "add"
        if op == "add":
            target = parent[loc[-1]] if loc else doc
            if isinstance(target, dict):
                target[draw(st.sampled_from(["hat", "distnce_ft", "schema", "base", "t", "bwc"]))] = draw(JUNK)
        elif op == "replace":
            parent[loc[-1]] = draw(JUNK)
        elif op == "delete":
            del parent[loc[-1]]
        elif op == "typo" and isinstance(parent, dict):
            parent[str(loc[-1])[:-1] + "x"] = parent.pop(loc[-1])
        elif op == "wrap":
            parent[loc[-1]] = [parent[loc[-1]]]
        elif op == "grow" and isinstance(parent[loc[-1]], list) and parent[loc[-1]]:
            parent[loc[-1]] = parent[loc[-1]] * draw(st.sampled_from([2, 40, 600]))
    return doc


def _yaml(doc: Any) -> bytes:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=4096).encode()


@st.composite
def raw(draw: Any, valid: dict) -> bytes:
    text = _yaml(valid)
    kind = draw(st.sampled_from(["bytes", "text", "splice", "attack"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "text":
        return draw(st.text(max_size=300)).encode("utf-8", "surrogatepass")
    if kind == "attack":
        return draw(st.sampled_from(ATTACKS)).encode()
    at = draw(st.integers(0, len(text)))
    return text[:at] + draw(st.binary(min_size=1, max_size=4)) + text[at + draw(st.integers(0, 3)):]


def _write(content: bytes, name: str) -> Path:
    path = WORK / name
    path.write_bytes(content)
    return path


def _assert_one_line(message: str, path: Path) -> None:
    assert "\n" not in message and "Traceback" not in message, message
    field = r"(?:[^:'\"\[]|\['(?:[^'\\]|\\.)*'\]|\[\"(?:[^\"\\]|\\.)*\"\]|\[\d+\])+?"  # a key with a colon is quoted
    assert re.match(rf"^{re.escape(str(path))}(:\d+)?: {field}: .+$", message), message


def _numbers(obj: Any) -> list[float]:
    if dataclasses.is_dataclass(obj):
        return [n for f in dataclasses.fields(obj) for n in _numbers(getattr(obj, f.name))]
    if isinstance(obj, (list, tuple)):
        return [n for v in obj for n in _numbers(v)]
    return [obj] if isinstance(obj, (int, float)) and not isinstance(obj, bool) else []


def _sensible_profile(p: Any) -> None:
    assert re.fullmatch(RUN_NAME, p.name) and all(math.isfinite(n) and abs(n) <= 1e10 for n in _numbers(p))
    assert all(re.fullmatch(SERIAL, s) for s in p.bwc.allow_list or ())


def _sensible_scene(s: Any) -> None:
    assert re.fullmatch(RUN_NAME, s.name) and 0 < s.end_s <= MAX_END_S and len(s.officers) <= MAX_OFFICERS
    serials = [x for o in s.officers for x in (o.bwc_serial, o.cew_serial, o.holster_serial) if x] + [v.dvr_serial for v in s.vehicles]
    assert all(re.fullmatch(SERIAL, x) for x in serials) and len(set(serials)) == len(serials)
    assert all(0 <= st.t <= s.end_s for st in s.timeline) and all(math.isfinite(n) for n in _numbers(s.officers) + _numbers(s.vehicles))


def _sensible_catalogue(c: Any) -> None:
    for r in c.values():
        assert re.fullmatch(r"[A-Z]{2,5}-\d{3}", r.id)
        assert all(math.isfinite(x.value) and x.marginal >= 0 for x in [*([r.limit] if r.limit else []), *r.limits.values()])


def _sensible_policy(p: Any) -> None:
    assert p.name and p.fails <= set(exposure_requirements())


def _sensible_bench(b: Any) -> None:
    assert re.fullmatch(RUN_NAME, b.name) and all(re.fullmatch(SERIAL, c.serial) for c in b.cameras) and len(b.cameras) <= 32
    assert all(math.isfinite(n) and 0 <= n <= 3600 for n in (b.ready_s, b.post_event_s, b.collect_wait_s, *(c.distance_ft for c in b.cameras)))
    b.profile()


FORMATS = {"profile": (load_profile_file, ProfileError, _sensible_profile, PROFILE),
           "scene": (load_scene, SceneError, _sensible_scene, SCENE),
           "bench": (load_bench, BenchError, _sensible_bench, BENCH),
           "catalogue": (read_catalogue, CatalogueError, _sensible_catalogue, CATALOGUE),
           "policy": (read_policy, PolicyError, _sensible_policy, POLICY)}


def _check(kind: str, content: bytes) -> str:
    """The property, for one input; the outcome for the summary."""
    loader, error, sensible, _ = FORMATS[kind]
    path = _write(content, f"{kind}.yaml")
    try:
        sensible(loader(path))
        outcome = "accepted"
    except error as exc:
        _assert_one_line(str(exc), path)
        outcome = "refused"
    OUTCOMES[f"{kind} {outcome}"] += 1
    return outcome


@pytest.fixture(scope="module", autouse=True)
def _summary():
    yield
    print("\nmalformed inputs:", ", ".join(f"{k}: {v}" for k, v in sorted(OUTCOMES.items())))


@pytest.mark.parametrize("kind", FORMATS)
def test_the_valid_documents_load(kind):
    assert _check(kind, _yaml(FORMATS[kind][3])) == "accepted"


@pytest.mark.parametrize("kind", FORMATS)
@FAST
@given(data=st.data())
def test_mutated_documents(kind, data):
    _check(kind, _yaml(data.draw(mutated(FORMATS[kind][3]))))


@pytest.mark.parametrize("kind", FORMATS)
@FAST
@given(data=st.data())
def test_raw_bytes_and_attacks(kind, data):
    _check(kind, data.draw(raw(FORMATS[kind][3])))


@pytest.mark.parametrize("kind", FORMATS)
def test_oversized_file(kind):
    assert _check(kind, b"#" * (MAX_BYTES + 1)) == "refused"


CLI = {"profile": ["run", "--profile", "{path}", "--out", "{out}"], "scene": ["scene", "{path}", "--out", "{out}"],
       "bench": ["run", "--target", "{path}", "--out", "{out}"], "catalogue": ["run", "--catalogue", "{path}", "--out", "{out}"],
       "policy": ["run", "--policy", "{path}", "--out", "{out}"]}


@pytest.mark.parametrize("kind", FORMATS)
@settings(max_examples=1, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
@example(data=None)
def test_command_line_exits_2_with_one_line(kind, data):
    content = _yaml(data.draw(mutated(FORMATS[kind][3]))) if data is not None else ATTACKS[0].encode()
    path = _write(content, f"cli-{kind}.yaml")
    assume(_check(kind, content) == "refused")  # a valid file would run the suite
    out = WORK / f"out-{kind}"
    args = [a.format(path=path, out=out) for a in CLI[kind]]
    proc = subprocess.run([sys.executable, "-m", "bwc", *args], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bwc: error: "), proc.stderr
    _assert_one_line(lines[0].split(": ", 2)[-1].removeprefix("--profile: ").removeprefix("--target: ").removeprefix("--catalogue: ").removeprefix("--policy: "), path)
