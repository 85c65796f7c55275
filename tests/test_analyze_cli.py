"""`bwc analyze`: measurements as text and JSON, exit codes, damaged clips without tracebacks."""

import json
import subprocess
import sys
from pathlib import Path

import av
import pytest

from emulators.audio_track import AudioSpec
from emulators.video import ClipWriter, EncoderSession, Sensor, VideoFormat
from instruments.clip_analyzer import analyze_clip
from instruments.synthetic_clip import EPOCH_MS, ClipSpec, write_clip
from protocols.timecode import reference_display_ms
from tests.conftest import require_tool

REPO = Path(__file__).resolve().parents[1]
TRIGGER_ISO = "2026-05-28T20:26:43.000Z"  # EPOCH_MS + 3 s


def _bwc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bwc", *args], cwd=REPO, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """6 s: audio from the trigger on, two frames never recorded."""
    spec = ClipSpec(seconds=6, audio_from_utc_ms=EPOCH_MS + 3000, drop_frames=frozenset({45, 46}))
    return write_clip(tmp_path_factory.mktemp("cli") / "vendor-export.mp4", spec)


def test_json_measurements(clip):
    proc = _bwc("analyze", str(clip), "--trigger", TRIGGER_ISO, "--json")
    assert proc.returncode == 0, proc.stderr
    m = json.loads(proc.stdout)
    assert m["ok"] and not m["damaged"] and m["timecode_kind"] == "band"
    assert (m["frames"], m["readable"], m["width"], m["height"], m["codec"]) == (58, 58, 320, 180, "h264")
    assert m["trigger_utc_ms"] == EPOCH_MS + 3000 and m["trigger_utc"] == TRIGGER_ISO
    assert m["first_utc"] == "2026-05-28T20:26:40.000Z" and m["coverage_before_s"] == 3.0
    assert m["coverage_after_s"] == pytest.approx(2.9)
    assert m["fps"] == 10.0 and m["dropped_frames"] == 2
    assert [(g["from_utc_ms"] - EPOCH_MS, g["missing_frames"], g["hidden"]) for g in m["gaps"]] == [(4400, 2, False)]
    audio = m["audio"]
    assert (audio["codec"], audio["sample_rate"], audio["channels"]) == ("aac", 48000, 1)
    assert m["audio_before_trigger_s"] == pytest.approx(0.0, abs=0.002) and audio["start_utc"].startswith("2026-05-28T20:26:43.0")
    assert abs(audio["av_offset_ms"]) < 1.0 and audio["beeps"] == 2  # 4 s and 5 s; the one at 3 s starts the track


def test_text_report_and_epoch_ms_trigger(clip):
    proc = _bwc("analyze", str(clip), "--trigger", str(EPOCH_MS + 3000))
    assert proc.returncode == 0
    out = proc.stdout
    assert "picture before the trigger  3.000 s" in out
    assert "2 dropped (per container timestamps)" in out
    assert "A/V offset" in out and "verdict     measured" in out


def test_cut_short_clip_prints_what_was_recovered_and_why(clip, tmp_path):
    data = clip.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 2 // 3])
    proc = _bwc("analyze", str(cut), "--trigger", TRIGGER_ISO)
    assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr
    assert "TRUNCATED" in proc.stdout and "cut short" in proc.stdout and "DAMAGED" in proc.stdout
    m = json.loads(_bwc("analyze", str(cut), "--json").stdout)
    assert m["truncated"] and m["damaged"] and 20 <= m["readable"] < 58


def test_garbage_is_not_measurable(tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(2000))
    proc = _bwc("analyze", str(junk))
    assert proc.returncode == 1 and "NOT MEASURABLE" in proc.stdout and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "args, needle",
    [
        (["analyze", "/no/such/clip.mp4"], "no such file"),
        (["analyze", "."], "is a directory"),
        (["analyze", "README.md", "--trigger", "tomorrow"], "not an ISO 8601 UTC time"),
        (["analyze", "README.md", "--trigger", "12345"], "out of range"),
        (["analyze"], "the following arguments are required: clip"),
    ],
)
def test_usage_errors(args, needle):
    proc = _bwc(*args)
    assert proc.returncode == 2 and needle in proc.stderr and "Traceback" not in proc.stderr


@pytest.fixture(scope="module")
def sealed(tmp_path_factory, clip) -> tuple[Path, Path]:
    """The clip in a device folder with its signed manifest, and a copy altered in place: one
    mdat inserted a second time (the demuxer ignores it: the pictures measure as intact)."""
    from instruments.clip_mutations import mutate
    from protocols.evidence_manifest import build_manifest, canonical_json, generate_private_key, signature_document

    folder = tmp_path_factory.mktemp("device") / "X6BWC00A1"
    folder.mkdir()
    good = folder / "X6BWC00A1_1.mp4"
    good.write_bytes(clip.read_bytes())
    altered = folder / "X6BWC00A1_2.mp4"
    altered.write_bytes(mutate(clip.read_bytes(), "dup-mdat", 1)[0])
    manifest = build_manifest(folder)
    manifest["files"][altered.name] = manifest["files"][good.name]  # what the device signed: the clip before it was altered
    data = canonical_json(manifest)
    (folder / "manifest.json").write_bytes(data)
    (folder / "manifest.sig.json").write_text(json.dumps(signature_document(generate_private_key(), data, "manifest.json", "2026-05-28T20:28:00.000Z")))
    return good, altered


def test_altered_clip_measures_intact_but_its_manifest_says_altered(sealed):
    from instruments.clip_analyzer import analyze_clip

    good, altered = sealed
    manifest = str(good.parent / "manifest.json")
    a = analyze_clip(altered)
    assert a.ok and not a.damaged  # the pictures alone cannot tell
    proc = _bwc("analyze", str(altered), "--manifest", manifest)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "ALTERED; signature ok (sha256:" in proc.stdout and "verdict     ALTERED" in proc.stdout
    assert f"changed: {altered.name} (SHA-256 differs from the manifest)" in proc.stdout
    proc = _bwc("analyze", str(good), "--manifest", manifest, "--json")
    m = json.loads(proc.stdout)
    assert proc.returncode == 0 and m["integrity"]["bytes_match"] and m["integrity"]["intact"] and m["integrity"]["signature"] == "ok"


def test_manifest_that_cannot_be_used_is_a_usage_error(sealed, tmp_path):
    from bwc.cli import UsageError
    from bwc.commands.analyze import check_integrity

    good, _ = sealed
    with pytest.raises(UsageError, match="none.json: cannot read \\(No such file or directory\\)"):
        check_integrity(good, tmp_path / "none.json")
    elsewhere = tmp_path / "manifest.json"
    elsewhere.write_bytes((good.parent / "manifest.json").read_bytes())
    with pytest.raises(UsageError, match=f"{good} is not inside {tmp_path}, so the manifest cannot list it"):
        check_integrity(good, elsewhere)
    elsewhere.write_text("{}")
    with pytest.raises(UsageError, match="manifest.json: manifest schema is not bwc-manifest/1"):
        check_integrity(tmp_path / "clip.mp4", elsewhere)


@pytest.fixture(scope="module")
def camera_clip(tmp_path_factory) -> Path:
    """4 s from an emulated reference camera (1280x720, 10 fps, sound, the filmed reference clock
    band); its clock 250 ms ahead of the harness's."""
    fmt = VideoFormat(1280, 720, 10)
    session = EncoderSession(fmt, Sensor(fmt, "X6RSC00A1"), AudioSpec())
    frags = []
    for second in range(4):
        times = [EPOCH_MS + second * 1000 + i * 100 for i in range(10)]
        frags += session.encode_gop(times, False, 0.3, EPOCH_MS + (second + 1) * 1000, EPOCH_MS, tuple(reference_display_ms(t - 250) for t in times))
    path = tmp_path_factory.mktemp("camera") / "X6RSC00A1.mp4"
    writer = ClipWriter(path, session.init_segment)
    writer.write(frags + session.close())
    writer.close()
    return path


def test_a_rescaled_clip_measures_the_same_pre_event_time(camera_clip, tmp_path):
    """An evidence system that transcodes the export (640x360 proxy, 1920x1080 upscale): the band
    and the reference clock band are found at the new scale, so the pre-event time and the clock
    come out as from the original."""
    ffmpeg = require_tool("ffmpeg")

    def measure(clip: Path) -> dict:
        proc = _bwc("analyze", str(clip), "--trigger", TRIGGER_ISO, "--json")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return json.loads(proc.stdout)

    original = measure(camera_clip)
    assert original["readable"] == original["frames"] == 40 and original["coverage_before_s"] == 3.0
    for width, height in ((640, 360), (1920, 1080)):
        scaled = tmp_path / f"{width}x{height}.mp4"
        subprocess.run([ffmpeg, "-v", "error", "-i", str(camera_clip), "-vf", f"scale={width}:{height}", "-c:v", "libx264", "-preset", "ultrafast",
                        "-c:a", "copy", str(scaled)], check=True, timeout=60)
        m = measure(scaled)
        assert (m["width"], m["height"], m["timecode_kind"]) == (width, height, "band")
        assert m["readable"] == m["frames"] == original["frames"]
        assert abs(m["coverage_before_s"] - original["coverage_before_s"]) <= 0.1, m  # within one frame at 10 fps
        assert m["reference_frames"] == original["reference_frames"] == 40
        assert m["reference_offset_ms"] == pytest.approx(original["reference_offset_ms"], abs=1.0) and original["reference_offset_ms"] == pytest.approx(250, abs=17)


HALF_AAC_FRAME_MS = 512 / 48  # 10.7 ms: half of one 1024-sample AAC frame at 48 kHz


def test_a_transcoded_clip_keeps_its_sound_on_its_pictures(camera_clip, tmp_path):
    """An evidence system re-encodes or remuxes the export with the ffmpeg command. The clip
    signals the AAC priming with the audio edit list (elst media time 1024), which an FFmpeg that
    applies a fragmented MP4's edit list reads as an audio start of 0 (the analyzer's, PyAV's
    libavformat): a plain re-encode keeps the sound on the pictures. FFmpeg 5.1 (Debian 12)
    ignores the edit list of a fragmented MP4, reads the priming as a start of -21.3 ms and its
    ffmpeg command then leaves the sound 21.3 ms late in a plain re-encode; -c copy and -copyts
    keep the sync there too (docs/analyzer.md, "What the container says")."""
    ffmpeg, ffprobe = require_tool("ffmpeg"), require_tool("ffprobe")

    def av_offset_ms(clip: Path) -> float:
        a = analyze_clip(clip)
        assert a.readable == a.frames == 40 and a.audio is not None and a.audio.marks_read >= 3, a
        return a.audio.av_offset_ms

    def transcode(name: str, before: tuple[str, ...], after: tuple[str, ...]) -> Path:
        out = tmp_path / name
        subprocess.run([ffmpeg, "-v", "error", *before, "-i", str(camera_clip), *after, str(out)], check=True, timeout=120)
        return out

    with av.open(str(camera_clip)) as c:
        assert c.streams.audio[0].start_time == 0 and c.streams.video[0].start_time == 0, "the edit list puts the priming before 0 s"
    assert abs(av_offset_ms(camera_clip)) < 0.5
    assert abs(av_offset_ms(transcode("copy.mp4", (), ("-c", "copy")))) < HALF_AAC_FRAME_MS
    assert abs(av_offset_ms(transcode("copyts.mp4", ("-copyts",), ("-preset", "ultrafast")))) < HALF_AAC_FRAME_MS
    start = float(subprocess.run([ffprobe, "-v", "error", "-select_streams", "a", "-show_entries", "stream=start_time", "-of", "csv=p=0",
                                  str(camera_clip)], capture_output=True, text=True, check=True).stdout)
    plain = av_offset_ms(transcode("plain.mp4", (), ("-preset", "ultrafast")))
    if start == 0:  # this ffmpeg applies the edit list
        assert abs(plain) < HALF_AAC_FRAME_MS
    else:  # FFmpeg 5.1's reading of the same file: the priming's length, no more (the file is not the cause)
        assert start == pytest.approx(-1024 / 48000, abs=1e-6) and plain == pytest.approx(1024 / 48, abs=1.0)
