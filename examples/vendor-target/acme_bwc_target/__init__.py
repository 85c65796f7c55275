"""An example of a target another package ships (the ``bwc.targets`` entry point).

A vendor would put its firmware in the loop here (its controller over HCI, its own evidence
export reader); this example plays the harness's emulators configured with the vendor's own
device description and the firmware version given after the colon, which is enough to show the
contract: ``declared()``, ``plays(scenario)`` and ``play(...)`` (fixtures/targets.py)."""

from __future__ import annotations

import dataclasses
from importlib.resources import files
from pathlib import Path

from emulators.profiles import Profile, get_profile
from emulators.scene import SceneSpec
from fixtures.roles import IncidentRecord
from fixtures.targets import VirtualDriver


class AcmeTarget:
    kind = "acme"

    def __init__(self, firmware: str) -> None:
        model = get_profile(str(files(__package__) / "acme-body-7.yaml"))
        self.profile = dataclasses.replace(model, bwc=dataclasses.replace(model.bwc, firmware=firmware or model.bwc.firmware))
        self.name = f"{self.profile.name} firmware {self.profile.bwc.firmware}"
        self._emulators = VirtualDriver(self.profile)

    def declared(self) -> Profile:
        return self.profile

    def plays(self, scenario: str) -> bool:
        return True

    def play(self, scenario: str, spec: SceneSpec, configured: Profile, out_dir: Path, *, seed: int) -> IncidentRecord:
        return self._emulators.play(scenario, spec, configured, out_dir, seed=seed)


def open_target(argument: str, profile: str) -> AcmeTarget:
    return AcmeTarget(argument)
