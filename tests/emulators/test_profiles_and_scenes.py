"""Profile and scene files: loading, inheritance, errors that name the field; trajectories."""

import subprocess
import sys
from pathlib import Path

import pytest

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
        ("name: x\nbase: reference\nbwc: {pre_evnt_s: 3}\n", "x.bwc.pre_evnt_s: unknown field"),
        ("name: x\nbase: reference\nbwc: {pre_event_s: 300}\n", "x.bwc.pre_event_s: 300.0 s is outside 0..120 s"),
        ("name: x\nbwc: {cooldown_s: soon}\n", "x.bwc.cooldown_s: expected a number"),
        ("name: x\nbwc: {video: {width: 641, height: 360, fps: 10}}\n", "x.bwc.video: video size 641x360 must be even"),
        ("name: x\nbwc: {activates_on: [CEW_FIRE]}\n", "unknown event 'CEW_FIRE'"),
        ("name: x\nbase: nope\n", "unknown profile 'nope'"),
        ("bwc: {}\n", "missing field 'name'"),
        ("name: [x\n", "not valid YAML"),
    ],
)
def test_profile_errors_name_the_file_and_field(tmp_path, text, needle):
    path = tmp_path / "vendor.yaml"
    path.write_text(text)
    with pytest.raises(ProfileError) as err:
        load_profile_file(path)
    assert needle in str(err.value) and str(path) in str(err.value)


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

    for cls in (BwcProfile, DvrProfile, SourceProfile, ClockSpec, FalseCancelSpec):
        for f in dataclasses.fields(cls):
            assert f".{f.name}`" in doc, f"docs/profiles.md lacks {cls.__name__}.{f.name}: run scripts/gen-profile-docs"


@pytest.mark.parametrize(
    "doc, needle",
    [
        ({"officers": [{"name": "A", "bwc": "X1"}]}, "serial 'X1' must be 9"),
        ({"officers": [{"name": "A", "bwc": "X6AAAAAA1"}], "timeline": [{"t": 1, "do": "fire", "target": "A"}]}, "unknown action 'fire'"),
        ({"officers": [{"name": "A", "bwc": "X6AAAAAA1"}], "timeline": [{"t": 1, "do": "cew", "target": "A", "event": "armed"}]}, "carries no CEW"),
        ({"officers": [{"name": "A", "bwc": "X6AAAAAA1", "path": [[5, 0, 0], [1, 1, 1]]}]}, "time order"),
        ({"officers": [{"name": "A", "bwc": "X6AAAAAA1", "hat": 1}]}, "officers[0].hat: unknown field"),
        ({"vehicles": [{"id": "C", "dvr": "F3AAAAAA1", "officer": "Z"}]}, "no officer named 'Z'"),
        ({"officers": [{"name": "A", "bwc": "X6AAAAAA1"}, {"name": "B", "bwc": "X6AAAAAA1"}]}, "used by more than one device"),
        ({"timeline": [{"t": 1, "do": "complexity", "value": 3}]}, "between 0 and 1"),
    ],
)
def test_scene_errors_name_the_entry(doc, needle):
    with pytest.raises(SceneError, match=needle.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")):
        scene_from_dict(doc, "s.yaml")


def test_officer_walking_into_range_activates_when_close(tmp_path):
    spec = load_scene(REPO / "examples" / "scenes" / "walk-in.yaml")
    vs = play(spec, tmp_path)
    (clip,) = vs.bwcs["B"].core.clips
    x, _ = spec.officer("B").path(clip.trigger.loop_t)
    assert 40 < clip.trigger.loop_t < 65 and x <= 36  # entered range during the burst
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
    assert proc.returncode == 2 and "unknown action 'fire'" in proc.stderr and "Traceback" not in proc.stderr
