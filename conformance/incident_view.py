"""What the conformance modules ask of an incident record, on the harness clock: which clip
belongs to which stimulus, when a device started and stopped, how far it stood, and which
devices must be measured (every camera of the system under test is accounted for: one that
announced a recording but exported nothing fails; one in range that never activated is
ACT-001's failure and is listed as not measured elsewhere)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from conformance import clocks
from conformance.catalogue import requirement
from conformance.clocks import ClockFix, Instant
from conformance.subjects import Subject
from fixtures.roles import CameraObservation, DvrObservation, EvidenceItem, IncidentRecord
from protocols.signal import Event  # noqa: F401  (re-exported for the test modules)

EPS_MS = 1.0


@dataclass(frozen=True)
class Clip:
    """One exported clip with its device clock fixed and its times on the harness clock."""

    item: EvidenceItem
    fix: ClockFix
    activation: Instant | None
    stop: Instant | None

    @property
    def metadata(self) -> dict:
        return self.item.metadata

    def started_in(self, t0_ms: float, t1_ms: float) -> bool:
        """Activated within [t0, t1] (harness clock), allowing the clock's uncertainty."""
        if self.activation is None:
            return False
        u = self.activation.uncertainty_ms + EPS_MS
        return t0_ms - u <= self.activation.ms <= t1_ms + u


def clip(item: EvidenceItem, *, stimulus_ms: int | None = None, first_heard_ms: int | None = None) -> Clip:
    fix = clocks.clip_clock(item, stimulus_ms=stimulus_ms, first_heard_ms=first_heard_ms)
    return Clip(item, fix, clocks.activation(item, fix), clocks.stop(item, fix))


def clips(evidence: list[EvidenceItem]) -> list[Clip]:
    """Every exported clip, oldest activation first."""
    out = [clip(i) for i in evidence]
    return sorted(out, key=lambda c: c.activation.ms if c.activation else float("inf"))


def started_in(evidence: list[EvidenceItem], t0_ms: float, t1_ms: float) -> list[Clip]:
    return [c for c in clips(evidence) if c.started_in(t0_ms, t1_ms)]


def first_heard(device: CameraObservation, since_ms: float, until_ms: float = float("inf")) -> int | None:
    """The first recording-started announcement the harness heard in [since, until]."""
    return next((t for t in sorted(device.status_starts_utc_ms) if since_ms <= t <= until_ms), None)


def incident_clip(record: IncidentRecord, device: CameraObservation | DvrObservation, evidence: list[EvidenceItem] | None = None) -> Clip | None:
    """The first clip activated at or after the stimulus (harness clock)."""
    heard = device.status_advert_utc_ms if isinstance(device, CameraObservation) else None
    candidates = [clip(i, stimulus_ms=record.stimulus_utc_ms, first_heard_ms=heard) for i in (device.evidence if evidence is None else evidence)]
    after = [c for c in candidates if c.activation is not None and c.activation.ms >= record.stimulus_utc_ms - c.activation.uncertainty_ms - EPS_MS]
    return min(after, key=lambda c: c.activation.ms if c.activation else 0.0) if after else None


def chosen_clips(record: IncidentRecord) -> dict[str, dict]:
    """The incident clip of every device (rear cameras under '<DVR serial> rear'), on the
    harness clock, for the report (which renders without decoding anything)."""
    out: dict[str, dict] = {}
    parts: list[tuple[str, CameraObservation | DvrObservation, list[EvidenceItem]]] = [(c.serial, c, c.evidence) for c in record.cameras]
    for d in record.dvrs:
        parts += [(d.serial, d, d.evidence), (f"{d.serial} rear", d, d.rear_evidence)]
    for key, device, evidence in parts:
        found = incident_clip(record, device, evidence)
        if found is None:
            continue
        span = clocks.frames(found.item, found.fix)
        out[key] = {
            "clip": str(found.item.clip), "metadata": str(found.item.metadata_path),
            "activation_utc_ms": round(found.activation.ms, 1) if found.activation else None,
            "stop_utc_ms": round(found.stop.ms, 1) if found.stop else None,
            "first_frame_utc_ms": round(span[0].ms, 1) if span else None,
            "clock_offset_ms": found.fix.offset_ms, "clock_uncertainty_ms": found.fix.uncertainty_ms, "clock": found.fix.source,
        }
    return out


def subject(device: CameraObservation | DvrObservation, part: str = "") -> Subject:
    """The device as a measurement's subject (a DVR's camera by ``part``: front, rear)."""
    if isinstance(device, CameraObservation):
        return Subject(f"BWC-{device.label}", device.serial, part)
    return Subject(f"DVR-{device.vehicle_id}", device.serial, part)


def step_utc_ms(record: IncidentRecord, action: str, target: str | None = None, index: int = 0) -> int:
    """When the harness applied the index-th such stimulus (harness clock)."""
    steps = record.steps_of(action, target)
    if len(steps) <= index:
        raise LookupError(f"scenario {record.scene} has no step #{index} {action} {target or ''}".rstrip())
    return int(steps[index]["t_utc_ms"])


def scene_utc_ms(record: IncidentRecord, scene_s: float) -> float:
    """A scene time (seconds, as the procedures are written) on the harness clock."""
    return record.epoch_utc_ms + scene_s * 1000.0


@dataclass(frozen=True)
class Activated:
    """A camera of the incident and its incident clip."""

    camera: CameraObservation
    who: Subject
    clip: Clip


def activated_cameras(measure, record: IncidentRecord, *, fact: str) -> Iterator[Activated]:
    """The cameras of the incident that have an incident clip. Every other camera is
    accounted for in the requirement's results: announced a recording but exported no clip:
    fail; within range but never activated: not measured here (ACT-001 fails it)."""
    range_ft = requirement("ACT-001").parameter("range_ft")
    for cam in record.cameras:
        found = incident_clip(record, cam)
        who = subject(cam)
        if found is not None:
            yield Activated(cam, who, found)
        elif cam.status_advert_utc_ms is not None:
            measure.expect(who, f"{fact}: a clip of the activation was exported", False,
                           note="the harness heard the camera announce a recording, but it exported no clip for it")
        elif cam.distance_ft <= range_ft:
            measure.info(who, f"{fact}: not measured", None, note=f"did not activate at {cam.distance_ft:g} ft (see ACT-001)")


def require_capability(measure, req_id: str, declared: dict[str, bool]) -> bool:
    """Whether the requirement applies to the target. A capability the catalogue makes
    mandatory and the target lacks is a failure; an optional one skips the requirement."""
    import pytest

    cap = requirement(req_id).capability
    if cap is None or declared.get(cap.name, True):
        return True
    if cap.mandatory:
        measure.expect("target", f"has the capability '{cap.name}' (mandatory in the catalogue)", False,
                       note="the target declares it does not have it")
        return False
    pytest.skip(f"not applicable: the target has no '{cap.name}' (optional in the catalogue)")
