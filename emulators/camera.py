"""The recording core shared by body cameras and DVR cameras: READY buffering into a GOP
ring, activation into a clip, stop at the next GOP boundary, evidence metadata."""

from __future__ import annotations

import asyncio
import enum
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from emulators.clock import DeviceClock, iso_utc
from emulators.encode_farm import EncodeFarm
from emulators.video import ClipWriter, EncoderSession, Fragment, GopRing, Sensor, VideoFormat


class CameraState(enum.Enum):
    OFF = "OFF"
    READY = "READY"
    RECORDING = "RECORDING"


@dataclass
class Trigger:
    reason: str
    sender_serial: str | None
    loop_t: float
    utc_ms: int


@dataclass
class ClipRecord:
    path: Path
    metadata_path: Path
    trigger: Trigger
    stop_utc_ms: int | None = None
    first_utc_ms: int | None = None
    fragments: int = 0


@dataclass
class CameraIdentity:
    serial: str
    model: str
    firmware: str
    profile: str
    role: str  # "bwc" or "dvr-front"


@dataclass
class CameraCore:
    identity: CameraIdentity
    clock: DeviceClock
    video: VideoFormat
    pre_event_s: float
    evidence_dir: Path
    state: CameraState = CameraState.OFF
    clips: list[ClipRecord] = field(default_factory=list)
    state_log: list[tuple[float, str]] = field(default_factory=list)
    farm: EncodeFarm | None = None

    def __post_init__(self) -> None:
        self._sensor = Sensor(self.video, self.identity.serial)
        self._ring = GopRing(self.pre_event_s)
        self._session: EncoderSession | None = None
        self._writer: ClipWriter | None = None
        self._active: ClipRecord | None = None
        self._stop_requested = False
        self._task: asyncio.Task | None = None
        self.frames_encoded = 0

    # -- life cycle -----------------------------------------------------------------------
    def power_on(self) -> None:
        if self._task is None:
            self._set_state(CameraState.READY)
            self._session = EncoderSession(self.video, self._sensor)
            self._task = asyncio.get_running_loop().create_task(self._gop_loop(), name=f"gop-{self.identity.serial}")

    async def shutdown(self) -> None:
        if self._active is not None:
            self._stop_requested = True
            self._finish_gop_and_close(asyncio.get_running_loop().time())
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        self._set_state(CameraState.OFF)

    @property
    def recording(self) -> bool:
        return self.state is CameraState.RECORDING

    def activate(self, reason: str, sender_serial: str | None) -> Trigger | None:
        """Start a recording now; no-op (None) when already recording or off."""
        if self.state is not CameraState.READY:
            return None
        loop_t = asyncio.get_running_loop().time()
        trigger = Trigger(reason, sender_serial, loop_t, self.clock.utc_ms(loop_t))
        stem = f"{self.identity.serial}_{trigger.utc_ms}"
        folder = self.evidence_dir / self.identity.serial
        self._active = ClipRecord(folder / f"{stem}.mp4", folder / f"{stem}.json", trigger)
        self._stop_requested = False
        self._set_state(CameraState.RECORDING)
        buffered = self._ring.drain()
        if buffered:
            self._write(buffered)
        return trigger

    def request_stop(self) -> None:
        """Stop at the end of the current GOP (the GOP being captured is kept whole)."""
        if self._active is not None:
            self._stop_requested = True

    # -- internals ------------------------------------------------------------------------
    def _set_state(self, state: CameraState) -> None:
        self.state = state
        try:
            t = asyncio.get_running_loop().time()
        except RuntimeError:
            t = math.nan
        self.state_log.append((t, state.value))

    async def _gop_loop(self) -> None:
        loop = asyncio.get_running_loop()
        gop_start = loop.time()
        fps = self.video.fps
        while True:
            await asyncio.sleep(gop_start + 1.0 - loop.time())
            times = [self.clock.utc_ms(gop_start + i / fps) for i in range(fps)]
            await self._encode(times)
            gop_start += 1.0
            if self._stop_requested and self._active is not None:
                self._finish_gop_and_close(gop_start)

    async def _encode(self, times: list[int]) -> None:
        assert self._session is not None
        if self.farm is not None:
            fragments = await self.farm.encode(self._session, times, self.clock.unset)
        else:
            fragments = self._session.encode_gop(times, self.clock.unset)
        self.frames_encoded += len(times)
        self._route(fragments, live_edge_utc_ms=times[-1] + round(1000 / self.video.fps))

    def _route(self, fragments: list[Fragment], live_edge_utc_ms: int) -> None:
        if self._active is not None:
            self._write(fragments)
        else:
            for f in fragments:
                self._ring.push(f, live_edge_utc_ms)

    def _write(self, fragments: list[Fragment]) -> None:
        assert self._active is not None and self._session is not None
        if not fragments:
            return
        if self._writer is None:
            self._writer = ClipWriter(self._active.path, self._session.init_segment)
        self._writer.write(fragments)

    def _finish_gop_and_close(self, loop_t: float) -> None:
        assert self._session is not None and self._active is not None
        self._write(self._session.close())
        clip = self._active
        if self._writer is not None:
            self._writer.close()
            clip.first_utc_ms = self._writer.first_utc_ms
            clip.fragments = self._writer.fragments
        clip.stop_utc_ms = self.clock.utc_ms(loop_t)
        self._write_metadata(clip)
        self.clips.append(clip)
        self._active = None
        self._writer = None
        self._stop_requested = False
        self._session = EncoderSession(self.video, self._sensor)
        self._ring.clear()
        if self.state is CameraState.RECORDING:
            self._set_state(CameraState.READY)

    def _write_metadata(self, clip: ClipRecord) -> None:
        ident = self.identity
        meta = {
            "schema": "bwc-evidence-metadata/1",
            "device_serial": ident.serial,
            "model": ident.model,
            "firmware": ident.firmware,
            "profile": ident.profile,
            "role": ident.role,
            "clip": clip.path.name,
            "trigger_reason": clip.trigger.reason,
            "trigger_sender_serial": clip.trigger.sender_serial,
            "trigger_utc": iso_utc(clip.trigger.utc_ms),
            "start_utc": iso_utc(clip.first_utc_ms) if clip.first_utc_ms is not None else None,
            "stop_utc": iso_utc(clip.stop_utc_ms) if clip.stop_utc_ms is not None else None,
            "pre_event_configured_s": self.pre_event_s,
            "clock_state": "unset" if self.clock.unset else "set",
            "video": {"width": self.video.width, "height": self.video.height, "fps": self.video.fps, "codec": "h264"},
            "fragments": clip.fragments,
        }
        clip.metadata_path.parent.mkdir(parents=True, exist_ok=True)
        clip.metadata_path.write_text(json.dumps(meta, indent=2) + "\n")
