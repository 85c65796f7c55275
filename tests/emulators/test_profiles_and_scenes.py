"""Profile and scene files: loading, inheritance, errors that name the field; trajectories."""

import math
import subprocess
import sys
from pathlib import Path

import pytest

from emulators.air import PathLossModel
from emulators.profiles import BwcProfile, DvrProfile, ProfileError, builtin_profiles, get_profile, load_profile_file
from emulators.scene import SceneError, load_scene, scene_from_dict
from tests.emulators.scene_helpers import play

REPO = Path(__file__).resolve().parents[2]


def test_builtins_load_and_declare_requirements():
    profiles = {p.name: p for p in builtin_profiles()}
    assert builtin_profiles()[0].name == "reference" and not profiles["reference"].violates
    assert profiles["short-buffer"].bwc.pre_event_s == 20 and profiles["short-buffer"].violates == ("PRE-001", "PRE-002")
    assert profiles["group-stop-from-bwc"].dvr.group_mode  # inherits watchguard-like
    assert all(p.approximation for n, p in profiles.items() if n.endswith("-like"))
    catalogue = (REPO / "conformance" / "requirements.yaml").read_text()
    for p in profiles.values():
        for rid in p.violates:
            assert f"id: {rid}" in catalogue


@pytest.mark.parametrize(
    "text, needle",
    [
        ("name: x\nbase: reference\nbwc: {pre_evnt_s: 3}\n", ":3: bwc.pre_evnt_s: unknown field (did you mean 'pre_event_s'?)"),
        ("name: x\nbase: reference\nbwc: {pre_event_s: 300}\n", ":3: bwc.pre_event_s: 300.0 s is outside 0..120 s"),
        ("name: x\nbwc: {cooldown_s: soon}\n", ":2: bwc.cooldown_s: should be a valid number"),
        ("name: x\nbwc: {video: {width: 641, height: 360, fps: 10}}\n", ":2: bwc.video: video size 641x360 must be even"),
        ("name: x\nbase: reference\nbwc:\n  video: {width: 641}\n", ":4: bwc.video: video size 641x720 must be even"),
        ("name: x\nbwc: {activates_on: [CEW_FIRE]}\n", ":2: bwc.activates_on: unknown event 'CEW_FIRE'"),
        ("name: x\nbwc: {clock: {drift_ppm: .nan}}\n", ":2: bwc.clock.drift_ppm: should be a finite number, got nan"),
        ("name: x\nbwc: {allow_list: [../../etc]}\n", ":2: bwc.allow_list: '../../etc' is not a serial"),
        ("name: x\nbwc: {video: {width: 100000, height: 100000}}\n", ":2: bwc.video.width: 100000 is outside 296..3840"),
        ("name: x\nbase: nope\n", ":2: base: unknown profile 'nope'"),
        ("name: x\nbase: [a]\n", ":2: base: should name a built-in profile or a profile file"),
        ("bwc: {}\n", ":1: name: required field is missing"),
        ("name: [x\n", ": (yaml): did not find expected"),
        ("name: x\nschema: bwc-profile/9\n", ":2: schema: should be 'bwc-profile/1'"),
    ],
)
def test_profile_errors_name_the_file_line_and_field(tmp_path, text, needle):
    path = tmp_path / "vendor.yaml"
    path.write_text(text)
    with pytest.raises(ProfileError) as err:
        load_profile_file(path)
    assert str(err.value).startswith(str(path)) and needle in str(err.value), str(err.value)


def test_profile_base_loops_and_partial_video(tmp_path):
    path = tmp_path / "me.yaml"
    path.write_text(f"name: me\nbase: {path}\n")
    with pytest.raises(ProfileError, match="'base' chain comes back to"):
        load_profile_file(path)
    path.write_text("name: me\nbwc: {video: {width: 640, height: 360}}\n")
    assert load_profile_file(path).bwc.video.fps == 10  # the documented default, not VideoFormat's


def test_user_profile_file_by_path(tmp_path):
    path = tmp_path / "acme.yaml"
    path.write_text("name: acme\nbase: reference\nbwc: {pre_event_s: 60, model: ACME-1}\n")
    p = get_profile(str(path))
    assert p.bwc.pre_event_s == 60 and p.bwc.model == "ACME-1" and p.bwc.cooldown_s == BwcProfile().cooldown_s
    assert p.dvr == DvrProfile()


def test_docs_list_every_profile_field():
    import dataclasses

    doc = (REPO / "docs" / "profiles.md").read_text()
    from emulators.profiles import ClockSpec, FalseCancelSpec, SourceProfile
    from emulators.signal_trust import BwcAuthSpec, SourceAuthSpec

    for cls in (BwcProfile, DvrProfile, SourceProfile, ClockSpec, FalseCancelSpec, BwcAuthSpec, SourceAuthSpec):
        for f in dataclasses.fields(cls):
            assert f".{f.name}`" in doc, f"docs/profiles.md lacks {cls.__name__}.{f.name}: run scripts/gen-profile-docs"


@pytest.mark.parametrize(
    "doc, needle",
    [
        ({"officers": [{"name": "A", "bwc": "X1"}]}, "s.yaml: officers[0].bwc: 'X1' is not a serial: 9 characters, each A-Z or 0-9"),
        ({"officers": [{"name": "A", "bwc": "../../etc"}]}, "officers[0].bwc: '../../etc' is not a serial"),
        ({"officers": [{"name": "A", "bwc": "X6AAAAAA1"}], "timeline": [{"t": 1, "do": "fire", "target": "A"}]},
         "timeline[0].do: unknown value 'fire' (known: cew, holster"),
        ({"officers": [{"name": "A", "bwc": "X6AAAAAA1"}], "timeline": [{"t": 1, "do": "cew", "target": "A", "event": "armed"}]},
         "timeline[0].target: officer A carries no CEW"),
        ({"officers": [{"name": "A", "bwc": "X6AAAAAA1", "path": [[5, 0, 0], [1, 1, 1]]}]}, "officers[0].path: waypoints must be in time order"),
        ({"officers": [{"name": "A", "bwc": "X6AAAAAA1", "positon": [1, 1]}]}, "officers[0].positon: unknown field (did you mean 'position'?)"),
        ({"vehicles": [{"id": "C", "dvr": "F3AAAAAA1", "officer": "Z"}]}, "vehicles[0].officer: no officer named 'Z'"),
        ({"officers": [{"name": "A", "bwc": "X6AAAAAA1"}, {"name": "B", "bwc": "X6AAAAAA1"}]}, "officers[1].bwc: serial 'X6AAAAAA1'"),
        ({"vehicles": [{"id": "C", "dvr": "F3AAAAAAR"}]}, "vehicles[0].dvr: serial 'F3AAAAAAR' (C's back-seat camera"),
        ({"timeline": [{"t": 1, "do": "complexity", "value": 3}]}, "timeline[0].value: should be less than or equal to 1, got 3"),
        ({"timeline": [{"t": "abc", "do": "stop_all"}]}, "timeline[0].t: should be a valid number"),
        ({"end_s": 1e9}, "end_s: should be less than or equal to 600"),
        ({"officers": [{"name": f"O{i}"} for i in range(20000)]}, "officers: list should have at most 1000 items"),
    ],
)
def test_scene_errors_name_the_field(doc, needle):
    with pytest.raises(SceneError) as err:
        scene_from_dict(doc, "s.yaml")
    assert needle in str(err.value)


def test_python_built_scenes_pass_the_same_validation():
    import dataclasses

    from conformance.scenarios import SCENARIOS, sweep_trial
    from emulators.scene import Step, hartford, validate_scene

    from emulators.profiles import builtin_profiles

    for p in builtin_profiles():
        for build in [*(s.build for s in SCENARIOS.values()), lambda q: sweep_trial(q, 0)]:
            validate_scene(build(p))
    bad = dataclasses.replace(hartford(), timeline=(Step(62.5, "cew", "B", {"event": "armed"}),))
    with pytest.raises(SceneError, match=r"scene 'hartford': timeline\[0\].target: officer B carries no CEW"):
        validate_scene(bad)
    with pytest.raises(SceneError, match="in time order"):
        validate_scene(dataclasses.replace(hartford(), timeline=(Step(5, "stop_all"), Step(4, "stop_all"))))


def test_scene_file_errors_carry_the_line(tmp_path):
    path = tmp_path / "walk.yaml"
    path.write_text("name: walk\nofficers:\n  - {name: A, bwc: X6AAAAAA1}\ntimeline:\n  - {t: 1, do: stop_all}\n  - {t: 2, do: fire}\n")
    with pytest.raises(SceneError) as err:
        load_scene(path)
    assert str(err.value).startswith(f"{path}:6: timeline[1].do: unknown value 'fire'")


def test_officer_walking_into_range_activates_when_close(tmp_path):
    spec = load_scene(REPO / "examples" / "scenes" / "walk-in.yaml")
    vs = play(spec, tmp_path)
    (clip,) = vs.bwcs["B"].core.clips
    x, _ = spec.officer("B").path(clip.trigger.loop_t)
    # entered range during the burst. The bound follows from the air model, not from a seed: B
    # walks in at 2.33 ft/s through ~18 CEW events/s, each heard with delivery_probability(x),
    # so it activates beyond 40 ft with a chance of 5e-4 (beyond 36 ft: 5.6 %)
    walk = [80 - (40 + 0.055 * k - 35) * 70 / 30 for k in range(int(30 / 0.055))]  # B's x at each CEW event (50 ms + mean advDelay)
    beyond = 1 - math.exp(-sum(PathLossModel().delivery_probability(x) for x in walk if x > 40))
    assert beyond < 1e-3 and 40 < clip.trigger.loop_t < 65 and x <= 40
    assert vs.bwcs["C"].core.clips == []  # 50 ft: never
    assert [c.trigger.reason for c in vs.dvrs["CAR-A"].front.clips] == ["BWC_RECORDING_STARTED"]


def test_bwc_scene_command(tmp_path):
    out = tmp_path / "scene"
    proc = subprocess.run([sys.executable, "-m", "bwc", "scene", "examples/scenes/walk-in.yaml", "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "CEW_ARMED from X8WLK000A" in proc.stdout
    page = (out / "scene.html").read_text()
    assert "<svg" in page and "BWC-B" in page and "stop_all" in page
    bad = tmp_path / "bad.yaml"
    bad.write_text("timeline: [{t: 1, do: fire}]\n")
    proc = subprocess.run([sys.executable, "-m", "bwc", "scene", str(bad)], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and f"{bad}:1: timeline[0].do: unknown value 'fire'" in proc.stderr and "Traceback" not in proc.stderr
