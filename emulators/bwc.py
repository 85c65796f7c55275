"""Body-worn camera emulator: scans for Signal adverts, buffers and records video, tells
its cruiser's DVR over the in-car network when it starts recording."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bumble.device import Advertisement, Device

from emulators.camera import CameraCore
from emulators.incar_net import Addr, IcpEndpoint
from emulators.profiles import BwcProfile
from emulators.signal_radio import SignalAdvertiser
from protocols.incar import FLAG_ACK_REQUESTED, IncarMessage, MessageType
from protocols.signal import Event, SignalDecodeError, SignalFrame, decode_payload, find_signal_payload


@dataclass
class HeardAdvert:
    loop_t: float
    frame: SignalFrame
    rssi: int


@dataclass
class BwcEmulator:
    serial: str
    device: Device
    profile: BwcProfile
    core: CameraCore
    vehicle_id: str | None = None  # the cruiser this camera is paired with
    network: list[Addr] = field(default_factory=list)  # DVR endpoints on the in-car network
    heard: list[HeardAdvert] = field(default_factory=list)
    decode_errors: int = 0

    def __post_init__(self) -> None:
        self.adv = SignalAdvertiser(self.device, self.serial)
        self._pending_activation: asyncio.TimerHandle | None = None
        self._status_task: asyncio.Task | None = None
        self._icp: IcpEndpoint | None = None
        self._acked: set[int] = set()
        self._seq = 0

    async def start(self) -> None:
        await self.device.power_on()
        self.device.on("advertisement", self._on_advertisement)
        await self.device.start_scanning(
            active=False,
            filter_duplicates=False,
            scan_interval=self.profile.scan_interval_ms,
            scan_window=self.profile.scan_window_ms,
        )
        await self.adv.advertise(SignalFrame.for_event(self.serial, Event.CAMERA_PRESENCE), self.profile.presence_interval_ms)
        self._icp = await IcpEndpoint.open(self.serial, self._on_icp)
        self.core.power_on()

    async def stop(self) -> None:
        if self._status_task:
            self._status_task.cancel()
        await self.device.stop_scanning()
        await self.adv.stop()
        await self.core.shutdown()
        if self._icp:
            self._icp.close()

    # -- Signal ---------------------------------------------------------------------------
    def _on_advertisement(self, advertisement: Advertisement) -> None:
        try:
            payload = find_signal_payload(advertisement.data_bytes)
            if payload is None:
                return
            frame = decode_payload(payload)
        except SignalDecodeError:
            self.decode_errors += 1
            return
        loop = asyncio.get_running_loop()
        self.heard.append(HeardAdvert(loop.time(), frame, advertisement.rssi))
        if not self.profile.signal_enabled or not frame.activates_cameras:
            return
        if self.core.recording or self._pending_activation is not None:
            return
        reason = frame.event.name if frame.event else "UNKNOWN"
        self._pending_activation = loop.call_later(
            self.profile.activation_delay_s, self._activate, reason, frame.serial
        )

    def _activate(self, reason: str, sender: str | None) -> None:
        self._pending_activation = None
        trigger = self.core.activate(reason, sender)
        if trigger is None:
            return
        loop = asyncio.get_running_loop()
        self._status_task = loop.create_task(self._status_burst())
        if self.profile.notify_dvr and self.vehicle_id is not None:
            loop.create_task(self._notify_dvrs(trigger.utc_ms, reason))

    async def _status_burst(self) -> None:
        p = self.profile
        await self.adv.advertise(SignalFrame.for_event(self.serial, Event.CAMERA_RECORDING_STARTED), p.status_interval_ms)
        await asyncio.sleep(p.status_burst_s)
        await self.adv.advertise(SignalFrame.for_event(self.serial, Event.CAMERA_PRESENCE), p.presence_interval_ms)

    # -- buttons ---------------------------------------------------------------------------
    def press_record(self) -> None:
        self._activate("BUTTON", None)

    def press_stop(self) -> None:
        self.core.request_stop()

    # -- in-car network --------------------------------------------------------------------
    async def _notify_dvrs(self, utc_ms: int, reason: str) -> None:
        """Announce the recording on the in-car network; repeat until the paired DVR
        acknowledges (3 tries, 200 ms apart)."""
        assert self._icp is not None and self.vehicle_id is not None
        self._seq = (self._seq + 1) & 0xFFFF
        seq = self._seq
        event = Event[reason] if reason in Event.__members__ else None
        message = IncarMessage(
            MessageType.RECORDING_STARTED, self.serial, self.vehicle_id, utc_ms, seq,
            event.source_class.value if event else 0, event.code if event else 0, FLAG_ACK_REQUESTED,
        )
        for _ in range(3):
            for addr in self.network:
                self._icp.send(message, addr)
            await asyncio.sleep(0.2)
            if seq in self._acked:
                return

    def _on_icp(self, message: IncarMessage, addr: Addr) -> None:
        if message.type is MessageType.ACK and message.vehicle_id == self.vehicle_id:
            self._acked.add(message.sequence)
