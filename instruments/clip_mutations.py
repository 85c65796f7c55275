"""Hostile variants of a valid clip, for the analyzer's fuzz campaign
(``benchmarks/fuzz_clips.py``) and its short version in the tests.

Each mutation takes the clip's bytes and a seeded ``random.Random`` and returns new bytes
plus a one-line description (what was changed where), so a finding can be rebuilt from the
seed alone. The kinds are what a damaged card, a torn copy or a crafted file look like:

* ``bitflip``: 1 to 64 random bits flipped anywhere in the file;
* ``dup-chunk``: a stretch of an ``mdat`` copied over the bytes that follow it (size and
  box structure unchanged: the decoder sees repeated slice data);
* ``dup-mdat``: one whole ``mdat`` box inserted again right after itself;
* ``truncate``: the file cut at a random byte;
* ``box-size``: one box header (top level or nested in moov/moof) given a false size: 0,
  1 with a 64-bit size, smaller, larger, huge or below the 8-byte header.

``BASES`` are the valid clips the campaign starts from (x264 on one thread, so their bytes,
and with them every mutation, are the same on every machine with the pinned PyAV)."""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from instruments.synthetic_clip import ClipSpec

BASES = {
    "small": ClipSpec(seconds=4, threads=1),  # band timecode + AAC time marks, fragmented like our cameras
    "plain": ClipSpec(seconds=3, fragmented=False, threads=1),  # index at the end, as many vendor cameras write
    "720p": ClipSpec(width=1280, height=720, fps=10, seconds=6, threads=1),
    "qr": ClipSpec(width=640, height=360, seconds=2, timecode="qr", audio=False, threads=1),
}

# boxes whose payload is a sequence of boxes (ISO/IEC 14496-12)
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"dinf", b"edts", b"mvex", b"moof", b"traf", b"udta", b"mfra"}


@dataclass(frozen=True)
class Box:
    offset: int  # of the header
    size: int  # header included
    kind: bytes
    header: int  # 8, or 16 with a 64-bit size


def boxes(data: bytes, start: int = 0, end: int | None = None, depth: int = 0) -> Iterator[Box]:
    """Every box of a well-formed file, depth first (containers before their children)."""
    end = len(data) if end is None else end
    offset = start
    while offset + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, offset)
        header = 8
        if size == 1 and offset + 16 <= end:
            size, header = struct.unpack_from(">Q", data, offset + 8)[0], 16
        elif size == 0:
            size = end - offset
        if size < header or offset + size > end:
            return
        yield Box(offset, size, kind, header)
        if kind in _CONTAINERS and depth < 8:
            yield from boxes(data, offset + header, offset + size, depth + 1)
        offset += size


Mutation = Callable[[bytes, random.Random], tuple[bytes, str]]


def bitflip(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    out = bytearray(data)
    n = rng.choice((1, 2, 4, 8, 16, 64))
    for _ in range(n):
        i = rng.randrange(len(out))
        out[i] ^= 1 << rng.randrange(8)
    return bytes(out), f"{n} bit(s) flipped"


def _mdats(data: bytes) -> list[Box]:
    return [b for b in boxes(data) if b.kind == b"mdat" and b.size > b.header + 16]


def dup_chunk(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    mdat = rng.choice(_mdats(data))
    lo, hi = mdat.offset + mdat.header, mdat.offset + mdat.size
    n = rng.randint(16, max(16, (hi - lo) // 2))
    a = rng.randrange(lo, hi - n)
    b = min(a + n, hi - n)
    out = bytearray(data)
    out[b : b + n] = data[a : a + n]
    return bytes(out), f"mdat at {mdat.offset}: bytes {a}..{a + n} copied over {b}..{b + n}"


def dup_mdat(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    mdat = rng.choice(_mdats(data))
    end = mdat.offset + mdat.size
    return data[:end] + data[mdat.offset : end] + data[end:], f"mdat at {mdat.offset} ({mdat.size} bytes) inserted twice"


def truncate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    cut = rng.randrange(1, len(data))
    return data[:cut], f"cut at byte {cut} of {len(data)}"


def box_size(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    box = rng.choice(list(boxes(data)))
    lie = rng.choice(("zero", "largesize", "smaller", "larger", "huge", "tiny"))
    out = bytearray(data)
    if lie == "largesize":
        out[box.offset : box.offset + 4] = struct.pack(">I", 1)
        out[box.offset + 8 : box.offset + 16] = struct.pack(">Q", rng.choice((box.size, 0, 7, rng.getrandbits(64))))
    else:
        value = {"zero": 0, "smaller": max(8, box.size - rng.randint(1, box.size)), "larger": box.size + rng.randint(1, 1 << 20),
                 "huge": rng.randint(1 << 31, (1 << 32) - 1), "tiny": rng.randint(1, 7)}[lie]
        out[box.offset : box.offset + 4] = struct.pack(">I", value)
    return bytes(out), f"box '{box.kind.decode('latin-1')}' at {box.offset} (size {box.size}): size lie '{lie}'"


MUTATIONS: dict[str, Mutation] = {"bitflip": bitflip, "dup-chunk": dup_chunk, "dup-mdat": dup_mdat, "truncate": truncate, "box-size": box_size}


def mutate(data: bytes, kind: str, seed: int) -> tuple[bytes, str]:
    """The mutation ``kind`` of ``data`` with ``seed``: the same arguments give the same bytes."""
    return MUTATIONS[kind](data, random.Random(f"{kind}:{seed}"))
