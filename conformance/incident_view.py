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


def clips(evidence: list[EvidenceItem], *, reason: str | None = None, sender: str | None = None) -> list[EvidenceItem]:
    """Exported clips, oldest first, filtered by the trigger the device recorded."""
    out = []
    for item in evidence:
        meta = item.metadata
        if reason is not None and meta.get("trigger_reason") != reason:
            continue
        if sender is not None and meta.get("trigger_sender_serial") != sender:
            continue
        out.append(item)
    return sorted(out, key=lambda i: activation_utc_ms(i) or 0)


def step_utc_ms(record: IncidentRecord, action: str, target: str | None = None, index: int = 0) -> int:
    """When the harness applied the index-th such stimulus (harness clock)."""
    steps = record.steps_of(action, target)
    if len(steps) <= index:
        raise LookupError(f"scenario {record.scene} has no step #{index} {action} {target or ''}".rstrip())
    return int(steps[index]["t_utc_ms"])


def stop_utc_ms(item: EvidenceItem) -> int | None:
    from conformance.evidence import utc_ms

    value = item.metadata.get("stop_utc")
    return utc_ms(value) if value else None
