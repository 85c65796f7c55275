"""UDP endpoints speaking the in-car protocol (ICP) on real sockets, and the announcement a
camera repeats until its DVR acknowledges it.

The in-car network is not trusted to be quiet: a flood of junk (malformed datagrams, other
vehicles' traffic) must neither grow an endpoint's memory nor drown its log, nor keep a
camera's announcement from its DVR. So an endpoint keeps the last LOG_KEEP exchanges (a ring)
and counters of everything, warns about malformed datagrams at most once per WARN_EVERY_S
(saying how many it did not mention), and ``announce`` repeats a message every
ANNOUNCE_EVERY_S until it is acknowledged or the chaining limit (CHN-001, 2.0 s from the
camera's activation to the DVR's) has passed. See docs/incar-protocol.md.

A capture taps the endpoints opened while ``ICP_TAP`` holds it (a context variable: the virtual
target sets it for the scene it plays): it learns each endpoint's address and sees every
datagram sent, as the wire would carry it (instruments/pcap.py writes icp.pcap from it)."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Literal, Protocol

from protocols.incar import IncarDecodeError, IncarMessage, decode
from protocols.incar_auth import IcpSigner, IcpVerifier, emulation_network_key, is_authenticated

log = logging.getLogger(__name__)
Addr = tuple[str, int]

LOG_KEEP = 1000  # exchanges an endpoint remembers (~0.5 KB each)
WARN_EVERY_S = 10.0  # at most one warning about malformed datagrams per endpoint in this time
CHAIN_LIMIT_S = 2.0  # CHN-001 (conformance/requirements.yaml): the DVR starts within 2.0 s of its camera
ANNOUNCE_EVERY_S = 0.1


class IcpTap(Protocol):
    def opened(self, name: str, address: Addr) -> None: ...

    def sent(self, loop_t: float, source: Addr, destination: Addr, datagram: bytes) -> None: ...


ICP_TAP: ContextVar[IcpTap | None] = ContextVar("icp_tap", default=None)


@dataclass
class IcpLogEntry:
    loop_t: float
    direction: str  # "rx" or "tx"
    peer: Addr
    message: IncarMessage | None
    error: str | None = None


@dataclass
class IcpCounters:
    rx: int = 0  # datagrams received, valid or not
    rx_bad: int = 0  # of those, not valid ICP (dropped)
    tx: int = 0
    warnings: int = 0  # warnings logged about malformed datagrams


@dataclass(frozen=True)
class IcpAuthSpec:
    mode: Literal["legacy", "required"] = "legacy"  # required: sign every datagram (ICP2) and act only on verified ones (docs/incar-protocol.md)
    agency: str = "emulated agency"  # whose in-car network key (derived from this name: not secret)
    checks_mac: bool = True  # defect when false: forged ICP2 datagrams are accepted
    replay_window: bool = True  # defect when false: replayed ICP2 datagrams are accepted


@dataclass
class IcpEndpoint(asyncio.DatagramProtocol):
    name: str
    on_message: Callable[[IncarMessage, Addr], None]
    log: deque[IcpLogEntry] = field(default_factory=lambda: deque(maxlen=LOG_KEEP))
    counters: IcpCounters = field(default_factory=IcpCounters)
    auth: IcpAuthSpec = field(default_factory=IcpAuthSpec)

    def __post_init__(self) -> None:
        required = self.auth.mode == "required"
        key = emulation_network_key(self.auth.agency)
        self.signer = IcpSigner(key) if required else None
        self.verifier = IcpVerifier(key, self.auth.checks_mac, self.auth.replay_window) if required else None
        self.transport: asyncio.DatagramTransport | None = None
        self.tap: IcpTap | None = None
        self._next_warning = float("-inf")
        self._bad_unreported = 0

    @classmethod
    async def open(cls, name: str, on_message: Callable[[IncarMessage, Addr], None], host: str = "127.0.0.1", port: int = 0,
                   auth: IcpAuthSpec | None = None) -> IcpEndpoint:
        loop = asyncio.get_running_loop()
        endpoint = cls(name, on_message, auth=auth or IcpAuthSpec())
        await loop.create_datagram_endpoint(lambda: endpoint, local_addr=(host, port))
        endpoint.tap = ICP_TAP.get()
        if endpoint.tap is not None:
            endpoint.tap.opened(name, endpoint.address)
        return endpoint

    @property
    def address(self) -> Addr:
        assert self.transport is not None
        return self.transport.get_extra_info("sockname")[:2]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Addr) -> None:
        now = asyncio.get_running_loop().time()
        self.counters.rx += 1
        if self.verifier is not None:
            if not is_authenticated(data):
                self._bad(now, addr, "not authenticated (ICP2 required)")
                return
            checked, why = self.verifier.check(data)
            if checked is None:
                self._bad(now, addr, why)
                return
            message = checked
        else:
            try:
                message = decode(data)
            except IncarDecodeError as exc:
                self._bad(now, addr, str(exc))
                return
        self.log.append(IcpLogEntry(now, "rx", addr, message))
        self.on_message(message, addr)

    def _bad(self, now: float, addr: Addr, error: str) -> None:
        self.counters.rx_bad += 1
        self.log.append(IcpLogEntry(now, "rx", addr, None, error))
        if now < self._next_warning:
            self._bad_unreported += 1
            return
        more = f" ({self._bad_unreported} more dropped since the last warning)" if self._bad_unreported else ""
        log.warning("%s: dropped bad ICP datagram from %s: %s%s", self.name, addr, error, more)
        self.counters.warnings += 1
        self._bad_unreported = 0
        self._next_warning = now + WARN_EVERY_S

    def send(self, message: IncarMessage, addr: Addr) -> None:
        if self.transport is None:
            return
        now = asyncio.get_running_loop().time()
        self.counters.tx += 1
        self.log.append(IcpLogEntry(now, "tx", addr, message))
        self.send_datagram(self.signer.sign(message) if self.signer is not None else message.encode(), addr)

    def send_datagram(self, datagram: bytes, addr: Addr) -> None:
        """Bytes as they are (an attacker's junk or forgery), past the capture tap."""
        if self.transport is None:
            return
        if self.tap is not None:
            self.tap.sent(asyncio.get_running_loop().time(), self.address, addr, datagram)
        self.transport.sendto(datagram, addr)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def announce(endpoint: IcpEndpoint, message: IncarMessage, peers: Iterable[Addr], acked: Callable[[], bool], *,
                   limit_s: float = CHAIN_LIMIT_S, every_s: float = ANNOUNCE_EVERY_S) -> bool:
    """Send ``message`` to every peer, again every ``every_s``, until ``acked()``; the last
    send goes out before ``limit_s`` (a later one could no longer start the DVR in time).
    True if acknowledged."""
    peers = list(peers)
    for _ in range(max(1, round(limit_s / every_s))):
        for addr in peers:
            endpoint.send(message, addr)
        await asyncio.sleep(every_s)
        if acked():
            return True
    return False
