"""CHN-001: a body camera's activation starts its own cruiser's DVR (front and back-seat
cameras, each with its own pre-event footage), and only that one. Camera and DVR times are
compared on the harness clock: each device's clock is measured from its own frames."""

from __future__ import annotations

import pytest

from conformance.evidence import coverage_before_activation_s, decoded
from conformance.incident_view import incident_clip, subject
from conformance.scenarios import declared

PARTS = (("front", "dvr.pre_event_s"), ("rear", "dvr.rear_pre_event_s"))


@pytest.mark.requirement("CHN-001")
def test_chn001_dvr_follows_its_own_camera(incident, profile, measure):
    if not incident.dvrs:
        pytest.skip("the target has no cruiser DVR")
    latency = measure.req.main()
    cameras = {c.serial: c for c in incident.cameras}
    for dvr in incident.dvrs:
        cam = cameras.get(dvr.paired_serial or "")
        cam_clip = incident_clip(incident, cam) if cam else None
        cam_heard = cam.status_advert_utc_ms if cam else None
        cam_started = cam_clip.activation if cam_clip is not None and cam_clip.activation is not None else None
        activated = cam_clip is not None or cam_heard is not None
        for part, configured in PARTS:
            who = subject(dvr, part)
            dclip = incident_clip(incident, dvr, dvr.evidence if part == "front" else dvr.rear_evidence)
            if not activated:
                measure.expect(who, f"records although its camera ({dvr.paired_label}) did not activate", dclip is not None, expected=False)
                continue
            measure.expect(who, f"records when its camera ({dvr.paired_label}) activated", dclip is not None)
            if dclip is None or dclip.activation is None:
                continue
            if cam_started is not None:
                u = (dclip.activation.uncertainty_ms + cam_started.uncertainty_ms) / 1000
                measure.against(latency, who, "chain latency (DVR activation - camera activation, harness clock)",
                                (dclip.activation.ms - cam_started.ms) / 1000, uncertainty=u, quantity="chain_latency_s")
            elif cam_heard is not None:
                measure.against(latency, who, "chain latency (DVR activation - camera's first recording-started advert)",
                                (dclip.activation.ms - cam_heard) / 1000, uncertainty=dclip.activation.uncertainty_ms / 1000,
                                quantity="chain_latency_s", note="the camera exported no clip: its announcement is the reference")
            if decoded(measure, who, dclip.item) is None:
                continue
            limit = measure.req.named("pre_event").at_least(declared(profile, configured))
            measure.against(limit, who, "DVR video before its activation (decoded timecodes)",
                            coverage_before_activation_s(dclip.item, dclip.activation.ms), quantity="pre_event_s")
