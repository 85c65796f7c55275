"""The suite proves itself: the reference profile passes, every defect profile fails exactly
the requirements it declares, through the real CLI and the real report."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import av
import pytest

from conformance.catalogue import load_catalogue
from emulators.profiles import builtin_profiles
from instruments.clip_analyzer import analyze_clip
from tests.conftest import require_tool, scene_cache_env

REPO = Path(__file__).resolve().parents[2]
TESTED = {"PRE-001", "PRE-002", "PRE-003", "PRE-004", "AV-001", "ACT-001", "ACT-002", "ACT-003", "ACT-004", "ACT-005", "ACT-006", "CHN-001", "VEH-001",
          "TIME-001", "PWR-001", "RES-001", "INT-001", "SEC-003", "SEC-004"}
# attack exposures of the legacy Signal (informative by default): pass where the attack did not
# work, "exposed" where it did; the strict policy turns "exposed" into a failure
EXPOSURES = {"SEC-001", "SEC-002", "SEC-005"}
STRICT = REPO / "examples" / "policies" / "authenticated-triggers.yaml"
GROUP = {"GRP-001"}  # measured only on targets that declare group recording
PROFILES = {p.name: p for p in builtin_profiles()}


def _run(out: Path, *args: str) -> subprocess.CompletedProcess:
    """bwc run with the session's scene cache: a scene the profile plays exactly as an earlier
    profile did (it reads no field in which they differ) is not played again."""
    return subprocess.run([sys.executable, "-m", "bwc", "run", "--out", str(out), *args], cwd=REPO, capture_output=True, text=True, timeout=600,
                          env={**os.environ, **scene_cache_env()})


def test_reference_passes_and_writes_every_artifact(reference_run):
    out = reference_run.dir
    assert reference_run.returncode == 0, reference_run.stdout
    for name in ("report.json", "report.html", "report.pdf", "manifest.json", "signature.json", "air.pcap", "results.json", "junit.xml"):
        assert (out / name).is_file(), name
    assert any((out / "allure-results").glob("*-result.json"))
    report = json.loads((out / "report.json").read_text())
    verdicts = {r["id"]: r["verdict"] for r in report["requirements"]}
    assert {k for k, v in verdicts.items() if v == "pass"} == TESTED | {"SEC-001"}
    assert verdicts["SEC-002"] == verdicts["SEC-005"] == "exposed"  # forged adverts / in-car starts start a legacy system
    assert all(v == "not-tested" for k, v in verdicts.items() if k not in TESTED | EXPOSURES)
    assert report["summary"]["overall"] == "pass" and report["summary"]["exposed"] == 2
    assert sorted(e["subject"] for e in report["exposures"] if e["worked"]) == ["BWC-S X6SEC00S1", "DVR-CAR-2 F3ICP0021 front"]
    assert {e["requirement"] for e in report["exposures"]} == {f"SEC-00{k}" for k in range(1, 6)}
    assert report["run"]["simulated_s"] >= 90


def test_report_numbers_match_the_measurements(reference_run):
    out = reference_run.dir
    report = json.loads((out / "report.json").read_text())
    results = json.loads((out / "results.json").read_text())
    pre = next(r for r in report["requirements"] if r["id"] == "PRE-001")
    values = [m["value"] for m in results["measurements"] if m["requirement"] == "PRE-001" and m["comparator"] == ">=" and m["unit"] == "s"]
    assert pre["measured"] == min(values) and pre["limit"] == 30.0 and pre["unit"] == "s"
    html = (out / "report.html").read_text()
    assert "<script" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    for rid in TESTED:
        assert rid in html
    assert 'id="exposure"' in html and "attack exposure matrix" in html and "X6SEC00S1" in html
    assert f"{pre['measured']:g} s" in html


def test_evidence_holds_30_s_before_the_trigger(reference_run):
    out = reference_run.dir
    report = json.loads((out / "report.json").read_text())
    stimulus = report["incident"]["stimulus_utc_ms"]
    clips = sorted((out / "evidence").glob("X6BWC*/*.mp4"))
    assert {c.parent.name for c in clips} == {"X6BWC00A1", "X6BWC00B1", "X6BWC00C1", "X6BWC00D1"}  # E is 45 ft away
    for clip in clips:
        with av.open(str(clip)) as container:
            assert container.streams.video[0].codec_context.name == "h264"
        a = analyze_clip(clip)
        assert a.ok and not a.gaps
        assert a.coverage_before_s(stimulus) >= 30.0
    dvrs = sorted(p.name for p in (out / "evidence").glob("F3DVR*"))
    assert dvrs == ["F3DVR00A1", "F3DVR00AR", "F3DVR00B1", "F3DVR00BR"]  # E's cruiser stays idle (front and rear)


def test_pcap_dissects_in_tshark(reference_run):
    tshark = require_tool("tshark")
    out = reference_run.dir
    pcap = str(out / "air.pcap")

    def count(filt: str) -> int:
        proc = subprocess.run([tshark, "-r", pcap, "-Y", filt, "-T", "fields", "-e", "frame.number"], capture_output=True, text=True, check=True)
        return len(proc.stdout.split())

    total = count("btle")
    assert total > 1000
    assert count("btcommon.eir_ad.entry.uuid_16 == 0xfe6c") == total
    assert count("btle.crc.incorrect") == 0
    assert count("btle_rf.signal_dbm < 0") == total
    # each advertising event on 37, 38 and 39 in turn; events of a sender advInterval + advDelay
    # apart (no grid); no two PDUs on one channel at once unless air-collisions.csv lists the pair
    rows = subprocess.run([tshark, "-r", pcap, "-T", "fields", "-E", "separator=,", "-e", "frame.number", "-e", "frame.time_epoch",
                           "-e", "btle_rf.channel", "-e", "btle.advertising_address", "-e", "frame.len"],
                          capture_output=True, text=True, check=True).stdout.split()
    frames = [(int(n), float(t), int(c), a, int(size)) for n, t, c, a, size in (r.split(",") for r in rows)]
    rf = {0: 37, 12: 38, 39: 39}  # RF channel numbers of the advertising channels
    by_sender: dict[str, list] = {}
    for f in frames:
        by_sender.setdefault(f[3], []).append(f)
    for sender, pdus in by_sender.items():
        triples = [pdus[i:i + 3] for i in range(0, len(pdus) - 2, 3)]
        assert all([rf[x[2]] for x in t] == [37, 38, 39] for t in triples[:50]), sender
        gaps = {round(b[0][1] - a[0][1], 4) for a, b in zip(triples, triples[1:50])}
        assert len(gaps) > 5, f"{sender}: advertising events on a grid"
    marked = {(int(r["frame_a"]), int(r["frame_b"])) for r in csv.DictReader((out / "air-collisions.csv").open())}
    overlapping = set()
    for i, a in enumerate(frames):
        air_s = (a[4] - 10 + 1) * 8e-6  # frame.len less the 10-byte pseudo-header, plus the preamble, at 8 us a byte
        for b in frames[i + 1:i + 40]:
            if b[1] - a[1] >= air_s - 1e-6:
                break
            if b[2] == a[2]:
                overlapping.add((a[0], b[0]))
    assert overlapping <= marked and marked, "every pair of PDUs on one channel at once is in the companion table"


# make test proves every check on one seeded defect (the one whose procedure costs least);
# make test-matrix runs every built-in profile through the whole suite (below)
CAUGHT_BY = {
    "PRE-002": "byte-budget", "PRE-003": "late-audio", "PRE-004": "buffers-asleep",
    "AV-001": "av-drift", "ACT-001": "short-range", "ACT-002": "dvr-any-vehicle", "ACT-003": "wakes-on-signal",
    "ACT-004": "cancel-anything", "ACT-005": "signal-stops", "ACT-006": "ignores-allow-list", "CHN-001": "dvr-unchained",
    "VEH-001": "no-debounce", "TIME-001": "clock-drift", "PWR-001": "no-power-safety", "RES-001": "low-res",
    "INT-001": "unsigned-evidence", "GRP-001": "group-slow-start", "SEC-003": "malformed-lockup", "SEC-004": "flood-evicts",
    "SEC-001": "auth-accepts-replays", "SEC-002": "auth-ignores-mac", "SEC-005": "group-stop-from-bwc",
}
# exposures: a profile every exposure attack works on (no de-duplication, legacy Signal and
# ICP1), judged under the strict policy, where each fails
EXPOSED_ON = "no-cooldown"
SHARED_PROOF = {"PRE-001": "short-buffer"}  # the report tests' whole-suite run of it (below)
ONLY = {"ACT-001": "act001_activation_rate"}  # of the requirement's tests, the one that catches this defect (the others: the matrix)


def test_every_check_has_a_seeded_defect_in_make_test():
    assert set(CAUGHT_BY) | set(SHARED_PROOF) == TESTED | GROUP | EXPOSURES
    assert all(rid in PROFILES[name].violates for rid, name in {**CAUGHT_BY, **SHARED_PROOF}.items())
    assert EXPOSURES <= {r.id for r in load_catalogue().values() if r.exposure}


def _fails_exactly_what_it_declares(name: str, returncode: int, output: str, out: Path) -> None:
    profile = PROFILES[name]
    assert returncode == (1 if profile.violates else 0), output
    verdicts = {r["id"]: r["verdict"] for r in json.loads((out / "report.json").read_text())["requirements"]}
    failing = {k for k, v in verdicts.items() if v == "fail"}
    assert failing == set(profile.violates)
    expected_tested = TESTED | (GROUP if profile.dvr.group_mode else set())
    assert {k for k, v in verdicts.items() if v in ("pass", "marginal")} - EXPOSURES == expected_tested - failing  # marginal passes (close to the limit)
    assert all(verdicts[k] in ("pass", "exposed") for k in EXPOSURES - failing)  # informative under the default policy
    assert not any(v == "error" for v in verdicts.values())


def test_short_buffer_fails_exactly_what_it_declares(short_buffer_run):
    """The whole suite on short-buffer: the shared run (seed 0, with the PDF), in make test."""
    _fails_exactly_what_it_declares("short-buffer", short_buffer_run.returncode, short_buffer_run.stdout, short_buffer_run.dir)


@pytest.mark.parametrize("rid", sorted(CAUGHT_BY))
def test_each_check_catches_its_seeded_defect(rid, tmp_path):
    """The requirement's tests alone, through the real CLI, on a profile that breaks it: the
    requirement fails, nothing else does, nothing errs."""
    name = CAUGHT_BY[rid]
    proc = _run(tmp_path / "run", "--profile", name, "--seed", "0", "--no-pdf", "--select", ONLY.get(rid, rid.lower().replace("-", "")))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    verdicts = {r["id"]: r["verdict"] for r in report["requirements"]}
    assert {k for k, v in verdicts.items() if v == "fail"} == {rid}, f"{name}: {verdicts}"
    assert not any(v == "error" for v in verdicts.values())


@pytest.mark.parametrize("name", ["cew-one-channel", "long-scan-interval"])
def test_act001_judges_each_source_by_the_channels_it_advertises_on(name, tmp_path):
    """A CEW and holster on channel 37 only fail ACT-001 (a camera that scans continuously in
    long intervals, as the Core Specification allows, sits on 38 or 39 longer than the limit);
    such a camera (long-scan-interval, conformant) passes it with sources on all three."""
    proc = _run(tmp_path / "run", "--profile", name, "--seed", "0", "--no-pdf", "--select", "act001_every_source")
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    verdicts = {r["id"]: r["verdict"] for r in report["requirements"] if r["verdict"] != "not-tested"}
    assert verdicts == {"ACT-001": "fail" if PROFILES[name].violates else "pass"}, proc.stdout
    act = next(r for r in report["requirements"] if r["id"] == "ACT-001")
    maps = [m for m in act["measurements"] if "on 37, 38 and 39" in m["name"]]
    assert len(maps) == 4 and all(m["verdict"] == ("fail" if PROFILES[name].violates else "pass") for m in maps)


def test_each_exposure_fails_under_the_strict_policy(tmp_path):
    """Each exposure requirement on a profile its attack works on: informative by default (the
    reference run above), a failure under a policy that requires authenticated triggers and
    in-car messages."""
    select = " or ".join(rid.lower().replace("-", "") for rid in sorted(EXPOSURES))
    proc = _run(tmp_path / "run", "--profile", EXPOSED_ON, "--seed", "0", "--no-pdf", "--select", select, "--policy", str(STRICT))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert {r["id"]: r["verdict"] for r in report["requirements"] if r["verdict"] != "not-tested"} == dict.fromkeys(EXPOSURES, "fail")
    assert report["policy"]["name"] == "Authenticated triggers and in-car messages required" and report["policy"]["sha256"]
    assert {e["requirement"] for e in report["exposures"] if e["worked"] and e["verdict"] == "fail" and e["informative"]} == EXPOSURES


@pytest.mark.matrix
@pytest.mark.parametrize("name", [n for n in PROFILES if n not in ("reference", "short-buffer")])
def test_each_profile_fails_exactly_what_it_declares(name, tmp_path):
    """The whole suite on every other built-in profile (make test-matrix): exactly the declared
    requirements fail, every other one passes."""
    proc = _run(tmp_path / "run", "--profile", name, "--seed", "0", "--no-pdf")
    _fails_exactly_what_it_declares(name, proc.returncode, proc.stdout + proc.stderr, tmp_path / "run")
