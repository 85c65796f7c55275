"""A run that did not finish is never PASS (issue 11): `bwc run` is interrupted by a real
SIGINT or SIGTERM early, while a scene writes its clips, and while the report is written up;
the disk fills during a scene; the output folder cannot be written. Each time the run is
INCOMPLETE (exit 1), what was measured is kept, every requirement scheduled but not run says
"run interrupted", and the partial run is signed over files that no longer change."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bwc.cli import main
from bwc.interrupts import RunAborted, RunInterrupted, RunSignals
from tests.reports.test_report_content import visible_text

REPO = Path(__file__).resolve().parents[1]
TIMEOUT_S = 120


class RunningBwc:
    """`bwc run` as a child process whose output lines are read as they come."""

    def __init__(self, out: Path, conf: Path, select: str, env: dict | None = None, args: tuple[str, ...] = ()) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bwc", "run", "--no-pdf", "--out", str(out), "--select", select, *args], cwd=REPO, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, "BWC_CONFIG_DIR": str(conf), "BWC_SIGNING_KEY": "", **(env or {})})
        self._readers = [threading.Thread(target=self._read, args=(s,), daemon=True) for s in (self.proc.stdout, self.proc.stderr)]
        for t in self._readers:
            t.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line)

    def wait_for(self, ready: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + TIMEOUT_S
        while not ready():
            assert self.proc.poll() is None, f"bwc run ended before {what}:\n{self.output}"
            assert time.monotonic() < deadline, f"no {what} within {TIMEOUT_S} s:\n{self.output}"
            time.sleep(0.01)

    def saw(self, needle: str) -> bool:
        return any(needle in line for line in self.lines)

    def finish(self) -> int:
        code = self.proc.wait(timeout=TIMEOUT_S)
        for t in self._readers:
            t.join(timeout=10)
        return code

    @property
    def output(self) -> str:
        return "".join(self.lines)


def _verify(out: Path, conf: Path, capsys, monkeypatch) -> tuple[int, str]:
    monkeypatch.setenv("BWC_CONFIG_DIR", str(conf))  # the harness key that signed it is trusted
    monkeypatch.delenv("BWC_SIGNING_KEY", raising=False)
    capsys.readouterr()
    code = main(["verify", str(out)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _incomplete_and_signed(out: Path, conf: Path, code: int, output: str, capsys, monkeypatch) -> dict:
    """What every interrupted run must show; returns its report.json."""
    assert code == 1, output
    assert "Traceback" not in output, output
    assert "overall INCOMPLETE" in output, output
    report = json.loads((out / "report.json").read_text())
    results = json.loads((out / "results.json").read_text())
    assert report["summary"]["overall"] == "incomplete"
    assert report["run"]["interrupted"] == results["interrupted"] and results["interrupted"]["reason"]
    assert "Overall: INCOMPLETE" in visible_text((out / "report.html").read_text())
    assert not (out / ".bwc-reserve").exists()
    verified, text = _verify(out, conf, capsys, monkeypatch)
    assert verified == 0, text
    return report


def _requirement(report: dict, rid: str) -> dict:
    return next(r for r in report["requirements"] if r["id"] == rid)


def _mp4_in(out: Path) -> Callable[[], bool]:
    return lambda: any(out.rglob("*.mp4"))


# every moment, each signal at two of them (each run costs seconds); the handlers are the same
# for both signals (test_signal_policy_first_stops_later_ones_wait_or_abort)
@pytest.mark.parametrize("sig", [signal.SIGINT], ids=["SIGINT"])
def test_interrupted_early(tmp_path, sig, capsys, monkeypatch):
    out, conf = tmp_path / "run", tmp_path / "conf"
    run = RunningBwc(out, conf, "test_act006")
    run.wait_for(lambda: run.saw("bwc run: target="), "start of the suite")
    run.proc.send_signal(sig)
    report = _incomplete_and_signed(out, conf, run.finish(), run.output, capsys, monkeypatch)
    assert report["run"]["interrupted"]["signal"] == sig.name
    act006 = _requirement(report, "ACT-006")
    assert (act006["verdict"], act006["why"]) == ("error", "run interrupted"), "scheduled, never measured: not neutral"
    assert "ACT-006" in report["summary"]["not_measured"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_while_a_scene_writes_its_clips(tmp_path, sig, capsys, monkeypatch):
    """The clip writers are open when the signal comes: the run is signed only after every
    one closed (bwc verify would find a clip that changed after hashing)."""
    out, conf = tmp_path / "run", tmp_path / "conf"
    run = RunningBwc(out, conf, "test_act006 or test_res001")
    run.wait_for(_mp4_in(out / "evidence"), "clip being written")
    run.proc.send_signal(sig)
    report = _incomplete_and_signed(out, conf, run.finish(), run.output, capsys, monkeypatch)
    stop = report["run"]["interrupted"]
    assert (stop["signal"], stop["phase"], stop["during"]) == (sig.name, "measuring", "test_evidence.py::test_res001_minimum_resolution")
    assert _requirement(report, "ACT-006")["verdict"] == "pass", "what was measured before the signal is kept"
    res = _requirement(report, "RES-001")
    assert (res["verdict"], res["why"]) == ("error", "run interrupted")
    assert _requirement(report, "FMT-001")["why"] == "not in this suite"
    assert _requirement(report, "PRE-001")["why"] == "not selected for this run"
    assert any(a["path"].endswith(".mp4") for a in report["artifacts"]), "the clips written so far are kept and signed"


def test_interrupted_parallel_run_while_a_worker_writes_its_clips(tmp_path, capsys, monkeypatch):
    """bwc run --jobs 2: the controller is signalled while one worker writes the main scene's
    clips and the other has finished the allow-list scene. The workers are stopped before the
    run is signed (verify would find a clip that changed after hashing), the finished
    requirement keeps its verdict, and the one cut short says "run interrupted"."""
    out, conf = tmp_path / "run", tmp_path / "conf"
    run = RunningBwc(out, conf, "test_act006 or test_res001", args=("--jobs", "2"))
    run.wait_for(lambda: run.saw("test_act006_allow_list") and _mp4_in(out / "evidence")(), "ACT-006 done and a main-scene clip being written")
    run.proc.send_signal(signal.SIGTERM)
    report = _incomplete_and_signed(out, conf, run.finish(), run.output, capsys, monkeypatch)
    stop = report["run"]["interrupted"]
    assert (stop["signal"], stop["phase"], stop["during"]) == ("SIGTERM", "measuring", "test_evidence.py::test_res001_minimum_resolution")
    assert _requirement(report, "ACT-006")["verdict"] == "pass", "what a worker measured before the signal is kept"
    assert (_requirement(report, "RES-001")["verdict"], _requirement(report, "RES-001")["why"]) == ("error", "run interrupted")
    assert not [p for p in out.iterdir() if p.name.startswith("gw")], "the workers wrote into the run's folder"


@pytest.mark.parametrize("sig", [signal.SIGTERM], ids=["SIGTERM"])
def test_interrupted_while_the_report_is_written(tmp_path, sig, capsys, monkeypatch):
    """Every test ran and report.json already says PASS when the signal comes: it is rewritten
    as INCOMPLETE before anything is signed."""
    out, conf = tmp_path / "run", tmp_path / "conf"
    run = RunningBwc(out, conf, "test_act006", env={"BWC_PAUSE_BEFORE_SIGNING": "60"})
    run.wait_for(lambda: run.saw("before signing"), "pause before signing")
    assert json.loads((out / "report.json").read_text())["summary"]["overall"] == "pass"
    run.proc.send_signal(sig)
    report = _incomplete_and_signed(out, conf, run.finish(), run.output, capsys, monkeypatch)
    assert report["run"]["interrupted"]["phase"] == "writing the report"
    assert _requirement(report, "ACT-006")["verdict"] == "pass" and report["summary"]["not_measured"] == []


def test_signal_policy_first_stops_later_ones_wait_or_abort():
    """Real signals to this process with bwc run's handlers: measuring, the first stops the
    suite and later ones let the scene close its clips; writing the report, the first is
    noted and a second aborts (nothing is signed after it)."""
    signals = RunSignals()
    signals.install()
    try:
        with pytest.raises(RunInterrupted) as stopped:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        assert stopped.value.signal_name == "SIGTERM"
        os.kill(os.getpid(), signal.SIGINT)  # while the scene shuts down: no exception
        time.sleep(0.05)
        signals.phase = "finalizing"
        with pytest.raises(RunAborted):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        assert [(r["signal"], r["phase"]) for r in signals.received] == [("SIGTERM", "measuring"), ("SIGINT", "measuring"), ("SIGINT", "finalizing")]
    finally:
        signals.restore()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.fixture
def tmpfs(tmp_path) -> Iterator[Callable[[str], Path]]:
    """mount(options) -> an empty tmpfs mount point (a full disk, a read-only folder)."""
    mounted: list[Path] = []

    def mount(options: str) -> Path:
        point = tmp_path / f"mnt{len(mounted)}"
        point.mkdir()
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True, text=True)
        if proc.returncode:
            pytest.fail(f"mounting a tmpfs needs root (CI runs as root): {proc.stderr.strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", str(point)], check=True)


def test_disk_full_during_a_scene_keeps_the_results(tmp_path, tmpfs, capsys, monkeypatch):
    """8 MiB + 64 KiB: the reserve bwc run claims, and almost nothing for the evidence."""
    out, conf = tmpfs("size=8256k"), tmp_path / "conf"
    run = RunningBwc(out, conf, "test_act001_every_camera or test_act006")
    report = _incomplete_and_signed(out, conf, run.finish(), run.output, capsys, monkeypatch)
    stop = report["run"]["interrupted"]
    assert stop["reason"] == "disk full" and "No space left on device" in stop["detail"]
    assert stop["during"] == "test_activation.py::test_act001_every_camera_in_range_activates"
    act001 = _requirement(report, "ACT-001")
    assert act001["verdict"] == "error" and "No space left on device" in act001["messages"][0]
    act006 = _requirement(report, "ACT-006")
    assert (act006["verdict"], act006["why"]) == ("error", "run interrupted"), "the run stops at a full disk"


def test_output_folder_that_cannot_be_written_is_refused(tmp_path, tmpfs):
    for options, problem in (("ro,size=1m", "Read-only file system"), ("size=4m", "No space left on device")):
        out = tmpfs(options)
        run = RunningBwc(out, tmp_path / "conf", "test_act006")
        assert run.finish() == 2
        errors = [line for line in run.lines if "error" in line]
        assert len(errors) == 1 and errors[0].startswith(f"bwc: error: --out {out}: cannot write there ({problem}"), run.output
        assert "Traceback" not in run.output and not any(out.iterdir())


def test_interrupted_before_the_suite_started(tmp_path, capsys, monkeypatch):
    """A real SIGINT before pytest's session began (the folder is prepared, nothing measured):
    INCOMPLETE and signed like any other interrupted run, not a bare exit 130."""
    import bwc.cli

    def signalled(*_args) -> int:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)
        raise AssertionError("the signal did not stop the run")

    monkeypatch.setattr(bwc.cli, "_run_suite", signalled)
    out, conf = tmp_path / "run", tmp_path / "conf"
    monkeypatch.setenv("BWC_CONFIG_DIR", str(conf))
    monkeypatch.setenv("BWC_SIGNING_KEY", "")
    code = main(["run", "--no-pdf", "--out", str(out), "--select", "test_act006"])
    captured = capsys.readouterr()
    report = _incomplete_and_signed(out, conf, code, captured.out + captured.err, capsys, monkeypatch)
    assert report["run"]["interrupted"]["signal"] == "SIGINT"
