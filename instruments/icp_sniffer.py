"""The in-car protocol as a scapy layer (bound to UDP port 47600, so captures dissect), and
a sniffer instrument that records the chaining messages crossing an interface, over IPv4 or
IPv6. Nothing a packet carries may stop the capture: a datagram the sniffer cannot place is
recorded with its error, and the capture goes on."""

from __future__ import annotations

import struct
import threading
import zlib
from dataclasses import dataclass, field

from scapy.fields import ByteEnumField, ByteField, LongField, ShortField, StrFixedLenField, XByteField, XIntField
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.packet import Packet, bind_layers

from protocols.incar import DEFAULT_PORT, IncarDecodeError, IncarMessage, MessageType, decode


class ICP(Packet):
    name = "In-car protocol (bwc-harness ICP1)"
    fields_desc = [
        StrFixedLenField("magic", b"ICP1", 4),
        ByteEnumField("type", 2, {m.value: m.name for m in MessageType}),
        XByteField("flags", 0),
        ShortField("seq", 0),
        StrFixedLenField("sender", b"X00000000", 9),
        StrFixedLenField("vehicle", b"        ", 8),
        LongField("event_utc_ms", 0),
        ByteField("reason_class", 0),
        ByteField("reason_code", 0),
        XIntField("crc", None),
    ]

    def post_build(self, pkt: bytes, pay: bytes) -> bytes:
        if self.crc is None:
            pkt = pkt[:-4] + struct.pack(">I", zlib.crc32(pkt[:-4]))
        return pkt + pay

    def crc_ok(self) -> bool:
        raw = bytes(self)[:39]
        return zlib.crc32(raw[:-4]) == struct.unpack(">I", raw[-4:])[0]


bind_layers(UDP, ICP, dport=DEFAULT_PORT)
bind_layers(UDP, ICP, sport=DEFAULT_PORT)


@dataclass
class Seen:
    t: float
    src: str
    dst: str
    message: IncarMessage | None
    error: str | None = None


@dataclass
class IcpSniffer:
    """Captures ICP datagrams on an interface (scapy AsyncSniffer; needs root)."""

    iface: str
    port: int = DEFAULT_PORT
    seen: list[Seen] = field(default_factory=list)

    def start(self) -> None:
        from scapy.sendrecv import AsyncSniffer

        ready = threading.Event()
        self._sniffer = AsyncSniffer(iface=self.iface, store=False, prn=self._on_packet, started_callback=ready.set,
                                     lfilter=lambda p: UDP in p and self.port in (p[UDP].sport, p[UDP].dport))
        self._sniffer.start()
        if not ready.wait(5.0):  # the capture socket is open only once scapy says so (a fixed sleep raced on a busy machine)
            raise RuntimeError(f"capture on {self.iface} did not start within 5 s")

    def stop(self) -> list[Seen]:
        self._sniffer.stop()
        return self.seen

    def _on_packet(self, pkt) -> None:
        """Called in scapy's capture thread: an exception here would end the capture."""
        try:
            net = pkt[IP] if IP in pkt else pkt[IPv6] if IPv6 in pkt else None
            src, dst = (str(net.src), str(net.dst)) if net is not None else ("?", "?")
            payload = bytes(pkt[UDP].payload)
        except Exception as exc:  # scapy raises many types on odd packets: record it, keep capturing
            self.seen.append(Seen(float(pkt.time), "?", "?", None, f"undissectable packet: {type(exc).__name__}: {exc}"))
            return
        try:
            message, error = decode(payload), None
        except IncarDecodeError as exc:
            message, error = None, str(exc)
        self.seen.append(Seen(float(pkt.time), src, dst, message, error))
