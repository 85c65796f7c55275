"""Cruiser DVR emulator: front and rear cameras with their own pre-event buffers, 12 V
inputs with debounce and delayed-off, a Signal Vehicle radio, the in-car link to its paired
body camera, and WatchGuard-like group recording."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

from bumble.device import Advertisement

from emulators.camera import CameraCore, CameraState
from emulators.clock import DeviceClock
from emulators.incar_net import Addr, IcpEndpoint
from emulators.profiles import DvrProfile
from emulators.signal_source import SignalSourceEmulator
from protocols.incar import IncarMessage, MessageType
from protocols.signal import Event, SignalDecodeError, SourceClass, decode_payload, find_signal_payload

IGNORED_KEEP = 1000  # a flood of other vehicles' traffic must not grow the DVR's memory
INPUT_EVENTS = {
    "light_bar": Event.VEHICLE_LIGHT_BAR,
    "siren": Event.VEHICLE_SIREN,
    "door": Event.VEHICLE_DOOR,
    "crash": Event.VEHICLE_CRASH,
    "speed": Event.VEHICLE_SPEED,
}


@dataclass
class VehicleInput:
    """One 12 V input. ``raw`` follows the wire; ``state`` is the debounced level: it goes
    high after the wire stayed high for debounce_ms, and low after it stayed low for
    max(debounce_ms, delayed_off_ms)."""

    name: str
    raw: bool = False
    state: bool = False
    timer: asyncio.TimerHandle | None = None
    edges: list[tuple[float, bool]] = field(default_factory=list)


@dataclass
class DvrEmulator:
    serial: str
    vehicle_id: str
    paired_bwc: str | None
    profile: DvrProfile
    front: CameraCore
    rear: CameraCore
    clock: DeviceClock
    radio: SignalSourceEmulator | None = None  # Signal Vehicle unit
    group_members: dict[str, Addr] = field(default_factory=dict)  # serial -> ICP address

    def __post_init__(self) -> None:
        self.icp: IcpEndpoint | None = None
        self.ignored: deque[IncarMessage] = deque(maxlen=IGNORED_KEEP)  # the latest other cameras' announcements
        self.ignored_count = 0  # all of them
        self._delayed_start: asyncio.TimerHandle | None = None
        self.inputs = {name: VehicleInput(name) for name in INPUT_EVENTS}
        self.vehicle_events: list[tuple[float, str]] = []

    @property
    def cameras(self) -> list[CameraCore]:
        return [self.front, self.rear]

    async def start(self) -> None:
        self.icp = await IcpEndpoint.open(self.serial, self._on_message, auth=self.profile.icp_auth)
        if self.radio is not None:
            await self.radio.start()
            if self.profile.accepts_any_vehicle:  # defect: listens to every vehicle's Signal
                self.radio.device.on("advertisement", self._on_advertisement)
                await self.radio.device.start_scanning(active=False, filter_duplicates=False)
        for cam in self.cameras:
            cam.power_on()

    @property
    def address(self) -> Addr:
        assert self.icp is not None
        return self.icp.address

    async def stop(self) -> None:
        if self._delayed_start is not None:
            self._delayed_start.cancel()
        for cam in self.cameras:
            await cam.shutdown()
        if self.radio is not None:
            await self.radio.stop()
        if self.icp:
            self.icp.close()

    # -- operator -----------------------------------------------------------------------------
    def press_stop(self) -> None:
        for cam in self.cameras:
            cam.request_stop("button")
        if self.profile.group_mode and self.icp is not None:
            msg = IncarMessage(MessageType.STOP_GROUP, self.serial, self.vehicle_id, self.clock.utc_ms())
            for addr in self.group_members.values():
                self.icp.send(msg, addr)

    def _start_cameras(self, reason: str, sender: str | None) -> bool:
        """Start both cameras (after start_delay_s when a body camera's announcement starts
        them); True when a start happened or is under way."""
        delay = self.profile.start_delay_s if reason == "BWC_RECORDING_STARTED" else 0.0
        if delay <= 0:
            return self._activate_cameras(reason, sender)
        if self._delayed_start is not None or not any(cam.state is CameraState.READY for cam in self.cameras):
            return False
        self._delayed_start = asyncio.get_running_loop().call_later(delay, self._activate_cameras, reason, sender)
        return True

    def _activate_cameras(self, reason: str, sender: str | None) -> bool:
        self._delayed_start = None
        started = False
        for cam in self.cameras:
            started |= cam.activate(reason, sender) is not None
        return started

    # -- 12 V inputs ----------------------------------------------------------------------------
    def set_input(self, name: str, level: bool) -> None:
        if name not in self.inputs:
            raise ValueError(f"unknown vehicle input {name!r}; inputs: {', '.join(self.inputs)}")
        loop = asyncio.get_running_loop()
        inp = self.inputs[name]
        if inp.raw == level:
            return
        inp.raw = level
        if inp.timer is not None:
            inp.timer.cancel()
            inp.timer = None
        if level == inp.state:
            return  # a dip shorter than the debounce: nothing changes
        p = self.profile
        delay = p.debounce_ms if level else max(p.debounce_ms, p.delayed_off_ms)
        if delay <= 0:
            self._settle(inp)
        else:
            inp.timer = loop.call_later(delay / 1000.0, self._settle, inp)

    def _settle(self, inp: VehicleInput) -> None:
        inp.timer = None
        if inp.state == inp.raw:
            return
        inp.state = inp.raw
        now = asyncio.get_running_loop().time()
        inp.edges.append((now, inp.state))
        if inp.state:
            self._vehicle_event(INPUT_EVENTS[inp.name])

    def _vehicle_event(self, event: Event) -> None:
        loop = asyncio.get_running_loop()
        self.vehicle_events.append((loop.time(), event.name))
        started = self._start_cameras(event.name, self.serial)
        if self.radio is not None and self.profile.advertises_vehicle_events:
            loop.create_task(self.radio.emit(event))
        if started and self.profile.group_mode:
            self._start_group(self.serial)

    # -- in-car network -------------------------------------------------------------------------
    def _start_group(self, initiator: str) -> None:
        """Start every other member of the group (group_start_delay_s after the first)."""
        delay = self.profile.group_start_delay_s
        if delay > 0:
            asyncio.get_running_loop().call_later(delay, self._send_group_start, initiator)
        else:
            self._send_group_start(initiator)

    def _send_group_start(self, initiator: str) -> None:
        if self.icp is None:
            return
        msg = IncarMessage(MessageType.RECORDING_STARTED, self.serial, self.vehicle_id, self.clock.utc_ms())
        for serial, addr in self.group_members.items():
            if serial != initiator:
                self.icp.send(msg, addr)

    def _on_message(self, message: IncarMessage, addr: Addr) -> None:
        if message.type is MessageType.STOP_GROUP and self.profile.honours_member_stop and message.sender_serial in self.group_members:
            # defect: only the DVR stops the group; a member's (or anyone's claim to be one) must not
            for cam in self.cameras:
                cam.request_stop("group-stop")
            for serial, member in self.group_members.items():
                if serial != message.sender_serial and self.icp is not None:
                    self.icp.send(IncarMessage(MessageType.STOP_GROUP, self.serial, self.vehicle_id, self.clock.utc_ms()), member)
            return
        if message.type is not MessageType.RECORDING_STARTED:
            return
        in_group = message.sender_serial in self.group_members and message.vehicle_id == self.vehicle_id
        ours = (message.sender_serial == self.paired_bwc and message.vehicle_id == self.vehicle_id) or in_group
        if not ours and not self.profile.accepts_any_vehicle:
            self.ignored.append(message)
            self.ignored_count += 1
            return
        if ours and self.icp is not None:
            ack = IncarMessage(MessageType.ACK, self.serial, self.vehicle_id, self.clock.utc_ms(), message.sequence)
            self.icp.send(ack, addr)
        if self.profile.follows_paired_bwc:
            started = self._start_cameras("BWC_RECORDING_STARTED", message.sender_serial)
            if started and self.profile.group_mode:
                self._start_group(message.sender_serial)

    def _on_advertisement(self, adv: Advertisement) -> None:
        """Only reached in the accepts_any_vehicle defect: another vehicle's Signal starts us."""
        try:
            payload = find_signal_payload(adv.data_bytes)
            frame = decode_payload(payload) if payload else None
        except SignalDecodeError:
            return
        if frame is None or frame.source_class != SourceClass.VEHICLE or self.radio is None or frame.serial == self.radio.serial:
            return
        if frame.event is not None and frame.activates_cameras:
            self._start_cameras(frame.event.name, frame.serial)
