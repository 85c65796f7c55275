"""A BLE observer: a bumble Device that passively scans and logs every Signal advert it
hears. On the virtual air it is a radio like any other (optionally with extra receive
gain, like a bench sniffer); on a real radio it runs over any bumble transport."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bumble.device import Advertisement, Device

from protocols.signal import Event, SignalDecodeError, SignalFrame, find_signal_frame


@dataclass(frozen=True)
class Sighting:
    loop_t: float
    frame: SignalFrame
    rssi: int
    address: str


@dataclass
class BleObserver:
    device: Device
    sightings: list[Sighting] = field(default_factory=list)
    malformed: int = 0

    async def start(self) -> None:
        await self.device.power_on()
        self.device.on("advertisement", self._on_advertisement)
        await self.device.start_scanning(active=False, filter_duplicates=False)

    async def stop(self) -> None:
        await self.device.stop_scanning()

    def _on_advertisement(self, adv: Advertisement) -> None:
        try:
            frame = find_signal_frame(adv.data_bytes)
        except SignalDecodeError:
            self.malformed += 1
            return
        if frame is None:
            return
        self.sightings.append(Sighting(asyncio.get_running_loop().time(), frame, adv.rssi, str(adv.address)))

    def first(self, serial: str, event: Event, after: float = float("-inf")) -> Sighting | None:
        for s in self.sightings:
            if s.frame.serial == serial and s.frame.event is event and s.loop_t >= after:
                return s
        return None
