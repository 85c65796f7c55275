"""Structural check of an ISO-BMFF (MP4/MOV) file's top-level boxes, to say *why* a clip is
damaged: a box cut short (power lost mid-write), no index (``moov``: the recording was never
finalised), a corrupt box header. Reads only box headers (a few bytes per box), and at most
MAX_BOXES of them: a file of millions of tiny boxes is walked no further than that (no muxer
writes one; at one fragment per video frame it is still 55 minutes at 30 fps)."""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path

# top-level box types of MP4/MOV/3GP files; a file that starts with anything else is not ISO-BMFF
MAX_BOXES = 200_000
_TOP_LEVEL = {b"ftyp", b"styp", b"moov", b"moof", b"mdat", b"free", b"skip", b"wide", b"uuid", b"mfra", b"sidx", b"pdin", b"meta", b"emsg", b"prft", b"pnot"}


@dataclass
class BoxCheck:
    iso_bmff: bool = False
    boxes: int = 0
    fragments: int = 0  # complete moof boxes (fragmented MP4)
    has_moov: bool = False
    truncated: bool = False
    walk_stopped: bool = False  # MAX_BOXES reached: the rest of the file was not walked
    complete_bytes: int = 0  # the file up to the end of its last complete top-level box
    problems: list[str] = field(default_factory=list)


def check_boxes(path: str | Path) -> BoxCheck:
    path = Path(path)
    out = BoxCheck()
    with path.open("rb") as fh:
        if path.stat().st_size == 0:
            return out
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            _walk(data, len(data), out)
    if out.iso_bmff and not out.has_moov and not out.walk_stopped:
        out.problems.append("no 'moov' box (the index): the recording was never finalised, so its pictures cannot be located")
    return out


def _walk(data: mmap.mmap, size_total: int, out: BoxCheck) -> None:
    offset = 0
    while offset < size_total:
        if out.boxes >= MAX_BOXES:
            out.walk_stopped = True
            out.problems.append(f"more than {MAX_BOXES:,} top-level boxes: the box walk stopped at byte {offset:,} of {size_total:,}")
            return
        if size_total - offset < 8:
            out.truncated = True
            out.problems.append(f"file ends inside a box header at byte {offset:,} (cut short)")
            return
        size, kind = struct.unpack_from(">I4s", data, offset)
        if offset == 0:
            if kind not in _TOP_LEVEL:
                return  # not an MP4 family file: nothing to say here
            out.iso_bmff = True
        label = kind.decode("latin-1") if kind.isalnum() or kind == b"uuid" else repr(kind)
        if size == 1:
            if size_total - offset < 16:
                out.truncated = True
                out.problems.append(f"file ends inside the header of box '{label}' at byte {offset:,} (cut short)")
                return
            size = struct.unpack_from(">Q", data, offset + 8)[0]
        elif size == 0:
            size = size_total - offset  # "to the end of the file"
        if size < 8 or kind not in _TOP_LEVEL and not kind.isalnum():
            out.problems.append(f"corrupt box header at byte {offset:,} (type {label}, size {size}); the rest of the file cannot be walked")
            return
        if offset + size > size_total:
            out.truncated = True
            have = size_total - offset
            out.problems.append(
                f"box '{label}' at byte {offset:,} declares {size:,} bytes but only {have:,} are in the file "
                f"({100.0 * have / size:.0f} %): the file was cut short (power lost or copy interrupted while writing)"
            )
            return
        out.boxes += 1
        out.has_moov |= kind == b"moov"
        out.fragments += kind == b"moof"
        offset += size
        out.complete_bytes = offset
