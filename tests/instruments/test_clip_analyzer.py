"""The analyzer on clips with gaps, truncation, damage, QR and filmed timecodes, audio; ffprobe as a
third-party reader."""

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from emulators.video import ClipWriter, EncoderSession, Sensor, VideoFormat
from instruments.clip_analyzer import analyze_clip
from instruments.synthetic_clip import EPOCH_MS, ClipSpec, write_clip
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


# --- clips with known truth (instruments/synthetic_clip.py): QR, audio, drift, defects ----------


def test_qr_timecode_round_trip_is_detected_and_exact(tmp_path):
    a = analyze_clip(write_clip(tmp_path / "qr.mp4", ClipSpec(timecode="qr", audio=False)))
    assert a.ok and a.timecode_kind == "qr" and a.readable == a.frames == 60
    assert (a.first_utc_ms, a.last_utc_ms) == (EPOCH_MS, EPOCH_MS + 5900)
    assert a.gaps == [] and a.fps == pytest.approx(10.0) and a.audio is None


def test_band_clip_is_read_as_band(tmp_path):
    a = analyze_clip(write_clip(tmp_path / "b.mp4", ClipSpec(timecode="band", audio=False)))
    assert a.timecode_kind == "band" and a.readable == 60


def test_clip_without_timecode_says_so(tmp_path):
    a = analyze_clip(write_clip(tmp_path / "n.mp4", ClipSpec(timecode="none", seconds=2, audio=False)))
    assert not a.ok and a.frames == 20 and a.readable == 0
    assert a.error == "no readable timecode in any frame"


def test_audio_before_the_trigger_with_zero_av_offset(tmp_path):
    a = analyze_clip(write_clip(tmp_path / "a.mp4", ClipSpec(seconds=6)))
    trigger = EPOCH_MS + 4000
    assert a.audio is not None and (a.audio.codec, a.audio.sample_rate, a.audio.channels) == ("aac", 48_000, 1)
    assert a.audio.beeps == 6  # whole seconds 0..5 (the encoder delay frame comes before the first)
    assert abs(a.audio.av_offset_ms) < 1.0 and a.audio.av_offset_max_ms - a.audio.av_offset_min_ms < 1.0
    # sound from the first frame on (one AAC frame of encoder delay blurs its first 21 ms)
    assert a.audio_before_trigger_s(trigger) == pytest.approx(4.0, abs=0.025)


def test_audio_track_that_starts_at_the_trigger(tmp_path):
    trigger = EPOCH_MS + 3000
    a = analyze_clip(write_clip(tmp_path / "t.mp4", ClipSpec(seconds=6, audio_from_utc_ms=trigger)))
    assert a.coverage_before_s(trigger) == pytest.approx(3.0)  # the picture has the pre-event buffer
    assert a.audio.track_start_utc_ms == pytest.approx(trigger, abs=1.0)
    assert a.audio_before_trigger_s(trigger) == pytest.approx(0.0, abs=0.002)
    assert abs(a.audio.av_offset_ms) < 1.0
    # the fragmented-MP4 muxer stretched the track to start at 0 s: recognised, not taken as sound
    assert any("stretches the first audio sample" in n for n in a.audio.notes)


def test_audio_track_silent_until_the_trigger(tmp_path):
    trigger = EPOCH_MS + 2500
    a = analyze_clip(write_clip(tmp_path / "s.mp4", ClipSpec(seconds=5, audio_silent_until_utc_ms=trigger)))
    assert a.audio.track_start_utc_ms < EPOCH_MS + 30  # the track runs from the start ...
    assert a.audio_before_trigger_s(trigger) == pytest.approx(0.0, abs=0.002)  # ... the sound from the trigger


@pytest.mark.parametrize("offset_ms", [80.0, -120.0, 333.0, 1000.0, -1500.0])
def test_av_offset_is_measured(tmp_path, offset_ms):
    """Each mark carries the number of its second, so a whole second (or more) of lag is
    measured as such, not as 0 (beeps alone are ambiguous modulo 1 s)."""
    a = analyze_clip(write_clip(tmp_path / "o.mp4", ClipSpec(seconds=5, av_offset_ms=offset_ms)))
    assert a.audio.av_offset_ms == pytest.approx(offset_ms, abs=1.0)
    assert a.audio.beeps >= 3 and a.audio.marks_read >= a.audio.beeps - 1  # the last mark's number may be cut by the end
    assert a.audio.av_offset_first_ms == pytest.approx(offset_ms, abs=1.0)
    assert a.audio.av_offset_last_ms == pytest.approx(offset_ms, abs=1.0)


def test_clock_drift_against_container_timestamps(tmp_path):
    a = analyze_clip(write_clip(tmp_path / "d.mp4", ClipSpec(seconds=20, drift_ppm=500.0, audio=False)))
    assert a.clock_drift_ppm == pytest.approx(500.0, abs=4 * a.clock_drift_stderr_ppm + 1)
    assert a.clock_drift_stderr_ppm < 10
    assert a.clock_origin_utc_ms == pytest.approx(EPOCH_MS, abs=1.0)
    clean = analyze_clip(write_clip(tmp_path / "c.mp4", ClipSpec(seconds=20, audio=False)))
    assert abs(clean.clock_drift_ppm) < 4 * clean.clock_drift_stderr_ppm + 1 and clean.timing_jitter_ms < 1


def test_dropped_frames_gap_is_admitted_by_the_container(tmp_path):
    a = analyze_clip(write_clip(tmp_path / "g.mp4", ClipSpec(drop_frames=frozenset({23, 24}), audio=False)))
    assert a.dropped_frames == 2 and a.readable == 58
    (gap,) = a.gaps
    assert gap["from_utc_ms"] == EPOCH_MS + 2200 and gap["to_utc_ms"] == EPOCH_MS + 2500
    assert gap["missing_frames"] == 2 and gap["container_step_ms"] == pytest.approx(300.0) and not gap["hidden"]


def test_spliced_gap_hidden_by_the_container_timestamps(tmp_path):
    a = analyze_clip(write_clip(tmp_path / "h.mp4", ClipSpec(splice_frames=frozenset(range(30, 40)), audio=False)))
    assert a.dropped_frames == 0  # the file claims nothing is missing ...
    (gap,) = a.gaps  # ... the pictures show a second is
    assert gap["missing_ms"] == 1000 and gap["hidden"] and gap["container_step_ms"] == pytest.approx(100.0)
    assert abs(a.clock_drift_ppm) < 50  # the fit is made over one side of the splice, not across it


def test_truncated_inside_a_fragment_header_is_recovered_from_complete_boxes(tmp_path):
    path = write_clip(tmp_path / "cut.mp4", ClipSpec(seconds=4))
    data = path.read_bytes()
    moofs = [i - 4 for i in range(len(data)) if data[i : i + 4] == b"moof"]
    path.write_bytes(data[: moofs[2] + 20])  # power cut 20 bytes into the third fragment
    a = analyze_clip(path)
    assert a.truncated and a.damaged
    assert a.readable == 20 and a.first_utc_ms == EPOCH_MS and a.last_utc_ms == EPOCH_MS + 1900
    assert any("declares" in n and "cut short" in n for n in a.notes)


def test_truncated_plain_mp4_says_why_nothing_is_recoverable(tmp_path):
    path = write_clip(tmp_path / "plain.mp4", ClipSpec(fragmented=False, seconds=3))
    assert analyze_clip(path).ok
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    a = analyze_clip(path)
    assert not a.ok and a.truncated and a.readable == 0
    assert "never finalised" in a.error


def test_damaged_packets_are_concealed_and_counted(tmp_path):
    path = write_clip(tmp_path / "x.mp4", ClipSpec(seconds=4, audio=False))
    data = bytearray(path.read_bytes())
    moofs = [i - 4 for i in range(len(data)) if data[i : i + 4] == b"moof"]
    rng = np.random.default_rng(2)
    for i in rng.integers(moofs[1] + 600, moofs[2] - 100, 40):  # scribble over the second GOP's pictures
        data[int(i)] = int(rng.integers(0, 256))
    path.write_bytes(bytes(data))
    a = analyze_clip(path)
    assert a.frames >= 30 and a.readable >= 20  # the other GOPs are intact
    assert a.error is None or "stopped" in a.error


def test_filmed_clock_display_clip(tmp_path):
    """A camera filming the clock page (perspective, blur, noise, exposure straddling display
    refreshes, a hand-held drift): every frame is read, within one display refresh of capture."""
    spec = ClipSpec(width=640, height=360, fps=15, seconds=3, timecode="filmed-clock")
    a = analyze_clip(write_clip(tmp_path / "filmed.mp4", spec))
    assert a.timecode_kind == "qr" and a.readable == a.frames == 45
    assert abs(a.first_utc_ms - EPOCH_MS) <= 17 and abs(a.last_utc_ms - spec.frame_utc_ms(44)) <= 17
    assert a.gaps == [] and a.timing_jitter_ms <= 34
    assert a.fps == pytest.approx(15.0, rel=0.03)
    # the marks heard in the room are placed on the fitted line, not on one quantised frame
    assert a.audio.beeps == 3 and abs(a.audio.av_offset_ms) < 10


def test_ffprobe_reads_the_audio_as_the_emulators_should_write_it(tmp_path):
    ffprobe = require_tool("ffprobe")
    path = write_clip(tmp_path / "av.mp4", ClipSpec(seconds=2))
    out = subprocess.run([ffprobe, "-v", "error", "-show_streams", "-of", "json", str(path)], capture_output=True, text=True, check=True)
    audio = [s for s in json.loads(out.stdout)["streams"] if s["codec_type"] == "audio"][0]
    assert (audio["codec_name"], audio["sample_rate"], audio["channels"]) == ("aac", "48000", 1)
