"""The QR timecode: payload, the minimal encoder against an independent one (segno), and
decoding by a third-party reader (zxing-cpp)."""

import numpy as np
import pytest
import segno
import zxingcpp

from protocols.qr_timecode import (
    QUIET_ZONE,
    SIZE,
    QrTimecodeRenderer,
    codewords,
    format_bits,
    matrix_for_text,
    parse_payload,
    payload,
    qr_matrix,
)
from protocols.timecode import FLAG_CLOCK_UNSET, Timecode, TimecodeError

EDGE_VALUES = [0, 1, 999, 1_780_000_000_000, 1_780_000_060_533, (1 << 48) - 1]


def _segno_matrix(text: str) -> np.ndarray:
    qr = segno.make(text, version=1, error="q", mask=2, mode="numeric", boost_error=False)
    return np.array([list(row) for row in qr.matrix], dtype=bool)


def test_payload_is_the_timecode_word_in_20_digits_and_round_trips():
    tc = Timecode(1_780_000_060_533, FLAG_CLOCK_UNSET)
    text = payload(tc)
    assert len(text) == 20 and text.isdigit()
    assert int(text) >> 16 == tc.utc_ms and (int(text) >> 8) & 0xFF == FLAG_CLOCK_UNSET
    assert parse_payload(text) == tc


def test_parse_rejects_what_is_not_ours():
    good = payload(Timecode(1_780_000_000_000))
    wrong_crc = good[:-1] + str((int(good[-1]) + 1) % 10)
    for text in (wrong_crc, good[:-1], good + "0", "https://example.org", "9" * 20, ""):
        assert parse_payload(text) is None, text


@pytest.mark.parametrize("ms", EDGE_VALUES + list(np.random.default_rng(4).integers(0, 1 << 48, 40)))
def test_matrix_is_bit_identical_to_segno(ms):
    tc = Timecode(int(ms), int(ms) % 256)
    assert (qr_matrix(tc) == _segno_matrix(payload(tc))).all()


def test_format_information_and_codeword_count():
    assert format_bits(0b01, 0) == 0b111011111000100  # level L mask 0, ISO/IEC 18004 table C.1
    assert format_bits(0b11, 2) == 0b011111100110001  # level Q mask 2 (ours)
    assert len(codewords("0" * 20)) == 26
    with pytest.raises(TimecodeError, match="does not fit"):
        matrix_for_text("1" * 28)
    with pytest.raises(TimecodeError, match="digits"):
        matrix_for_text("12a")


@pytest.mark.parametrize("module", [2, 3, 8])
def test_zxing_reads_the_rendered_symbol_anywhere(module):
    w, h = 640, 360
    luma = np.random.default_rng(module).integers(60, 190, (h, w), dtype=np.uint8)
    extent = (SIZE + 2 * QUIET_ZONE) * module
    r = QrTimecodeRenderer(w, h, module=module, x=w - extent - 7, y=(h - extent) // 3)
    for ms in EDGE_VALUES:
        r.stamp(luma, Timecode(ms))
        found = zxingcpp.read_barcodes(luma, formats=zxingcpp.BarcodeFormat.QRCode)
        assert [parse_payload(b.text) for b in found] == [Timecode(ms)]


def test_renderer_refuses_frames_it_does_not_fit():
    with pytest.raises(TimecodeError, match="too small"):
        QrTimecodeRenderer(100, 80, module=4)
    with pytest.raises(TimecodeError, match="does not fit"):
        QrTimecodeRenderer(640, 360, module=4, x=600, y=0)
