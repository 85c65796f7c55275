"""A camera filming a screen, simulated on pictures: perspective (the screen seen at an angle,
anywhere in the frame), lens blur, washed-out contrast, sensor noise; and the ``bwc clock``
display itself (two QR timecodes redrawn on alternate display refreshes) for building clips
that look like a body camera's recording of it. Pure numpy; used by the analyzer's tests and
benchmark to check the QR reader on pictures like a real camera's."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from protocols.qr_timecode import QrTimecodeRenderer
from protocols.timecode import Timecode

Quad = tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]


def homography(src: Quad, dst: Quad) -> np.ndarray:
    """3x3 H with H @ (x, y, 1) ~ (u, v, 1) mapping each src corner onto its dst corner."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(src, dst):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    h = np.linalg.solve(np.array(rows, dtype=np.float64), np.array(rhs, dtype=np.float64))
    return np.append(h, 1.0).reshape(3, 3)


def warp(image: np.ndarray, dst: Quad, out_shape: tuple[int, int], *, background: float = 40.0) -> np.ndarray:
    """The picture a camera of out_shape (h, w) sees when the image's corners (top-left,
    top-right, bottom-right, bottom-left) land on dst; bilinear; float32."""
    h_in, w_in = image.shape
    src: Quad = ((0, 0), (w_in - 1, 0), (w_in - 1, h_in - 1), (0, h_in - 1))
    inv = homography(dst, src)  # output pixel -> image pixel
    h_out, w_out = out_shape
    ys, xs = np.mgrid[0:h_out, 0:w_out].astype(np.float64)
    den = inv[2, 0] * xs + inv[2, 1] * ys + inv[2, 2]
    u = (inv[0, 0] * xs + inv[0, 1] * ys + inv[0, 2]) / den
    v = (inv[1, 0] * xs + inv[1, 1] * ys + inv[1, 2]) / den
    inside = (u >= 0) & (u <= w_in - 1) & (v >= 0) & (v <= h_in - 1)
    u = np.clip(u, 0, w_in - 1.001)
    v = np.clip(v, 0, h_in - 1.001)
    x0, y0 = u.astype(np.int64), v.astype(np.int64)
    fx, fy = u - x0, v - y0
    img = image.astype(np.float32)
    top = img[y0, x0] * (1 - fx) + img[y0, x0 + 1] * fx
    bottom = img[y0 + 1, x0] * (1 - fx) + img[y0 + 1, x0 + 1] * fx
    out = (top * (1 - fy) + bottom * fy).astype(np.float32)
    out[~inside] = background
    return out


def blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur (edges extended); float32."""
    img = image.astype(np.float32)
    if sigma <= 0:
        return img
    radius = max(1, int(np.ceil(3 * sigma)))
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    k = (k / k.sum()).astype(np.float32)
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (radius, radius)
        padded = np.pad(img, pad, mode="edge")
        n = img.shape[axis]
        acc = np.zeros_like(img)
        for i, w in enumerate(k):
            acc += w * (padded[i : i + n] if axis == 0 else padded[:, i : i + n])
        img = acc
    return img


@dataclass(frozen=True)
class Camera:
    """How the camera sees the screen."""

    screen: Quad  # where the screen's corners land in the camera picture
    shape: tuple[int, int] = (720, 1280)  # camera picture (h, w)
    blur_sigma: float = 1.2
    noise_sigma: float = 6.0
    black: float = 35.0  # the screen's black as the camera sees it (glare, exposure)
    white: float = 215.0

    def film(self, screen_luma: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The camera's 8-bit luma picture of a screen showing screen_luma."""
        scaled = self.black + screen_luma.astype(np.float32) * ((self.white - self.black) / 255.0)
        img = blur(warp(scaled, self.screen, self.shape), self.blur_sigma)
        if self.noise_sigma > 0:
            img += rng.normal(0.0, self.noise_sigma, img.shape).astype(np.float32)
        return np.clip(np.round(img), 0, 255).astype(np.uint8)


class ClockDisplay:
    """The clock page's picture in numpy (the page draws the same symbols: tests prove the
    JavaScript and Python encoders identical): two QR timecodes side by side on a dark screen,
    redrawn on alternate refreshes of a display running at ``hz``."""

    def __init__(self, width: int = 1280, height: int = 720, hz: float = 60.0) -> None:
        self.width, self.height, self.hz = width, height, hz
        side = int(min(width * 0.46, height * 0.66))
        module = max(2, side // 29)
        self.renderers = [
            QrTimecodeRenderer(width, height, module=module, x=width // 2 - 29 * module - width // 40, y=height // 25),
            QrTimecodeRenderer(width, height, module=module, x=width // 2 + width // 40, y=height // 25),
        ]
        self._screen = np.full((height, width), 18, dtype=np.uint8)

    def refresh_index(self, utc_ms: float) -> int:
        return int(np.floor(utc_ms * self.hz / 1000.0))

    def picture(self, utc_ms: float) -> np.ndarray:
        """What the screen shows at utc_ms: the newest slot drawn at the last refresh, the
        other one at the refresh before."""
        k = self.refresh_index(utc_ms)
        screen = self._screen.copy()
        for j in (k, k - 1):
            slot = j % 2
            self.renderers[slot].stamp(screen, Timecode(int(np.floor(j * 1000.0 / self.hz))))
        return screen

    @staticmethod
    def newest_ms(utc_ms: float, hz: float = 60.0) -> int:
        """The timecode the newest symbol shows at utc_ms (the time of the last refresh)."""
        return int(np.floor(np.floor(utc_ms * hz / 1000.0) * 1000.0 / hz))
