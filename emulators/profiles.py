"""Device profiles: how an emulated vendor device behaves. ``reference`` conforms to every
requirement the suite checks; defect profiles each break named requirements on purpose so
that the suite proves it catches them (see docs/profiles.md)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from emulators.video import VideoFormat


@dataclass(frozen=True)
class BwcProfile:
    model: str = "EMU-BWC-1"
    firmware: str = "1.0.0"
    pre_event_s: float = 30.0
    activation_delay_s: float = 0.1  # decode + state change before the recording starts
    presence_interval_ms: float = 1000.0  # idle presence advert
    status_interval_ms: float = 100.0  # recording-started adverts after activation
    status_burst_s: float = 5.0
    scan_interval_ms: float = 60.0
    scan_window_ms: float = 60.0
    signal_enabled: bool = True
    notify_dvr: bool = True
    video: VideoFormat = field(default_factory=VideoFormat)


@dataclass(frozen=True)
class CewProfile:
    model: str = "EMU-CEW-1"
    firmware: str = "1.0.0"
    idle_interval_ms: float = 1000.0
    burst_interval_ms: float = 50.0
    burst_s: float = 30.0


@dataclass(frozen=True)
class DvrProfile:
    model: str = "EMU-DVR-1"
    firmware: str = "1.0.0"
    pre_event_s: float = 30.0
    follows_paired_bwc: bool = True
    accepts_any_vehicle: bool = False  # a defect: reacts to BWCs paired with other vehicles
    video: VideoFormat = field(default_factory=VideoFormat)


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    bwc: BwcProfile = field(default_factory=BwcProfile)
    cew: CewProfile = field(default_factory=CewProfile)
    dvr: DvrProfile = field(default_factory=DvrProfile)
    violates: tuple[str, ...] = ()  # requirement ids a defect profile must fail

    @property
    def is_defect(self) -> bool:
        return bool(self.violates)


REFERENCE = Profile("reference", "Conforms to every requirement the suite checks.")

BUILTIN: dict[str, Profile] = {
    p.name: p
    for p in (
        REFERENCE,
        Profile(
            "short-buffer",
            "Body camera keeps only 20 s of pre-event video.",
            bwc=replace(REFERENCE.bwc, pre_event_s=20.0),
            violates=("PRE-001",),
        ),
        Profile(
            "dvr-unchained",
            "Cruiser DVR ignores its paired body camera's recording-started message.",
            dvr=replace(REFERENCE.dvr, follows_paired_bwc=False),
            violates=("CHN-001",),
        ),
        Profile(
            "late-activation",
            "Body camera starts recording 3 s after it hears the Signal advert.",
            bwc=replace(REFERENCE.bwc, activation_delay_s=3.0),
            violates=("ACT-001",),
        ),
        Profile(
            "dvr-any-vehicle",
            "Cruiser DVR starts for a body camera paired with another vehicle.",
            dvr=replace(REFERENCE.dvr, accepts_any_vehicle=True),
            violates=("CHN-001",),
        ),
    )
}


class ProfileError(ValueError):
    pass


def get_profile(name: str) -> Profile:
    try:
        return BUILTIN[name]
    except KeyError:
        raise ProfileError(f"unknown profile {name!r}; built-in profiles: {', '.join(sorted(BUILTIN))}") from None
