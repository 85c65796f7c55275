"""The virtual runner: every emulator of a scene (emulators/scene.py) on one air and one
loop, built, played step by step and shut down."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from emulators.air import Air, PathLossModel, radio
from emulators.attacker import Attacker
from emulators.bwc import BwcEmulator
from emulators.camera import CameraCore, CameraIdentity, Recording
from emulators.clock import DeviceClock, SceneClock
from emulators.dvr import DvrEmulator
from emulators.profiles import ClockSpec, Profile, get_profile
from emulators.scene import SceneSpec, Step, validate_scene
from emulators.scene_actions import ACTIONS
from emulators.scene_schema import rear_serial, signal_serial
from emulators.signal_source import SignalSourceEmulator
from emulators.video import VideoFormat
from protocols.signal import SourceClass


@dataclass
class StepResult:
    step: Step
    loop_t: float
    utc_ms: int
    outcome: str = "done"


def _device_clock(scene: SceneClock, spec: ClockSpec) -> DeviceClock:
    return DeviceClock(scene, spec.offset_s, spec.drift_ppm, spec.unset, spec.synced_h_before)


@dataclass
class VirtualScene:
    """Every emulator of a scene on one air; build() and play() run inside the loop."""

    spec: SceneSpec
    profile: Profile
    out_dir: Path
    seed: int = 0
    model: PathLossModel = field(default_factory=PathLossModel)
    video_override: VideoFormat | None = None  # radio-only trials (sweeps) record small video

    def __post_init__(self) -> None:
        self.clock = SceneClock(self.spec.epoch_utc_ms)
        air = self.spec.air
        if air is not None:
            self.model = replace(self.model, shadowing_sigma_db=air.shadowing_sigma_db, capture_db=air.capture_db)
        self.air = Air(self.model, seed=self.seed, obstacles=air.obstacles if air else ())
        self.bwcs: dict[str, BwcEmulator] = {}
        self.sources: dict[tuple[str, str], SignalSourceEmulator] = {}  # (officer, "cew"|"holster")
        self.dvrs: dict[str, DvrEmulator] = {}
        self.results: list[StepResult] = []
        # (officer, since loop time) -> loop time the harness heard the officer's camera announce
        # a recording (None: never); the target that runs the scene sets it
        self.heard: Callable[[str, float], Awaitable[float | None]] | None = None
        self._profiles: dict[str, Profile] = {}
        self.powered_on: dict[str, float] = {}  # radio name -> loop time it was switched on
        self.attackers: dict[str, Attacker] = {}
        self._background: list[asyncio.Task] = []
        validate_scene(self.spec)

    @property
    def evidence_dir(self) -> Path:
        return self.out_dir / "evidence"

    def profile_of(self, ref: str | None) -> Profile:
        """A device's profile: its own (a scene naming several vendors) or the scene's."""
        if ref is None:
            return self.profile
        if ref not in self._profiles:
            self._profiles[ref] = get_profile(ref)
        return self._profiles[ref]

    def _camera(self, serial: str, role: str, rec: Recording, clock: DeviceClock, p: Profile) -> CameraCore:
        vendor = p.bwc if role == "bwc" else p.dvr
        return CameraCore(CameraIdentity(serial, vendor.model, vendor.firmware, role), clock, rec, self.evidence_dir)

    def background(self, work: Coroutine[Any, Any, object]) -> None:
        """Work a step starts and the timeline does not wait for (an attack); cancelled at shutdown."""
        self._background.append(asyncio.get_running_loop().create_task(work))

    async def build(self) -> None:
        for a in self.spec.attackers:
            self.attackers[a.name] = Attacker(self.air, f"ATTACKER-{a.name}", a.position, tx_power_db=a.tx_power_db)
        for o in self.spec.officers:
            p = self.profile_of(o.profile)
            b = p.bwc
            if o.bwc_serial:
                clock = _device_clock(self.clock, b.clock)
                core = self._camera(o.bwc_serial, "bwc", Recording.of_bwc(b, self.video_override), clock, p)
                device = radio(self.air, f"BWC-{o.name}", o.path, kind="bwc", rx_gain_db=b.rx_gain_db)
                self.bwcs[o.name] = BwcEmulator(o.bwc_serial, device, b, core, vehicle_id=o.vehicle)
            if o.cew_serial:
                dev = radio(self.air, f"CEW-{o.name}", o.path, kind="cew", tx_power_db=p.cew.tx_power_dbm)
                self.sources[(o.name, "cew")] = SignalSourceEmulator(o.cew_serial, dev, p.cew, SourceClass.CEW)
            if o.holster_serial:
                dev = radio(self.air, f"HOLSTER-{o.name}", o.path, kind="holster", tx_power_db=p.holster.tx_power_dbm)
                self.sources[(o.name, "holster")] = SignalSourceEmulator(o.holster_serial, dev, p.holster, SourceClass.HOLSTER)
        vehicles = self.spec.vehicles
        for i, v in enumerate(vehicles):
            p = self.profile_of(v.profile)
            d = p.dvr
            # cross-wired (defect): configured with the next vehicle's id and camera, as if its
            # settings were copied from that car's unit
            pairing = vehicles[(i + 1) % len(vehicles)] if d.cross_wired else v
            paired = self.spec.officer(pairing.officer).bwc_serial if pairing.officer else None
            clock = _device_clock(self.clock, d.clock)
            front = self._camera(v.dvr_serial, "dvr-front", Recording.of_dvr(d, "front", self.video_override), clock, p)
            rear_cam = self._camera(rear_serial(v.dvr_serial), "dvr-rear", Recording.of_dvr(d, "rear", self.video_override), clock, p)
            where = v.path if v.path is not None else v.position
            unit = SignalSourceEmulator(v.signal_serial or signal_serial(v.dvr_serial), radio(self.air, f"SIGNAL-{v.vehicle_id}", where, kind="vehicle",
                                                             tx_power_db=d.signal.tx_power_dbm), d.signal, SourceClass.VEHICLE)
            self.dvrs[v.vehicle_id] = DvrEmulator(v.dvr_serial, pairing.vehicle_id, paired, d, front, rear_cam, clock, unit)
        for dvr in self.dvrs.values():
            await dvr.start()
        network = [dvr.address for dvr in self.dvrs.values()]
        # boot spread: every advertiser powers on at its own seeded instant (cameras in one
        # scene are not switched on in the same microsecond)
        spread = random.Random(f"boot {self.seed}")

        async def powered_on(start: Callable[[], Awaitable[None]], name: str) -> None:
            delay = spread.uniform(0.0, self.spec.boot_spread_s) if self.spec.boot_spread_s else 0.0
            if delay:
                await asyncio.sleep(delay)
            self.powered_on[name] = asyncio.get_running_loop().time()
            await start()

        starts = []
        for bwc in self.bwcs.values():
            bwc.network = list(network)
            starts.append(powered_on(bwc.start, bwc.device.name))
        await asyncio.gather(*starts)
        for v in self.spec.vehicles:
            dvr = self.dvrs[v.vehicle_id]
            d = self.profile_of(v.profile).dvr
            if d.group_mode:
                members = list(v.group) or ([v.officer] if v.officer else [])
                for name in members[: d.group_max_bwc]:
                    if name not in self.bwcs:
                        continue
                    bwc = self.bwcs[name]
                    bwc.group_member = True
                    bwc.vehicle_id = v.vehicle_id
                    bwc._group_dvr = dvr.address
                    dvr.group_members[bwc.serial] = bwc.icp_address
        if self.spec.boot_spread_s:
            await asyncio.gather(*(powered_on(src.start, src.device.name) for src in self.sources.values()))
        else:
            for src in self.sources.values():
                await src.start()

    async def play(self) -> list[StepResult]:
        loop = asyncio.get_running_loop()
        anchored: list[asyncio.Task] = []
        try:
            for step in self.spec.timeline:
                delay = step.t - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                if step.anchor is not None:
                    anchored.append(loop.create_task(self._anchored(step)))
                    continue
                outcome = await self._do(step)
                self.results.append(StepResult(step, loop.time(), self.clock.utc_ms(), outcome))
            remaining = self.spec.end_s - loop.time()
            if remaining > 0:
                await asyncio.sleep(remaining)
        finally:
            await _settle(anchored)
        return self.results

    async def _anchored(self, step: Step) -> None:
        """Wait for the harness to hear the anchor camera announce a recording (``heard``,
        set by the target that runs the scene), then act ``delay_s`` later."""
        assert step.anchor is not None
        loop = asyncio.get_running_loop()
        who, delay_s = step.anchor
        heard_at = await self.heard(who, loop.time()) if self.heard is not None else None
        outcome = "done"
        if heard_at is None:
            outcome = f"anchor not heard: {who} announced no recording"
            heard_at = loop.time()
        wait = heard_at + delay_s - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        done = await self._do(step)
        self.results.append(StepResult(step, loop.time(), self.clock.utc_ms(), outcome if outcome != "done" else done))

    async def _do(self, step: Step) -> str:
        return await ACTIONS[step.action].run(self, step)

    def all_cameras(self) -> list[CameraCore]:
        cams = [b.core for b in self.bwcs.values()]
        for d in self.dvrs.values():
            cams += d.cameras
        return cams

    async def shutdown(self) -> None:
        """Stop every device; every clip writer is joined even when a device fails to stop or
        the run is interrupted (a run is hashed only after every writer is done)."""
        failure: Exception | None = None
        for task in self._background:
            task.cancel()
        for a in self.attackers.values():
            a.icp.close()
        stops = [b.stop for b in self.bwcs.values()] + [d.stop for d in self.dvrs.values()] + [s.stop for s in self.sources.values()]
        for stop in stops:
            try:
                await stop()
            except Exception as exc:  # the others still stop; raised below
                failure = failure or exc
        for cam in (c for c in self.all_cameras() if c.active_clip is not None):  # its device failed to stop
            await cam.shutdown()
        await asyncio.sleep(0)
        if failure is not None:
            raise failure


async def _settle(tasks: list[asyncio.Task]) -> None:
    """Cancel the anchored steps still waiting and collect every outcome, also when the scene
    is interrupted (a signal that landed in one of them has already stopped the run: its
    exception is retrieved here, not left for the loop to print as never retrieved)."""
    for task in tasks:
        if not task.done():
            task.cancel()
    with contextlib.suppress(BaseException):
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in tasks:
        if task.done() and not task.cancelled():
            task.exception()
