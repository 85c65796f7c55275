"""bwc matrix on Dask distributed: a 4 profiles x 3 seeds matrix on an embedded cluster of 2
worker processes gives, cell by cell, the verdicts of serial ``bwc run``s of the same cells;
the merged document is signed; bad input is exit 2; a cell that never ran or whose folder is
hostile never makes the matrix PASS."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from bwc.matrix_cells import unpack
from reports.matrix import cell_summary, matrix_document
from reports.signing import verify_run
from tests.conftest import bwc

# one short scene that decides a verdict on its own (the vehicle inputs, VEH-001's 200 ms
# debounce); two built-in profiles and two profile files (they travel to the workers as text)
SELECT = "test_veh001"
FILES = {"debounce-150ms": (150, ["VEH-001"]), "debounce-300ms": (300, [])}
PROFILES = ("reference", "no-debounce", *FILES)
FAILING = ("no-debounce", "debounce-150ms")
SEEDS = (0, 1, 2)
pytestmark = pytest.mark.xdist_group("matrix")  # the cluster's two workers and the serial runs take the machine's two cores in turn


@pytest.fixture(scope="module")
def matrix(tmp_path_factory, test_key):
    root = tmp_path_factory.mktemp("matrix")
    out = root / "m"
    for name, (debounce_ms, violates) in FILES.items():
        (root / f"{name}.yaml").write_text(f"name: {name}\nbase: reference\ndescription: DVR input debounce {debounce_ms} ms\n"
                                           f"violates: {violates}\ndvr: {{debounce_ms: {debounce_ms}}}\n")
    args = ["matrix", "--out", str(out), "--workers", "2", "--seeds", "0-2", "--select", SELECT]
    for p in PROFILES:
        args += ["--profile", str(root / f"{p}.yaml") if p in FILES else p]
    proc = bwc(*args, env={"BWC_SIGNING_KEY": str(test_key.private_pem)}, timeout=900)
    return out, proc


def test_matrix_on_two_workers_gives_the_serial_verdicts(matrix, tmp_path, test_key):
    out, proc = matrix
    assert proc.returncode == 1, proc.stdout + proc.stderr  # two defects in it
    assert "Traceback" not in proc.stderr
    doc = json.loads((out / "matrix.json").read_text())
    assert [(Path(c["profile"]).stem, c["seed"]) for c in doc["cells"]] == [(p, s) for p in PROFILES for s in SEEDS]
    assert doc["summary"]["cells"] == 12 and doc["summary"]["overall"] == "fail"
    progress = [line for line in proc.stdout.splitlines() if line.strip().startswith("[")]
    assert len(progress) == 12 and progress[-1].strip().startswith("[12/12]")
    assert len({c["pid"] for c in doc["cells"]}) == 2  # both worker processes took cells
    for cell in doc["cells"]:
        serial = tmp_path / cell["cell"]
        ran = bwc("run", "--no-pdf", "--out", str(serial), "--profile", cell["profile"], "--seed", str(cell["seed"]), "--select", SELECT,
                  env={"BWC_SIGNING_KEY": str(test_key.private_pem)})
        report = json.loads((serial / "report.json").read_text())
        assert cell["requirements"] == {r["id"]: r["verdict"] for r in report["requirements"]}, cell["cell"]
        assert cell["overall"] == report["summary"]["overall"] and cell["exit_code"] == ran.returncode, cell["cell"]
        assert verify_run(out / cell["folder"]).problems == [], cell["cell"]  # every cell came back whole and signed
    by = {(Path(c["profile"]).stem, c["seed"]): c["requirements"]["VEH-001"] for c in doc["cells"]}
    assert by == {(p, s): "fail" if p in FAILING else "pass" for p in PROFILES for s in SEEDS}
    assert {Path(c["profile"]).stem: c["expected_failures"] for c in doc["cells"]}["debounce-150ms"] == ["VEH-001"]


def test_the_merged_matrix_is_signed_and_readable(matrix):
    out, _ = matrix
    assert verify_run(out).problems == [], "matrix.json, matrix.html and every cell folder are in the signed manifest"
    html = (out / "matrix.html").read_text()
    assert html.count("<tr>") == 13 and "cells/debounce-150ms-seed1/report.html" in html
    d = bwc("diff", str(out / "cells" / "reference-seed0"), str(out / "cells" / "no-debounce-seed0"))
    assert d.returncode == 1 and "VEH-001" in d.stdout  # bwc diff across two cells: the regression


EXTRA_CATALOGUE = """schema: bwc-requirements/2
requirements:
  - id: XTR-001
    family: Matrix extension
    title: The allow-list scene exports no clip of a stranger's event
    text: A check of the user's own, carried to the matrix's workers with its catalogue.
    source: tests/test_matrix_cli.py
    method: Counts the allow-list scene's recordings.
"""
EXTRA_TEST = """import pytest

@pytest.mark.requirement("XTR-001")
@pytest.mark.scene("allow-list")
def test_xtr001_no_stranger_clip(scenarios, measure):
    rec = scenarios.run("allow-list")
    measure.expect("scene", "the scene was played", rec.stats.get("simulated_s", 0) > 0)
"""


def test_a_cell_carries_the_policy_catalogue_and_tests_to_its_worker(tmp_path, test_key):
    """--policy, --catalogue and --tests travel to the worker as their contents (no shared file
    system): the cell measures the user's requirement and is judged under the given policy."""
    (tmp_path / "mine.yaml").write_text(EXTRA_CATALOGUE)
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "test_mine.py").write_text(EXTRA_TEST)
    policy = Path(__file__).resolve().parents[1] / "examples" / "policies" / "authenticated-triggers.yaml"
    out = tmp_path / "m"
    proc = bwc("matrix", "--out", str(out), "--workers", "1", "--profile", "reference", "--select", "xtr001",
               "--policy", str(policy), "--catalogue", str(tmp_path / "mine.yaml"), "--tests", str(tmp_path / "checks"),
               env={"BWC_SIGNING_KEY": str(test_key.private_pem)}, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (cell,) = json.loads((out / "matrix.json").read_text())["cells"]
    assert cell["requirements"]["XTR-001"] == "pass" and cell["overall"] == "pass"
    report = json.loads((out / cell["folder"] / "report.json").read_text())
    assert report["policy"]["name"] == "Authenticated triggers and in-car messages required"
    assert verify_run(out).problems == []


@pytest.mark.parametrize("args, needle", [
    (["--profile", "nope"], "unknown profile 'nope'"),
    (["--profile", "reference", "--policy", "/no/such/policy.yaml"], "--policy: "),
    (["--profile", "reference", "--tests", "/no/such/dir"], "--tests /no/such/dir: not a folder"),
    (["--profile", "reference", "--seeds", "1-x"], "--seeds '1-x'"),
    (["--profile", "reference", "--seeds", "1,1"], "distinct seeds"),
    (["--profile", "reference,reference"], "given twice"),
    (["--profile", "reference", "--workers", "0"], "--workers 0"),
    (["--profile", "reference", "--cluster", "tcp://127.0.0.1:9"], "cannot reach the scheduler"),
])
def test_bad_input_is_exit_2(args, needle, tmp_path, test_key):
    proc = bwc("matrix", "--out", str(tmp_path / "m"), *args, env={"BWC_SIGNING_KEY": str(test_key.private_pem)}, timeout=120)
    assert proc.returncode == 2 and needle in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_a_cell_not_run_or_without_report_is_never_pass(tmp_path):
    ran = {"exit_code": 0, "wall_s": 1.0, "host": "h", "stderr": "boom\n"}
    rows = [cell_summary("a-seed0", "a", 0, tmp_path / "none", None, []), cell_summary("b-seed0", "b", 0, tmp_path / "none", ran, [])]
    assert rows[0]["overall"] == "not-run" and rows[1]["overall"] == "error" and "boom" in rows[1]["why"]
    assert matrix_document(rows[1:], "t", 1.0, "here", interrupted=False)["summary"]["overall"] == "error"
    assert matrix_document(rows, "t", 1.0, "here", interrupted=False)["summary"]["overall"] == "incomplete"


@pytest.mark.parametrize("member", ["../escaped", "/abs/escaped", "link"])
def test_a_hostile_cell_folder_cannot_write_outside(member, tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo(member)
        if member == "link":
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(info, io.BytesIO(b""))
    cell = tmp_path / "matrix" / "cells" / "x"
    try:
        unpack(buf.getvalue(), cell)
    except tarfile.TarError:  # refused (the matrix reports the cell as an error)
        pass
    written = [p for p in tmp_path.rglob("*") if p.is_file() or p.is_symlink()]
    assert all(p.resolve().is_relative_to(cell.resolve()) for p in written), written
    assert not Path("/abs/escaped").exists()


def test_a_cell_run_on_another_harness_revision_is_an_error(tmp_path):
    report = {"requirements": [{"id": "VEH-001", "verdict": "pass"}], "summary": {"overall": "pass"},
              "harness": {"name": "bwc-harness", "version": "0.1.0", "git_revision": "abc1234"}}
    (tmp_path / "report.json").write_text(json.dumps(report))
    ran = {"exit_code": 0, "wall_s": 1.0, "host": "elsewhere", "stderr": ""}
    same = cell_summary("c", "reference", 0, tmp_path, ran, [], {"version": "0.1.0", "git_revision": "abc1234"})
    other = cell_summary("c", "reference", 0, tmp_path, ran, [], {"version": "0.1.0", "git_revision": "def5678"})
    assert same["overall"] == "pass" and other["overall"] == "error" and "def5678" in other["why"]
    assert other["requirements"] == {"VEH-001": "pass"}  # what it measured is kept
