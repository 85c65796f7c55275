"""Signal sources: the CEW (armed / trigger / arc) and the holster sensor (draw / return).
Idle presence adverts; on an event, a burst of Signal adverts at the burst interval."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bumble.device import Device

from emulators.profiles import SourceProfile
from emulators.signal_radio import SignalAdvertiser
from emulators.signal_trust import source_signer
from protocols.signal import Event, SignalFrame, SourceClass

PRESENCE = {SourceClass.CEW: Event.CEW_PRESENCE, SourceClass.HOLSTER: None, SourceClass.VEHICLE: None}


@dataclass
class SignalSourceEmulator:
    serial: str
    device: Device
    profile: SourceProfile
    source_class: SourceClass = SourceClass.CEW
    events: list[tuple[float, Event, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.adv = SignalAdvertiser(self.device, self.serial, source_signer(self.serial, self.profile.signal_auth), self.profile.adv_channels)
        self._event_id = 0
        self._burst_task: asyncio.Task | None = None

    async def start(self) -> None:
        await self.device.power_on()
        await self._idle()

    async def _idle(self) -> None:
        presence = PRESENCE.get(self.source_class)
        if presence is None:
            await self.adv.stop()  # holster and vehicle units stay quiet between events
        else:
            await self.adv.advertise(SignalFrame.for_event(self.serial, presence), self.profile.idle_interval_ms)

    async def emit(self, event: Event) -> float:
        """Put the event on the air now; returns the loop time of the stimulus."""
        if event.source_class is not self.source_class:
            raise ValueError(f"{self.serial} is a {self.source_class.name} source and cannot send {event.name}")
        loop = asyncio.get_running_loop()
        self._event_id = (self._event_id + 1) & 0xFFFF
        t = loop.time()
        self.events.append((t, event, self._event_id))
        await self.adv.advertise(SignalFrame.for_event(self.serial, event, event_id=self._event_id), self.profile.burst_interval_ms)
        if self._burst_task:
            self._burst_task.cancel()
        self._burst_task = loop.create_task(self._end_burst())
        return t

    async def _end_burst(self) -> None:
        await asyncio.sleep(self.profile.burst_s)
        await self._idle()

    async def stop(self) -> None:
        if self._burst_task:
            self._burst_task.cancel()
        await self.adv.stop()
