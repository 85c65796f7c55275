"""Frame timecode: a machine-readable bit band rendered into the luma plane of every frame.

The band encodes 64 bits: 48-bit UTC time in milliseconds, 8 flag bits and a CRC-8. It is
drawn as a row of black/white cells framed by guard cells (1010 at the start, 0101 at the
end) across the top of the picture, with the human-readable UTC time printed below it.

A second band at the bottom of the picture (flag ``FLAG_REFERENCE``) is what the harness's
reference clock display showed when the frame was captured: emulated cameras film it, as a
bench camera films ``bwc clock``. The display refreshes at ``REFERENCE_REFRESH_HZ`` (59.94 Hz,
a common monitor rate, so a camera's frames fall at every phase of its refresh), and shows the
time of its last refresh.
Cells are large (>= 8 px) and the levels are video-range black (16) and white (235), so the
code survives H.264 at any sane quality. Pure numpy: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

DATA_BITS = 64
GUARD_START = (1, 0, 1, 0)
GUARD_END = (0, 1, 0, 1)
TOTAL_CELLS = len(GUARD_START) + DATA_BITS + len(GUARD_END)
BLACK = 16
WHITE = 235
FLAG_CLOCK_UNSET = 0x01
FLAG_REFERENCE = 0x80  # the band is the filmed reference clock, not the device's own clock
REFERENCE_REFRESH_HZ = 60000 / 1001
REFERENCE_QUANTUM_MS = 1000.0 / REFERENCE_REFRESH_HZ


def reference_display_ms(true_utc_ms: float) -> int:
    """What a reference clock display refreshed at REFERENCE_REFRESH_HZ shows at a true
    instant: the time of its last refresh, in whole ms (so 0 to one refresh + 1 ms behind)."""
    refreshes = (true_utc_ms * 60) // 1001  # refresh period 1001/60 ms, counted exactly
    return int(refreshes * 1001 // 60)


class TimecodeError(ValueError):
    """Band geometry or value problems (the frame is too small, the value out of range)."""


def _crc8_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
        table.append(crc)
    return tuple(table)


_CRC8 = _crc8_table()


def crc8(data: bytes) -> int:
    """CRC-8/ATM (poly 0x07, init 0)."""
    crc = 0
    for byte in data:
        crc = _CRC8[crc ^ byte]
    return crc


@dataclass(frozen=True)
class Timecode:
    utc_ms: int
    flags: int = 0

    @property
    def clock_unset(self) -> bool:
        return bool(self.flags & FLAG_CLOCK_UNSET)

    @property
    def seconds(self) -> float:
        return self.utc_ms / 1000.0

    def iso(self) -> str:
        try:
            return datetime.fromtimestamp(self.utc_ms / 1000, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        except (ValueError, OverflowError):  # beyond year 9999: print the raw count
            return str(self.utc_ms)


def to_bits(tc: Timecode) -> np.ndarray:
    if not 0 <= tc.utc_ms < (1 << 48):
        raise TimecodeError(f"utc_ms {tc.utc_ms} does not fit in 48 bits")
    if not 0 <= tc.flags <= 0xFF:
        raise TimecodeError(f"flags {tc.flags} does not fit in 8 bits")
    body = tc.utc_ms.to_bytes(6, "big") + bytes((tc.flags,))
    word = body + bytes((crc8(body),))
    return np.unpackbits(np.frombuffer(word, dtype=np.uint8))


def from_bits(bits: np.ndarray) -> Timecode | None:
    """None when the CRC does not match (an unreadable frame)."""
    word = np.packbits(bits.astype(np.uint8)).tobytes()
    if crc8(word[:7]) != word[7]:
        return None
    return Timecode(int.from_bytes(word[:6], "big"), word[6])


@dataclass(frozen=True)
class BandGeometry:
    """Where the band sits in a frame of the given size."""

    width: int
    height: int
    bottom: bool = False  # the reference clock band sits at the bottom edge

    @property
    def cell(self) -> int:
        return self.width // (TOTAL_CELLS + 2)

    @property
    def x0(self) -> int:
        return (self.width - self.cell * TOTAL_CELLS) // 2

    @property
    def band_height(self) -> int:
        return max(8, self.height // 12) // 2 * 2

    @property
    def margin(self) -> int:
        return self.height // 30 // 2 * 2

    @property
    def y0(self) -> int:
        return self.height - self.margin - self.band_height if self.bottom else self.margin

    def check(self) -> None:
        if self.cell < 4:
            raise TimecodeError(f"frame {self.width}x{self.height} too narrow for a {TOTAL_CELLS}-cell band (needs >= {4 * (TOTAL_CELLS + 2)} px)")


# 3x5 glyphs for the human-readable line (digits and the few symbols of an ISO time).
_GLYPHS = {
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111", "3": "111001111001111",
    "4": "101101111001001", "5": "111100111001111", "6": "111100111101111", "7": "111001001001001",
    "8": "111101111101111", "9": "111101111001111", ":": "000010000010000", ".": "000000000000010",
    "-": "000000111000000", "T": "111010010010010", "Z": "111001010100111", " ": "000000000000000",
}


def _glyph(ch: str, scale: int) -> np.ndarray:
    pattern = np.array([int(c) for c in _GLYPHS.get(ch, _GLYPHS[" "])], dtype=np.uint8).reshape(5, 3)
    return np.kron(pattern, np.ones((scale, scale), dtype=np.uint8))


class TimecodeRenderer:
    """Stamps timecodes into luma planes of one frame size. Reused per camera (cached geometry)."""

    def __init__(self, width: int, height: int, *, text: bool = True, bottom: bool = False) -> None:
        self.geometry = BandGeometry(width, height, bottom)
        self.geometry.check()
        self.text = text
        self._scale = max(1, height // 120)
        self._glyphs = {ch: _glyph(ch, self._scale) for ch in _GLYPHS}

    def stamp(self, luma: np.ndarray, tc: Timecode) -> None:
        g = self.geometry
        cells = np.concatenate((GUARD_START, to_bits(tc), GUARD_END)).astype(np.uint8)
        row = np.repeat(np.where(cells == 1, WHITE, BLACK).astype(np.uint8), g.cell)
        luma[g.y0 : g.y0 + g.band_height, g.x0 : g.x0 + row.size] = row
        if self.text:
            self._print(luma, tc.iso().replace("+00:00", "Z"), g.x0, g.y0 + g.band_height + 2 * self._scale)

    def _print(self, luma: np.ndarray, text: str, x: int, y: int) -> None:
        s = self._scale
        h, w = luma.shape
        box_w = min(w - x, len(text) * 4 * s + s)
        luma[y : y + 7 * s, x : x + box_w] = BLACK
        for i, ch in enumerate(text):
            gl = self._glyphs.get(ch)
            if gl is None:
                continue
            gx = x + s + i * 4 * s
            if gx + 3 * s > w:
                break
            region = luma[y + s : y + 6 * s, gx : gx + 3 * s]
            region[gl == 1] = WHITE


class TimecodeReader:
    """Reads the band back from a decoded luma plane of a known frame size.

    Samples the middle half of each cell (a few rows, the central columns) with one gather and
    integer sums: ~10 us per frame, so reading every frame of a 60 s 720p clip costs ~20 ms.

    The band's geometry is proportional to the picture, but its cells are whole pixels of the
    size the camera recorded: a clip transcoded to another size (640x360, 1920x1080, ...) has
    the band in the same place relative to the picture, with cells of a fractional width and an
    offset of its own. When the nominal geometry reads nothing, the reader locates the band in
    the sampled rows (the first and the last cell are white guard cells: the white from one to
    the other spans TOTAL_CELLS cells) and keeps the located columns while they read."""

    ROWS_SAMPLED = 4
    WHITE_MIN = 180  # a band cell's white after scaling and compression (the scene stays below 160)

    def __init__(self, width: int, height: int, *, bottom: bool = False) -> None:
        self.geometry = BandGeometry(width, height, bottom)
        self.geometry.check()
        g = self.geometry
        top, end = g.y0 + g.band_height // 4, g.y0 + 3 * g.band_height // 4
        step = max(1, (end - top) // self.ROWS_SAMPLED)
        self._rows = slice(top, end, step)
        self._n_rows = len(range(top, end, step))
        self._place(float(g.x0), float(g.cell))
        self.located: tuple[float, float] | None = None  # (x of the first cell, cell width) when not the nominal place

    def _place(self, x0: float, cell: float) -> None:
        centers = np.rint(x0 + cell * (np.arange(TOTAL_CELLS) + 0.5)).astype(np.int64)
        half = max(1, int(cell) // 4)
        self._cols = np.clip(centers[:, None] + np.arange(-half, half + 1)[None, :], 0, self.geometry.width - 1).ravel()
        self._per_cell = 2 * half + 1
        self._samples = self._per_cell * self._n_rows

    def read(self, luma: np.ndarray) -> Timecode | None:
        tc = self._decode(luma)
        if tc is None:
            found = self._locate(luma)
            if found is not None:
                kept = (self._cols, self._per_cell, self._samples)
                self._place(*found)
                tc = self._decode(luma)
                if tc is None:
                    self._cols, self._per_cell, self._samples = kept
                else:
                    self.located = found
        return tc

    def _locate(self, luma: np.ndarray) -> tuple[float, float] | None:
        """The band's first cell and cell width in this picture: from the outer edges of its
        first and last cell (both white) on the sampled rows, to a fraction of a pixel (the
        share of white in the pixel beside each, against the scene beyond it)."""
        profile = luma[self._rows].mean(axis=0)
        white = np.flatnonzero(profile >= self.WHITE_MIN)
        if white.size < 2 or white[0] < 2 or white[-1] > profile.size - 3:
            return None
        lo, hi = int(white[0]), int(white[-1])

        def covered(edge: int, outside: int, inside: int) -> float:
            span = profile[inside] - profile[outside]
            return float(np.clip((profile[edge] - profile[outside]) / span, 0.0, 1.0)) if span > 0 else 0.0

        left = lo - covered(lo - 1, lo - 2, lo)
        right = hi + 1 + covered(hi + 1, hi + 2, hi)
        cell = (right - left) / TOTAL_CELLS
        return (left, cell) if cell >= 3 else None

    def _decode(self, luma: np.ndarray) -> Timecode | None:
        strip = luma[self._rows].take(self._cols, axis=1)
        sums = strip.sum(axis=0, dtype=np.int64).reshape(TOTAL_CELLS, self._per_cell).sum(axis=1)
        levels = sums / self._samples
        lo = (levels[1] + levels[3] + levels[-4] + levels[-2]) / 4
        hi = (levels[0] + levels[2] + levels[-3] + levels[-1]) / 4
        if hi - lo < 40:
            return None
        bits = levels > (lo + hi) / 2
        if not (bits[0] and not bits[1] and bits[2] and not bits[3] and not bits[-4] and bits[-3] and not bits[-2] and bits[-1]):
            return None  # guards 1010 ... 0101
        word = np.packbits(bits[4:-4]).tobytes()
        if crc8(word[:7]) != word[7]:
            return None
        return Timecode(int.from_bytes(word[:6], "big"), word[6])
