"""The harness as users install it: a wheel built from this checkout, installed into a new
venv outside the checkout, gives a working `bwc` and a pytest plugin (`pytest --pyargs
conformance` in any folder). The new venv borrows the already installed dependencies through
a .pth file (a path entry, so the checkout's editable install is not active there) to stay
fast; the harness itself comes only from the wheel."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from tests.conftest import scene_cache_env

REPO = Path(__file__).resolve().parents[1]


def _venv(tmp_path: Path) -> Path:
    wheels = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(REPO), "-w", str(wheels)], check=True, capture_output=True, timeout=300)
    (wheel,) = wheels.glob("bwc_harness-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "harness-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q", "--no-deps", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    return venv


def test_wheel_installs_a_working_bwc_and_pytest_plugin(tmp_path):
    venv = _venv(tmp_path)
    elsewhere = tmp_path / "someone-elses-project"
    elsewhere.mkdir()
    py = str(venv / "bin" / "python")
    where = subprocess.run([py, "-c", "import conformance; print(conformance.__file__)"], cwd=elsewhere, capture_output=True, text=True, check=True)
    assert str(venv) in where.stdout, "the harness must come from the wheel, not the checkout"
    assert "bwc-harness 0.1.0" in subprocess.run([str(venv / "bin" / "bwc"), "--version"], capture_output=True, text=True, cwd=elsewhere).stdout
    lua = subprocess.run([str(venv / "bin" / "bwc"), "wireshark"], capture_output=True, text=True, cwd=elsewhere, check=True).stdout.splitlines()
    assert [Path(x).name for x in lua[:2]] == ["signal.lua", "icp.lua"] and all(str(venv) in x and Path(x).stat().st_size > 1000 for x in lua[:2])
    run = subprocess.run([str(venv / "bin" / "bwc"), "run", "--no-pdf", "--out", str(tmp_path / "run"), "--select", "pre004"],
                         cwd=elsewhere, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert {r["id"]: r["verdict"] for r in report["requirements"]}["PRE-004"] == "pass"
    agency = elsewhere / "agency"  # an agency's own requirement and test, in its own project (examples/agency-extension)
    shutil.copytree(REPO / "examples" / "agency-extension", agency)
    plugin = subprocess.run([py, "-m", "pytest", "--pyargs", "conformance", "agency", "--bwc-catalogue", "agency/agency-requirements.yaml",
                             "-k", "pre004 or agy001", "-q", "-p", "no:cacheprovider", "--bwc-out", str(tmp_path / "py")],
                            cwd=elsewhere, capture_output=True, text=True, timeout=600, env={**os.environ, **scene_cache_env()})
    assert plugin.returncode == 0 and "2 passed" in plugin.stdout, plugin.stdout + plugin.stderr
    measured = json.loads((tmp_path / "py" / "results.json").read_text())
    assert {m["requirement"] for m in measured["measurements"]} == {"PRE-004", "AGY-001"} and measured["catalogue_extra"][0]["id"] == "AGY-001"
    assert "requirement(id)" in subprocess.run([py, "-m", "pytest", "--markers"], cwd=elsewhere, capture_output=True, text=True).stdout
    assert "--bwc-target" in subprocess.run([py, "-m", "pytest", "--help"], cwd=elsewhere, capture_output=True, text=True).stdout
