"""Authenticated in-car messages (ICP version 2, docs/incar-protocol.md): the ICP1 message with
magic ``ICP2``, a 32-bit per-sender counter and an 8-byte MAC instead of the CRC::

    0..34  the ICP1 body, magic b"ICP2"
    35..38 counter, big endian: bumped for every datagram a sender sends (a resend too)
    39..46 HMAC-SHA-256(network key, DOMAIN || bytes 0..38), first 8 bytes

The network key is the agency's in-car key (every DVR and camera of its fleet holds it); a
receiver keeps the highest counter accepted per claimed sender and refuses anything not above
it, so a captured datagram replayed later is refused, and a host without the key forges a MAC
with probability 2^-64 per datagram. Pure codec: no sockets here."""

from __future__ import annotations

import hashlib
import hmac
import struct
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field

from protocols.incar import _LAYOUT, MAGIC, IncarDecodeError, IncarMessage, decode

MAGIC_AUTH = b"ICP2"
DOMAIN = b"bwc-harness/icp-auth/v2\x00"
MAC_LEN = 8
AUTH_LEN = _LAYOUT.size + 4 + MAC_LEN
COUNTER_MAX = 0xFFFF_FFFF
EMULATION_LABEL = b"bwc-harness emulation in-car key (not secret) "
MAX_SENDERS = 4096  # counters kept per receiver (least recently accepted evicted: refused as unknown after that)


def emulation_network_key(agency: str) -> bytes:
    """The in-car key emulated devices of an agency use: derived from its name (not secret,
    like every emulated key of this harness)."""
    return hashlib.sha256(EMULATION_LABEL + agency.encode("utf-8")).digest()


def _mac(key: bytes, signed: bytes) -> bytes:
    return hmac.new(key, DOMAIN + signed, hashlib.sha256).digest()[:MAC_LEN]


def encode_auth(message: IncarMessage, counter: int, key: bytes) -> bytes:
    if not 1 <= counter <= COUNTER_MAX:
        raise IncarDecodeError(f"counter {counter} out of range 1..{COUNTER_MAX}")
    body = MAGIC_AUTH + message.encode()[len(MAGIC):_LAYOUT.size]
    signed = body + struct.pack(">I", counter)
    return signed + _mac(key, signed)


def is_authenticated(datagram: bytes) -> bool:
    return datagram[:4] == MAGIC_AUTH


def decode_auth(datagram: bytes) -> tuple[IncarMessage, int, bytes]:
    """(message, counter, mac as sent) of a version-2 datagram; the MAC is the verifier's job."""
    if len(datagram) != AUTH_LEN:
        raise IncarDecodeError(f"ICP2 datagram must be {AUTH_LEN} bytes, got {len(datagram)}")
    if not is_authenticated(datagram):
        raise IncarDecodeError(f"bad ICP2 magic {datagram[:4]!r}")
    body = MAGIC + datagram[4:_LAYOUT.size]
    message = decode(body + struct.pack(">I", zlib.crc32(body)))  # the ICP1 decoder checks a CRC: one over the same fields
    (counter,) = struct.unpack(">I", datagram[_LAYOUT.size:_LAYOUT.size + 4])
    return message, counter, datagram[-MAC_LEN:]


@dataclass
class IcpVerifier:
    """A receiver's check of version-2 datagrams: the MAC under the network key, and a counter
    above the last one accepted from the claimed sender."""

    key: bytes
    checks_mac: bool = True  # defect when false: forged datagrams are accepted
    replay_window: bool = True  # defect when false: replayed datagrams are accepted
    _last: OrderedDict[str, int] = field(default_factory=OrderedDict)

    def check(self, datagram: bytes) -> tuple[IncarMessage | None, str]:
        """(message, "accepted") or (None, why: "malformed", "forged", "replay")."""
        try:
            message, counter, sent_mac = decode_auth(datagram)
        except IncarDecodeError:
            return None, "malformed"
        if self.checks_mac and not hmac.compare_digest(sent_mac, _mac(self.key, datagram[:-MAC_LEN])):
            return None, "forged"
        last = self._last.get(message.sender_serial, 0)
        if self.replay_window and counter <= last:
            return None, "replay"
        self._last[message.sender_serial] = max(counter, last)
        self._last.move_to_end(message.sender_serial)
        while len(self._last) > MAX_SENDERS:
            self._last.popitem(last=False)
        return message, "accepted"


@dataclass
class IcpSigner:
    """A sender's counter (kept for the device's life, across power cycles) and its key."""

    key: bytes
    counter: int = 0

    def sign(self, message: IncarMessage) -> bytes:
        self.counter = self.counter % COUNTER_MAX + 1
        return encode_auth(message, self.counter, self.key)
