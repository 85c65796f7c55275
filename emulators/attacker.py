"""An attacker's radio on the simulated air (a phone running AxonCadabra, a Flipper, an ESP32):
it sniffs the Signal adverts other devices send and puts arbitrary AdvData on the air, from
its own place, power and addresses, at any legal advertising interval (SEC-001..003).

Like the replay source it is a controller without a host, so it can send what no host stack
would (truncated frames, wrong AD lengths). Each frame is one advertising event on 37, 38, 39.
Its adverts come from random static addresses derived from its name (one per burst, or one per
frame for a flood), so a capture tells them apart from the genuine devices' (docs/security.md)."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Iterable

from bumble import hci, ll

from emulators.icp_attacker import IcpAttacker
from emulators.air import ADV_CHANNELS, Air, AirController, Point, Transmission, static_random_address
from protocols.signal import (FLAGS_AD, SERVICE_DATA_HEADER, Event, SignalDecodeError, SignalFrame, decode_adv_data, encode_adv_data,
                              find_signal_payload)
from protocols.signal_auth import forged_adverts, is_authenticated
from protocols.signal_fuzz import malformed_adverts

SIGNAL_SERVICE_DATA = SERVICE_DATA_HEADER[1:]  # AD type 0x16, UUID 0xFE6C little-endian
MIN_INTERVAL_S = 0.020  # the fastest legal advertising interval (Core 5.x, Vol 6, Part B, 4.4.2.2.1)


class Attacker:
    def __init__(self, air: Air, name: str, position: Point, *, tx_power_db: float = 0.0) -> None:
        self.air, self.name = air, name
        self.controller = AirController(name, link=air, public_address=static_random_address(name))
        air.place(self.controller, name, position, kind="attacker", tx_power_db=tx_power_db)
        air.add_observer(self._sniff)
        self.captured: dict[str, bytes] = {}  # sender serial -> the last activating advert it sent, as sent
        self.sent: Counter[str] = Counter()  # kind -> frames put on the air
        self.icp = IcpAttacker(name.removeprefix("ATTACKER-"))  # its host on the in-car network (SEC-005)
        self._bursts = 0
        self._last_sniffed = b""

    def _sniff(self, tx: Transmission) -> None:
        # an event's PDUs on 37, 38 and 39 carry the same AdvData object: decoded once; AdvData
        # without the Service Data header of UUID 0xFE6C cannot be a Signal advert
        if tx.sender == self.name or tx.adv_data is self._last_sniffed:
            return
        self._last_sniffed = tx.adv_data
        if SIGNAL_SERVICE_DATA not in tx.adv_data:
            return
        try:
            frame = decode_adv_data(tx.adv_data)
        except SignalDecodeError:
            return
        if frame.activates_cameras:
            self.captured[frame.serial] = tx.adv_data

    def _address(self, per_frame: bool, i: int) -> str:
        return static_random_address(f"{self.name} {self._bursts} {i if per_frame else 0}")

    async def send(self, kind: str, frames: Iterable[bytes], interval_s: float, *, per_frame_address: bool = False) -> int:
        """Put each frame on the air, one advertising event every interval_s (>= 20 ms)."""
        self._bursts += 1
        n = 0
        for n, data in enumerate(frames, 1):
            address = self._address(per_frame_address, n)
            pdu = ll.AdvExtInd(advertiser_address=hci.Address(address, hci.Address.RANDOM_DEVICE_ADDRESS), data=data)
            self.air.advertising_event(self.controller, pdu, ADV_CHANNELS)
            self.sent[kind] += 1
            await asyncio.sleep(max(interval_s, MIN_INTERVAL_S))
        return n

    async def replay(self, serial: str, count: int, interval_s: float) -> int:
        """The last activating advert captured from ``serial``, byte for byte, ``count`` times
        (0 sent when nothing was captured from it)."""
        data = self.captured.get(serial)
        return 0 if data is None else await self.send("replay", [data] * count, interval_s)

    async def spoof(self, serial: str, event: Event, count: int, interval_s: float, seed: int = 0) -> int:
        """Forged adverts that claim ``serial``: a new event id, the sequence running on; when the
        adverts captured from it are authenticated, forged version-2 frames (counters above the
        captured one, guessed MACs: docs/signal-auth.md)."""
        forged = forged_adverts(self.captured.get(serial) or self._template(serial), event, count, seed)
        if forged is not None:
            return await self.send("spoof", forged, interval_s)
        rng = random.Random(f"spoof {self.name} {serial} {seed}")
        event_id, seq = rng.randrange(1, 1 << 16), rng.randrange(1 << 20)
        frames = (encode_adv_data(SignalFrame.for_event(serial, event, sequence=seq + i, event_id=event_id)) for i in range(count))
        return await self.send("spoof", frames, interval_s)

    def _template(self, serial: str) -> bytes:
        """Nothing captured from ``serial``: an authenticated advert captured from anyone, made
        to claim it (the attacker knows the dialect, not the key), or nothing."""
        for data in self.captured.values():
            try:
                payload = find_signal_payload(data)
            except SignalDecodeError:
                continue
            if payload is not None and is_authenticated(payload):
                return FLAGS_AD + SERVICE_DATA_HEADER + payload[:1] + serial.encode("ascii") + payload[10:]
        return b""

    async def flood(self, senders: int, event: Event, count: int, interval_s: float, seed: int = 0) -> int:
        """``count`` adverts that claim ``senders`` made-up serials in turn (each a new entry in
        a camera's sender, de-duplication and cool-down tables), one event id per sender."""
        rng = random.Random(f"flood {self.name} {seed}")
        code = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3))
        ids = [rng.randrange(1, 1 << 16) for _ in range(senders)]
        frames = (encode_adv_data(SignalFrame.for_event(f"X8{code}{i % senders:04d}", event, sequence=i, event_id=ids[i % senders]))
                  for i in range(count))
        return await self.send("flood", frames, interval_s, per_frame_address=True)

    async def malformed(self, count: int, interval_s: float, seed: int = 0, like: bytes | None = None) -> int:
        """A storm of malformed Signal adverts (protocols.signal_fuzz), each from a new address."""
        genuine = like or encode_adv_data(SignalFrame.for_event("X8FUZ0000", Event.CEW_ARMED, event_id=1))
        frames = (data for _, data in malformed_adverts(genuine, count, seed))
        return await self.send("malformed", frames, interval_s, per_frame_address=True)
