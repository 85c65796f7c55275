"""Cruiser DVR emulator: a front camera with its own pre-event buffer that starts when its
paired body camera announces a recording on the in-car network."""

from __future__ import annotations

from dataclasses import dataclass

from emulators.camera import CameraCore
from emulators.clock import DeviceClock
from emulators.incar_net import Addr, IcpEndpoint
from emulators.profiles import DvrProfile
from protocols.incar import IncarMessage, MessageType


@dataclass
class DvrEmulator:
    serial: str
    vehicle_id: str
    paired_bwc: str | None
    profile: DvrProfile
    front: CameraCore
    clock: DeviceClock

    def __post_init__(self) -> None:
        self.icp: IcpEndpoint | None = None
        self.ignored: list[IncarMessage] = []

    async def start(self) -> None:
        self.icp = await IcpEndpoint.open(self.serial, self._on_message)
        self.front.power_on()

    @property
    def address(self) -> Addr:
        assert self.icp is not None
        return self.icp.address

    async def stop(self) -> None:
        await self.front.shutdown()
        if self.icp:
            self.icp.close()

    def press_stop(self) -> None:
        self.front.request_stop()

    def _on_message(self, message: IncarMessage, addr: Addr) -> None:
        if message.type is not MessageType.RECORDING_STARTED:
            return
        ours = message.sender_serial == self.paired_bwc and message.vehicle_id == self.vehicle_id
        if not ours and not self.profile.accepts_any_vehicle:
            self.ignored.append(message)
            return
        if ours and self.icp is not None:
            ack = IncarMessage(MessageType.ACK, self.serial, self.vehicle_id, self.clock.utc_ms(), message.sequence)
            self.icp.send(ack, addr)
        if self.profile.follows_paired_bwc:
            self.front.activate("BWC_RECORDING_STARTED", message.sender_serial)
