"""Runs the procedures of conformance/scenarios.py on a target, once each per session, and the
ACT-001 activation-rate sweep (repeated trials until the statistical rule decides)."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from conformance.catalogue import requirement
from conformance.scenarios import MAIN, SCENARIOS, SWEEP, SWEEP_BEYOND_FT, SWEEP_IN_RANGE_FT, sweep_trial
from conformance.statistics import RateDecision, decide_rate
from emulators.profiles import Profile
from fixtures.roles import IncidentRecord
from fixtures.targets import Target


class NotOnTarget(Exception):
    """The procedure cannot run on this target (the bench plays only its incident)."""


@dataclass
class SweepBand:
    name: str
    lo_ft: float
    hi_ft: float
    activations: int = 0
    trials: int = 0
    decision: RateDecision | None = None


@dataclass
class SweepResult:
    points: list[dict]  # per distance: distance_ft, trials, activations, latencies (s)
    bands: list[SweepBand]
    trials: int
    looks: int
    alpha_per_test: float
    table: list[dict] = field(default_factory=list)


class ScenarioRunner:
    """Plays each procedure at most once per session (built for the target's declared
    configuration); failures are remembered, not retried."""

    def __init__(self, target: Target, out: Path, seed: int, on_record=None, claim: Callable[[str], None] | None = None) -> None:
        self.target = target
        self.profile = target.declared()  # what the target declares: capabilities and configuration
        self.out = out
        self.seed = seed
        self.on_record = on_record  # called with (scenario name, record) after each run
        self.claim = claim  # called with a scene's name before it plays; raises when another process played it
        self._done: dict[str, Any] = {}

    def configured(self, name: str) -> Profile:
        """The declared configuration plus what the procedure configures on the devices."""
        return SCENARIOS[name].configure(self.profile) if name in SCENARIOS else self.profile

    def run(self, name: str) -> IncidentRecord:
        if name not in SCENARIOS:
            raise KeyError(f"no scenario named {name!r}; scenarios: {', '.join(SCENARIOS)}")
        if not self.target.plays(name):
            raise NotOnTarget(f"scenario {name!r} is not part of {self.target.kind} target {self.target.name!r}'s procedure")
        if name not in self._done:
            try:
                if self.claim is not None:
                    self.claim(name)
                record = self._play(name)
                self._done[name] = record
                if self.on_record is not None:
                    self.on_record(name, record)
            except Exception as exc:  # every test that needs this scenario reports the error
                self._done[name] = exc
        outcome = self._done[name]
        if isinstance(outcome, BaseException):
            raise RuntimeError(f"scenario {name!r} could not be run: {type(outcome).__name__}: {outcome}") from outcome
        return outcome

    def _play(self, name: str) -> IncidentRecord:
        scenario = SCENARIOS[name]
        out = self.out if name == MAIN else self.out / "scenarios" / name
        return self.target.play(name, scenario.build(self.profile), scenario.configure(self.profile), out, seed=self.seed)

    # -- ACT-001 activation rate vs distance ----------------------------------------------------
    def sweep(self) -> SweepResult:
        """Independent trials (fresh air, own seed), each a CEW event with one camera at every
        sweep distance; a camera activated in a trial when its first recording-started advert
        went on the air within the ACT-001 latency limit, read from the trial's air capture
        (every PDU transmitted, collided ones kept). Not from a harness receiver: ten cameras
        that one CEW PDU starts together collide at any one receiver, and the harness's own
        arrangement would be charged to the device. Trials are added in looks until every band
        is decided (decide_rate) or the catalogue's number of looks is spent."""
        if not self.target.plays(SWEEP.name):
            raise NotOnTarget(f"the activation-rate sweep needs repeated trials, which {self.target.kind} target {self.target.name!r} does not play")
        if "sweep" not in self._done:
            try:
                if self.claim is not None:
                    self.claim(SWEEP.name)
                self._done["sweep"] = self._sweep()
            except Exception as exc:
                self._done["sweep"] = exc
        outcome = self._done["sweep"]
        if isinstance(outcome, BaseException):
            raise RuntimeError(f"the activation sweep could not be run: {type(outcome).__name__}: {outcome}") from outcome
        return outcome

    def _sweep(self) -> SweepResult:
        req = requirement("ACT-001")
        limit_s = req.main().value
        range_ft = req.parameter("range_ft")
        looks, per_look = int(req.parameter("sweep_looks")), int(req.parameter("sweep_trials_per_look"))
        bands = [SweepBand(f"{req.parameter('near_band_from_ft'):g}-{range_ft:g} ft (near the limit)", req.parameter("near_band_from_ft"), range_ft),
                 SweepBand(f"within {range_ft:g} ft", 0.0, range_ft)]
        alpha = (1 - req.parameter("confidence")) / (len(bands) * looks)
        rate = req.named("rate").value
        distances = SWEEP_IN_RANGE_FT + SWEEP_BEYOND_FT
        latencies: dict[float, list[float | None]] = {d: [] for d in distances}
        table: list[dict] = []
        profile = SWEEP.configure(self.profile)
        trial = look = 0
        for look in range(1, looks + 1):
            for _ in range(per_look):
                out = self.out / "scenarios" / "sweep" / f"trial-{trial:02d}"
                seed = self.seed * 1000 + trial
                rec = self.target.play(SWEEP.name, sweep_trial(self.profile, trial), profile, out, seed=seed)
                for cam in rec.cameras:
                    d = float(int(cam.label[1:]))
                    started = cam.status_advert_utc_ms
                    latency = None if started is None else (started - rec.stimulus_utc_ms) / 1000
                    latencies[d].append(latency)
                    table.append({"trial": trial, "seed": seed, "distance_ft": d, "camera": cam.serial,
                                  "activated": latency is not None and latency <= limit_s, "latency_s": latency})
                shutil.rmtree(out, ignore_errors=True)  # small clips nobody reads: the table is what the rule uses
                trial += 1
            for band in bands:
                rows = [r for r in table if band.lo_ft <= r["distance_ft"] <= band.hi_ft]
                band.trials, band.activations = len(rows), sum(1 for r in rows if r["activated"])
                band.decision = decide_rate(band.activations, band.trials, rate, alpha)
            if any(b.decision and b.decision.verdict == "fail" for b in bands) or all(b.decision and b.decision.verdict == "pass" for b in bands):
                break
        points = [{"distance_ft": d, "trials": len(ls), "activations": sum(1 for x in ls if x is not None and x <= limit_s),
                   "latencies_s": [x for x in ls if x is not None]} for d, ls in latencies.items()]
        result = SweepResult(points, bands, trial, look, alpha, table)
        folder = self.out / "scenarios" / "sweep"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "trials.json").write_text(json.dumps(table, indent=1) + "\n")
        return result


def sweep_summary(result: SweepResult) -> dict:
    """The sweep as plain data for results.json and the report."""
    return {"points": [{k: v for k, v in p.items() if k != "latencies_s"} for p in result.points],
            "bands": [{**{k: v for k, v in asdict(b).items() if k != "decision"}, **(asdict(b.decision) if b.decision else {})} for b in result.bands],
            "trials": result.trials, "looks": result.looks, "alpha_per_test": result.alpha_per_test}
