"""PRE-xxx: the pre-event buffer, measured from decoded frame timecodes."""

from __future__ import annotations

import pytest

from conformance.catalogue import load_catalogue
from conformance.evidence import activation_utc_ms, analysis
from conformance.incident_view import CLOCK_TOLERANCE_MS, incident_clip, subject


@pytest.mark.requirement("PRE-001")
def test_pre001_clip_holds_pre_event_buffer(incident, measure):
    limit = load_catalogue()["PRE-001"].limit
    assert limit is not None
    measured_any = False
    for cam in incident.cameras:
        item = incident_clip(incident, cam.evidence)
        if item is None:
            continue  # did not activate: ACT-001's business, not PRE-001's
        who = subject(cam)
        clip = analysis(item)
        if not clip.ok:
            measure.check(who, "clip decodes with readable timecodes", False, "", True, "==", note=clip.error or "")
            continue
        activated = activation_utc_ms(item)
        assert activated is not None
        upper = (cam.status_advert_utc_ms or activated) + 500
        consistent = incident.stimulus_utc_ms - CLOCK_TOLERANCE_MS <= activated <= upper
        measure.check(who, "exported activation time consistent with harness observation", consistent, "", True, "==")
        before = clip.coverage_before_s(activated)
        measure.check(who, "video before activation (decoded timecodes)", round(before, 3), "s", limit.value, limit.comparator)
        measure.info(who, "video before the CEW event", round(clip.coverage_before_s(incident.stimulus_utc_ms), 3), "s")
        measure.info(who, "frame gaps in clip", len(clip.gaps))
        measured_any = True
    if not measured_any:
        measure.cannot_measure("scene", "video before activation", "no body camera produced a clip for the incident")
    measure.verdict()
