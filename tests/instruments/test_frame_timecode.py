"""Reading timecodes out of pictures: QR anywhere (tracked from frame to frame), the band at
its place, still pictures from files; other people's QR codes are ignored."""

from pathlib import Path

import av
import numpy as np
import pytest
import segno

from instruments.filmed_screen import Camera, ClockDisplay
from instruments.frame_timecode import FrameTimecodeReader, ImageReadError, read_image, read_image_timecodes, read_qr_timecodes
from protocols.qr_timecode import QrTimecodeRenderer
from protocols.timecode import Timecode, TimecodeRenderer

T = 1_780_000_000_000


def write_png(path: Path, luma: np.ndarray) -> Path:
    with av.open(str(path), "w", format="image2") as out:
        stream = out.add_stream("png")
        stream.width, stream.height, stream.pix_fmt = luma.shape[1], luma.shape[0], "gray"
        for packet in stream.encode(av.VideoFrame.from_ndarray(luma, format="gray")):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def test_still_picture_with_the_band_and_a_qr_from_a_png(tmp_path):
    luma = np.full((360, 640), 90, np.uint8)
    TimecodeRenderer(640, 360).stamp(luma, Timecode(T))
    QrTimecodeRenderer(640, 360).stamp(luma, Timecode(T + 40))
    path = write_png(tmp_path / "still.png", luma)
    assert np.array_equal(read_image(path), luma)
    assert read_image_timecodes(path) == [Timecode(T + 40), Timecode(T)]  # newest first


def test_other_qr_codes_are_ignored():
    luma = np.full((400, 700), 200, np.uint8)
    other = np.array([list(r) for r in segno.make("https://example.org/evidence", error="h").matrix], dtype=bool)
    tile = np.kron(np.where(np.pad(other, 4), 0, 255).astype(np.uint8), np.ones((5, 5), np.uint8))
    luma[10 : 10 + tile.shape[0], 10 : 10 + tile.shape[1]] = tile
    r = QrTimecodeRenderer(700, 400, module=5, x=450, y=100)
    r.stamp(luma, Timecode(T))
    assert [h.timecode for h in read_qr_timecodes(luma)] == [Timecode(T)]


def test_qr_reader_tracks_the_symbol_and_searches_again_when_it_moves():
    w, h = 1280, 720
    reader = FrameTimecodeReader(w, h)
    for i, (x, y) in enumerate([(100, 100)] * 5 + [(110, 104)] * 5 + [(900, 400)] * 5):
        luma = np.full((h, w), 70, np.uint8)
        QrTimecodeRenderer(w, h, module=8, x=x, y=y).stamp(luma, Timecode(T + 33 * i))
        assert reader.read(luma) == Timecode(T + 33 * i)
    assert reader.kind == "qr"
    assert reader.full_frame_searches == 2  # the first frame, and the jump across the picture


def test_band_clips_are_not_searched_for_qr_after_a_damaged_frame():
    reader = FrameTimecodeReader(640, 360)
    luma = np.full((360, 640), 100, np.uint8)
    TimecodeRenderer(640, 360).stamp(luma, Timecode(T))
    assert reader.read(luma) == Timecode(T) and reader.kind == "band"
    assert reader.read(np.full((360, 640), 100, np.uint8)) is None
    assert reader.full_frame_searches == 0


def test_filmed_clock_screen_picture():
    display = ClockDisplay(1280, 720)
    screen = display.picture(T + 1234.5)
    camera = Camera(((300, 140), (1080, 220), (1020, 650), (260, 600)), blur_sigma=1.5, noise_sigma=8.0)
    found = read_image_timecodes(camera.film(screen, np.random.default_rng(3)))
    assert found[0] == Timecode(ClockDisplay.newest_ms(T + 1234.5))
    assert len(found) == 2 and found[0].utc_ms - found[1].utc_ms in (16, 17)  # the other slot: one refresh older


def test_read_image_errors_name_the_problem(tmp_path):
    with pytest.raises(ImageReadError, match="file not found"):
        read_image(tmp_path / "missing.png")
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not a picture")
    with pytest.raises(ImageReadError, match="not a picture"):
        read_image(junk)


@pytest.mark.parametrize("quarter_turns", [1, 2, 3])
def test_camera_held_sideways_or_upside_down(quarter_turns):
    luma = np.full((360, 640), 100, np.uint8)
    QrTimecodeRenderer(640, 360).stamp(luma, Timecode(T))
    turned = np.ascontiguousarray(np.rot90(luma, quarter_turns))
    reader = FrameTimecodeReader(turned.shape[1], turned.shape[0])
    assert reader.read(turned) == Timecode(T) and reader.read(turned) == Timecode(T)
