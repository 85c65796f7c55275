"""Screen timecode: the 64-bit timecode word as a QR code, for a real camera filming a screen.

The word is the bar band's (protocols/timecode.py): 48-bit UTC ms, 8 flag bits, CRC-8. The QR
payload is that word as exactly 20 decimal digits (numeric mode), so a third-party reader
shows the same number and the CRC rejects QR codes that are not ours.

The encoder is a minimal, fixed-configuration QR Model 2 encoder (ISO/IEC 18004): version 1
(21x21 modules, the largest modules for a given size on screen), error correction level Q
(25 % of the codewords recoverable: blur, moire, glare), numeric mode, fixed mask pattern
(``MASK``). Everything but the 26 codewords is precomputed, so stamping a frame costs
microseconds. The clock page (instruments/clock_page.html) carries a line-for-line port of
this encoder in JavaScript; the tests check that both produce the same matrix as each other
and as an independent encoder (segno), and that zxing-cpp decodes it. Pure numpy: no I/O.
"""

from __future__ import annotations

import re

import numpy as np

from protocols.timecode import Timecode, TimecodeError, crc8, to_bits

VERSION = 1
SIZE = 21
EC_LEVEL = "Q"
EC_FORMAT_BITS = 0b11  # level Q in the format information
MASK = 2
DATA_CODEWORDS = 13
EC_CODEWORDS = 13
PAYLOAD_DIGITS = 20
QUIET_ZONE = 4  # modules of light margin the standard requires around the symbol
_PAYLOAD_RE = re.compile(r"^[0-9]{20}$")


# --- payload -------------------------------------------------------------------------------


def payload(tc: Timecode) -> str:
    """The QR text for a timecode: the 64-bit word (ms << 16 | flags << 8 | crc) as 20 digits."""
    word = int.from_bytes(np.packbits(to_bits(tc)).tobytes(), "big")
    return f"{word:020d}"


def parse_payload(text: str) -> Timecode | None:
    """The timecode a QR text carries, or None when the text is not one of ours."""
    if not _PAYLOAD_RE.match(text):
        return None
    word = int(text)
    if word >= 1 << 64:
        return None
    raw = word.to_bytes(8, "big")
    if crc8(raw[:7]) != raw[7]:
        return None
    return Timecode(int.from_bytes(raw[:6], "big"), raw[6])


# --- Reed-Solomon over GF(256), polynomial 0x11D ---------------------------------------------


def _gf_tables() -> tuple[list[int], list[int]]:
    exp = [0] * 512
    log = [0] * 256
    x = 1
    for i in range(255):
        exp[i] = x
        log[x] = i
        x <<= 1
        if x & 0x100:
            x ^= 0x11D
    for i in range(255, 512):
        exp[i] = exp[i - 255]
    return exp, log


_EXP, _LOG = _gf_tables()


def _gf_mul(a: int, b: int) -> int:
    return 0 if a == 0 or b == 0 else _EXP[_LOG[a] + _LOG[b]]


def _rs_generator(degree: int) -> list[int]:
    """Coefficients of prod(x - a^i), i < degree, highest power first (leading 1 dropped)."""
    poly = [1]
    for i in range(degree):
        nxt = [0] * (len(poly) + 1)
        for j, c in enumerate(poly):
            nxt[j] ^= c
            nxt[j + 1] ^= _gf_mul(c, _EXP[i])
        poly = nxt
    return poly[1:]


_GENERATOR = _rs_generator(EC_CODEWORDS)


def rs_remainder(data: list[int]) -> list[int]:
    """The EC_CODEWORDS error-correction codewords for the data codewords."""
    rem = [0] * EC_CODEWORDS
    for byte in data:
        factor = byte ^ rem[0]
        rem = rem[1:] + [0]
        for i, g in enumerate(_GENERATOR):
            rem[i] ^= _gf_mul(g, factor)
    return rem


# --- codewords ----------------------------------------------------------------------------


def data_codewords(text: str) -> list[int]:
    """Numeric-mode segment + terminator + padding, as DATA_CODEWORDS bytes."""
    if not text.isdigit() or not text.isascii():
        raise TimecodeError(f"QR timecode payload must be digits, got {text!r}")
    bits: list[int] = []

    def put(value: int, n: int) -> None:
        bits.extend((value >> (n - 1 - i)) & 1 for i in range(n))

    put(0b0001, 4)  # numeric mode
    put(len(text), 10)  # character count, versions 1-9
    for i in range(0, len(text), 3):
        group = text[i : i + 3]
        put(int(group), {3: 10, 2: 7, 1: 4}[len(group)])
    capacity = DATA_CODEWORDS * 8
    if len(bits) > capacity:
        raise TimecodeError(f"QR timecode payload of {len(text)} digits does not fit version {VERSION}-{EC_LEVEL}")
    put(0, min(4, capacity - len(bits)))  # terminator
    put(0, (-len(bits)) % 8)
    out = [int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8)]
    pad = (0xEC, 0x11)
    while len(out) < DATA_CODEWORDS:
        out.append(pad[(len(out) - len(bits) // 8) % 2])
    return out


def codewords(text: str) -> list[int]:
    data = data_codewords(text)
    return data + rs_remainder(data)


# --- matrix layout (precomputed once) ---------------------------------------------------------


def format_bits(ec_bits: int = EC_FORMAT_BITS, mask: int = MASK) -> int:
    """15-bit format information: BCH(15,5) of level+mask, XOR 0x5412."""
    data = (ec_bits << 3) | mask
    rem = data
    for _ in range(10):
        rem = (rem << 1) ^ ((rem >> 9) * 0x537)
    return ((data << 10) | (rem & 0x3FF)) ^ 0x5412


def _mask_bit(mask: int, x: int, y: int) -> bool:
    return [
        (x + y) % 2 == 0,
        y % 2 == 0,
        x % 3 == 0,
        (x + y) % 3 == 0,
        (x // 3 + y // 2) % 2 == 0,
        x * y % 2 + x * y % 3 == 0,
        (x * y % 2 + x * y % 3) % 2 == 0,
        ((x + y) % 2 + x * y % 3) % 2 == 0,
    ][mask]


def _layout(mask: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(function-pattern matrix, data rows, data cols, mask bits at the data positions)."""
    n = SIZE
    modules = np.zeros((n, n), dtype=bool)
    is_function = np.zeros((n, n), dtype=bool)

    def put(x: int, y: int, dark: bool) -> None:
        modules[y, x] = dark
        is_function[y, x] = True

    for i in range(n):  # timing patterns
        put(6, i, i % 2 == 0)
        put(i, 6, i % 2 == 0)
    for cx, cy in ((3, 3), (n - 4, 3), (3, n - 4)):  # finders with separators
        for dy in range(-4, 5):
            for dx in range(-4, 5):
                x, y = cx + dx, cy + dy
                if 0 <= x < n and 0 <= y < n:
                    dist = max(abs(dx), abs(dy))
                    put(x, y, dist not in (2, 4))
    bits = format_bits(EC_FORMAT_BITS, mask)
    bit = [(bits >> i) & 1 == 1 for i in range(15)]
    for i in range(6):
        put(8, i, bit[i])
    put(8, 7, bit[6])
    put(8, 8, bit[7])
    put(7, 8, bit[8])
    for i in range(9, 15):
        put(14 - i, 8, bit[i])
    for i in range(8):
        put(n - 1 - i, 8, bit[i])
    for i in range(8, 15):
        put(8, n - 15 + i, bit[i])
    put(8, n - 8, True)  # the dark module
    rows: list[int] = []
    cols: list[int] = []
    right = n - 1
    while right >= 1:  # zig-zag over column pairs, skipping the vertical timing column
        if right == 6:
            right = 5
        upward = ((right + 1) & 2) == 0
        for vert in range(n):
            y = n - 1 - vert if upward else vert
            for j in range(2):
                x = right - j
                if not is_function[y, x]:
                    rows.append(y)
                    cols.append(x)
        right -= 2
    r, c = np.array(rows), np.array(cols)
    flips = np.array([_mask_bit(mask, x, y) for y, x in zip(rows, cols)], dtype=bool)
    return modules, r, c, flips


_BASE, _ROWS, _COLS, _FLIPS = _layout(MASK)
assert _ROWS.size == (DATA_CODEWORDS + EC_CODEWORDS) * 8  # version 1 has no remainder bits


def matrix_for_text(text: str) -> np.ndarray:
    """The 21x21 symbol (True = dark) for a numeric text, without the quiet zone."""
    bits = np.unpackbits(np.array(codewords(text), dtype=np.uint8)).astype(bool)
    out = _BASE.copy()
    out[_ROWS, _COLS] = bits ^ _FLIPS
    return out


def qr_matrix(tc: Timecode) -> np.ndarray:
    """The 21x21 QR symbol of a timecode (True = dark), without the quiet zone."""
    return matrix_for_text(payload(tc))


# --- stamping into frames -----------------------------------------------------------------------

BLACK = 16
WHITE = 235


class QrTimecodeRenderer:
    """Stamps the QR timecode (with its quiet zone) into luma planes of one frame size.

    ``module`` is the module size in pixels (default: the symbol plus quiet zone fills 40 % of
    the frame height); ``x``/``y`` the top-left corner of the quiet zone (default: bottom-right
    corner of the frame, clear of the bar band at the top)."""

    def __init__(self, width: int, height: int, *, module: int | None = None, x: int | None = None, y: int | None = None) -> None:
        full = SIZE + 2 * QUIET_ZONE
        self.module = module if module is not None else max(2, (height * 2 // 5) // full)
        self.extent = full * self.module
        if self.extent > min(width, height):
            raise TimecodeError(f"frame {width}x{height} too small for a QR timecode of module {self.module} px ({self.extent} px square)")
        self.x = width - self.extent - self.module if x is None else x
        self.y = height - self.extent - self.module if y is None else y
        if not (0 <= self.x <= width - self.extent and 0 <= self.y <= height - self.extent):
            raise TimecodeError(f"QR timecode at ({self.x},{self.y}) does not fit a {width}x{height} frame")
        self._block = np.ones((self.module, self.module), dtype=np.uint8)

    def image(self, tc: Timecode) -> np.ndarray:
        """The symbol with its quiet zone as a luma image (extent x extent)."""
        m = np.pad(qr_matrix(tc), QUIET_ZONE)
        return np.kron(np.where(m, BLACK, WHITE).astype(np.uint8), self._block)

    def stamp(self, luma: np.ndarray, tc: Timecode) -> None:
        luma[self.y : self.y + self.extent, self.x : self.x + self.extent] = self.image(tc)
