"""A target shipped as a separate package (examples/vendor-target) plugs in through the
`bwc.targets` entry point: installed into a venv next to the harness, `bwc run --target
acme:7.2.1` runs a requirement on it and the report names the vendor's device."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_a_vendor_target_package_runs_a_requirement(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    py = str(venv / "bin" / "python")
    site = Path(subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], check=True, capture_output=True,
                               text=True).stdout.strip())
    (site / "harness.pth").write_text(f"{REPO}\n{sysconfig.get_paths()['purelib']}\n")  # this checkout and its dependencies
    subprocess.run([sys.executable, "-m", "pip", "--python", py, "install", "-q", "--no-deps", str(REPO / "examples" / "vendor-target")],
                   check=True, capture_output=True, timeout=300)
    run = subprocess.run([py, "-m", "bwc", "run", "--no-pdf", "--target", "acme:7.2.1", "--out", str(tmp_path / "run"), "--select", "pre004"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert {r["id"]: r["verdict"] for r in report["requirements"]}["PRE-004"] == "pass"
    assert report["run"]["target"] == "acme"
    assert any(d["model"] == "Body-7" and d["firmware"] == "7.2.1" for d in report["system_under_test"])
    unknown = subprocess.run([py, "-m", "bwc", "run", "--target", "nosuch:1", "--out", str(tmp_path / "x")], cwd=tmp_path, capture_output=True, text=True)
    assert unknown.returncode == 2 and "no target type 'nosuch'" in unknown.stderr and "acme" in unknown.stderr
