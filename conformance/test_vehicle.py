"""VEH-001 and GRP-001: cruiser inputs and group recording."""

from __future__ import annotations

import pytest

from conformance.catalogue import load_catalogue
from conformance.evidence import activation_utc_ms
from conformance.incident_view import step_utc_ms, stop_utc_ms, subject

MAX_INPUT_DELAY_MS = 1200.0  # a held input must still start the DVR promptly


@pytest.mark.requirement("VEH-001")
def test_veh001_input_debounce(scenarios, measure):
    rec = scenarios.run("vehicle")
    limit = load_catalogue()["VEH-001"].limit
    dvr = rec.dvr("CAR-V1")
    who = subject(dvr)
    glitch_from = step_utc_ms(rec, "input", "CAR-V1", 0)
    held = step_utc_ms(rec, "input", "CAR-V1", 2)
    starts = sorted(t for t in (activation_utc_ms(i) for i in dvr.evidence) if t is not None)
    glitch_starts = [t for t in starts if glitch_from - 100 <= t < held]
    measure.check(who, "recordings started by 100 ms and 150 ms light-bar glitches", len(glitch_starts), "recordings", 0, "==")
    after = [t for t in starts if t >= held - 100]
    if not after and not glitch_starts:
        measure.cannot_measure(who, "input-to-recording delay", "the held light bar started no recording")
    first = (glitch_starts or after)[0]
    delay_ms = float(first - held)
    measure.check(who, "held light bar: rising edge to recording start", delay_ms, "ms", limit.value, limit.comparator,
                  note="negative: the DVR was already recording from a glitch")
    measure.check(who, "held light bar starts the DVR promptly", delay_ms, "ms", MAX_INPUT_DELAY_MS, "<=")
    measure.verdict()


@pytest.mark.requirement("GRP-001")
def test_grp001_group_recording(scenarios, profile, measure):
    if not profile.dvr.group_mode:
        pytest.skip("the target declares no group recording (dvr.group_mode is off)")
    rec = scenarios.run("group")
    limit = load_catalogue()["GRP-001"].limit
    dvr = rec.dvr("CAR-G")
    start = step_utc_ms(rec, "record", "G1")
    member_stop = step_utc_ms(rec, "stop", "G1")
    dvr_stop = step_utc_ms(rec, "dvr_stop", "CAR-G")
    devices = [(subject(c), c.evidence) for c in rec.cameras] + [(f"{subject(dvr)} front", dvr.evidence)]
    for who, evidence in devices:
        group_clips = [i for i in evidence if (activation_utc_ms(i) or 0) >= start - 100]
        if not group_clips:
            measure.check(who, "starts with the group", False, "", True, "==")
            continue
        item = group_clips[0]
        measure.check(who, "start after the first member's record press", round(((activation_utc_ms(item) or 0) - start) / 1000, 3),
                      "s", limit.value, limit.comparator)
        stopped = stop_utc_ms(item)
        measure.check(who, "still recording after a member pressed stop", stopped is not None and stopped > member_stop + 2000, "", True, "==")
        if stopped is not None:
            measure.check(who, "stops when the DVR stops the group", round((stopped - dvr_stop) / 1000, 3), "s", limit.value, limit.comparator)
    measure.verdict()
