"""`bwc run --jobs 2` (the scenes of one run on two pytest-xdist workers, one worker per scene)
gives the serial run's verdicts and measurements and writes the same evidence, byte for byte,
at the same paths: compared with the serial short-buffer run the report tests make, on a
selection of four scenes spread over both workers (the whole suite would cost as many seconds
again). Also: a test that plays a scene it did not declare is an error naming the fix, and a
scene a second worker would play into the run's folder is refused."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest

from conformance.scene_groups import claim_in
from conformance.runner import ScenarioRunner
from fixtures.targets import open_target
from tests.conftest import bwc

SELECTED = ("PRE-004", "ACT-003", "ACT-005", "ACT-006", "PWR-001")  # four scenes (sleep-dock, signal-rules, allow-list, power-cut)
SCENES = ("sleep-dock", "signal-rules", "allow-list", "power-cut")


def _verdicts(report: dict) -> dict:
    return {r["id"]: (r["verdict"], r["why"]) for r in report["requirements"] if r["id"] in SELECTED}


def _measurements(run: Path) -> Counter:
    text = (run / "results.json").read_text().replace(str(run.resolve()), "<run>").replace(str(run), "<run>")
    chosen = [m for m in json.loads(text)["measurements"] if m["requirement"] in SELECTED]
    return Counter(json.dumps(m, sort_keys=True) for m in chosen)


def _files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_jobs_2_gives_the_serial_verdicts_measurements_and_evidence(short_buffer_run, tmp_path, test_key):
    out = tmp_path / "parallel"
    select = " or ".join(r.lower().replace("-", "") for r in SELECTED)
    proc = bwc("run", "--no-pdf", "--jobs", "2", "--profile", "short-buffer", "--seed", "0", "--out", str(out), "--select", select,
               env={"BWC_SIGNING_KEY": str(test_key.private_pem)})  # played, not taken from the self-test's scene cache
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]  # short-buffer fails PRE-001/PRE-002, not selected here
    assert "Traceback" not in proc.stdout + proc.stderr
    assert f"[{len(SELECTED)}/{len(SELECTED)}]" in proc.stdout, proc.stdout  # the progress counts the selection
    parallel = json.loads((out / "report.json").read_text())
    serial = json.loads((short_buffer_run.dir / "report.json").read_text())
    assert _verdicts(parallel) == _verdicts(serial) and len(_verdicts(parallel)) == len(SELECTED)
    assert _measurements(out) == _measurements(short_buffer_run.dir)
    nodeids = [t["nodeid"] for t in json.loads((out / "results.json").read_text())["tests"]]
    assert nodeids and not any("@" in n for n in nodeids), "tests are named as in a serial run"
    for scene in SCENES:  # every clip, metadata file, pcap and table of each scene: same bytes, same place
        mine, theirs = _files(out / "scenarios" / scene), _files(short_buffer_run.dir / "scenarios" / scene)
        assert mine and mine == theirs, scene
    assert sorted(p.name for p in out.iterdir() if p.is_dir() and p.name.startswith("gw")) == [], "no per-worker folders"
    assert bwc("verify", str(out), "--key", str(test_key.public_pem)).returncode == 0


def test_a_scene_played_by_two_workers_is_refused(tmp_path):
    claim = claim_in(tmp_path)
    claim("vehicle")
    with pytest.raises(RuntimeError, match="already played by another worker"):
        claim("vehicle")
    runner = ScenarioRunner(open_target("virtual", "reference"), tmp_path / "out", 0, claim=claim)
    with pytest.raises(RuntimeError, match="'vehicle' could not be run: RuntimeError: scene 'vehicle' was already played by another worker of this run, or that worker died"):
        runner.run("vehicle")
    assert not (tmp_path / "out").exists(), "nothing was played into the folder"


def test_a_test_must_declare_the_scenes_it_plays(tmp_path, test_key):
    """A check of the user's own that plays a scene without @pytest.mark.scene errors, in a
    serial run too, naming the mark to add; a mark naming no procedure stops the collection: the
    run is INCOMPLETE (exit 1), with one line naming the test and the procedures there are."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "test_mine.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.requirement('ACT-006')\n"
        "def test_mine_plays_allow_list(scenarios, measure):\n"
        "    scenarios.run('allow-list')\n")
    env = {"BWC_SIGNING_KEY": str(test_key.private_pem)}
    proc = bwc("run", "--no-pdf", "--out", str(tmp_path / "run"), "--tests", str(mine), "--select", "test_mine", env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    tests = json.loads((tmp_path / "run" / "results.json").read_text())["tests"]
    assert [(t["outcome"], t["message"]) for t in tests] == [
        ("error", "test_mine.py::test_mine_plays_allow_list plays scene 'allow-list' without declaring it: mark the test @pytest.mark.scene('allow-list')")]
    (mine / "test_mine.py").write_text("import pytest\n\n@pytest.mark.scene('no-such-scene')\ndef test_mine(scenarios):\n    pass\n")
    proc = bwc("run", "--no-pdf", "--out", str(tmp_path / "run2"), "--tests", str(mine), "--select", "test_mine", env=env)
    said = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "overall INCOMPLETE" in said and "Traceback" not in said, said
    assert "test_mine.py::test_mine: @pytest.mark.scene('no-such-scene'): no such procedure; procedures: allow-list, attacks," in said


def test_a_worker_that_dies_stops_the_run_incomplete(tmp_path, test_key):
    """A worker process that dies under a test (here it exits from inside the test, as a kill
    or a crash in native code would end it) is never retried and never a pass: that test is an
    error saying so, the run stops INCOMPLETE (reason: worker died), and it is signed over what
    was written."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "test_dies.py").write_text("import os\n\nimport pytest\n\n\n@pytest.mark.requirement('ACT-004')\ndef test_dies():\n    os._exit(9)\n")
    out = tmp_path / "run"
    proc = bwc("run", "--no-pdf", "--jobs", "2", "--out", str(out), "--tests", str(mine), "--select", "test_dies or test_act006",
               env={"BWC_SIGNING_KEY": str(test_key.private_pem)})
    said = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "Traceback" not in said and "overall INCOMPLETE" in said, said
    report = json.loads((out / "report.json").read_text())
    verdicts = {r["id"]: (r["verdict"], r["why"]) for r in report["requirements"] if r["verdict"] != "not-tested"}
    assert verdicts["ACT-004"][0] == "error" and verdicts["ACT-006"] in {("pass", None), ("error", "run interrupted")}, verdicts
    assert report["summary"]["overall"] == "incomplete" and (report["run"]["interrupted"]["reason"], report["run"]["interrupted"]["phase"]) == ("worker died", "measuring")
    died = [t for t in json.loads((out / "results.json").read_text())["tests"] if t["nodeid"].endswith("test_dies")]
    assert len(died) == 1, "not retried on a new worker"
    assert died[0]["outcome"] == "error" and died[0]["requirement"] == "ACT-004" and "the worker process died under it" in died[0]["message"]
    assert bwc("verify", str(out), "--key", str(test_key.public_pem)).returncode == 0
