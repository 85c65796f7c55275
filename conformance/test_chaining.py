"""CHN-001: a body camera's activation starts its own cruiser's DVR, and only that one."""

from __future__ import annotations

import pytest

from conformance.catalogue import load_catalogue
from conformance.evidence import activation_utc_ms, decoded
from conformance.incident_view import incident_clip, subject


@pytest.mark.requirement("CHN-001")
def test_chn001_dvr_follows_its_own_camera(incident, measure):
    if not incident.dvrs:
        pytest.skip("the target has no cruiser DVR")
    req = load_catalogue()["CHN-001"]
    assert req.limit is not None
    pre_event_s = float(req.extra["pre_event_s"])
    cameras = {c.serial: c for c in incident.cameras}
    for dvr in incident.dvrs:
        who = subject(dvr)
        cam = cameras.get(dvr.paired_serial or "")
        cam_clip = incident_clip(incident, cam.evidence) if cam else None
        dvr_clip = incident_clip(incident, dvr.evidence)
        if cam_clip is None:
            measure.check(who, f"records although its camera ({dvr.paired_label}) did not activate", dvr_clip is not None, "", False, "==")
            continue
        measure.check(who, f"records when its camera ({dvr.paired_label}) activated", dvr_clip is not None, "", True, "==")
        if dvr_clip is None:
            continue
        cam_t = activation_utc_ms(cam_clip)
        dvr_t = activation_utc_ms(dvr_clip)
        if cam_t is None or dvr_t is None:
            measure.cannot_measure(who, "chain latency", "an exported clip has no activation time")
        measure.check(who, "chain latency (DVR activation - camera activation)", round((dvr_t - cam_t) / 1000, 3), "s", req.limit.value, req.limit.comparator)
        clip = decoded(measure, who, dvr_clip)
        if clip is None:
            continue
        measure.check(who, "DVR video before its activation (decoded timecodes)", round(clip.coverage_before_s(dvr_t), 3), "s", pre_event_s, ">=")
    measure.verdict()
