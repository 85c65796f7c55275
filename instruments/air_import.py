"""The Signal adverts of a real capture: every record decoded (protocols/capture_frames.py),
every advertising PDU searched for Service Data 0xFE6C (protocols/signal.py), the PDUs of
one advertising event (the same advertiser and bytes on 37, 38 and 39 within a few
milliseconds) merged into one advert timed by its first PDU. Foreign traffic (other
advertisers, other service data, data-channel packets) is counted and left out; malformed
frames and bad CRCs are counted and never used."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from instruments.capture_file import CaptureFile, Record
from protocols.capture_frames import AdvFrame, FrameError, hci_frames, nordic_frame, phdr_frame
from protocols.signal import SignalDecodeError, SignalFrame, decode_payload, find_signal_payload

# PDUs of one advertiser with the same bytes this close belong to one advertising event (an
# event spans about 1.4 ms on three channels; the next comes at least advInterval = 20 ms later)
EVENT_SPAN_S = 0.005


@dataclass(frozen=True)
class Advert:
    """One advertising event of a Signal advert, as the capture saw it."""

    t_s: float  # UTC seconds of its first PDU (a host's report: when the host got it)
    address: str
    adv_data: bytes
    frame: SignalFrame
    rssi: int | None
    channels: tuple[int, ...] = ()  # the channels it was captured on (empty: a host's report)

    @property
    def t_ms(self) -> float:
        return self.t_s * 1000.0


@dataclass
class ImportedCapture:
    path: Path
    format: str
    records: int = 0
    adverts: list[Advert] = field(default_factory=list)  # Signal adverts in time order
    counts: Counter[str] = field(default_factory=Counter)  # what else the records held
    first_s: float | None = None
    last_s: float | None = None
    problems: list[str] = field(default_factory=list)  # the first few frames that were refused, with why

    def summary(self) -> dict[str, int]:
        keys = ("signal PDUs", "other advertisers", "other traffic", "bad CRC", "malformed", "malformed Signal")
        return {k: self.counts.get(k, 0) for k in keys}


MAX_PROBLEMS = 5


def _frames(record: Record) -> list[AdvFrame]:
    if record.kind == "phdr":
        one = phdr_frame(record.data)
    elif record.kind == "nordic":
        one = nordic_frame(record.data)
    elif record.kind == "hci":
        return hci_frames(record.data)
    else:
        return []
    return [one] if one is not None else []


def import_capture(path: Path, *, partial_ok: bool = False) -> ImportedCapture:
    """Read a capture (CaptureError for a file that is not one) and find its Signal adverts.
    Each distinct AdvData is decoded once and each advertiser's bytes are kept once (an event's
    repeats are byte-identical), so a capture of millions of PDUs stays small in memory."""
    capture = CaptureFile(path, partial_ok=partial_ok)
    out = ImportedCapture(Path(path), capture.format)
    decoded: dict[bytes, SignalFrame | None] = {}
    keys: dict[tuple[str, bytes], tuple[str, bytes]] = {}
    pdus: list[tuple[float, tuple[str, bytes], int | None, int | None]] = []  # (t, (address, AdvData), channel, RSSI)
    for record in capture.records():
        out.records += 1
        out.first_s = record.t_s if out.first_s is None else min(out.first_s, record.t_s)
        out.last_s = record.t_s if out.last_s is None else max(out.last_s, record.t_s)
        try:
            frames = _frames(record)
        except FrameError as exc:
            out.counts["bad CRC" if exc.kind == "bad-crc" else "malformed"] += 1
            _problem(out, record, str(exc))
            continue
        if not frames:
            out.counts["other traffic"] += 1
        for frame in frames:
            if frame.adv_data not in decoded:
                try:
                    payload = find_signal_payload(frame.adv_data)
                    decoded[frame.adv_data] = decode_payload(payload) if payload is not None else None
                except SignalDecodeError as exc:
                    out.counts["malformed Signal"] += 1
                    _problem(out, record, str(exc))
                    continue
            if decoded[frame.adv_data] is None:
                out.counts["other advertisers"] += 1
                continue
            out.counts["signal PDUs"] += 1
            key = keys.setdefault((frame.address, frame.adv_data), (frame.address, frame.adv_data))
            pdus.append((record.t_s, key, frame.channel, frame.rssi))
    out.format = capture.format
    pdus.sort(key=lambda p: p[0])  # stable: PDUs at one instant keep their file order
    out.adverts = _events(pdus, decoded)
    return out


def _problem(out: ImportedCapture, record: Record, why: str) -> None:
    if len(out.problems) < MAX_PROBLEMS:
        out.problems.append(f"record {record.index}: {why}")


def _events(pdus: list[tuple[float, tuple[str, bytes], int | None, int | None]], decoded: dict[bytes, SignalFrame | None]) -> list[Advert]:
    """Merge the PDUs of each advertising event (same advertiser, same bytes, within EVENT_SPAN_S)."""
    adverts: list[Advert] = []
    open_events: dict[tuple[str, bytes], int] = {}  # (address, AdvData) -> index of its latest advert
    for t, key, channel, rssi in pdus:
        i = open_events.get(key)
        if i is not None and t - adverts[i].t_s <= EVENT_SPAN_S:
            a = adverts[i]
            channels = a.channels + ((channel,) if channel is not None and channel not in a.channels else ())
            adverts[i] = Advert(a.t_s, a.address, a.adv_data, a.frame, max((r for r in (a.rssi, rssi) if r is not None), default=None), channels)
            continue
        signal = decoded[key[1]]
        assert signal is not None  # only Signal adverts are kept
        open_events[key] = len(adverts)
        adverts.append(Advert(t, key[0], key[1], signal, rssi, (channel,) if channel is not None else ()))
    return adverts
