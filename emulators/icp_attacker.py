"""An attacker's host on the in-car network (SEC-005): a laptop on the cruiser's Wi-Fi or a
device plugged into its switch. It sends, from its own address, ICP datagrams that claim to
come from someone else (the in-car protocol has no authentication, docs/incar-protocol.md):

- ``forge-stop``: STOP_GROUP claiming a camera's (or the DVR's) serial;
- ``forge-start``: RECORDING_STARTED claiming the vehicle's paired camera (both as plain ICP1
  and as ICP2 with a MAC under a key it guessed);
- ``malformed``: junk (random bytes, truncated and bit-flipped messages), seeded.

Its endpoint is opened inside the scene, so icp.pcap shows its datagrams, from its own port."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Iterator

from emulators.incar_net import Addr, IcpEndpoint
from protocols.incar import FLAG_ACK_REQUESTED, IncarMessage, MessageType
from protocols.incar_auth import encode_auth

MIN_INTERVAL_S = 0.001


def malformed_datagrams(like: bytes, count: int, seed: int) -> Iterator[bytes]:
    """Junk in turn: random bytes, a truncated message, a bit-flipped one, an oversized one."""
    rng = random.Random(f"icp junk {seed}")
    for i in range(count):
        kind = i % 4
        if kind == 0:
            yield rng.randbytes(rng.randrange(1, 64))
        elif kind == 1:
            yield like[: rng.randrange(0, len(like))]
        elif kind == 2:
            flipped = bytearray(like)
            flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
            yield bytes(flipped)
        else:
            yield like + rng.randbytes(rng.randrange(1, 512))


class IcpAttacker:
    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: Counter[str] = Counter()
        self._endpoint: IcpEndpoint | None = None

    async def _open(self) -> IcpEndpoint:
        if self._endpoint is None:
            self._endpoint = await IcpEndpoint.open(f"ATTACKER-{self.name}", lambda _m, _a: None)
        return self._endpoint

    async def send(self, kind: str, datagrams: Iterator[bytes], to: Addr, interval_s: float) -> int:
        endpoint = await self._open()
        n = 0
        for n, data in enumerate(datagrams, 1):
            endpoint.send_datagram(data, to)
            self.sent[kind] += 1
            await asyncio.sleep(max(interval_s, MIN_INTERVAL_S))
        return n

    async def forge(self, kind: str, claimed: str, vehicle_id: str, utc_ms: int, to: Addr, count: int, interval_s: float, seed: int = 0) -> int:
        """``count`` forged datagrams, in turn plain ICP1 and ICP2 with a guessed MAC (the attacker
        tries both dialects; it has no key)."""
        mtype = MessageType.STOP_GROUP if kind == "forge-stop" else MessageType.RECORDING_STARTED
        flags = FLAG_ACK_REQUESTED if mtype is MessageType.RECORDING_STARTED else 0
        message = IncarMessage(mtype, claimed, vehicle_id, utc_ms, 0x7000, 0, 0, flags)
        rng = random.Random(f"icp forge {self.name} {seed}")
        guessed = (encode_auth(message, rng.randrange(1 << 20, 1 << 31), rng.randbytes(32)) for _ in range(count))
        datagrams = (message.encode() if i % 2 == 0 else next(guessed) for i in range(count))
        return await self.send(kind, datagrams, to, interval_s)

    async def malformed(self, claimed: str, vehicle_id: str, utc_ms: int, to: Addr, count: int, interval_s: float, seed: int) -> int:
        like = IncarMessage(MessageType.RECORDING_STARTED, claimed, vehicle_id, utc_ms, 1).encode()
        return await self.send("malformed", malformed_datagrams(like, count, seed), to, interval_s)

    def close(self) -> None:
        if self._endpoint is not None:
            self._endpoint.close()
