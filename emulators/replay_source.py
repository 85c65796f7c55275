"""A replay source: a radio on the simulated air that puts the Signal adverts of a capture back
on the air at their captured times, from one place, so that a field capture (an incident, a
bench run, a run's air.pcap) can be played against any camera profile.

Each captured advert becomes one advertising event of the captured advertiser address and
AdvData bytes, sent on 37, 38 and 39 as every advertiser on the air sends (a sniffer that
listened on one channel saw one of the three). No host drives this controller: the timing is
the capture's, advDelay and all, not an advertising set's. What the capture missed (events the
sniffer did not hear) is not replayed."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass

from bumble import hci, ll

from emulators.air import ADV_CHANNELS, Air, AirController, Point, static_random_address
from emulators.scene import OfficerSpec, SceneSpec, Step, still

RING_FT = (10.0, 25.0, 29.0, 45.0)  # the default cameras: inside, near and beyond the 30 ft range
STOP_AFTER_S = 5.0  # the default scene stops every camera this long after each event (as Hartford's operator)
TAIL_S = 3.0  # the scene runs this long past the last replayed advert (latency limit, a GOP, the clip closing)


@dataclass(frozen=True)
class ReplayAdvert:
    t_s: float  # scene time of the advertising event
    address: str  # AA:BB:CC:DD:EE:FF, as captured
    adv_data: bytes  # as captured


class ReplaySource:
    def __init__(self, air: Air, adverts: Sequence[ReplayAdvert], position: Point, *, name: str = "REPLAY", tx_power_db: float = 0.0) -> None:
        self.air = air
        self.adverts = sorted(adverts, key=lambda a: a.t_s)
        self.controller = AirController(name, link=air, public_address=static_random_address(name))
        air.place(self.controller, name, position, kind="replay", tx_power_db=tx_power_db)
        self.sent = 0
        self._handles: list[asyncio.TimerHandle] = []

    def start(self) -> None:
        """Schedule every advert (at its scene time; one already past goes out now)."""
        loop = asyncio.get_running_loop()
        self._handles = [loop.call_at(max(a.t_s, loop.time()), self._transmit, a) for a in self.adverts]

    def stop(self) -> None:
        for handle in self._handles:
            handle.cancel()

    def _transmit(self, advert: ReplayAdvert) -> None:
        pdu = ll.AdvExtInd(advertiser_address=hci.Address(advert.address, hci.Address.RANDOM_DEVICE_ADDRESS), data=advert.adv_data)
        self.air.advertising_event(self.controller, pdu, ADV_CHANNELS)
        self.sent += 1


def ring_scene(at: Point, event_times_s: Sequence[float], end_s: float) -> SceneSpec:
    """The default replay scene: cameras R10, R25, R29 and R45 that many feet from the replay
    source, every camera stopped STOP_AFTER_S after each event (so that a camera that restarts
    on an event's repeats shows it)."""
    officers = tuple(
        OfficerSpec(f"R{d:g}", still((round(at[0] + d * math.cos(math.radians(90 * i + 20)), 3), round(at[1] + d * math.sin(math.radians(90 * i + 20)), 3))),
                    f"X6RPL{int(d):04d}")
        for i, d in enumerate(RING_FT))
    stops = sorted({round(t + STOP_AFTER_S, 3) for t in event_times_s if t + STOP_AFTER_S <= end_s})
    return SceneSpec("replay", officers, (), tuple(Step(t, "stop_all") for t in stops), end_s=end_s,
                     description=f"cameras {', '.join(f'{d:g}' for d in RING_FT)} ft from the replayed source")
