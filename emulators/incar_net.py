"""UDP endpoints speaking the in-car protocol (ICP) on real sockets."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from protocols.incar import IncarDecodeError, IncarMessage, decode

log = logging.getLogger(__name__)
Addr = tuple[str, int]


@dataclass
class IcpLogEntry:
    loop_t: float
    direction: str  # "rx" or "tx"
    peer: Addr
    message: IncarMessage | None
    error: str | None = None


@dataclass
class IcpEndpoint(asyncio.DatagramProtocol):
    name: str
    on_message: Callable[[IncarMessage, Addr], None]
    log: list[IcpLogEntry] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None

    @classmethod
    async def open(cls, name: str, on_message: Callable[[IncarMessage, Addr], None], host: str = "127.0.0.1", port: int = 0) -> IcpEndpoint:
        loop = asyncio.get_running_loop()
        endpoint = cls(name, on_message)
        await loop.create_datagram_endpoint(lambda: endpoint, local_addr=(host, port))
        return endpoint

    @property
    def address(self) -> Addr:
        assert self.transport is not None
        return self.transport.get_extra_info("sockname")[:2]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Addr) -> None:
        now = asyncio.get_running_loop().time()
        try:
            message = decode(data)
        except IncarDecodeError as exc:
            self.log.append(IcpLogEntry(now, "rx", addr, None, str(exc)))
            log.warning("%s: dropped bad ICP datagram from %s: %s", self.name, addr, exc)
            return
        self.log.append(IcpLogEntry(now, "rx", addr, message))
        self.on_message(message, addr)

    def send(self, message: IncarMessage, addr: Addr) -> None:
        if self.transport is None:
            return
        self.log.append(IcpLogEntry(asyncio.get_running_loop().time(), "tx", addr, message))
        self.transport.sendto(message.encode(), addr)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
