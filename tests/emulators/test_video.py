"""Encoder session, GOP ring and clips: real fragmented MP4 that PyAV reads back."""

import json
import subprocess
from pathlib import Path

import av
import pytest

from emulators.audio_track import AudioSpec
from emulators.gop_ring import GopRing
from emulators.video import ClipWriter, EncoderSession, Fragment, PendingGop, Sensor, VideoFormat
from instruments.clip_analyzer import analyze_clip
from tests.conftest import require_tool

EPOCH = 1_780_000_000_000


def _gop(fmt, second):
    return [EPOCH + second * 1000 + round(i * 1000 / fmt.fps) for i in range(fmt.fps)]


def test_one_fragment_per_gop_and_init_segment():
    fmt = VideoFormat(320, 180, 10)
    s = EncoderSession(fmt, Sensor(fmt, "X6BWC00A1"))
    out = []
    for sec in range(5):
        out += s.encode_gop(_gop(fmt, sec))
    out += s.close()
    assert len(out) == 5
    assert [f.start_utc_ms for f in out] == [EPOCH + i * 1000 for i in range(5)]
    assert s.init_segment[4:8] == b"ftyp" and b"moov" in s.init_segment
    assert all(f.data[4:8] == b"moof" for f in out)


def test_ffprobe_reads_one_frame_per_tick_the_priming_in_the_edit_list_and_the_start(tmp_path: Path):
    """What any player or transcoder reads from the container: the first picture at 0 s lasting
    one frame (avg_frame_rate exactly the camera's), the AAC encoder's 1024 priming samples before
    0 s (the audio edit list skips them: the sound heard at a frame's time plays with it), and the
    movie's creation time at the clip's first frame."""
    ffprobe = require_tool("ffprobe")
    fmt = VideoFormat(320, 180, 10)
    s = EncoderSession(fmt, Sensor(fmt, "X6BWC00A1"), AudioSpec())
    start = EPOCH + 1234  # 2026-05-28T20:26:41.234Z
    frags = []
    for sec in range(3):
        frags += s.encode_gop([start + sec * 1000 + i * 100 for i in range(10)], end_utc_ms=start + (sec + 1) * 1000, audible_from_ms=start)
    w = ClipWriter(tmp_path / "clip.mp4", s.init_segment)
    w.write(frags + s.close())
    w.close()
    probe = json.loads(subprocess.run([ffprobe, "-v", "error", "-of", "json", "-show_format", "-show_streams", "-show_frames", "-show_packets",
                                       str(tmp_path / "clip.mp4")], capture_output=True, text=True, check=True).stdout)
    video, audio = (next(st for st in probe["streams"] if st["codec_type"] == kind) for kind in ("video", "audio"))
    assert video["avg_frame_rate"] == video["r_frame_rate"] == "10/1" and float(video["start_time"]) == 0.0
    frames = [f for f in probe["packets_and_frames"] if f["type"] == "frame" and f["media_type"] == "video"]
    assert [round(float(f["pts_time"]), 6) for f in frames] == [round(i * 0.1, 6) for i in range(30)]
    assert {float(f["pkt_duration_time"]) for f in frames} == {0.1}
    packets = [int(p["pts"]) for p in probe["packets_and_frames"] if p["type"] == "packet" and p["codec_type"] == "audio"]
    assert packets[:3] == [-1024, 0, 1024] and audio["time_base"] == "1/48000"  # priming before 0 s, signalled by the edit list
    assert probe["format"]["tags"]["creation_time"] == "2026-05-28T20:26:41.000000Z"  # mvhd counts whole seconds
    a = analyze_clip(tmp_path / "clip.mp4")
    assert a.clock_origin_utc_ms == pytest.approx(start, abs=0.5)  # container time 0 is the first frame
    assert a.audio is not None and abs(a.audio.av_offset_ms) < 0.5 and a.audio.track_start_utc_ms == pytest.approx(start, abs=0.5)
    assert a.creation_time_offset_s == pytest.approx(-0.234)


def test_ring_keeps_the_configured_seconds_and_a_clip_of_it_decodes(tmp_path: Path):
    fmt = VideoFormat(320, 180, 10)
    s = EncoderSession(fmt, Sensor(fmt, "X6BWC00A1"))
    ring: GopRing[Fragment] = GopRing(5.0)
    for sec in range(12):
        for f in s.encode_gop(_gop(fmt, sec)):
            ring.push(f, EPOCH + (sec + 1) * 1000)
    # live edge 12 s: fragments flushed up to [10, 11); ring must reach back to 12 - 5 = 7 s
    frags = ring.drain()
    assert frags[0].start_utc_ms == EPOCH + 7000
    assert frags[-1].start_utc_ms == EPOCH + 10000
    w = ClipWriter(tmp_path / "clip.mp4", s.init_segment)
    w.write(frags + s.close())
    w.close()
    a = analyze_clip(tmp_path / "clip.mp4")
    assert a.ok and a.readable == a.frames == 50
    assert a.first_utc_ms == EPOCH + 7000 and a.gaps == []
    with av.open(str(tmp_path / "clip.mp4")) as c:
        assert c.streams.video[0].codec_context.name == "h264"


def test_byte_budget_ring_falls_short():
    fmt = VideoFormat(320, 180, 10)
    s = EncoderSession(fmt, Sensor(fmt, "X"))
    frags = []
    for sec in range(8):
        frags += s.encode_gop(_gop(fmt, sec))
    budget = sum(f.size for f in frags[-3:])
    ring: GopRing[Fragment] = GopRing(30.0, max_bytes=budget)
    for f in frags:
        ring.push(f, f.end_utc_ms)
    assert len(ring) == 3 and ring.bytes <= budget


def test_bad_formats_are_refused():
    with pytest.raises(ValueError, match="even"):
        VideoFormat(641, 360)
    with pytest.raises(ValueError, match="fps"):
        VideoFormat(fps=0)


def _pending(second, fps=10, gop=1):
    times = tuple(EPOCH + second * 1000 + round(i * 1000 / fps) for i in range(fps * gop))
    return PendingGop(times[0], times[0] + gop * 1000, times, False, 0.0)


def test_ring_in_gops_honours_fractional_seconds_and_in_frames_counts_frames():
    ring = GopRing(29.7)
    for sec in range(40):
        ring.push(_pending(sec), EPOCH + (sec + 1) * 1000)
    kept = ring.drain()
    assert (EPOCH + 40_000 - kept[0].start_utc_ms) / 1000 == 30  # whole GOPs reaching back >= 29.7 s: 30, not 29
    frames = GopRing(29.7, frames=297)
    for sec in range(40):
        frames.push(_pending(sec), EPOCH + (sec + 1) * 1000)
    assert len(frames) == 30  # the fewest GOPs that hold 297 frames
    # 4 frames of the GOP in progress are in the buffer: 293 ring frames remain, so 29 whole GOPs
    assert [g.start_utc_ms for g in frames.drain(frames_in_progress=4)][0] == EPOCH + 11_000
