"""An agency's own requirement and test module, kept outside the harness
(examples/agency-extension), run with the suite through `bwc run --catalogue --tests`: it is
measured, judged, signed and reported like a built-in requirement, and a report rebuilt later
from results.json still shows it. (It shares the reference run's played main incident.)"""

import json
import subprocess
import sys

from conformance.catalogue import load_catalogue
from reports.build import build_report
from reports.results import RunResults
from tests.conftest import REPO, bwc, scene_cache_env

EXAMPLE = REPO / "examples" / "agency-extension"
CATALOGUE = EXAMPLE / "agency-requirements.yaml"


def test_an_agency_requirement_runs_and_reports_like_a_built_in_one(reference_run, tmp_path, test_key):
    out = tmp_path / "run"
    proc = bwc("run", "--no-pdf", "--out", str(out), "--catalogue", str(CATALOGUE), "--tests", str(EXAMPLE), "--select", "agy001",
               env={"BWC_SIGNING_KEY": str(test_key.private_pem), **scene_cache_env()})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((out / "report.json").read_text())
    row = {r["id"]: r for r in report["requirements"]}["AGY-001"]
    assert row["verdict"] == "pass" and row["family"] == "Chain of custody (agency policy)"
    assert row["measurements"] and all(m["device"] and m["verdict"] == "pass" for m in row["measurements"])
    activated = {o["serial"] for o in report["observations"] if o["role"] == "bwc" and o["incident_clip"]}
    assert {m["device"]["serial"] for m in row["measurements"]} == activated and len(activated) >= 4, "every camera that recorded the incident"
    assert 'name="AGY-001' in (out / "junit.xml").read_text()
    assert bwc("verify", str(out), "--key", str(test_key.public_pem)).returncode == 0
    # a report built in another process, which was never given the agency's catalogue
    rebuilt = subprocess.run([sys.executable, "-c", "import json, sys; from reports.build import build_report; from reports.results import RunResults; "
                              "print(json.dumps([r['id'] for r in build_report(RunResults.read(__import__('pathlib').Path(sys.argv[1])))['requirements']]))",
                              str(out / "results.json")], cwd=REPO, capture_output=True, text=True, check=True)
    assert "AGY-001" in json.loads(rebuilt.stdout)
    assert "AGY-001" not in load_catalogue() and "AGY-001" in [r["id"] for r in build_report(RunResults.read(out / "results.json"))["requirements"]]


def test_bad_extensions_are_refused_with_one_line(tmp_path):
    clash = tmp_path / "clash.yaml"
    clash.write_text(CATALOGUE.read_text().replace("AGY-001", "PRE-001"))
    proc = bwc("run", "--out", str(tmp_path / "a"), "--catalogue", str(clash))
    assert proc.returncode == 2 and "PRE-001: already in the catalogue" in proc.stderr and str(clash) in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    typo = tmp_path / "typo.yaml"
    typo.write_text(CATALOGUE.read_text().replace("family:", "famly:"))
    proc = bwc("run", "--out", str(tmp_path / "b"), "--catalogue", str(typo))
    assert proc.returncode == 2 and "typo.yaml" in proc.stderr and "famly" in proc.stderr and "Traceback" not in proc.stderr
    proc = bwc("run", "--out", str(tmp_path / "c"), "--tests", str(EXAMPLE / "test_agency_custody.py"))
    assert proc.returncode == 2 and "not a folder" in proc.stderr
