"""Crafted clips that crashed PyAV, raised inside the analyzer or cost seconds per file
(found by the fuzz campaign, benchmarks/fuzz_clips.py): each one rebuilt from its base clip,
mutation and seed (instruments/clip_mutations.py), measured without a crash or a traceback."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import numpy as np
import pytest

from instruments.clip_analyzer import analyze_clip
from instruments.clip_isolation import IsolatedAnalyzer
from instruments.clip_mutations import BASES, mutate
from instruments.frame_timecode import SEARCH_RUN, SEARCH_STRIDE, FrameTimecodeReader
from instruments.mp4_integrity import MAX_BOXES, check_boxes
from instruments.synthetic_clip import write_clip
from protocols.qr_timecode import QrTimecodeRenderer
from protocols.timecode import Timecode


@pytest.fixture(scope="module")
def bases(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bases")
    return {name: write_clip(folder / f"{name}.mp4", BASES[name]) for name in ("small", "plain")}


def _mutant(bases: dict[str, Path], tmp_path: Path, base: str, kind: str, seed: int) -> Path:
    data, _ = mutate(bases[base].read_bytes(), kind, seed)
    path = tmp_path / f"{base}-{kind}-{seed}.mp4"
    path.write_bytes(data)
    return path


def test_clip_whose_audio_contradicts_its_stream_is_read_safely(bases, tmp_path):
    """One mdat stretch copied over the next: the AAC decoder then outputs frames whose
    channel layout outnumbers their planes. PyAV's AudioFrame.to_ndarray followed the wild
    pointers of such frames (SIGSEGV in 10 of 10 runs on the clips of the time; the clips the
    emulators write now - edit list, coded audio marks - no longer give a mutation that crashes
    it, so that precondition is not asserted). The analyzer reads plane 0 only, bounded, in its
    isolated worker."""
    clip = _mutant(bases, tmp_path, "plain", "dup-chunk", 0)
    with IsolatedAnalyzer() as analyzer:  # in process, a regression would take the test run down with it
        outcome = analyzer.run(clip)
    a = outcome.analysis
    assert outcome.kind == "ok" and a.ok and a.damaged and a.corrupt_frames > 0  # measured, and it says the file is damaged
    assert any("contradict the stream" in n for n in a.notes)


@pytest.mark.parametrize("base, kind, seed, expect", [
    ("small", "box-size", 29, "the video stream cannot be decoded"),  # stsd cut to 3 bytes: codec_context None
    ("small", "box-size", 40, "the audio stream cannot be decoded"),  # stbl cut: the audio stream has no decoder
    ("small", "bitflip", 14, "decoded frame(s) carry errors"),  # 3 readable frames, then max() of an empty fit
])
def test_mutations_that_raised_inside_the_analyzer(bases, tmp_path, base, kind, seed, expect):
    a = analyze_clip(_mutant(bases, tmp_path, base, kind, seed))
    assert expect in (a.error or "") or any(expect in n for n in a.notes), (a.error, a.notes)


def test_concealed_decode_errors_are_reported_even_when_measured(bases, tmp_path):
    """Before: the decoder concealed the damage, nothing raised, the clip read as intact."""
    a = analyze_clip(_mutant(bases, tmp_path, "small", "bitflip", 14))
    assert a.ok and a.damaged and a.corrupt_frames > 0


def test_qr_search_thins_out_on_pictures_without_a_code():
    """A 720p clip whose pictures hold no readable code cost a whole-picture QR search (6 ms
    on noise) per frame: 12.8 s for a mutated 60 s clip. Now bounded; a code that comes back
    is found again within SEARCH_STRIDE frames."""
    w, h = 1280, 720
    reader = FrameTimecodeReader(w, h)
    noise = np.random.default_rng(1).integers(0, 256, (h, w), dtype=np.uint8)
    for _ in range(300):
        assert reader.read(noise) is None
    assert reader.full_frame_searches == SEARCH_RUN + (300 - SEARCH_RUN) // SEARCH_STRIDE
    luma = np.full((h, w), 70, np.uint8)
    QrTimecodeRenderer(w, h, module=8, x=100, y=100).stamp(luma, Timecode(1_780_000_000_000))
    found = next(i for i in range(SEARCH_STRIDE) if reader.read(luma) is not None)
    assert found < SEARCH_STRIDE and reader.kind == "qr"


def test_box_walk_of_millions_of_tiny_boxes_is_bounded(bases, tmp_path):
    """2 million 8-byte boxes took 25 s in the box check."""
    path = tmp_path / "boxes.mp4"
    path.write_bytes(bases["small"].read_bytes() + struct.pack(">I4s", 8, b"free") * 2_000_000)
    t0 = time.perf_counter()
    check = check_boxes(path)
    assert time.perf_counter() - t0 < 2.0
    assert check.walk_stopped and check.boxes == MAX_BOXES and not check.truncated
    assert check.problems == [f"more than {MAX_BOXES:,} top-level boxes: the box walk stopped at byte "
                              f"{check.complete_bytes:,} of {path.stat().st_size:,}"]
