"""Device profiles: how an emulated vendor device behaves, loaded from YAML.

A profile file describes the body camera, the CEW, the holster sensor and the cruiser DVR
(docs/profiles.md lists every field with its unit and default). ``base: NAME`` starts from
another profile and overrides only what the file says. Built-in profiles live in
emulators/profile_library/: ``reference`` conforms to every requirement; vendor-like
profiles are approximations from public facts; defect profiles each declare the
requirement ids they must fail (``violates``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from emulators.incar_net import IcpAuthSpec
from emulators.signal_trust import BwcAuthSpec, SourceAuthSpec
from emulators.video import VideoFormat
from schemas.names import INPUT_CONFIG, RUN_NAME, check_serial, matching
from schemas.yaml_input import Document, FieldProblem, InputError, Loc, field_name, read_yaml, short, validate

LIBRARY = Path(__file__).with_name("profile_library")
SIGNAL_ACTIVATING = ("CEW_ARMED", "CEW_TRIGGER", "CEW_ARC", "HOLSTER_DRAW", "VEHICLE_LIGHT_BAR", "VEHICLE_SIREN",
                     "VEHICLE_DOOR", "VEHICLE_CRASH", "VEHICLE_SPEED")
BUFFER_UNITS = ("gops", "frames")
SENDER_TABLE_FULL = ("drop-new", "evict-oldest")
EVIDENCE_KEYS = ("enrolled", "other")


class ProfileError(InputError):
    """A profile that cannot be used; the message names the file, the line and the field."""


@dataclass(frozen=True)
class ClockSpec:
    offset_s: float = 0.0  # device clock minus true UTC at power-on
    drift_ppm: float = 0.0  # rate error; accumulates since the last sync (synced_h_before)
    unset: bool = False  # clock never set: frames carry the "unset" flag (and TIME-001 fails)
    synced_h_before: float = 0.0  # hours since the last sync at scene start; offset then = offset_s + drift x this


@dataclass(frozen=True)
class FalseCancelSpec:
    enabled: bool = True
    window_s: float = 10.0
    any_recording: bool = False  # defect: also cancels recordings Signal did not start
    deletes_clip: bool = False  # defect: the cancelled clip is deleted instead of kept and marked


@dataclass(frozen=True)
class BwcProfile:
    vendor: str = "bwc-harness"  # shown on the report cover
    model: str = "EMU-BWC-1"  # shown on the report cover and in evidence metadata
    firmware: str = "1.0.0"  # shown on the report cover and in evidence metadata
    pre_event_s: float = 30.0  # pre-event buffer, 0..120
    buffer_bytes: int | None = None  # None: sized in seconds; a number: byte budget
    buffer_unit: str = "gops"  # "gops": whole GOPs, >= pre_event_s; "frames": round(pre_event_s x fps) frames (see below)
    gop_s: float = 1.0  # GOP and fragment length; gop_s x fps must be a whole number of frames
    buffer_in_sleep: bool = False  # defect: keeps buffering while asleep
    buffer_in_dock: bool = False  # defect: keeps buffering while docked
    audio: bool = True  # the camera records sound
    buffer_audio: bool = False  # configured: sound kept in the pre-event buffer (Axon default: off)
    buffer_audio_ignored: bool = False  # defect: the buffer does the opposite of buffer_audio
    av_offset_ms: float = 0.0  # sound recorded this much after the picture (A/V sync error)
    av_drift_ppm: float = 0.0  # audio sample clock fast (> 0): sound falls behind by this share of the clip's time
    audio_start_delay_s: float = 0.0  # sound starts this long after activation (buffer audio off); defect > 0.1 s
    activation_delay_s: float = 0.1  # Signal advert heard -> recording starts
    rx_gain_db: float = 0.0  # receiver sensitivity vs the reference (negative: deafer, shorter range)
    boot_s: float = 2.0  # power-on or undock -> READY
    wake_s: float = 1.0  # wake from sleep -> READY
    signal_enabled: bool = True  # Signal activation configured on
    lenient_signal_parser: bool = False  # defect: an advert with an unknown event code of a source class starts a recording
    lockup_after_malformed: int = 0  # defect: after this many malformed or unknown adverts the camera stops acting on Signal (0: never)
    sender_table_size: int = 0  # defect when > 0: every Signal sender heard (before the allow-list) takes one of this many table entries that hold its de-duplication and cool-down state
    sender_table_full: str = "drop-new"  # with sender_table_size: "drop-new" ignores a new sender while the table is full; "evict-oldest" forgets the oldest sender's state
    activates_on: tuple[str, ...] = SIGNAL_ACTIVATING  # Signal events that start a recording
    activates_in_sleep: bool = False  # defect
    stops_on_signal: bool = False  # defect: a Signal advert during a recording stops it
    cooldown_s: float = 30.0  # per sender; 0 = no de-duplication (defect)
    allow_list: tuple[str, ...] | None = None  # None: every sender
    enforces_allow_list: bool = True  # defect when false: a configured allow-list is ignored
    false_cancel: FalseCancelSpec = field(default_factory=FalseCancelSpec)
    presence_interval_ms: float = 1000.0  # idle presence advert interval
    status_interval_ms: float = 100.0  # "recording started" advert interval after activation
    status_burst_s: float = 5.0  # how long the recording-started adverts last
    scan_interval_ms: float = 60.0  # BLE scan interval 2.5..10240, one channel each (assumed: no vendor publishes it)
    scan_window_ms: float = 60.0  # listening at the start of each interval, 2.5..scan_interval_ms (equal: continuous)
    adv_channels: tuple[int, ...] = (37, 38, 39)  # its advertising channel map: each event on these channels, in order
    notify_dvr: bool = True  # announce recordings to the paired DVR over the in-car network
    group_stop_allowed: bool = False  # defect: a member BWC's stop stops the whole group
    write_at_stop: bool = False  # defect: clip held in memory until stop
    flush_interval_s: float = 0.0  # file made durable every this many s since power-on (0: each closed fragment)
    loses_signal_clips: bool = False  # defect: Signal-started recordings are announced but never exported
    signs_evidence: bool = True  # a signed SHA-256 manifest of the evidence folder (INT-001)
    evidence_key: str = "enrolled"  # "enrolled"; "other": a valid Ed25519 key that is not the enrolled one (defect)
    clock: ClockSpec = field(default_factory=ClockSpec)  # the camera's real-time clock
    video: VideoFormat = field(default_factory=lambda: VideoFormat(1280, 720, 10))  # recording format
    signal_auth: BwcAuthSpec = field(default_factory=BwcAuthSpec)  # authenticated Signal (docs/signal-auth.md)
    icp_auth: IcpAuthSpec = field(default_factory=IcpAuthSpec)  # authenticated in-car messages, ICP2 (docs/incar-protocol.md)


@dataclass(frozen=True)
class SourceProfile:
    """A Signal source: CEW or holster sensor."""

    vendor: str = "bwc-harness"  # shown on the report cover
    model: str = "EMU-CEW-1"  # shown on the report cover
    firmware: str = "1.0.0"  # shown on the report cover
    idle_interval_ms: float = 1000.0  # presence advert interval between events (CEW only)
    burst_interval_ms: float = 50.0  # advert interval during an event burst (20/s)
    burst_s: float = 30.0  # how long an event's burst lasts
    adv_channels: tuple[int, ...] = (37, 38, 39)  # its advertising channel map: each event on these channels, in order
    tx_power_dbm: float = 0.0  # transmit power relative to the reference (negative: weaker, shorter range)
    signal_auth: SourceAuthSpec = field(default_factory=SourceAuthSpec)  # authenticated Signal (docs/signal-auth.md)


@dataclass(frozen=True)
class DvrProfile:
    vendor: str = "bwc-harness"  # shown on the report cover
    model: str = "EMU-DVR-1"  # shown on the report cover and in evidence metadata
    firmware: str = "1.0.0"  # shown on the report cover and in evidence metadata
    pre_event_s: float = 30.0  # front camera pre-event buffer
    rear_pre_event_s: float = 30.0  # back-seat camera pre-event buffer
    gop_s: float = 1.0  # GOP and fragment length of both cameras; gop_s x fps must be a whole number of frames
    follows_paired_bwc: bool = True  # starts when its paired body camera starts
    start_delay_s: float = 0.0  # paired camera's announcement -> its cameras start (CHN-001 allows 2 s)
    accepts_any_vehicle: bool = False  # defect: follows other vehicles' cameras and Signal
    cross_wired: bool = False  # defect: paired with the next vehicle's camera (scene order, wrapping around)
    debounce_ms: float = 250.0  # low->high and high->low; the catalogue asks for >= 200 ms, the reference keeps a margin
    delayed_off_ms: float = 2000.0  # inputs ride through dips shorter than this
    group_mode: bool = False  # WatchGuard-like group recording
    group_max_bwc: int = 8
    group_start_delay_s: float = 0.0  # group mode: other members start this long after the first (GRP-001: 2 s)
    honours_member_stop: bool = False  # defect: a STOP_GROUP that claims a member camera's serial stops the group (anyone can send one)
    advertises_vehicle_events: bool = True  # Signal Vehicle: BLE burst on vehicle events
    front_video: VideoFormat = field(default_factory=lambda: VideoFormat(1280, 720, 10))  # dash camera format
    rear_video: VideoFormat = field(default_factory=lambda: VideoFormat(854, 480, 10))  # back-seat camera format
    signal: SourceProfile = field(default_factory=lambda: SourceProfile(model="EMU-SIGNAL-VEHICLE"))  # its Signal Vehicle unit
    clock: ClockSpec = field(default_factory=ClockSpec)  # the DVR's real-time clock
    signs_evidence: bool = True  # a signed SHA-256 manifest of each camera's evidence folder (INT-001)
    evidence_key: str = "enrolled"  # "enrolled"; "other": a valid key that is not the enrolled one (defect)
    icp_auth: IcpAuthSpec = field(default_factory=IcpAuthSpec)  # authenticated in-car messages, ICP2 (docs/incar-protocol.md)


@dataclass(frozen=True)
class Profile:
    name: str  # profile name (must match the file name for built-ins)
    description: str = ""  # one line shown by `bwc profiles`
    approximation: bool = False  # vendor-like profiles built from public facts
    violates: tuple[str, ...] = ()  # requirement ids a defect profile must fail
    bwc: BwcProfile = field(default_factory=BwcProfile)  # every body camera of the scene
    cew: SourceProfile = field(default_factory=SourceProfile)  # every CEW
    holster: SourceProfile = field(default_factory=lambda: SourceProfile(model="EMU-HOLSTER-1", burst_s=10.0))  # holster sensors
    dvr: DvrProfile = field(default_factory=DvrProfile)  # every cruiser DVR

    @property
    def is_defect(self) -> bool:
        return bool(self.violates)


# -- loading ------------------------------------------------------------------------------------
# pydantic validates the dataclasses above directly (types, unknown fields, finite numbers);
# _check_ranges and _LIMITS bound the values; a file's `base:` is merged under its fields.
setattr(Profile, "__pydantic_config__", INPUT_CONFIG)
_PROFILE = TypeAdapter(Profile)
PROFILE_SCHEMA = "bwc-profile/1"
MAX_BASE_DEPTH = 8


def _check_gop(gop_s: float, formats: tuple[VideoFormat, ...], where: str) -> None:
    for fmt in formats:
        frames = gop_s * fmt.fps
        if frames < 1 or abs(frames - round(frames)) > 1e-6:
            raise ProfileError(f"{where}.gop_s: {gop_s} s x {fmt.fps} fps must be a whole number of frames, at least 1")


def _check_ranges(obj, where: str) -> None:
    if isinstance(obj, ClockSpec) and obj.synced_h_before < 0:
        raise ProfileError(f"{where}.synced_h_before: must be >= 0")
    if isinstance(obj, BwcProfile):
        if not 0 <= obj.pre_event_s <= 120:
            raise ProfileError(f"{where}.pre_event_s: {obj.pre_event_s} s is outside 0..120 s")
        if obj.buffer_bytes is not None and obj.buffer_bytes <= 0:
            raise ProfileError(f"{where}.buffer_bytes: must be a positive number of bytes or null")
        if obj.sender_table_full not in SENDER_TABLE_FULL:
            raise ProfileError(f"{where}.sender_table_full: {obj.sender_table_full!r} is not one of {', '.join(SENDER_TABLE_FULL)}")
        if obj.buffer_unit not in BUFFER_UNITS:
            raise ProfileError(f"{where}.buffer_unit: {obj.buffer_unit!r} is not one of {', '.join(BUFFER_UNITS)}")
        _check_gop(obj.gop_s, (obj.video,), where)
        bad = [e for e in obj.activates_on if e not in SIGNAL_ACTIVATING]
        if bad:
            raise ProfileError(f"{where}.activates_on: unknown event {bad[0]!r} (known: {', '.join(SIGNAL_ACTIVATING)})")
        for name in ("activation_delay_s", "boot_s", "wake_s", "cooldown_s", "flush_interval_s", "audio_start_delay_s"):
            if getattr(obj, name) < 0:
                raise ProfileError(f"{where}.{name}: must be >= 0")
        for name in ("presence_interval_ms", "status_interval_ms"):
            if getattr(obj, name) < 20:
                raise ProfileError(f"{where}.{name}: must be >= 20 ms")
        if not 2.5 <= obj.scan_interval_ms <= 10240:
            raise ProfileError(f"{where}.scan_interval_ms: {obj.scan_interval_ms} ms is outside 2.5..10240 ms")
        if not 2.5 <= obj.scan_window_ms <= obj.scan_interval_ms:
            raise ProfileError(f"{where}.scan_window_ms: {obj.scan_window_ms} ms is outside 2.5 ms..scan_interval_ms")
        if abs(obj.av_drift_ppm) > 100_000:
            raise ProfileError(f"{where}.av_drift_ppm: must be within +-100000 ppm")
    if isinstance(obj, (BwcProfile, SourceProfile)):
        ch = obj.adv_channels
        if not ch or any(c not in (37, 38, 39) for c in ch) or len(set(ch)) != len(ch):
            raise ProfileError(f"{where}.adv_channels: {list(ch)} is not a channel map: one to three of 37, 38, 39, each once")
    if isinstance(obj, (BwcProfile, DvrProfile)) and obj.evidence_key not in EVIDENCE_KEYS:
        raise ProfileError(f"{where}.evidence_key: {obj.evidence_key!r} is not one of {', '.join(EVIDENCE_KEYS)}")
    if isinstance(obj, SourceProfile):
        if obj.burst_interval_ms < 20 or obj.idle_interval_ms < 20:
            raise ProfileError(f"{where}: advertising intervals must be >= 20 ms")
        if not -40 <= obj.tx_power_dbm <= 20:
            raise ProfileError(f"{where}.tx_power_dbm: {obj.tx_power_dbm} dB is outside -40..20 dB")
    if isinstance(obj, DvrProfile):
        if not 1 <= obj.group_max_bwc <= 8:
            raise ProfileError(f"{where}.group_max_bwc: {obj.group_max_bwc} is outside 1..8")
        if obj.debounce_ms < 0 or obj.delayed_off_ms < 0:
            raise ProfileError(f"{where}: debounce_ms and delayed_off_ms must be >= 0")
        if obj.start_delay_s < 0 or obj.group_start_delay_s < 0:
            raise ProfileError(f"{where}: start_delay_s and group_start_delay_s must be >= 0")
        _check_gop(obj.gop_s, (obj.front_video, obj.rear_video), where)


_LIMITS: dict[tuple[type, str], tuple[float, float]] = {  # sane ranges of the fields _check_ranges leaves open
    (BwcProfile, "buffer_bytes"): (1, 1e10), (BwcProfile, "av_offset_ms"): (-5_000, 5_000), (BwcProfile, "rx_gain_db"): (-60, 30),
    (BwcProfile, "activation_delay_s"): (0, 600), (BwcProfile, "boot_s"): (0, 600), (BwcProfile, "wake_s"): (0, 600),
    (BwcProfile, "cooldown_s"): (0, 3_600), (BwcProfile, "status_burst_s"): (0, 600), (BwcProfile, "lockup_after_malformed"): (0, 1_000_000),
    (BwcProfile, "sender_table_size"): (0, 100_000),
    (BwcProfile, "presence_interval_ms"): (20, 10_000), (BwcProfile, "status_interval_ms"): (20, 10_000),
    (BwcProfile, "scan_interval_ms"): (20, 10_000), (BwcProfile, "scan_window_ms"): (20, 10_000),
    (FalseCancelSpec, "window_s"): (0, 600), (ClockSpec, "offset_s"): (-86_400, 86_400), (ClockSpec, "drift_ppm"): (-1_000, 1_000),
    (SourceProfile, "idle_interval_ms"): (20, 10_000), (SourceProfile, "burst_interval_ms"): (20, 10_000), (SourceProfile, "burst_s"): (0, 600),
    (DvrProfile, "pre_event_s"): (0, 120), (DvrProfile, "rear_pre_event_s"): (0, 120), (DvrProfile, "debounce_ms"): (0, 10_000),
    (DvrProfile, "delayed_off_ms"): (0, 60_000), (VideoFormat, "width"): (296, 3_840), (VideoFormat, "height"): (96, 2_160),
    (VideoFormat, "crf"): (0, 51),
}
MAX_LIST = 64  # allow_list, activates_on, violates


def _check_limits(obj: object, where: str) -> None:
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        lo, hi = _LIMITS.get((type(obj), f.name), (None, None))
        if lo is not None and hi is not None and value is not None and not lo <= value <= hi:
            raise ProfileError(f"{where}.{f.name}: {value:g} is outside {lo:g}..{hi:g}")
        if isinstance(value, tuple) and len(value) > MAX_LIST:
            raise ProfileError(f"{where}.{f.name}: more than {MAX_LIST} entries")
    if isinstance(obj, BwcProfile):
        for serial in obj.allow_list or ():
            try:
                check_serial(serial)
            except ValueError as exc:
                raise ProfileError(f"{where}.allow_list: {exc}") from None


def _checked(profile: Profile, document: Document, at: Loc, error: type[InputError]) -> Profile:
    """_check_ranges and _check_limits on every section, their messages at the field's line."""
    def walk(obj: object, loc: Loc) -> None:
        where = field_name(loc)
        try:
            _check_ranges(obj, where)
            _check_limits(obj, where)
        except ProfileError as exc:
            rest = str(exc)[len(where):]
            name, _, problem = rest[1:].partition(": ") if rest.startswith(".") else ("", "", rest.removeprefix(": "))
            raise document.error(error, FieldProblem(at + loc + ((name,) if name else ()), problem)) from None
        for f in dataclasses.fields(obj):  # type: ignore[arg-type]
            if dataclasses.is_dataclass(getattr(obj, f.name)):
                walk(getattr(obj, f.name), loc + (f.name,))

    walk(profile, ())
    return profile


def _merged(under: dict[str, Any], over: dict[Any, Any]) -> dict[Any, Any]:
    """over's fields on top of under's; sections merge field by field (a partial `video:`
    keeps the other fields of the base's format)."""
    out: dict[Any, Any] = dict(under)
    for key, value in over.items():
        if isinstance(under.get(key), dict) and (isinstance(value, dict) or value is None):
            out[key] = _merged(under[key], value or {})
        else:
            out[key] = value
    return out


def _build(data: dict[Any, Any], document: Document, at: Loc, error: type[InputError], base: Profile | None) -> Profile:
    start = dataclasses.asdict(base if base is not None else Profile(name=""))
    if base is not None:  # what a profile is (its name, description, verdicts) is never inherited
        start.update(description="", approximation=False, violates=())
    profile: Profile = validate(_PROFILE.validate_python, document, error, Profile, data=_merged(start, data), at=at)
    return _checked(profile, document, at, error)


def declared_profile(sections: dict[Any, Any], document: Document, at: Loc, error: type[InputError], name: str = "bench") -> Profile:
    """The reference profile with the sections a bench file declares (``declares:``)."""
    return _build({**sections, "name": name}, document, at, error, get_profile(REFERENCE_NAME))


class _BaseChainError(ProfileError):
    """A `base:` chain that loops or is too long (reported once, not at every level)."""


_LOADING: list[str] = []


@contextmanager
def _loading(key: str) -> Iterator[None]:
    if key in _LOADING:
        raise _BaseChainError(f"'base' chain comes back to {key} (a loop)")
    if len(_LOADING) >= MAX_BASE_DEPTH:
        raise _BaseChainError(f"'base' chain longer than {MAX_BASE_DEPTH} profiles")
    _LOADING.append(key)
    try:
        yield
    finally:
        _LOADING.pop()


def _from_document(document: Document) -> Profile:
    data = document.data
    if not isinstance(data, dict):
        raise document.error(ProfileError, FieldProblem((), f"should be a mapping (a profile), got {short(data)}"))
    data = dict(data)
    schema = data.pop("schema", PROFILE_SCHEMA)
    if schema != PROFILE_SCHEMA:
        raise document.error(ProfileError, FieldProblem(("schema",), f"should be {PROFILE_SCHEMA!r}, got {short(schema)}"))
    base_name = data.pop("base", None)
    base = None
    if base_name is not None:
        if not isinstance(base_name, str) or not base_name.isprintable() or not base_name:
            raise document.error(ProfileError, FieldProblem(("base",), f"should name a built-in profile or a profile file, got {short(base_name)}"))
        try:
            base = get_profile(base_name)
        except _BaseChainError as exc:
            if str(exc).startswith("'base'"):
                raise document.error(_BaseChainError, FieldProblem(("base",), str(exc))) from None
            raise
        except ProfileError as exc:
            raise document.error(ProfileError, FieldProblem(("base",), str(exc))) from None
    if "name" not in data:
        raise document.error(ProfileError, FieldProblem(("name",), "required field is missing"))
    profile = _build(data, document, (), ProfileError, base)
    try:
        matching(RUN_NAME, "a profile name: 1 to 64 characters A-Z, a-z, 0-9, - _ . (first a letter or digit)")(profile.name)
    except ValueError as exc:
        raise document.error(ProfileError, FieldProblem(("name",), str(exc))) from None
    return profile


def profile_from_dict(data: object, source: str = "<profile>") -> Profile:
    return _from_document(Document(source, data))


def load_profile_file(path: Path) -> Profile:
    """A profile file (docs/profiles.md); ProfileError names the file, line, field and problem."""
    with _loading(str(Path(path).resolve())):
        return _from_document(read_yaml(Path(path), ProfileError, "profile"))


@lru_cache(maxsize=None)
def _library() -> dict[str, Path]:
    return {p.stem: p for p in sorted(LIBRARY.glob("*.yaml"))}


def builtin_names() -> tuple[str, ...]:
    return tuple(_library())


@lru_cache(maxsize=None)
def _load_builtin(name: str) -> Profile:
    profile = load_profile_file(_library()[name])
    if profile.name != name:
        raise ProfileError(f"{_library()[name]}: name {profile.name!r} does not match the file name")
    return profile


def get_profile(name_or_path: str) -> Profile:
    """A built-in profile by name, or a profile YAML file by path."""
    if name_or_path in _library():
        return _load_builtin(name_or_path)
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise ProfileError(f"profile file {path} does not exist")
        return load_profile_file(path)
    raise ProfileError(f"unknown profile {name_or_path!r}; built-in profiles: {', '.join(_library())}")


def builtin_profiles() -> list[Profile]:
    """Reference first, then conformant vendor-like profiles, then defects (by name)."""
    profiles = [get_profile(n) for n in _library()]
    return sorted(profiles, key=lambda p: (p.name != REFERENCE_NAME, p.is_defect, p.name))


REFERENCE_NAME = "reference"
