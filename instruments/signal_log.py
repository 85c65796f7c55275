"""The Signal traffic of a whole scene, as transmitted: an observer on the simulated air that
sees every advertising PDU where it is sent (a perfect sniffer next to every device), decodes
its Signal payload and keeps what a scene check reads: each source's event bursts (with where
the source was) and each camera's recording-started announcements. Presence adverts are only
counted, so memory grows with events, not with the scene's length."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from emulators.air import Point, Transmission
from protocols.signal import Event, SignalDecodeError, find_signal_frame

BURST_GAP_S = 1.0  # an event's adverts further apart than this are two bursts


@dataclass
class Burst:
    """One Signal source event on the air: its adverts from first to last, and where the
    source was at each (it may move)."""

    serial: str
    event: Event
    sender: str  # the radio's name on the air
    times: list[float] = field(default_factory=list)
    positions: list[Point] = field(default_factory=list)

    @property
    def start(self) -> float:
        return self.times[0]

    @property
    def end(self) -> float:
        return self.times[-1]


@dataclass
class SignalLog:
    bursts: list[Burst] = field(default_factory=list)
    # camera serial -> [(first advert time, event id)]: one entry per recording it announced
    announced: dict[str, list[tuple[float, int]]] = field(default_factory=dict)
    presence: Counter = field(default_factory=Counter)  # serial -> presence adverts
    malformed: int = 0
    _open: dict[tuple[str, str, Event], Burst] = field(default_factory=dict)

    def __call__(self, tx: Transmission) -> None:
        try:
            frame = find_signal_frame(tx.adv_data)
        except SignalDecodeError:
            self.malformed += 1
            return
        if frame is None:
            return
        event = frame.event
        if event is None or event in (Event.CEW_PRESENCE, Event.CAMERA_PRESENCE):
            self.presence[frame.serial] += 1
        elif event is Event.CAMERA_RECORDING_STARTED:
            seen = self.announced.setdefault(frame.serial, [])
            if not seen or seen[-1][1] != frame.event_id:
                seen.append((tx.t, frame.event_id))
        elif event.activates_cameras:
            key = (tx.sender, frame.serial, event)  # a replay of a CEW's advert is the replaying radio's burst
            burst = self._open.get(key)
            if burst is None or tx.t - burst.end > BURST_GAP_S:
                burst = self._open[key] = Burst(frame.serial, event, tx.sender)
                self.bursts.append(burst)
            if not burst.times or tx.t - burst.end > 1e-3:  # one entry per advertising event, not per channel
                burst.times.append(tx.t)
                burst.positions.append(tx.position)

    def starts(self, serial: str) -> list[float]:
        """When a camera announced each recording (its first recording-started advert)."""
        return [t for t, _ in self.announced.get(serial, [])]
