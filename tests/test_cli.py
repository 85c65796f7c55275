"""Bad usage gets exit 2 and a message naming the problem, never a traceback."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _bwc(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "bwc", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "args, needle",
    [
        (["run", "--profile", "nope"], "unknown profile 'nope'"),
        (["run", "--seed", "-1"], "--seed -1"),
        (["run", "--seed", "x"], "invalid int value"),
        (["run", "--target", "/no/such/bench.yaml"], "/no/such/bench.yaml: cannot read"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_usage_errors(args, needle):
    proc = _bwc(*args)
    assert proc.returncode == 2
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_non_empty_out_is_kept(tmp_path):
    keep = tmp_path / "results.json"
    keep.write_text("{}")
    proc = _bwc("run", "--out", str(tmp_path))
    assert proc.returncode == 2 and "not empty" in proc.stderr
    assert keep.read_text() == "{}"


def test_profiles_lists_defects_with_their_requirements():
    proc = _bwc("profiles", "--json")
    assert proc.returncode == 0
    items = {p["name"]: p for p in json.loads(proc.stdout)}
    assert items["reference"]["violates"] == []
    assert items["short-buffer"]["violates"] == ["PRE-001", "PRE-002"]
    assert all(p["violates"] for p in items.values() if p["defect"])
