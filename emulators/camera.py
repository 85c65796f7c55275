"""The recording core shared by body cameras and DVR cameras.

States: OFF, SLEEP, READY (buffering), RECORDING, DOCKED. While the camera captures (READY
or RECORDING) a GOP loop closes one GOP of gop_s (1 s by default) at a time, aligned to the
moment capture began. READY keeps the pre-event buffer (emulators/gop_ring.py: whole GOPs
reaching back at least the pre-event time, or exactly the pre-event time in frames);
activation turns buffer + what follows into a clip written GOP by GOP; a stop ends the clip at
the next GOP boundary. A power cut keeps what a real-time muxer had closed (every complete
GOP) and, for a camera that flushes its file only at intervals, only what it flushed.

Ring encoding: the ring holds the captured GOPs' frame times and encodes them only when they
become part of a clip: GOPs evicted unobserved are never encoded. The clip is the same H.264
of the same frames an encoder running all the time would write; the emulator just skips work
nobody can observe. A ring sized in bytes counts every GOP at the size the encoder really
spends on a GOP of that format and scene complexity (measured once by encoding, cached).

Every frame also records what the harness's reference clock display showed at the capture
instant (true UTC, refreshed at 60 Hz): the camera films it, as a bench camera films
``bwc clock``, so the analyzer can measure the device clock against the harness clock from
the evidence alone (docs/timecode.md).
"""

from __future__ import annotations

import asyncio
import enum
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from emulators.audio_track import AudioSpec
from emulators.clock import DeviceClock, iso_utc
from emulators.clip_pipeline import ClipPipeline
from emulators.evidence_seal import seal_folder, signing_key
from emulators.gop_ring import GopRing
from emulators.profiles import BwcProfile, DvrProfile
from emulators.video import PendingGop, Sensor, VideoFormat, estimated_gop_bytes
from protocols.timecode import reference_display_ms


class CameraState(enum.Enum):
    OFF = "OFF"
    SLEEP = "SLEEP"
    READY = "READY"
    RECORDING = "RECORDING"
    DOCKED = "DOCKED"


@dataclass
class Trigger:
    reason: str
    sender_serial: str | None
    loop_t: float
    utc_ms: int
    from_state: str = "READY"


@dataclass
class ClipRecord:
    path: Path
    metadata_path: Path
    trigger: Trigger
    stop_utc_ms: int | None = None
    first_utc_ms: int | None = None
    fragments: int = 0
    stop_reason: str = ""
    marks: dict = field(default_factory=dict)


@dataclass
class CameraIdentity:
    serial: str
    model: str
    firmware: str
    role: str  # "bwc", "dvr-front", "dvr-rear"


@dataclass(frozen=True)
class Recording:
    """How a camera records, as its profile configures it: format, pre-event buffer, file
    writing, sound and evidence signing (one value, derived once from the profile)."""

    video: VideoFormat
    pre_event_s: float
    buffer_bytes: int | None = None  # a byte-sized ring (falls short at high bitrate)
    buffer_in_sleep: bool = False  # defect: keeps buffering while asleep
    buffer_in_dock: bool = False  # defect: keeps buffering while docked
    buffer_unit: str = "gops"  # "gops": whole GOPs >= pre_event_s; "frames": exactly pre_event_s of frames
    gop_s: float = 1.0  # GOP (and fragment) length; rounded to whole frames
    write_at_stop: bool = False  # defect: holds the clip in memory until stop (power loss loses it)
    flush_interval_s: float = 0.0  # > 0: the file is made durable only every this many s since power-on
    audio: AudioSpec | None = None  # None: no microphone
    signs_evidence: bool = True  # keeps a signed manifest of its evidence folder
    evidence_key: str = "enrolled"  # "other": signs with a valid key that is not its enrolled one
    buffer_audio: bool = False  # sound kept in the pre-event buffer (Axon default: off)
    audio_start_delay_s: float = 0.0  # buffer audio off: sound starts this long after activation

    @classmethod
    def of_bwc(cls, b: BwcProfile, video: VideoFormat | None = None) -> Recording:
        """A body camera as its profile configures it (``video``: another format, e.g. the
        small video of radio-only trials)."""
        return cls(video or b.video, b.pre_event_s, buffer_bytes=b.buffer_bytes, buffer_unit=b.buffer_unit, gop_s=b.gop_s,
                   buffer_in_sleep=b.buffer_in_sleep, buffer_in_dock=b.buffer_in_dock, write_at_stop=b.write_at_stop,
                   flush_interval_s=b.flush_interval_s, audio=AudioSpec(b.av_offset_ms, b.av_drift_ppm) if b.audio else None,
                   buffer_audio=b.buffer_audio != b.buffer_audio_ignored, audio_start_delay_s=b.audio_start_delay_s,
                   signs_evidence=b.signs_evidence, evidence_key=b.evidence_key)

    @classmethod
    def of_dvr(cls, d: DvrProfile, part: str, video: VideoFormat | None = None) -> Recording:
        """A DVR's ``part`` camera ("front" or "rear") as its profile configures it."""
        fmt, pre = (d.front_video, d.pre_event_s) if part == "front" else (d.rear_video, d.rear_pre_event_s)
        return cls(video or fmt, pre, gop_s=d.gop_s, signs_evidence=d.signs_evidence, evidence_key=d.evidence_key)


@dataclass
class CameraCore:
    identity: CameraIdentity
    clock: DeviceClock
    rec: Recording
    evidence_dir: Path
    complexity: float = 0.0  # scene complexity the sensor sees (0 calm .. 1 busy)
    state: CameraState = CameraState.OFF
    clips: list[ClipRecord] = field(default_factory=list)
    state_log: list[tuple[float, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._sensor = Sensor(self.rec.video, self.identity.serial)
        self.gop_frames = max(1, round(self.rec.gop_s * self.rec.video.fps))
        frames = round(self.rec.pre_event_s * self.rec.video.fps) if self.rec.buffer_unit == "frames" else None
        self._ring: GopRing[PendingGop] = GopRing(self.rec.pre_event_s, self.rec.buffer_bytes, frames)
        self._gop_start = 0.0  # loop time the GOP being captured began
        self._powered_at = 0.0  # loop time of power-on: the phase of a periodic file flush
        self._pipeline: ClipPipeline | None = None
        self._held: list[PendingGop] = []  # write_at_stop defect: nothing reaches the disk before stop
        self._active: ClipRecord | None = None
        self._stop_requested = False
        self._task: asyncio.Task | None = None
        self.frames_encoded = 0
        self.encode_s = 0.0

    # -- state changes ----------------------------------------------------------------------
    def power_on(self) -> None:
        if self.state is CameraState.OFF:
            self._powered_at = asyncio.get_running_loop().time()
            self._set_state(CameraState.READY)
            self._start_capture()

    async def shutdown(self) -> None:
        """Orderly power off: an active clip is closed (its GOP in progress is lost)."""
        if self._active is not None:
            self._close_clip(asyncio.get_running_loop().time(), "power-off")
        self._stop_capture()
        self._set_state(CameraState.OFF)

    def power_cut(self) -> None:
        """Abrupt power loss: nothing is flushed or closed; what was durable on disk stays."""
        if self._active is not None:
            clip = self._active
            clip.stop_reason = "power-loss"
            if self._pipeline is not None:
                now = asyncio.get_running_loop().time()
                clip.first_utc_ms, clip.fragments = self._pipeline.abandon(now, self._last_flush(now))
                self.frames_encoded += self._pipeline.frames_encoded
                self.encode_s += self._pipeline.encode_s
                self._pipeline = None
            if clip.marks.pop("delete_after_close", False):  # a clip the device would not have kept
                clip.path.unlink(missing_ok=True)
            else:
                self._write_metadata(clip)  # written by the device when it boots again
                self.clips.append(clip)
            self._active = None
        self._held = []
        self._stop_capture()
        self._set_state(CameraState.OFF)

    def _last_flush(self, now: float) -> float:
        """When the file was last made durable: now (every closed fragment is), or the last
        tick of the periodic flush since power-on."""
        f = self.rec.flush_interval_s
        if f <= 0:
            return now
        return self._powered_at + math.floor((now - self._powered_at) / f + 1e-9) * f

    def sleep(self) -> bool:
        if self.state is not CameraState.READY:
            return False
        self._set_state(CameraState.SLEEP)
        if not self.rec.buffer_in_sleep:
            self._stop_capture()
        return True

    def wake(self) -> bool:
        if self.state is not CameraState.SLEEP:
            return False
        self._set_state(CameraState.READY)
        if self._task is None:
            self._start_capture()
        return True

    def dock(self) -> bool:
        if self.state in (CameraState.OFF, CameraState.DOCKED):
            return False
        if self._active is not None:
            self._close_clip(asyncio.get_running_loop().time(), "docked")
        if not self.rec.buffer_in_dock:
            self._stop_capture()
        self._set_state(CameraState.DOCKED)
        return True

    def undock(self) -> bool:
        if self.state is not CameraState.DOCKED:
            return False
        self._set_state(CameraState.READY)
        if self._task is None:
            self._start_capture()
        return True

    @property
    def recording(self) -> bool:
        return self.state is CameraState.RECORDING

    @property
    def active_clip(self) -> ClipRecord | None:
        return self._active

    def activate(self, reason: str, sender_serial: str | None, *, from_sleep: bool = False) -> Trigger | None:
        """Start a recording now. From READY the clip starts with the ring; from SLEEP (only
        when ``from_sleep``, i.e. the record button) capture starts now, so there is no
        pre-event footage unless the camera (wrongly) kept buffering. None when the camera
        cannot start (off, docked, already recording, asleep without from_sleep)."""
        if self.state is CameraState.SLEEP and from_sleep:
            pass
        elif self.state is not CameraState.READY:
            return None
        loop_t = asyncio.get_running_loop().time()
        from_state = self.state.value
        trigger = Trigger(reason, sender_serial, loop_t, self.clock.utc_ms(loop_t), from_state)
        stem = f"{self.identity.serial}_{trigger.utc_ms}"
        folder = self.evidence_dir / self.identity.serial
        self._active = ClipRecord(folder / f"{stem}.mp4", folder / f"{stem}.json", trigger)
        self._stop_requested = False
        self._set_state(CameraState.RECORDING)
        if self._task is None:  # capture was stopped (asleep): it starts now
            self._start_capture()
        self._pipeline = ClipPipeline(self.identity.serial, self.rec.video, self._sensor, self._active.path, self.rec.audio, self.gop_frames,
                                      loop_t)
        for gop in self._ring.drain(self._captured_in_gop(loop_t)):
            self._queue(gop, loop_t)
        return trigger

    def request_stop(self, reason: str = "stop") -> bool:
        """Stop at the end of the current GOP (the GOP being captured is kept whole)."""
        if self._active is None:
            return False
        self._stop_requested = True
        self._active.stop_reason = reason
        return True

    def mark(self, **marks) -> None:
        """Annotate the active clip (e.g. false_signal=True); written into its metadata."""
        if self._active is not None:
            self._active.marks.update(marks)

    # -- capture ------------------------------------------------------------------------------
    def _set_state(self, state: CameraState) -> None:
        self.state = state
        try:
            t = asyncio.get_running_loop().time()
        except RuntimeError:
            t = math.nan
        self.state_log.append((t, state.value))

    def _start_capture(self) -> None:
        self._ring.clear()
        loop = asyncio.get_running_loop()
        self._gop_start = loop.time()
        self._task = loop.create_task(self._gop_loop(), name=f"gop-{self.identity.serial}")

    def _stop_capture(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._ring.clear()

    def _captured_in_gop(self, loop_t: float) -> int:
        """Frames of the GOP in progress captured by loop_t (its key frame at its start)."""
        fps = self.rec.video.fps
        return min(self.gop_frames, math.floor((loop_t - self._gop_start) * fps + 1e-6) + 1)

    async def _gop_loop(self) -> None:
        loop = asyncio.get_running_loop()
        fps = self.rec.video.fps
        n = self.gop_frames
        length = n / fps
        scene = self.clock.scene
        while True:
            gop_start = self._gop_start
            await asyncio.sleep(gop_start + length - loop.time())
            instants = [gop_start + i / fps for i in range(n)]
            times = [self.clock.utc_ms(t) for t in instants]
            references = tuple(reference_display_ms(scene.epoch_utc_ms + t * 1000.0) for t in instants)
            edge = self.clock.utc_ms(gop_start + length)
            self._gop_start = gop_start + length  # the next GOP's key frame is captured now: this GOP's fragment closes
            gop = PendingGop(times[0], edge, tuple(times), self.clock.unset, self.complexity, self._audible_from(times[0]),
                             estimated_gop_bytes(self.rec.video, self.complexity, self.rec.audio, n) if self.rec.buffer_bytes is not None else 0,
                             references)
            if self._active is not None:
                self._queue(gop, self._gop_start)
                if self._stop_requested:
                    self._close_clip(self._gop_start, self._active.stop_reason or "stop")
                continue
            self._ring.push(gop, edge)

    def _audible_from(self, gop_start_ms: int) -> int | None:
        """Sound policy for a GOP: always while recording (from the activation instant for the
        GOP in progress at activation); in the buffer only when buffer_audio is on."""
        if self.rec.audio is None:
            return None
        if self.rec.buffer_audio:
            return gop_start_ms
        if self._active is not None:
            return max(gop_start_ms, self._active.trigger.utc_ms + round(self.rec.audio_start_delay_s * 1000))
        return None

    # -- clips ----------------------------------------------------------------------------------
    def _queue(self, gop: PendingGop, loop_t: float) -> None:
        """Hand a captured GOP to the clip's writer at loop_t (held back until stop by the
        write_at_stop defect)."""
        assert self._pipeline is not None
        if self.rec.write_at_stop:
            self._held.append(gop)
            return
        self._pipeline.encode(gop, loop_t)

    def _close_clip(self, loop_t: float, reason: str) -> None:
        assert self._active is not None and self._pipeline is not None
        for gop in self._held:
            self._pipeline.encode(gop, loop_t)
        self._held = []
        clip = self._active
        clip.stop_reason = clip.stop_reason or reason
        clip.first_utc_ms, clip.fragments = self._pipeline.finish()
        self.frames_encoded += self._pipeline.frames_encoded
        self.encode_s += self._pipeline.encode_s
        self._pipeline = None
        clip.stop_utc_ms = self.clock.utc_ms(loop_t)
        if clip.marks.pop("delete_after_close", False):  # defect: the device deletes the clip
            clip.path.unlink(missing_ok=True)
        else:
            self._write_metadata(clip)
            self.clips.append(clip)
        self._active = None
        self._stop_requested = False
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
            "role": ident.role,
            "clip": clip.path.name,
            "trigger_reason": clip.trigger.reason,
            "trigger_sender_serial": clip.trigger.sender_serial,
            "trigger_from_state": clip.trigger.from_state,
            "trigger_utc": iso_utc(clip.trigger.utc_ms),
            "start_utc": iso_utc(clip.first_utc_ms) if clip.first_utc_ms is not None else None,
            "stop_utc": iso_utc(clip.stop_utc_ms) if clip.stop_utc_ms is not None else None,
            "stop_reason": clip.stop_reason,
            "pre_event_configured_s": self.rec.pre_event_s,
            "clock_state": "unset" if self.clock.unset else "set",
            "video": {"width": self.rec.video.width, "height": self.rec.video.height, "fps": self.rec.video.fps, "codec": "h264"},
            "audio": {"codec": "aac", "sample_rate": 48000, "channels": 1, "in_pre_event_buffer": self.rec.buffer_audio} if self.rec.audio else None,
            "fragments": clip.fragments,
            **clip.marks,
        }
        clip.metadata_path.parent.mkdir(parents=True, exist_ok=True)
        clip.metadata_path.write_text(json.dumps(meta, indent=2) + "\n")
        if self.rec.signs_evidence:
            seal_folder(clip.metadata_path.parent, signing_key(ident.serial, self.rec.evidence_key), iso_utc(self.clock.utc_ms()))
