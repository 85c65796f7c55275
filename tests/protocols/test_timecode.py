import av
import numpy as np
import pytest

from emulators.video import Sensor, VideoFormat
from protocols.timecode import (FLAG_CLOCK_UNSET, FLAG_REFERENCE, Timecode, TimecodeError, TimecodeReader, TimecodeRenderer, crc8, from_bits,
                                to_bits)


def test_bits_round_trip_and_crc_rejects_a_flipped_bit():
    tc = Timecode(1_780_000_060_533, FLAG_CLOCK_UNSET)
    bits = to_bits(tc)
    assert from_bits(bits) == tc
    for i in range(64):
        flipped = bits.copy()
        flipped[i] ^= 1
        assert from_bits(flipped) is None


@pytest.mark.parametrize("size", [(640, 360), (1280, 720), (320, 180)])
def test_render_then_read(size):
    w, h = size
    luma = np.random.default_rng(1).integers(40, 200, (h, w), dtype=np.uint8)
    r, rd = TimecodeRenderer(w, h), TimecodeReader(w, h)
    for ms in (0, 1, 1_780_000_000_000, (1 << 48) - 1):
        r.stamp(luma, Timecode(ms))
        assert rd.read(luma) == Timecode(ms)


@pytest.mark.parametrize("source", [(1280, 720), (854, 480), (320, 180)])
def test_band_and_reference_band_read_at_any_scale_from_320_wide(source):
    """A clip transcoded to another size: the band sits at the same place relative to the
    picture with cells of a fractional width; the reader locates it (and the bottom reference
    clock band) once and keeps reading there. Scaled by FFmpeg's swscale (bicubic)."""
    w, h = source
    picture = Sensor(VideoFormat(w, h, 10), "X6BWC00A1").frame(1_780_000_000_123, False, 7, reference_ms=1_780_000_000_100)[:h]
    for width, height in ((320, 180), (334, 188), (640, 360), (960, 540), (1000, 562), (1280, 720), (1920, 1080)):
        scaled = av.VideoFrame.from_ndarray(np.ascontiguousarray(picture), format="gray").reformat(width=width, height=height).to_ndarray()
        band, reference = TimecodeReader(width, height), TimecodeReader(width, height, bottom=True)
        assert band.read(scaled) == Timecode(1_780_000_000_123), (source, width)
        assert reference.read(scaled) == Timecode(1_780_000_000_100, FLAG_REFERENCE), (source, width)
        if (width, height) == source:
            assert band.located is None, "the recorded size reads at its nominal place, without locating"
        assert band.read(scaled) == Timecode(1_780_000_000_123)  # the located place is kept


def test_unreadable_frames_read_as_none():
    rd = TimecodeReader(640, 360)
    assert rd.read(np.full((360, 640), 128, np.uint8)) is None


def test_geometry_and_range_errors():
    with pytest.raises(TimecodeError, match="too narrow"):
        TimecodeRenderer(100, 80)
    with pytest.raises(TimecodeError, match="48 bits"):
        to_bits(Timecode(1 << 48))
    assert crc8(b"123456789") == 0xF4  # CRC-8/ATM check value
