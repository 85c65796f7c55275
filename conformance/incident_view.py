"""What the conformance modules ask of an incident record: which clip belongs to the
incident, when a device activated, how far it stood."""

from __future__ import annotations

from fixtures.roles import CameraObservation, DvrObservation, EvidenceItem, IncidentRecord
from conformance.evidence import activation_utc_ms

CLOCK_TOLERANCE_MS = 100  # device clocks vs the harness clock (virtual devices share one clock)


def incident_clip(record: IncidentRecord, evidence: list[EvidenceItem]) -> EvidenceItem | None:
    """The first clip activated at or after the stimulus (allowing the clock tolerance)."""
    best: tuple[int, EvidenceItem] | None = None
    for item in evidence:
        t = activation_utc_ms(item)
        if t is None or t < record.stimulus_utc_ms - CLOCK_TOLERANCE_MS:
            continue
        if best is None or t < best[0]:
            best = (t, item)
    return best[1] if best else None


def subject(device: CameraObservation | DvrObservation) -> str:
    if isinstance(device, CameraObservation):
        return f"BWC-{device.label} {device.serial}"
    return f"DVR-{device.vehicle_id} {device.serial}"
