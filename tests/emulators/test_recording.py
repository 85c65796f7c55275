"""What the cameras record, measured from the decoded evidence of real emulators on the real air:
GOP length, buffers sized in GOPs or in frames, buffering while docked, what a power cut leaves
(real-time muxer, periodic flush), late and drifting sound, and the key evidence is signed with."""

import base64
import json

import pytest

from emulators.evidence_seal import MANIFEST, SIGNATURE, device_public_key_b64
from instruments.clip_analyzer import analyze_clip
from protocols.evidence_manifest import check_signature_document, public_key_raw
from tests.emulators.scene_helpers import SMALL, play, profile

BOOT = 2.0  # cameras are READY (and start capturing) 2 s after the scene starts


def _officers(n):
    return [{"name": f"O{i}", "bwc": f"X6REC00{i}1", "position": [10 * i, 0]} for i in range(n)]


def _coverage(clip):
    a = analyze_clip(clip.path)
    assert a.ok and a.gaps == [], a.error
    return a, a.coverage_before_s(clip.trigger.utc_ms)


def test_gop_length_follows_gop_s_and_a_fractional_gops_buffer_is_kept_whole(tmp_path):
    """gop_s 2: the encoder's key frames and the fragments come every 2 s; a 5.3 s buffer in
    GOPs keeps whole GOPs reaching back at least 5.3 s from the newest complete GOP (12 s), so
    from 6 s: the clips hold 6 s + the activation's phase in the GOP in progress."""
    phases = (0.1, 0.7, 1.3, 1.9)
    scene = {"name": "gop", "end_s": 24, "officers": _officers(4),
             "timeline": [*({"t": 12.0 + p, "do": "record", "target": f"O{i}"} for i, p in enumerate(phases)), {"t": 18, "do": "stop_all"}]}
    vs = play(scene, tmp_path, profile({"bwc": {"gop_s": 2.0, "pre_event_s": 5.3}}))
    for i in range(4):
        (clip,) = vs.bwcs[f"O{i}"].core.clips
        a, before = _coverage(clip)
        assert before == pytest.approx(6.0 + phases[i], abs=0.002)
        assert (a.first_utc_ms - vs.clock.epoch_utc_ms) % 2000 == 0  # clips start on the 2 s GOP grid
        assert clip.fragments == round((a.last_utc_ms - a.first_utc_ms + 200) / 2000)  # one fragment per 2 s GOP


def test_frame_sized_buffer_starts_at_a_key_frame_inside_it(tmp_path):
    """buffer_unit frames: the buffer is exactly round(pre_event_s x fps) frames, so the clip
    holds between pre_event_s - gop_s and pre_event_s before the activation, at every phase."""
    phases = (0.05, 0.2, 0.5, 0.85)  # into the GOP that began at 12 s
    scene = {"name": "frames", "end_s": 20, "officers": _officers(4),
             "timeline": [*({"t": 12.0 + p, "do": "record", "target": f"O{i}"} for i, p in enumerate(phases)), {"t": 15, "do": "stop_all"}]}
    vs = play(scene, tmp_path, profile({"bwc": {"buffer_unit": "frames", "pre_event_s": 6.0}}))
    covered = []
    for i in range(4):
        (clip,) = vs.bwcs[f"O{i}"].core.clips
        _, before = _coverage(clip)
        assert 5.0 <= before < 6.0, before
        covered.append(before)
    assert covered == pytest.approx([5 + p for p in phases], abs=0.002)  # the key frame at 7 s: 30 frames before 12.x s reach 6.x s


def test_buffering_in_the_dock_defect(tmp_path):
    scene = {"name": "dock", "end_s": 34, "officers": _officers(1),
             "timeline": [{"t": 5, "do": "dock", "target": "O0"}, {"t": 20, "do": "undock", "target": "O0"},
                          {"t": 24, "do": "record", "target": "O0"}, {"t": 28, "do": "stop", "target": "O0"}]}
    undocked_ms = 1_780_000_000_000 + (20 + BOOT) * 1000  # READY again (boot 2 s): capture may start only now
    reference = play(scene, tmp_path / "ref", profile({"bwc": {"pre_event_s": 10.0}}))
    defect = play(scene, tmp_path / "defect", profile({"bwc": {"pre_event_s": 10.0, "buffer_in_dock": True}}))
    ref, _ = _coverage(reference.bwcs["O0"].core.clips[0])
    bad, before = _coverage(defect.bwcs["O0"].core.clips[0])
    assert ref.first_utc_ms >= undocked_ms
    assert bad.first_utc_ms < undocked_ms - 7000 and before >= 10.0  # a full buffer of docked video


CUT_PHASES = (0.05, 0.25, 0.5, 0.75, 0.95)  # seconds into the GOP in progress


def _power_cuts(tmp_path, overrides):
    scene = {"name": "power", "end_s": 19, "officers": _officers(len(CUT_PHASES)),
             "timeline": [*({"t": 10.0, "do": "record", "target": f"O{i}"} for i in range(len(CUT_PHASES))),
                          *({"t": 15.0 + p, "do": "power_cut", "target": f"O{i}"} for i, p in enumerate(CUT_PHASES))]}
    vs = play(scene, tmp_path, profile({"bwc": {"pre_event_s": 3.0, **overrides}}))
    lost = []
    for i, phase in enumerate(CUT_PHASES):
        (clip,) = vs.bwcs[f"O{i}"].core.clips
        assert clip.stop_reason == "power-loss"
        a = analyze_clip(clip.path)
        cut_ms = vs.clock.epoch_utc_ms + (15.0 + phase) * 1000
        lost.append((cut_ms - a.last_utc_ms) / 1000 if a.last_utc_ms is not None else None)
    return lost


def test_power_cut_keeps_every_fragment_a_real_time_muxer_had_closed(tmp_path):
    """Fragment k is closed when GOP k+1's first frame is captured: a cut loses the GOP in
    progress and nothing before it (the loss follows the phase, at most gop_s + one frame)."""
    lost = _power_cuts(tmp_path, {})
    frame = 1 / SMALL.fps
    assert lost == pytest.approx([p + frame for p in CUT_PHASES], abs=0.002)
    assert max(lost) <= 1.0 + frame


def test_power_cut_with_a_periodic_flush_loses_what_came_after_the_last_flush(tmp_path):
    """flush_interval_s 5: flushes 5 s apart since power-on (7, 12, 17 s); a cut at 15.x s
    keeps only what was written by 12 s."""
    lost = _power_cuts(tmp_path, {"flush_interval_s": 5.0})
    frame = 1 / SMALL.fps
    assert lost == pytest.approx([3.0 + p + frame for p in CUT_PHASES], abs=0.002)
    assert min(lost) > 2.0  # PWR-001's limit


def _sound(tmp_path, overrides, buffer_audio):
    scene = {"name": "sound", "end_s": 30, "officers": _officers(1),
             "timeline": [{"t": 10.4, "do": "record", "target": "O0"}, {"t": 25, "do": "stop", "target": "O0"}]}
    vs = play(scene, tmp_path, profile({"bwc": {"pre_event_s": 5.0, "buffer_audio": buffer_audio, **overrides}}))
    (clip,) = vs.bwcs["O0"].core.clips
    a, _ = _coverage(clip)
    return clip, a


def test_late_sound_defect(tmp_path):
    clip, a = _sound(tmp_path, {"audio_start_delay_s": 0.5}, buffer_audio=False)
    assert a.audio_before_trigger_s(clip.trigger.utc_ms) == pytest.approx(-0.5, abs=0.03)


def test_drifting_sound_clock_and_a_lag_of_more_than_a_second(tmp_path):
    """3000 ppm: the sound falls behind by 3 ms per second of clip on top of a constant 1.2 s
    lag; the marks' second numbers keep the 1.2 s from reading as 0.2 s."""
    clip, a = _sound(tmp_path, {"av_drift_ppm": 3000.0, "av_offset_ms": 1200.0}, buffer_audio=True)
    audio = a.audio
    assert audio.marks_read >= audio.beeps - 1 >= 15
    span_s = (a.last_utc_ms - a.first_utc_ms) / 1000 + 1 / SMALL.fps
    # a mark t seconds into the clip lags 1200 ms + 3 ms x t; the first three come within 3.2 s
    # of the start, the last three within 3.2 s of the end
    assert 1200 - 1 <= audio.av_offset_first_ms <= 1200 + 3.0 * 3.2 + 1
    assert 1200 + 3.0 * (span_s - 3.2) - 1 <= audio.av_offset_last_ms <= 1200 + 3.0 * span_s + 1
    assert audio.av_offset_min_ms >= 1199 and span_s > 15


def test_evidence_signed_with_another_key_is_valid_but_not_the_enrolled_one(tmp_path):
    scene = {"name": "key", "end_s": 10, "officers": _officers(1),
             "timeline": [{"t": 4, "do": "record", "target": "O0"}, {"t": 6, "do": "stop", "target": "O0"}]}
    enrolled = device_public_key_b64("X6REC0001")
    for key, matches in (("enrolled", True), ("other", False)):
        vs = play(scene, tmp_path / key, profile({"bwc": {"evidence_key": key, "pre_event_s": 1.0}}))
        folder = vs.bwcs["O0"].core.clips[0].path.parent
        signer = check_signature_document(json.loads((folder / SIGNATURE).read_text()), (folder / MANIFEST).read_bytes())
        assert (base64.b64encode(public_key_raw(signer)).decode() == enrolled) is matches
