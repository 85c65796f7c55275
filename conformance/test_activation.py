"""ACT-xxx: which cameras a Signal event activates, and how fast."""

from __future__ import annotations

import pytest

from conformance.catalogue import load_catalogue
from conformance.evidence import activation_utc_ms
from conformance.incident_view import incident_clip, subject


@pytest.mark.requirement("ACT-001")
def test_act001_every_camera_in_range_activates(incident, measure):
    req = load_catalogue()["ACT-001"]
    assert req.limit is not None
    range_ft = float(req.extra["range_ft"])
    for cam in incident.cameras:
        who = subject(cam)
        clip = incident_clip(incident, cam.evidence)
        activated = clip is not None or cam.status_advert_utc_ms is not None
        if cam.distance_ft > range_ft:
            measure.info(who, f"activated at {cam.distance_ft:g} ft (beyond {range_ft:g} ft, informative)", activated)
            continue
        measure.check(who, f"activated at {cam.distance_ft:g} ft", activated, "", True, "==")
        if not activated:
            continue
        if cam.status_advert_utc_ms is not None:
            latency = (cam.status_advert_utc_ms - incident.stimulus_utc_ms) / 1000
            measure.check(who, "activation latency (first recording-started advert heard)", round(latency, 3), "s", req.limit.value, req.limit.comparator)
        else:
            exported = activation_utc_ms(clip) if clip else None
            if exported is None:
                measure.cannot_measure(who, "activation latency", "no recording-started advert heard and no activation time exported")
            latency = (exported - incident.stimulus_utc_ms) / 1000
            measure.check(
                who, "activation latency (exported activation time)", round(latency, 3), "s", req.limit.value, req.limit.comparator,
                note="no recording-started advert was heard; latency taken from the clip's exported activation time",
            )
    measure.verdict()
