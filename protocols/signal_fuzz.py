"""Malformed Signal adverts, as the public fuzzers send them (AxonCadabra varies payload bytes,
the Flipper apps send truncated and random frames): pure bytes, seeded, no I/O.

Every frame made here is *not a valid activating Signal advert*: either the codec refuses it
(truncated, wrong AD lengths, wrong service-data size, non-ASCII serial) or it decodes to an
event no requirement lets start a recording (unknown class or code, presence, holster
return). A camera must start nothing on any of them (SEC-003)."""

from __future__ import annotations

import random
from collections.abc import Iterator

from protocols.signal import (
    ADV_DATA_LEN,
    FLAGS_AD,
    SERVICE_DATA_HEADER,
    Event,
    SignalDecodeError,
    SignalFrame,
    decode_adv_data,
    encode_adv_data,
)

KINDS = ("truncated", "ad-length", "service-size", "random-payload", "unknown-event", "bit-flip", "non-ascii-serial")


def activates(adv_data: bytes) -> bool:
    """Would a conformant camera act on these bytes (a decodable, activating Signal advert)?"""
    try:
        return decode_adv_data(adv_data).activates_cameras
    except SignalDecodeError:
        return False


def _one(kind: str, rng: random.Random, genuine: bytes) -> bytes:
    if kind == "truncated":
        return genuine[: rng.randrange(1, len(genuine))]
    if kind == "ad-length":  # the service-data AD claims more or fewer bytes than it holds
        data = bytearray(genuine)
        data[len(FLAGS_AD)] = rng.choice([b for b in range(1, 40) if b != data[len(FLAGS_AD)]])
        return bytes(data)
    if kind == "service-size":  # a well-formed AD whose 0xFE6C payload is not 24 bytes
        size = rng.choice([n for n in range(0, ADV_DATA_LEN - len(FLAGS_AD) - 3) if n != 24])
        return FLAGS_AD + bytes((size + 3,)) + SERVICE_DATA_HEADER[1:] + rng.randbytes(size)
    if kind == "random-payload":
        return FLAGS_AD + SERVICE_DATA_HEADER + rng.randbytes(24)
    if kind == "unknown-event":
        known = {(e.source_class.value, e.code) for e in Event}
        while True:
            cls, code = rng.randrange(256), rng.randrange(256)
            if (cls, code) not in known:
                break
        serial = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(9))
        return encode_adv_data(SignalFrame(serial, cls, code, rng.randrange(1 << 24), rng.randrange(1 << 16)))
    if kind == "bit-flip":
        data = bytearray(genuine)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        return bytes(data)
    if kind == "non-ascii-serial":
        data = bytearray(genuine)
        data[len(FLAGS_AD) + len(SERVICE_DATA_HEADER) + 1 + rng.randrange(9)] = rng.choice([0x00, 0x0A, 0x7F, 0x80, 0xFF])
        return bytes(data)
    raise ValueError(f"unknown kind {kind!r} (known: {', '.join(KINDS)})")


def malformed_adverts(genuine: bytes, count: int, seed: int = 0) -> Iterator[tuple[str, bytes]]:
    """``count`` (kind, AdvData) pairs, kinds in turn, derived from a genuine advert's bytes;
    a mutation that happens to be a valid activating advert is drawn again."""
    rng = random.Random(f"signal-fuzz {seed}")
    made = 0
    while made < count:
        kind = KINDS[made % len(KINDS)]
        data = _one(kind, rng, genuine)
        if activates(data):
            continue
        made += 1
        yield kind, data
