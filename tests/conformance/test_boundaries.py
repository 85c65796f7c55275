"""The suite's own limits, right at the boundary: the real conformance test functions are fed
synthetic incidents (real clips encoded for the purpose) and must pass or fail exactly there,
whatever the device's clock offset (within TIME-001) and its configured buffer."""

from __future__ import annotations

import dataclasses

import pytest

from conformance.test_activation import test_act001_every_camera_in_range_activates as act001
from conformance.test_evidence import test_time001_frames_carry_utc_and_clocks_agree as time001
from conformance.test_pre_event import test_pre001_clip_holds_pre_event_buffer as pre001
from emulators.profiles import get_profile
from tests.conformance.synthetic import STIM, camera, clip, incident, verdict

REFERENCE = get_profile("reference")


def _configured(pre_event_s: float):
    return dataclasses.replace(REFERENCE, bwc=dataclasses.replace(REFERENCE.bwc, pre_event_s=pre_event_s))


@pytest.mark.parametrize("offset_ms", [0, -950, 870])
@pytest.mark.parametrize("covered_ms, expected, judged", [(29_900, "fail", "fail"), (29_999, "fail", "fail"), (30_000, "pass", "marginal"), (30_100, "pass", "pass")])
def test_pre001_at_30_s(tmp_path, covered_ms, expected, judged, offset_ms):
    activation = STIM + 100
    item = clip(tmp_path, "X6BND00A1", activation - covered_ms, activation, activation + 2000, offset_ms=offset_ms)
    got, ms = verdict(pre001, "PRE-001", incident=incident([camera("X6BND00A1", "A", 10.0, [item], activation + 50)]), profile=REFERENCE)
    assert got == expected
    (m,) = [m for m in ms if m.quantity == "pre_event_s"]
    assert m.value == pytest.approx(covered_ms / 1000)
    assert m.verdict == judged  # 30.0 s passes, at the margin (within one 10 fps frame of the limit)


@pytest.mark.parametrize("configured_s, covered_ms, expected", [(60.0, 59_900, "fail"), (60.0, 45_000, "fail"), (60.0, 60_000, "pass"), (20.0, 29_900, "fail")])
def test_pre001_holds_the_configured_buffer(tmp_path, configured_s, covered_ms, expected):
    """A camera configured for more than the catalogue's 30 s is held to its configuration;
    one configured for less is still held to 30 s."""
    activation = STIM + 100
    item = clip(tmp_path, "X6BND00A1", activation - covered_ms, activation, activation + 1000)
    got, _ = verdict(pre001, "PRE-001", incident=incident([camera("X6BND00A1", "A", 10.0, [item], activation + 50)]), profile=_configured(configured_s))
    assert got == expected


@pytest.mark.parametrize(
    "distance_ft, activated, expected",
    [(29.0, True, "pass"), (29.0, False, "fail"), (30.0, False, "fail"), (31.0, False, "pass")],
)
def test_act001_range_boundary(tmp_path, distance_ft, activated, expected):
    start = STIM + 300
    evidence = [clip(tmp_path / "D", "X6BND00D1", start - 2000, start, start + 1000)] if activated else []
    cam = camera("X6BND00D1", "D", distance_ft, evidence, start + 50 if activated else None)
    anchor = camera("X6BND00A1", "A", 0.0, [clip(tmp_path / "A", "X6BND00A1", STIM - 1900, STIM + 100, STIM + 1100)], STIM + 150)
    got, _ = verdict(act001, "ACT-001", incident=incident([anchor, cam]))
    assert got == expected


@pytest.mark.parametrize("latency_ms, expected", [(1000, "pass"), (1001, "fail"), (1100, "fail")])
def test_act001_latency_boundary(tmp_path, latency_ms, expected):
    heard = STIM + latency_ms
    cam = camera("X6BND00B1", "B", 10.0, [clip(tmp_path, "X6BND00B1", STIM - 2000, heard - 50, heard + 1000)], heard)
    got, ms = verdict(act001, "ACT-001", incident=incident([cam]))
    assert got == expected
    assert any(m.quantity == "latency_s" and m.value == latency_ms / 1000 for m in ms)


@pytest.mark.parametrize("offset_ms, true_latency_ms, expected", [(-600, 900, "pass"), (-600, 1100, "fail"), (900, 400, "pass"), (900, 1150, "fail")])
def test_act001_latency_from_a_skewed_clock(tmp_path, offset_ms, true_latency_ms, expected):
    """No advert heard: the exported activation time is put on the harness clock first, so a
    slow clock cannot hide a late start nor a fast one invent it."""
    start = STIM + true_latency_ms
    cam = camera("X6BND00B1", "B", 10.0, [clip(tmp_path, "X6BND00B1", start - 2000, start, start + 2000, offset_ms=offset_ms)], None)
    got, ms = verdict(act001, "ACT-001", incident=incident([cam]))
    assert got == expected
    (m,) = [m for m in ms if m.quantity == "latency_s"]
    assert m.value == pytest.approx(true_latency_ms / 1000, abs=0.01)


@pytest.mark.parametrize("offset_ms, expected", [(950, "pass"), (-950, "pass"), (1050, "fail"), (-1050, "fail"), (0, "pass")])
def test_time001_clock_offset_boundary(tmp_path, offset_ms, expected):
    """The device clock is measured against the filmed reference clock, to a few ms."""
    start = STIM + 200
    cam = camera("X6BND00C1", "C", 10.0, [clip(tmp_path, "X6BND00C1", start - 30_000, start, start + 5000, offset_ms=offset_ms)], start + 60)
    got, ms = verdict(time001, "TIME-001", incident=incident([cam]))
    assert got == expected
    (m,) = [m for m in ms if m.quantity == "clock_offset_s"]
    assert m.value == pytest.approx(abs(offset_ms) / 1000, abs=0.005)
    assert m.uncertainty is not None and m.uncertainty < 0.005


def test_announced_but_not_exported_fails_every_evidence_requirement(tmp_path):
    """A camera the harness heard announce a recording but whose clip is missing (withheld
    export, a deleted clip) is a failure, never silently left out."""
    ok = camera("X6BND00A1", "A", 10.0, [clip(tmp_path, "X6BND00A1", STIM - 30_500, STIM + 100, STIM + 2000)], STIM + 150)
    vanished = camera("X6BND00B1", "B", 10.0, [], STIM + 160)
    rec = incident([ok, vanished])
    assert verdict(act001, "ACT-001", incident=rec)[0] == "fail"
    assert verdict(pre001, "PRE-001", incident=rec, profile=REFERENCE)[0] == "fail"
    assert verdict(time001, "TIME-001", incident=rec)[0] == "fail"
