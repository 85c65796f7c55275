"""Shared helpers for the harness's own tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import looptime
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocols.evidence_manifest import generate_private_key, private_key_to_pem, public_key_to_pem

T = TypeVar("T")


def run_virtual(factory: Callable[[], Awaitable[T]]) -> tuple[T, float]:
    """Run a coroutine on a fresh looptime loop; return (result, simulated seconds)."""
    loop = looptime.new_event_loop(start=0.0)
    try:
        result = loop.run_until_complete(factory())
        return result, loop.time()
    finally:
        loop.close()


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: run scripts/system-deps (make test does)")
    return path


# -- real runs shared by the report and suite tests (one per session each) --------------------


REPO = Path(__file__).resolve().parents[1]
COVER = {"agency": "Springfield Police Department", "project": "BWC procurement RFP-2026-07", "operator": "J. Auditor"}


@dataclass(frozen=True)
class Run:
    dir: Path
    stdout: str
    returncode: int

    def report(self) -> dict:
        return json.loads((self.dir / "report.json").read_text())

    def results(self) -> dict:
        return json.loads((self.dir / "results.json").read_text())


@dataclass(frozen=True)
class TestKey:
    __test__ = False
    private: Ed25519PrivateKey
    private_pem: Path
    public_pem: Path


@pytest.fixture(scope="session")
def test_key(tmp_path_factory) -> TestKey:
    d = tmp_path_factory.mktemp("keys")
    key = generate_private_key()
    (d / "lab.pem").write_bytes(private_key_to_pem(key))
    (d / "lab.pem").chmod(0o600)
    (d / "lab-public.pem").write_bytes(public_key_to_pem(key.public_key()))
    return TestKey(key, d / "lab.pem", d / "lab-public.pem")


def bwc(*args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bwc", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def scene_cache_env() -> dict[str, str]:
    """The self-test's profile runs share played scenes (fixtures/scene_cache.py): one folder per
    test session, shared by the xdist workers."""
    import tempfile

    root = os.environ.get("BWC_TEST_SCENE_CACHE")
    if root is None:
        root = os.environ["BWC_TEST_SCENE_CACHE"] = tempfile.mkdtemp(prefix="bwc-scene-cache-")
    return {"BWC_SCENE_CACHE": root}


def _run(out: Path, profile: str, key: TestKey) -> Run:
    proc = bwc("run", "--out", str(out), "--force", "--profile", profile, "--seed", "0", "--agency", COVER["agency"],
               "--project", COVER["project"], "--operator", COVER["operator"],
               env={"BWC_SIGNING_KEY": str(key.private_pem), **scene_cache_env()})
    assert (out / "report.json").exists(), f"bwc run --profile {profile} wrote no report:\n{proc.stdout}\n{proc.stderr}"
    assert (out / "signature.json").exists(), f"bwc run --profile {profile} did not sign the run:\n{proc.stderr}"
    return Run(out, proc.stdout, proc.returncode)


@pytest.fixture(scope="session")
def reference_run(tmp_path_factory, test_key) -> Run:
    return _run(tmp_path_factory.mktemp("runs") / "reference", "reference", test_key)


@pytest.fixture(scope="session")
def short_buffer_run(tmp_path_factory, test_key) -> Run:
    return _run(tmp_path_factory.mktemp("runs") / "short-buffer", "short-buffer", test_key)


@pytest.fixture
def reference_copy(reference_run, tmp_path) -> Path:
    """A private copy of the reference run directory, free to alter."""
    dst = tmp_path / "run"
    shutil.copytree(reference_run.dir, dst)
    return dst


SHARED_RUNS = {"reference_run", "short_buffer_run", "reference_copy"}


@pytest.fixture(scope="session")
def air_scene(tmp_path_factory):
    """A small scene played once: its air.pcap and what the harness observer measured
    (tests/instruments/captures.py)."""
    from tests.instruments.captures import play_air_scene

    return play_air_scene(tmp_path_factory.mktemp("air-scene"))


def pytest_configure(config):
    """One scene cache for the whole session: made by the controller, inherited by the xdist
    workers (they start after this hook)."""
    if not hasattr(config, "workerinput"):
        scene_cache_env()
# tests that start and stop the machine's systemd-udevd or attach loop devices: one at a time
DOCK_MODULES = {"test_dock.py", "test_dock_discovery.py", "test_devices_cli.py", "test_bench_target.py"}


@pytest.hookimpl(tryfirst=True)  # before xdist turns xdist_group marks into scheduling groups
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (--dist loadgroup) the tests that read the shared real runs go to one
    worker, so each run is made once (so do those of the air scene); the dock tests share one
    worker because udevd and the loop devices are machine-wide; everything else spreads over
    the workers."""
    for item in items:
        if SHARED_RUNS & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.xdist_group("shared-runs"))
        elif item.path.name in DOCK_MODULES:
            item.add_marker(pytest.mark.xdist_group("docks"))
        elif "air_scene" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("air-scene"))  # the scene is played once
