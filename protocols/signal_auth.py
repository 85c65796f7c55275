"""The authenticated Signal dialect (frame version 0x02): pure codec and verifier, no I/O.

It fits the legacy 24-byte Service Data payload (docs/signal-auth.md) and keeps the fields a
legacy decoder (protocols.signal.decode_payload) reads where it reads them::

    0      0x02 version
    1..9   sender serial, 9 printable ASCII          (legacy: serial)
    10     source class                              (legacy: source class)
    11     event code                                (legacy: event code)
    12..19 MAC: HMAC-SHA-256(device key, DOMAIN || bytes 0..11 || bytes 20..23), first 8 bytes
    20..22 counter, 24-bit little endian, > 0     (legacy reads bytes 20..21 as the event id)
    23     key id (which agency key the device key derives from)

The counter is the sender's payload counter: a new value for every new payload (an event, the
return to presence), every advert of one payload repeats it, and it never goes back for the
device's life. A device key is HMAC-SHA-256(agency key, DEVICE_KEY_LABEL || serial): a camera
holds the agency keys and derives any sender's key; a CEW holds only its own.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from protocols.signal import (
    FLAGS_AD,
    PAYLOAD_LEN,
    SERVICE_DATA_HEADER,
    Event,
    SignalDecodeError,
    _check_serial,
    find_signal_payload,
)

VERSION_AUTH = 0x02
MAC_LEN = 8
MAC_AT = slice(12, 20)
COUNTER_AT = slice(20, 23)
KEY_ID_AT = 23
COUNTER_MAX = 0xFFFFFF
DOMAIN = b"bwc-harness/signal-auth/v2 UUID 0xFE6C\x00"  # domain separation: these MACs mean nothing elsewhere
DEVICE_KEY_LABEL = b"bwc-harness/signal-auth/v2 device key\x00"
EMULATION_KEY_LABEL = b"bwc-harness/signal-auth/v2 emulation agency key, NOT SECRET\x00"
WINDOW = 64  # counters below the highest accepted one that may still arrive (out of order), per sender
REPEAT_HOLD_S = 35.0  # >= the longest burst (30 s); copies of an accepted payload heard this long after it are the same event, not replays


def emulation_agency_key(agency: str, key_id: int) -> bytes:
    """The agency key emulated devices use: derived from the agency's name, so anyone can
    compute it (like every emulated device key of this harness, it is not secret)."""
    return hashlib.sha256(EMULATION_KEY_LABEL + bytes((key_id & 0xFF,)) + agency.encode("utf-8")).digest()


def device_key(agency_key: bytes, serial: str) -> bytes:
    """The key one sender signs with, derived from the agency key and its serial."""
    return hmac.new(agency_key, DEVICE_KEY_LABEL + _check_serial(serial), hashlib.sha256).digest()


def mac(payload: bytes, key: bytes) -> bytes:
    """The 8-byte MAC of a version-2 payload (its own MAC bytes are not covered)."""
    return hmac.new(key, DOMAIN + payload[:12] + payload[20:24], hashlib.sha256).digest()[:MAC_LEN]


@dataclass(frozen=True)
class AuthFrame:
    """One decoded version-2 payload (``mac`` as sent; checking it is the Verifier's job)."""

    serial: str
    source_class: int
    event_code: int
    counter: int
    key_id: int
    mac: bytes = bytes(MAC_LEN)

    @classmethod
    def for_event(cls, serial: str, event: Event, counter: int, key_id: int) -> AuthFrame:
        return cls(serial, event.source_class.value, event.code, counter, key_id)

    @property
    def event_id(self) -> int:
        """What a legacy decoder reads as the event id (bytes 20-21)."""
        return self.counter & 0xFFFF


def is_authenticated(payload: bytes) -> bool:
    return len(payload) == PAYLOAD_LEN and payload[0] == VERSION_AUTH


def _unsigned(frame: AuthFrame) -> bytearray:
    serial = _check_serial(frame.serial)
    for name, value, lo, hi in (("source_class", frame.source_class, 0, 0xFF), ("event_code", frame.event_code, 0, 0xFF),
                                ("counter", frame.counter, 1, COUNTER_MAX), ("key_id", frame.key_id, 0, 0xFF)):
        if not lo <= value <= hi:
            raise SignalDecodeError(f"{name}={value} out of range {lo}..{hi}")
    out = bytearray(PAYLOAD_LEN)
    out[0] = VERSION_AUTH
    out[1:10] = serial
    out[10], out[11] = frame.source_class, frame.event_code
    out[COUNTER_AT] = frame.counter.to_bytes(3, "little")
    out[KEY_ID_AT] = frame.key_id
    return out


def encode_auth_payload(frame: AuthFrame, key: bytes) -> bytes:
    """The signed 24-byte payload (``frame.mac`` is ignored; the MAC is computed with ``key``)."""
    out = _unsigned(frame)
    out[MAC_AT] = mac(bytes(out), key)
    return bytes(out)


def encode_auth_adv_data(frame: AuthFrame, key: bytes) -> bytes:
    """The full 31-byte legacy AdvData carrying a signed payload."""
    return FLAGS_AD + SERVICE_DATA_HEADER + encode_auth_payload(frame, key)


def decode_auth_payload(payload: bytes) -> AuthFrame:
    payload = bytes(payload)
    if not is_authenticated(payload):
        raise SignalDecodeError("not an authenticated (version 0x02, 24-byte) Signal payload")
    serial_raw = payload[1:10]
    if not all(0x20 < b < 0x7F for b in serial_raw):
        raise SignalDecodeError(f"Signal payload bytes 1-9 are not a printable ASCII serial: {serial_raw.hex(' ')}")
    return AuthFrame(serial_raw.decode("ascii"), payload[10], payload[11], int.from_bytes(payload[COUNTER_AT], "little"),
                     payload[KEY_ID_AT], payload[MAC_AT])


def forge(captured: bytes, counter: int, rng: random.Random, event: Event | None = None) -> bytes:
    """What an attacker without the key can make of a captured version-2 payload: its fields
    (or another event) with a later, valid-looking counter and a guessed MAC."""
    frame = decode_auth_payload(captured)
    cls, code = (frame.source_class, frame.event_code) if event is None else (event.source_class.value, event.code)
    out = _unsigned(AuthFrame(frame.serial, cls, code, counter, frame.key_id))
    out[MAC_AT] = rng.randbytes(MAC_LEN)
    return bytes(out)


class Verdict(enum.Enum):
    ACCEPTED = "accepted"  # authentic and new: the only verdict a camera acts on
    REPEAT = "repeat"  # an authentic copy of a payload accepted < repeat_hold_s ago: the same event again
    REPLAY = "replay"  # authentic bytes whose counter was accepted before, or older than the window
    FORGED = "forged"  # the MAC does not verify
    UNKNOWN_KEY = "unknown key"  # a key id this verifier holds no key for
    NOT_AUTHENTICATED = "not authenticated"  # not a version-2 payload (a legacy frame, or malformed)

    @property
    def acts(self) -> bool:
        return self is Verdict.ACCEPTED


@dataclass
class _Sender:
    highest: int
    seen: int = 1  # bit i set: counter highest - i was accepted
    first: dict[int, tuple[float, bytes]] = field(default_factory=dict)  # counter -> (first accepted at, MAC)


@dataclass
class Verifier:
    """Checks version-2 payloads and keeps each sender's replay window.

    ``agency_keys`` maps key id -> agency key. Per sender (serial): the highest counter
    accepted and a bitmap of the ``window`` counters below it. A counter above the highest, or
    inside the window and not yet seen, is ACCEPTED once; the same payload again within
    ``repeat_hold_s`` of its acceptance is a REPEAT (the advertising event's other channels,
    the burst's later adverts); anything else authentic is a REPLAY. State is created only
    for frames whose MAC verifies, so forged floods cannot grow it.

    ``replay_window=False`` and ``checks_mac=False`` are seeded defects (every authentic frame
    acts; every frame's MAC is taken on trust)."""

    agency_keys: Mapping[int, bytes]
    window: int = WINDOW
    repeat_hold_s: float = REPEAT_HOLD_S
    replay_window: bool = True
    checks_mac: bool = True
    senders: dict[str, _Sender] = field(default_factory=dict)
    _device_keys: dict[tuple[int, str], bytes] = field(default_factory=dict)

    def key_for(self, key_id: int, serial: str) -> bytes | None:
        agency = self.agency_keys.get(key_id)
        if agency is None:
            return None
        if (key_id, serial) not in self._device_keys:
            self._device_keys[(key_id, serial)] = device_key(agency, serial)
        return self._device_keys[(key_id, serial)]

    def check(self, payload: bytes, now: float) -> Verdict:
        try:
            frame = decode_auth_payload(payload)
        except SignalDecodeError:
            return Verdict.NOT_AUTHENTICATED
        key = self.key_for(frame.key_id, frame.serial)
        if key is None:
            return Verdict.UNKNOWN_KEY
        if self.checks_mac and not hmac.compare_digest(mac(bytes(payload), key), frame.mac):
            return Verdict.FORGED
        if not self.replay_window:
            return Verdict.ACCEPTED
        return self._window(frame, now)

    def _window(self, frame: AuthFrame, now: float) -> Verdict:
        c, s = frame.counter, self.senders.get(frame.serial)
        if s is None:
            self.senders[frame.serial] = _Sender(c, 1, {c: (now, frame.mac)})
            return Verdict.ACCEPTED
        if c > s.highest:
            shift = c - s.highest
            s.seen = ((s.seen << shift) | 1) & ((1 << self.window) - 1) if shift < self.window else 1
            s.highest = c
            s.first = {k: v for k, v in s.first.items() if c - k < self.window}
            s.first[c] = (now, frame.mac)
            return Verdict.ACCEPTED
        age = s.highest - c
        if age >= self.window:
            return Verdict.REPLAY
        if not s.seen >> age & 1:
            s.seen |= 1 << age
            s.first[c] = (now, frame.mac)
            return Verdict.ACCEPTED
        t0, mac0 = s.first[c]
        if mac0 == frame.mac and now - t0 <= self.repeat_hold_s:
            return Verdict.REPEAT
        return Verdict.REPLAY

    def knows(self, serial: str) -> bool:
        """Has this sender ever been accepted authenticated (mixed mode refuses its legacy frames then)?"""
        return serial in self.senders


def verifier_for(agency: str, key_ids: tuple[int, ...], *, window: int = WINDOW, repeat_hold_s: float = REPEAT_HOLD_S,
                 replay_window: bool = True, checks_mac: bool = True) -> Verifier:
    """A Verifier holding the emulation keys of ``agency`` for ``key_ids``."""
    return Verifier({k: emulation_agency_key(agency, k) for k in key_ids}, window, repeat_hold_s, replay_window, checks_mac)


def iter_forgeries(captured: bytes, count: int, seed: int = 0, event: Event | None = None) -> Iterator[bytes]:
    """``count`` forged payloads from one captured version-2 payload (counters running on from it)."""
    rng = random.Random(f"forge {captured.hex()} {seed}")
    start = decode_auth_payload(captured).counter
    for i in range(count):
        yield forge(captured, (start + i) % COUNTER_MAX + 1, rng, event)  # start + 1 + i, wrapping to 1 after COUNTER_MAX


def forged_adverts(captured_adv_data: bytes, event: Event | None, count: int, seed: int = 0) -> Iterator[bytes] | None:
    """Forged AdvData for a spoofer who captured ``captured_adv_data``; None when that capture
    is not a version-2 advert (a legacy spoof needs no forgery)."""
    try:
        payload = find_signal_payload(captured_adv_data)
    except SignalDecodeError:
        return None
    if payload is None or not is_authenticated(payload):
        return None
    return (FLAGS_AD + SERVICE_DATA_HEADER + p for p in iter_forgeries(payload, count, seed, event))
