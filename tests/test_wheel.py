"""The harness as users install it: a wheel built from this checkout, installed into a new
venv outside the checkout, gives a working `bwc` and a pytest plugin (`pytest --pyargs
conformance` in any folder), and tox's own environments (tox.ini) install it and run. The new
venvs borrow the already installed dependencies (a .pth path entry for the plain venv, a
PYTHONPATH view of the same folder for tox's: the checkout's editable install is active in
neither) to stay fast and offline; the harness itself comes only from the wheel."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import scene_cache_env

REPO = Path(__file__).resolve().parents[1]
HARNESS = {"bwc", "protocols", "emulators", "instruments", "fixtures", "conformance", "reports", "schemas"}


def _env(**extra: str) -> dict[str, str]:
    """The environment of a process that must see only the installed wheel: no PYTHONPATH
    pointing into a checkout."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return {**env, **extra}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built from a copy of the checkout: setuptools writes build/ and bwc_harness.egg-info/ into
    the tree it builds, and every process started in the checkout (the other tests' bwc runs and
    their xdist workers) reads that egg-info as installed metadata: rewritten under them, their
    pytest plugins' entry points flicker."""
    wheels, src = tmp_path_factory.mktemp("dist"), tmp_path_factory.mktemp("src") / "harness"
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(".git", ".venv", ".tox", "build", "*.egg-info", "runs", "__pycache__", "node_modules"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(src), "-w", str(wheels)], check=True, capture_output=True, timeout=300)
    (built,) = wheels.glob("bwc_harness-*.whl")
    return built


def _venv(tmp_path: Path, wheel: Path) -> Path:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True, env=_env()).stdout.strip())
    (site / "harness-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q", "--no-deps", str(wheel)],
                   check=True, capture_output=True, timeout=300, env=_env())
    return venv


def test_wheel_installs_a_working_bwc_and_pytest_plugin(tmp_path, wheel):
    venv = _venv(tmp_path, wheel)
    elsewhere = tmp_path / "someone-elses-project"
    elsewhere.mkdir()
    py = str(venv / "bin" / "python")
    where = subprocess.run([py, "-c", "import conformance; print(conformance.__file__)"], cwd=elsewhere, capture_output=True, text=True, check=True, env=_env())
    assert str(venv) in where.stdout, "the harness must come from the wheel, not the checkout"
    assert "bwc-harness 0.1.0" in subprocess.run([str(venv / "bin" / "bwc"), "--version"], capture_output=True, text=True, cwd=elsewhere, env=_env()).stdout
    lua = subprocess.run([str(venv / "bin" / "bwc"), "wireshark"], capture_output=True, text=True, cwd=elsewhere, check=True, env=_env()).stdout.splitlines()
    assert [Path(x).name for x in lua[:2]] == ["signal.lua", "icp.lua"] and all(str(venv) in x and Path(x).stat().st_size > 1000 for x in lua[:2])
    run = subprocess.run([str(venv / "bin" / "bwc"), "run", "--no-pdf", "--out", str(tmp_path / "run"), "--select", "pre004"],
                         cwd=elsewhere, capture_output=True, text=True, timeout=600, env=_env(**scene_cache_env()))
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert {r["id"]: r["verdict"] for r in report["requirements"]}["PRE-004"] == "pass"
    agency = elsewhere / "agency"  # an agency's own requirement and test, in its own project (examples/agency-extension)
    shutil.copytree(REPO / "examples" / "agency-extension", agency)
    plugin = subprocess.run([py, "-m", "pytest", "--pyargs", "conformance", "agency", "--bwc-catalogue", "agency/agency-requirements.yaml",
                             "-k", "pre004 or agy001", "-q", "-p", "no:cacheprovider", "--bwc-out", str(tmp_path / "py")],
                            cwd=elsewhere, capture_output=True, text=True, timeout=600, env=_env(**scene_cache_env()))
    assert plugin.returncode == 0 and "2 passed" in plugin.stdout, plugin.stdout + plugin.stderr
    measured = json.loads((tmp_path / "py" / "results.json").read_text())
    assert {m["requirement"] for m in measured["measurements"]} == {"PRE-004", "AGY-001"} and measured["catalogue_extra"][0]["id"] == "AGY-001"
    assert "requirement(id)" in subprocess.run([py, "-m", "pytest", "--markers"], cwd=elsewhere, capture_output=True, text=True, env=_env()).stdout
    assert "--bwc-target" in subprocess.run([py, "-m", "pytest", "--help"], cwd=elsewhere, capture_output=True, text=True, env=_env()).stdout


def _deps_view(tmp_path: Path) -> Path:
    """The running venv's installed packages less the harness (its editable install and its
    dist-info): what tox's environments borrow instead of downloading the dependencies."""
    view = tmp_path / "deps"
    view.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if entry.name.split(".")[0] not in HARNESS and not entry.name.startswith(("bwc_harness", "__editable__")):
            (view / entry.name).symlink_to(entry)
    return view


def test_tox_environments_install_the_wheel_and_run(tmp_path, wheel, test_key):
    """`tox -e conformance` and `tox -e tests` as tox.ini defines them, with the built wheel as
    the package (--installpkg: what tox would build). The only change to tox.ini is where the
    dependencies come from (already satisfied from the running venv, so pip downloads nothing);
    the run's signing key reaches bwc through tox.ini's pass_env."""
    deps = _deps_view(tmp_path)
    tox = [sys.executable, "-m", "tox", "-c", str(REPO / "tox.ini"), "--workdir", str(tmp_path / "tox"), "--installpkg", str(wheel),
           "-x", f"testenv.set_env=PYTHONPATH={deps}", "-x", "testenv.install_command=python -m pip install {opts} {packages}"]
    env = _env(BWC_SIGNING_KEY=str(test_key.private_pem), **scene_cache_env())
    out = tmp_path / "run"
    proc = subprocess.run([*tox, "-e", "conformance", "--", "--no-pdf", "--out", str(out), "--select", "pre004"],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0 and "conformance: OK" in proc.stdout, proc.stdout + proc.stderr
    assert "install_package" in proc.stdout and wheel.name in proc.stdout
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["python"].endswith(f"({tmp_path / 'tox' / 'conformance' / 'bin' / 'python'})"), "bwc ran inside tox's environment"
    assert {r["id"]: r["verdict"] for r in json.loads((out / "report.json").read_text())["requirements"]}["PRE-004"] == "pass"
    verify = subprocess.run([sys.executable, "-m", "bwc", "verify", str(out), "--key", str(test_key.public_pem)], capture_output=True, text=True, cwd=REPO)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    proc = subprocess.run([*tox, "-e", "tests", "--", "tests/protocols/test_qr_timecode.py", "-q"], capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0 and "tests: OK" in proc.stdout and " passed" in proc.stdout, proc.stdout + proc.stderr
    assert "failed" not in proc.stdout
