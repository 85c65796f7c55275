"""The probes follow the requirement and the declared configuration, not the reference
device: every valid cool-down passes ACT-005 and a camera that does not honour its declared
one fails; false-signal cancel passes with the 10 s window and fails just outside it, and
whatever the announcement lag. Real scenes on the emulators, judged by the real test code."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from conformance.scenarios import SCENARIOS
from conformance.test_signal_rules import test_act004_false_signal_cancel as act004
from conformance.test_signal_rules import test_act005_never_stop_and_deduplicate as act005
from emulators.profiles import Profile, get_profile
from fixtures.virtual import VirtualTarget
from tests.conformance.synthetic import verdict

REFERENCE = get_profile("reference")


def _bwc(profile: Profile, **fields) -> Profile:
    return dataclasses.replace(profile, bwc=dataclasses.replace(profile.bwc, **fields))


class _Played:
    """The `scenarios` fixture for one scene: the procedure built for the declared
    configuration, played by a device that may behave otherwise."""

    def __init__(self, declared: Profile, actual: Profile, out: Path) -> None:
        scenario = SCENARIOS["signal-rules"]
        self.record = VirtualTarget(scenario.build(declared), scenario.configure(actual), out, seed=7).run_incident()

    def run(self, name: str):
        return self.record


@pytest.mark.parametrize("cooldown_s", [3.0, 12.0, 50.0])
def test_act005_passes_every_valid_cooldown(cooldown_s, tmp_path):
    p = _bwc(REFERENCE, cooldown_s=cooldown_s)
    got, ms = verdict(act005, "ACT-005", scenarios=_Played(p, p, tmp_path), profile=p)
    assert got == "pass", [m for m in ms if m.verdict != "pass"]


def test_act005_fails_a_camera_that_ignores_its_declared_cooldown(tmp_path):
    declared, actual = _bwc(REFERENCE, cooldown_s=40.0), _bwc(REFERENCE, cooldown_s=10.0)
    got, ms = verdict(act005, "ACT-005", scenarios=_Played(declared, actual, tmp_path), profile=declared)
    assert got == "fail"
    assert any("into the 40 s cool-down" in m.name and m.verdict == "fail" for m in ms)


@pytest.mark.parametrize("window_s, status_ms, expected", [(10.0, 100.0, "pass"), (10.0, 400.0, "pass"), (10.6, 100.0, "fail"),
                                                           (13.0, 100.0, "fail"), (7.0, 100.0, "fail")])
def test_act004_window_probes(window_s, status_ms, expected, tmp_path):
    """10 s passes even when the camera announces late (a 400 ms advert interval); a window
    just over 10 s, or much longer, fails; one that closes well before 10 s fails too."""
    p = _bwc(REFERENCE, status_interval_ms=status_ms, false_cancel=dataclasses.replace(REFERENCE.bwc.false_cancel, window_s=window_s))
    got, ms = verdict(act004, "ACT-004", scenarios=_Played(p, p, tmp_path), profile=p)
    assert got == expected, [(m.name, m.value, m.verdict, m.note) for m in ms]


def test_act004_a_deleted_clip_fails(tmp_path):
    p = _bwc(REFERENCE, false_cancel=dataclasses.replace(REFERENCE.bwc.false_cancel, deletes_clip=True))
    got, ms = verdict(act004, "ACT-004", scenarios=_Played(p, p, tmp_path), profile=p)
    assert got == "fail"
    assert any(m.name.startswith("a Signal-started recording that was cancelled is kept") for m in ms)


@pytest.mark.parametrize("ignored", ["CEW_ARMED", "CEW_TRIGGER", "CEW_ARC"])
def test_procedures_send_the_cew_events_the_camera_is_configured_for(ignored):
    """A camera that ignores one CEW event fails ACT-001 (event-types, the sweep); every other
    procedure sends events it acts on, so that a probe that must start nothing (sleep,
    allow-list, cool-down) is not passed by a camera deaf to that event."""
    from emulators.profiles import SIGNAL_ACTIVATING

    deaf = _bwc(REFERENCE, activates_on=tuple(e for e in SIGNAL_ACTIVATING if e != ignored))
    event = ignored.removeprefix("CEW_").lower()
    def sent(scenario, profile) -> set:
        return {s.args.get("event") for s in scenario.build(profile).timeline if s.action == "cew"}

    for name in ("hartford", "sleep-dock", "allow-list", "signal-rules", "high-bitrate"):
        assert sent(SCENARIOS[name], deaf) and event not in sent(SCENARIOS[name], deaf), name
    assert sent(SCENARIOS["signal-rules"], REFERENCE) == {"armed", "trigger", "arc"}
    assert event in sent(SCENARIOS["event-types"], deaf), "ACT-001's own procedure sends every event"
