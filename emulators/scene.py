"""Scenes: who stands where, which cruiser belongs to whom, and the virtual incident runner
that builds every emulator on one air and one loop."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from pathlib import Path

from emulators.air import Air, PathLossModel, radio
from emulators.bwc import BwcEmulator
from emulators.camera import CameraCore, CameraIdentity
from emulators.cew import CewEmulator
from emulators.clock import DeviceClock, SceneClock
from emulators.dvr import DvrEmulator
from emulators.encode_farm import EncodeFarm
from emulators.profiles import Profile


@dataclass(frozen=True)
class OfficerSpec:
    name: str
    position: tuple[float, float]
    bwc_serial: str
    cew_serial: str | None = None
    vehicle: str | None = None


@dataclass(frozen=True)
class VehicleSpec:
    vehicle_id: str
    position: tuple[float, float]
    dvr_serial: str
    officer: str  # whose BWC the DVR is paired with


@dataclass(frozen=True)
class SceneSpec:
    name: str
    officers: tuple[OfficerSpec, ...]
    vehicles: tuple[VehicleSpec, ...]
    source_officer: str  # who carries the CEW that fires
    ready_s: float = 60.5  # cameras READY this long before the stimulus (mid-GOP on purpose)
    post_event_s: float = 30.0  # recording kept after the stimulus before the operator stops
    epoch_utc_ms: int = 1_780_000_000_000  # 2026-05-28T20:26:40Z, fixed for reproducible runs

    def officer(self, name: str) -> OfficerSpec:
        for o in self.officers:
            if o.name == name:
                return o
        raise KeyError(name)

    @property
    def origin(self) -> tuple[float, float]:
        return self.officer(self.source_officer).position


def _polar(r: float, deg: float) -> tuple[float, float]:
    return (round(r * math.cos(math.radians(deg)), 3), round(r * math.sin(math.radians(deg)), 3))


def hartford() -> SceneSpec:
    """The default scene: A fires; B, C, D at 10, 25, 29 ft; E at 45 ft; cruisers of A, B
    and E parked >= 40 ft from everyone."""
    officers = (
        OfficerSpec("A", (0.0, 0.0), "X6BWC00A1", cew_serial="X87002FP4", vehicle="CAR-A"),
        OfficerSpec("B", _polar(10, 90), "X6BWC00B1", vehicle="CAR-B"),
        OfficerSpec("C", _polar(25, 200), "X6BWC00C1"),
        OfficerSpec("D", _polar(29, 320), "X6BWC00D1"),
        OfficerSpec("E", _polar(45, 30), "X6BWC00E1", vehicle="CAR-E"),
    )
    vehicles = (
        VehicleSpec("CAR-A", (-70.0, -40.0), "F3DVR00A1", "A"),
        VehicleSpec("CAR-B", (-60.0, 60.0), "F3DVR00B1", "B"),
        VehicleSpec("CAR-E", (100.0, 40.0), "F3DVR00E1", "E"),
    )
    return SceneSpec("hartford", officers, vehicles, source_officer="A")


@dataclass
class VirtualScene:
    """Every emulator of a scene on one air; must be built inside the running loop."""

    spec: SceneSpec
    profile: Profile
    out_dir: Path
    seed: int = 0
    model: PathLossModel = field(default_factory=PathLossModel)

    def __post_init__(self) -> None:
        self.clock = SceneClock(self.spec.epoch_utc_ms)
        self.air = Air(self.model, seed=self.seed)
        self.bwcs: dict[str, BwcEmulator] = {}
        self.cews: dict[str, CewEmulator] = {}
        self.dvrs: dict[str, DvrEmulator] = {}
        self.farm = EncodeFarm()

    @property
    def evidence_dir(self) -> Path:
        return self.out_dir / "evidence"

    async def build(self) -> None:
        p = self.profile
        for o in self.spec.officers:
            core = CameraCore(
                CameraIdentity(o.bwc_serial, p.bwc.model, p.bwc.firmware, p.name, "bwc"),
                DeviceClock(self.clock), p.bwc.video, p.bwc.pre_event_s, self.evidence_dir, farm=self.farm,
            )
            device = radio(self.air, f"BWC-{o.name}", o.position, kind="bwc")
            self.bwcs[o.name] = BwcEmulator(o.bwc_serial, device, p.bwc, core, vehicle_id=o.vehicle)
            if o.cew_serial:
                cew_dev = radio(self.air, f"CEW-{o.name}", o.position, kind="cew")
                self.cews[o.name] = CewEmulator(o.cew_serial, cew_dev, p.cew)
        for v in self.spec.vehicles:
            paired = self.spec.officer(v.officer).bwc_serial
            front = CameraCore(
                CameraIdentity(v.dvr_serial, p.dvr.model, p.dvr.firmware, p.name, "dvr-front"),
                DeviceClock(self.clock), p.dvr.video, p.dvr.pre_event_s, self.evidence_dir, farm=self.farm,
            )
            self.dvrs[v.vehicle_id] = DvrEmulator(v.dvr_serial, v.vehicle_id, paired, p.dvr, front, DeviceClock(self.clock))
        for dvr in self.dvrs.values():
            await dvr.start()
        network = [dvr.address for dvr in self.dvrs.values()]
        for bwc in self.bwcs.values():
            bwc.network = list(network)
            await bwc.start()
        for cew in self.cews.values():
            await cew.start()

    async def shutdown(self) -> None:
        for bwc in self.bwcs.values():
            await bwc.stop()
        for dvr in self.dvrs.values():
            await dvr.stop()
        for cew in self.cews.values():
            await cew.stop()
        await asyncio.sleep(0)
        self.farm.close()
