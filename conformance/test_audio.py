"""PRE-003 and AV-001: the sound of the clips, located by the audio time marks."""

from __future__ import annotations

import pytest

from conformance.catalogue import load_catalogue
from conformance.evidence import activation_utc_ms, analysis
from conformance.incident_view import incident_clip, subject


def _clips(incident):
    for cam in incident.cameras:
        item = incident_clip(incident, cam.evidence)
        if item is not None:
            yield cam, item


@pytest.mark.requirement("PRE-003")
def test_pre003_buffer_audio_follows_configuration(incident, profile, measure):
    if not profile.bwc.audio:
        pytest.skip("the target declares cameras without sound")
    limit = load_catalogue()["PRE-003"].limit
    configured_on = profile.bwc.buffer_audio
    measured = False
    for cam, item in _clips(incident):
        who = subject(cam)
        clip = analysis(item)
        act = activation_utc_ms(item)
        has_sound = clip.audio is not None and clip.audio.start_utc_ms is not None
        measure.check(who, "clip has sound", has_sound, "", True, "==", note="" if has_sound else "; ".join(clip.notes))
        if not has_sound or act is None or clip.first_utc_ms is None:
            continue
        before = clip.audio_before_trigger_s(act)
        if configured_on:
            silent_video = round(max(0.0, (clip.audio.start_utc_ms - clip.first_utc_ms) / 1000), 3)
            measure.check(who, "pre-event video without sound (buffer audio configured on)", silent_video, "s", limit.value, limit.comparator)
        else:
            measure.check(who, "sound before activation (buffer audio configured off)", round(max(0.0, before), 3), "s", limit.value, limit.comparator)
            measure.check(who, "silence after activation (sound must start at activation)", round(max(0.0, -before), 3), "s", 0.5, "<=")
        measured = True
    if not measured:
        measure.cannot_measure("scene", "buffer audio", "no clip with sound and an activation time")
    measure.verdict()


@pytest.mark.requirement("AV-001")
def test_av001_audio_video_sync(incident, profile, measure):
    if not profile.bwc.audio:
        pytest.skip("the target declares cameras without sound")
    limit = load_catalogue()["AV-001"].limit
    measured = False
    for cam, item in _clips(incident):
        clip = analysis(item)
        if clip.audio is None or clip.audio.av_offset_ms is None:
            measure.check(subject(cam), "audio time marks found", False, "", True, "==", note="; ".join(clip.notes))
            continue
        a = clip.audio
        measure.check(subject(cam), "A/V offset (sound later than picture when positive)", round(abs(a.av_offset_ms), 1), "ms", limit.value,
                      limit.comparator, note=f"signed {a.av_offset_ms:+.1f} ms over {a.beeps} marks (min {a.av_offset_min_ms:+.1f}, max {a.av_offset_max_ms:+.1f})")
        measured = True
    if not measured:
        measure.cannot_measure("scene", "A/V offset", "no clip with audio time marks")
    measure.verdict()
