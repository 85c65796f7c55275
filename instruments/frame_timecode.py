"""Reads the timecode out of decoded pictures: the bar band at its fixed place (our emulated
cameras) or the QR timecode anywhere in the picture (a camera filming the ``bwc clock`` page,
or a still photo / screenshot of it).

Per clip the reader detects which code the pictures carry and then keeps to it. For QR it
remembers where the symbols were and decodes a crop around them (~0.1 ms), falling back to
the whole picture when the crop fails (the camera moved, the screen was covered).

Searching a whole picture costs ~1-2 ms at 720p, so a clip whose pictures hold no code
(damaged, or no timecode at all) would cost that on every frame: after SEARCH_RUN frames in a
row without a code the whole picture is searched only on every SEARCH_STRIDE-th frame, until
a code is found again. A code that comes back is found at most SEARCH_STRIDE - 1 frames late
(those frames count as unreadable).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import zxingcpp

from protocols.qr_timecode import parse_payload
from protocols.timecode import Timecode, TimecodeError, TimecodeReader

KIND_BAND = "band"
KIND_QR = "qr"
_QR = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
SEARCH_RUN = 30  # frames in a row searched whole before the search thins out
SEARCH_STRIDE = 15


@dataclass(frozen=True)
class QrHit:
    timecode: Timecode
    corners: tuple[tuple[int, int], ...]  # picture coordinates, clockwise from the symbol's top-left


def _corners(position: zxingcpp.Position, dx: int, dy: int) -> tuple[tuple[int, int], ...]:
    return tuple((p.x + dx, p.y + dy) for p in (position.top_left, position.top_right, position.bottom_right, position.bottom_left))


def read_qr_timecodes(luma: np.ndarray, *, x0: int = 0, y0: int = 0, thorough: bool = True) -> list[QrHit]:
    """Every QR timecode of ours in a grayscale picture (other QR codes are ignored).
    x0/y0: where this picture sits in a larger one (for crops). thorough=False skips the
    downscaled passes (a crop around a known symbol: ~30 % faster)."""
    if luma.ndim != 2 or min(luma.shape) < 21:
        return []
    hits = []
    for code in zxingcpp.read_barcodes(np.ascontiguousarray(luma), formats=_QR, try_rotate=False, try_downscale=thorough, try_invert=False):
        tc = parse_payload(code.text)
        if tc is not None:
            hits.append(QrHit(tc, _corners(code.position, x0, y0)))
    return hits


class FrameTimecodeReader:
    """Reads one timecode per picture of a clip (see the module doc)."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        try:
            self._band: TimecodeReader | None = TimecodeReader(width, height)
        except TimecodeError:
            self._band = None  # too small for the band: only QR can be read
        self.kind: str | None = None
        self._region: tuple[int, int, int, int] | None = None  # x0, y0, x1, y1 of the last symbols
        self.full_frame_searches = 0
        self.symbols_seen = 0
        self._misses = 0  # frames in a row without any code

    def read(self, luma: np.ndarray) -> Timecode | None:
        if self.kind != KIND_QR and self._band is not None:
            tc = self._band.read(luma)
            if tc is not None:
                self.kind = KIND_BAND
                return tc
            if self.kind == KIND_BAND:
                return None  # a band clip with a damaged picture: do not search it for QR
        tc = self._read_qr(luma)
        if tc is not None:
            self.kind = KIND_QR
            self._misses = 0
        else:
            self._misses += 1
        return tc

    def _read_qr(self, luma: np.ndarray) -> Timecode | None:
        hits: list[QrHit] = []
        if self._region is not None:
            x0, y0, x1, y1 = self._region
            hits = read_qr_timecodes(luma[y0:y1, x0:x1], x0=x0, y0=y0, thorough=False)
        if not hits and (self._misses < SEARCH_RUN or self._misses % SEARCH_STRIDE == 0):
            self.full_frame_searches += 1
            hits = read_qr_timecodes(luma)
        if not hits:
            return None
        self.symbols_seen += len(hits)
        self._region = self._around(hits)
        # the clock page shows two symbols redrawn on alternate display frames; the newer one
        # is the time of the picture (the other may be one display frame old)
        return max((h.timecode for h in hits), key=lambda t: t.utc_ms)

    def _around(self, hits: list[QrHit]) -> tuple[int, int, int, int]:
        xs = [x for h in hits for x, _ in h.corners]
        ys = [y for h in hits for _, y in h.corners]
        w, h = max(xs) - min(xs), max(ys) - min(ys)
        margin = max(16, int(0.35 * max(w, h)))  # quiet zone plus room for the camera to move
        return (
            max(0, min(xs) - margin),
            max(0, min(ys) - margin),
            min(self.width, max(xs) + margin),
            min(self.height, max(ys) + margin),
        )


def frame_luma(frame: av.VideoFrame) -> np.ndarray | None:
    """The luma plane of a decoded frame without copying (8-bit planar formats), else gray;
    None when the plane holds fewer bytes than the picture needs (a damaged stream)."""
    if frame.format.name in ("yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "nv21", "gray"):
        plane = frame.planes[0]
        need = frame.height * plane.line_size
        if frame.width > plane.line_size or plane.buffer_size < need:
            return None
        arr = np.frombuffer(memoryview(plane), dtype=np.uint8, count=need).reshape(frame.height, plane.line_size)
        return arr[:, : frame.width]
    return frame.to_ndarray(format="gray")


class ImageReadError(ValueError):
    """The picture file cannot be opened or decoded."""


def read_image(path: str | Path) -> np.ndarray:
    """A still picture (PNG, JPEG, ... anything FFmpeg decodes) as an 8-bit gray array."""
    path = Path(path)
    if not path.exists():
        raise ImageReadError(f"file not found: {path}")
    try:
        with av.open(str(path)) as container:
            for frame in container.decode(video=0):
                return frame.to_ndarray(format="gray")
    except (av.FFmpegError, OSError, ValueError, IndexError) as exc:
        raise ImageReadError(f"{path}: not a picture FFmpeg can decode ({exc})") from None
    raise ImageReadError(f"{path}: no picture in the file")


def read_image_timecodes(image: str | Path | np.ndarray) -> list[Timecode]:
    """Every timecode in a still picture (a photo or screenshot of the clock page, or a frame
    grab of one of our clips): QR symbols anywhere, and the band at its fixed place.
    Newest first."""
    luma = read_image(image) if not isinstance(image, np.ndarray) else image
    if luma.ndim == 3:  # RGB array: ITU-R BT.601 luma
        luma = (luma[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)).astype(np.uint8)
    found = [h.timecode for h in read_qr_timecodes(luma)]
    try:
        band = TimecodeReader(luma.shape[1], luma.shape[0]).read(luma)
    except TimecodeError:
        band = None
    if band is not None:
        found.append(band)
    return sorted(set(found), key=lambda t: -t.utc_ms)
