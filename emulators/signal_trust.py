"""The authenticated Signal dialect in the emulators (docs/signal-auth.md): the profile sections
(`cew.signal_auth`, `bwc.signal_auth`), a source's signer, and the camera's gate that decides,
per heard advert, whether the camera may act on it under its mode (legacy / mixed / required).

Emulation keys derive from the agency's name (protocols.signal_auth.emulation_agency_key):
they are not secret, like every emulated device key of this harness."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, MutableSequence
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field

from protocols.signal import SignalFrame, find_signal_payload
from protocols.signal_auth import (
    REPEAT_HOLD_S,
    AuthFrame,
    Verdict,
    device_key,
    emulation_agency_key,
    encode_auth_adv_data,
    is_authenticated,
    verifier_for,
)

EMULATED_AGENCY = "emulated agency"
KeyId = Annotated[int, Field(ge=0, le=255)]
LEGACY, AUTHENTICATED = "legacy", "authenticated"  # what admit() returns when the camera may act


@dataclass(frozen=True)
class SourceAuthSpec:
    enabled: bool = False  # send authenticated frames (version 0x02) instead of legacy ones
    agency: str = EMULATED_AGENCY  # whose emulation key signs (derived from this name: not secret)
    key_id: KeyId = 1  # which of the agency's keys, 0..255 (carried in payload byte 23)


@dataclass(frozen=True)
class BwcAuthSpec:
    mode: Literal["legacy", "mixed", "required"] = "legacy"  # legacy: no checks; mixed: verify version-2 frames, legacy ones act unless a downgrade; required: only verified frames act
    agency: str = EMULATED_AGENCY  # whose emulation keys the camera holds (derived from this name: not secret)
    key_ids: tuple[KeyId, ...] = (1,)  # the agency key ids the camera holds (two during a rotation), 0..255 each
    repeat_hold_s: Annotated[float, Field(ge=0, le=3600)] = REPEAT_HOLD_S  # copies of an accepted payload this long after it are repeats, later ones replays (0..3600)
    replay_window: bool = True  # defect when false: no replay window, every frame whose MAC verifies acts (replays too)
    checks_mac: bool = True  # defect when false: the MAC is not checked, forged frames act


def source_signer(serial: str, spec: SourceAuthSpec) -> Callable[[SignalFrame], bytes] | None:
    """AdvData for a source's frames, signed with its device key (the frame's payload sequence is
    the counter); None when the profile sends legacy frames."""
    if not spec.enabled:
        return None
    key = device_key(emulation_agency_key(spec.agency, spec.key_id), serial)

    def sign(frame: SignalFrame) -> bytes:
        return encode_auth_adv_data(AuthFrame(frame.serial, frame.source_class, frame.event_code, frame.sequence, spec.key_id), key)

    return sign


class SignalGate:
    """A camera's authentication step, between decoding an activating advert and de-duplicating it."""

    def __init__(self, spec: BwcAuthSpec) -> None:
        self.spec = spec
        self.verifier = None if spec.mode == "legacy" else verifier_for(
            spec.agency, spec.key_ids, repeat_hold_s=spec.repeat_hold_s, replay_window=spec.replay_window, checks_mac=spec.checks_mac)
        self.verdicts: Counter[str] = Counter()  # verdict -> adverts (accepted, repeat, replay, forged, ..., legacy, downgrade)

    def admit(self, adv_data: bytes, serial: str, now: float, ignored: MutableSequence[tuple[float, str, str]]) -> str | None:
        """LEGACY (act, legacy de-duplication) or AUTHENTICATED (act: the verifier accepted a new
        payload) or None (ignore it; the reason is appended to ``ignored``, except for repeats)."""
        if self.verifier is None:
            return LEGACY
        payload = find_signal_payload(adv_data)  # the caller decoded it already: not None, well formed
        if payload is None or not is_authenticated(payload):
            if self.spec.mode == "required":
                why = "not authenticated"
            elif self.verifier.knows(serial):
                why = "downgrade"  # mixed: this sender has been heard authenticated, a legacy frame claiming it is refused
            else:
                self.verdicts[LEGACY] += 1
                return LEGACY
            self.verdicts[why] += 1
            ignored.append((now, serial, why))
            return None
        verdict = self.verifier.check(payload, now)
        self.verdicts[verdict.value] += 1
        if verdict.acts:
            return AUTHENTICATED
        if verdict is not Verdict.REPEAT:
            ignored.append((now, serial, verdict.value))
        return None
