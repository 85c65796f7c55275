"""Evidence attached to the Allure results: stills of chosen frames and pcap slices."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import allure
import av
import numpy as np

from protocols.timecode import TimecodeReader

PCAP_HEADER = 24


def png_gray(luma: np.ndarray) -> bytes:
    """A grayscale PNG (8 bit) of a 2-D uint8 array."""
    h, w = luma.shape
    raw = b"".join(b"\x00" + luma[y].tobytes() for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


def stills(clip: Path, at_utc_ms: list[int]) -> list[bytes | None]:
    """PNG of the first frame whose timecode reaches each instant (None if never)."""
    want = sorted(at_utc_ms)
    found: dict[int, bytes] = {}
    try:
        with av.open(str(clip)) as container:
            stream = container.streams.video[0]
            reader = None
            for frame in container.decode(stream):
                plane = frame.planes[0]
                luma = np.frombuffer(memoryview(plane), np.uint8).reshape(frame.height, plane.line_size)[:, : frame.width]
                reader = reader or TimecodeReader(frame.width, frame.height)
                tc = reader.read(luma)
                if tc is None:
                    continue
                while want and tc.utc_ms >= want[0]:
                    found[want.pop(0)] = png_gray(np.ascontiguousarray(luma[::2, ::2]))
                if not want:
                    break
    except (av.FFmpegError, OSError, ValueError):
        pass
    return [found.get(t) for t in at_utc_ms]


def pcap_slice(pcap: Path, t0_s: float, t1_s: float) -> bytes:
    """The records of a classic pcap whose timestamps fall in [t0_s, t1_s)."""
    data = pcap.read_bytes()
    out = [data[:PCAP_HEADER]]
    i = PCAP_HEADER
    while i + 16 <= len(data):
        sec, usec, incl, _ = struct.unpack_from("<IIII", data, i)
        t = sec + usec / 1e6
        if t0_s <= t < t1_s:
            out.append(data[i : i + 16 + incl])
        i += 16 + incl
    return b"".join(out)


def attach_stills(label: object, clip: Path, instants: dict[str, int]) -> None:
    for (name, _), png in zip(instants.items(), stills(clip, list(instants.values()))):
        if png is not None:
            allure.attach(png, name=f"{label}: {name}", attachment_type=allure.attachment_type.PNG)


def attach_pcap(name: str, pcap: Path, t0_s: float, t1_s: float) -> None:
    if pcap.is_file():
        allure.attach(pcap_slice(pcap, t0_s, t1_s), name=name, attachment_type=allure.attachment_type.PCAP)
