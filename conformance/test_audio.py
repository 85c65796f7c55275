"""PRE-003 and AV-001: the sound of the clips, located by the audio time marks. Sound is a
mandatory capability in the catalogue: a camera that records none fails both."""

from __future__ import annotations

import pytest

from conformance.evidence import activation_utc_ms, analysis
from conformance.incident_view import activated_cameras, require_capability


def _capabilities(profile) -> dict[str, bool]:
    return {"audio": bool(profile.bwc.audio)}


@pytest.mark.requirement("PRE-003")
def test_pre003_buffer_audio_follows_configuration(incident, profile, measure):
    if not require_capability(measure, "PRE-003", _capabilities(profile)):
        measure.verdict()
    limit, sound_start = measure.req.main(), measure.req.named("sound_start")
    configured_on = profile.bwc.buffer_audio
    for a in activated_cameras(measure, incident, fact="buffer audio"):
        clip = analysis(a.clip.item)
        act = activation_utc_ms(a.clip.item)
        has_sound = clip.audio is not None and clip.audio.start_utc_ms is not None
        measure.expect(a.who, "clip has sound", has_sound, note="" if has_sound else "; ".join(clip.notes))
        if not has_sound or act is None or clip.first_utc_ms is None or clip.audio is None or clip.audio.start_utc_ms is None:
            continue
        before = (act - clip.audio.start_utc_ms) / 1000.0
        if configured_on:
            silent_video = max(0.0, (clip.audio.start_utc_ms - clip.first_utc_ms) / 1000)
            measure.against(limit, a.who, "pre-event video without sound (buffer audio configured on)", silent_video, quantity="silent_pre_event_s")
        else:
            measure.against(limit, a.who, "sound before activation (buffer audio configured off)", max(0.0, before), quantity="sound_before_s")
            measure.against(sound_start, a.who, "silence after activation (sound must start with the recording)", max(0.0, -before),
                            quantity="silence_after_s")


@pytest.mark.requirement("AV-001")
def test_av001_audio_video_sync(incident, profile, measure):
    if not require_capability(measure, "AV-001", _capabilities(profile)):
        measure.verdict()
    limit = measure.req.main()
    for a in activated_cameras(measure, incident, fact="A/V sync"):
        clip = analysis(a.clip.item)
        audio = clip.audio
        if audio is None or audio.av_offset_ms is None:
            measure.expect(a.who, "audio time marks found", False, note="; ".join(clip.notes))
            continue
        parts = {"median": audio.av_offset_ms, "start": getattr(audio, "av_offset_first_ms", None), "end": getattr(audio, "av_offset_last_ms", None)}
        measured = {k: v for k, v in parts.items() if v is not None}
        where, worst = max(measured.items(), key=lambda kv: abs(kv[1]))
        shown = ", ".join(f"{k} {v:+.1f} ms" for k, v in measured.items())
        measure.against(limit, a.who, "A/V offset, worst of start / middle / end (sound later than picture when positive)", abs(worst),
                        digits=1, quantity="av_offset_ms", note=f"{shown}; worst at the {where}; {audio.beeps} marks")
