"""The analyzer on clips with gaps, truncation, damage; ffprobe as a third-party reader."""

import json
import subprocess
from pathlib import Path

import pytest

from emulators.video import ClipWriter, EncoderSession, Sensor, VideoFormat
from instruments.clip_analyzer import analyze_clip
from tests.conftest import require_tool

EPOCH = 1_780_000_000_000
FMT = VideoFormat(320, 180, 10)


def _clip(path: Path, seconds: int, drop: set[int] = frozenset()) -> Path:
    s = EncoderSession(FMT, Sensor(FMT, "X6BWC00A1"))
    frags = []
    for sec in range(seconds):
        frags += s.encode_gop([EPOCH + sec * 1000 + i * 100 for i in range(10)])
    frags += s.close()
    w = ClipWriter(path, s.init_segment)
    w.write([f for i, f in enumerate(frags) if i not in drop])
    w.close()
    return path


def test_clean_clip(tmp_path):
    a = analyze_clip(_clip(tmp_path / "c.mp4", 6))
    assert a.ok and a.frames == a.readable == 60
    assert a.fps == pytest.approx(10.0)
    assert a.coverage_before_s(EPOCH + 4500) == pytest.approx(4.5)
    assert a.coverage_after_s(EPOCH + 4500) == pytest.approx(1.4)
    assert (a.width, a.height, a.codec) == (320, 180, "h264")


def test_dropped_gop_shows_as_a_gap(tmp_path):
    a = analyze_clip(_clip(tmp_path / "g.mp4", 6, drop={3}))
    assert a.readable == 50
    assert len(a.gaps) == 1
    assert a.gaps[0]["from_utc_ms"] == EPOCH + 2900 and a.gaps[0]["to_utc_ms"] == EPOCH + 4000
    assert a.gaps[0]["missing_ms"] == 1000


def test_truncated_file_keeps_what_is_recoverable(tmp_path):
    path = _clip(tmp_path / "t.mp4", 6)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.6)])  # power cut mid-write
    a = analyze_clip(path)
    assert a.readable > 0 and a.first_utc_ms == EPOCH
    assert a.last_utc_ms < EPOCH + 5900


def test_garbage_and_missing_files_report_why(tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00" * 1000)
    a = analyze_clip(junk)
    assert not a.ok and a.error
    assert "file not found" in analyze_clip(tmp_path / "nope.mp4").error


def test_ffprobe_reads_our_clip(tmp_path):
    ffprobe = require_tool("ffprobe")
    path = _clip(tmp_path / "p.mp4", 4)
    out = subprocess.run([ffprobe, "-v", "error", "-show_streams", "-of", "json", str(path)], capture_output=True, text=True, check=True)
    stream = json.loads(out.stdout)["streams"][0]
    assert stream["codec_name"] == "h264" and stream["width"] == 320
