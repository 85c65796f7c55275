import numpy as np
import pytest

from protocols.timecode import FLAG_CLOCK_UNSET, Timecode, TimecodeError, TimecodeReader, TimecodeRenderer, crc8, from_bits, to_bits


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


def test_unreadable_frames_read_as_none():
    rd = TimecodeReader(640, 360)
    assert rd.read(np.full((360, 640), 128, np.uint8)) is None


def test_geometry_and_range_errors():
    with pytest.raises(TimecodeError, match="too narrow"):
        TimecodeRenderer(100, 80)
    with pytest.raises(TimecodeError, match="48 bits"):
        to_bits(Timecode(1 << 48))
    assert crc8(b"123456789") == 0xF4  # CRC-8/ATM check value
