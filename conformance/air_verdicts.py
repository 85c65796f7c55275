"""ACT-001 and ACT-005 judged from the air alone: the Signal adverts of a capture (a sniffer's,
a host's btsnoop, a run's air.pcap) or those the harness observer heard during a replay.
Limits come from the catalogue; the rules (docs/air.md):

* A source event is the adverts of one sender with one activating event and event id (a pause
  of more than EVENT_GAP_MS starts another); its time is its first advert.
* A camera's recordings are its recording-started announcements (fixtures.roles.announcements,
  the rule every target uses); the first one at or after an event's first advert and before
  the next event's is the camera's start for that event. ACT-001: its latency is within the
  limit. A camera that announced nothing for the event did not start (a failure when it stood
  within range; where no distance is known, informative), unless it may have been recording
  already (it announced a recording earlier and advertised no stop since; then a start later
  than the limit is judged on neither requirement: it may have followed an unseen stop).
* ACT-005: every further start while the event was on the air (to its last advert + the
  latency limit) is a restart from its repeats; a recording-stopped advert within STOP_WINDOW_S
  of an event's first advert from a camera that was recording is a stop by Signal. A capture
  shows only what cameras advertise: a camera that does not advertise its stops is judged on
  restarts alone."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from conformance.catalogue import requirement
from conformance.limits import Verdict
from fixtures.roles import announcements
from protocols.signal import Event, SignalFrame, SourceClass

EVENT_GAP_MS = 5000.0  # a sender's adverts of one event id this far apart are two events
STOP_WINDOW_S = 2.0  # a stop this soon after an event's first advert is the event's (latency limit + a GOP)

Sighting = tuple[float, SignalFrame]  # (UTC ms, frame)
DistanceFn = Callable[[str, float], "float | None"]  # (camera serial, UTC ms) -> feet from the source


@dataclass(frozen=True)
class SourceEvent:
    number: int
    serial: str
    event: str
    event_id: int
    first_ms: float
    last_ms: float
    adverts: int


@dataclass(frozen=True)
class CameraResult:
    """One camera's answer to one source event."""

    event: int
    serial: str
    distance_ft: float | None
    start_ms: float | None
    latency_s: float | None
    uncertainty_s: float | None  # the camera's advert interval: a missed first advert costs up to this
    act001: str
    why: str
    restarts: int = 0
    stops: int = 0
    act005: str = Verdict.NOT_TESTED.value


@dataclass
class AirVerdicts:
    origin_ms: float  # times print relative to this (the capture's first record, the scene's start)
    limit_s: float
    range_ft: float
    events: list[SourceEvent] = field(default_factory=list)
    cameras: list[str] = field(default_factory=list)
    results: list[CameraResult] = field(default_factory=list)
    requirements: dict[str, dict[str, str]] = field(default_factory=dict)  # id -> {verdict, why}
    stops_visible: bool = False  # some camera advertised a stop

    def to_json(self) -> dict:
        return {"limits": {"ACT-001_latency_s": self.limit_s, "ACT-001_range_ft": self.range_ft},
                "origin_utc_ms": self.origin_ms, "events": [asdict(e) for e in self.events], "cameras": self.cameras,
                "results": [asdict(r) for r in self.results], "requirements": self.requirements, "stops_visible": self.stops_visible}


def source_events(sightings: list[Sighting]) -> list[SourceEvent]:
    groups: list[list[float | str | int]] = []  # [serial, event, event id, first, last, adverts]
    latest: dict[tuple[str, str, int], int] = {}
    for t, f in sorted(sightings, key=lambda s: s[0]):
        if not f.activates_cameras or f.event is None:
            continue
        key = (f.serial, f.event.name, f.event_id)
        i = latest.get(key)
        if i is not None and t - float(groups[i][4]) <= EVENT_GAP_MS:
            groups[i][4], groups[i][5] = t, int(groups[i][5]) + 1
            continue
        latest[key] = len(groups)
        groups.append([f.serial, f.event.name, f.event_id, t, t, 1])
    groups.sort(key=lambda g: float(g[3]))
    return [SourceEvent(n, str(g[0]), str(g[1]), int(g[2]), float(g[3]), float(g[4]), int(g[5])) for n, g in enumerate(groups, 1)]


def _interval_s(sightings: list[Sighting]) -> float | None:
    """Median spacing of a camera's consecutive recording-started adverts of one recording."""
    times = sorted((t, f.event_id) for t, f in sightings if f.event is Event.CAMERA_RECORDING_STARTED)
    gaps = [b - a for (a, ea), (b, eb) in zip(times, times[1:]) if ea == eb and 0 < b - a < 2000]
    return round(statistics.median(gaps) / 1000, 3) if gaps else None


def judge(sightings: list[Sighting], origin_ms: float, distance: DistanceFn | None = None) -> AirVerdicts:
    req = requirement("ACT-001")
    limit = req.main()
    out = AirVerdicts(origin_ms, limit.value, req.parameter("range_ft"))
    out.events = source_events(sightings)
    by_camera: dict[str, list[Sighting]] = {}
    for t, f in sightings:
        if f.source_class == SourceClass.CAMERA:
            by_camera.setdefault(f.serial, []).append((t, f))
    out.cameras = sorted(by_camera)
    ms = [(int(round(t)), f) for t, f in sightings]
    for serial in out.cameras:
        own = [(t, f) for t, f in ms if f.serial == serial]
        starts = announcements(own)
        stops = announcements(own, Event.CAMERA_RECORDING_STOPPED)
        out.stops_visible |= bool(stops)
        interval = _interval_s(by_camera[serial])
        for k, ev in enumerate(out.events):
            until = out.events[k + 1].first_ms if k + 1 < len(out.events) else float("inf")
            d = distance(serial, ev.first_ms) if distance is not None else None
            out.results.append(_result(ev, serial, d, starts, stops, until, interval, out))
    out.requirements = {"ACT-001": _overall_act001(out), "ACT-005": _overall_act005(out)}
    return out


def _result(ev: SourceEvent, serial: str, d: float | None, starts: list[int], stops: list[int], until: float,
            interval: float | None, out: AirVerdicts) -> CameraResult:
    limit = requirement("ACT-001").main()
    mine = [t for t in starts if ev.first_ms <= t < until]
    in_range = None if d is None else d <= out.range_ft
    where = f" at {d:g} ft" if d is not None else ""
    stopped = [t for t in stops if ev.first_ms <= t <= ev.first_ms + STOP_WINDOW_S * 1000]
    earlier = [t for t in starts if t < ev.first_ms]
    recording = bool(earlier) and not any(earlier[-1] < t < ev.first_ms for t in stops)
    n_stops = len(stopped) if recording else 0
    if not mine:
        if recording:
            why, verdict = f"already recording (announced at {_rel(earlier[-1], out)}, no stop advertised): no new start expected", Verdict.INFO
        else:
            why = f"did not start{where}" + ("" if d is not None else " (distance unknown: informative)")
            verdict = Verdict.FAIL if in_range else Verdict.INFO
        act005 = Verdict.FAIL if n_stops else Verdict.NOT_TESTED
        return CameraResult(ev.number, serial, d, None, None, interval, verdict.value, why, 0, n_stops, act005.value)
    start = mine[0]
    latency = round((start - ev.first_ms) / 1000, 3)
    verdict = limit.judge(latency, interval or 0.0)
    why = f"started {latency:.3f} s after the event's first advert{where}"
    if in_range is False:
        verdict, why = Verdict.INFO, why + " (beyond range: informative)"
    restarts = sum(1 for t in mine[1:] if t <= ev.last_ms + limit.value * 1000)
    act005 = Verdict.FAIL if restarts or n_stops else Verdict.PASS
    if recording and verdict == Verdict.FAIL:  # it may have been recording when the event came: a start after an unseen stop
        verdict, act005 = Verdict.INFO, Verdict.FAIL if n_stops else Verdict.NOT_TESTED
        why += f"; not judged: it may still have been recording (announced at {_rel(earlier[-1], out)}, no stop advertised)"
    return CameraResult(ev.number, serial, d, start, latency, interval, verdict.value, why, restarts, n_stops, act005.value)


def _overall_act001(out: AirVerdicts) -> dict[str, str]:
    if not out.events:
        return {"verdict": Verdict.ERROR.value, "why": "no activating Signal event (CEW, holster, vehicle) in the adverts"}
    failed = [r for r in out.results if r.act001 == Verdict.FAIL]
    if failed:
        worst = max(failed, key=lambda r: r.latency_s if r.latency_s is not None else float("inf"))
        return {"verdict": Verdict.FAIL.value, "why": f"event {worst.event}: {worst.serial} {worst.why}"}
    judged = [r for r in out.results if r.act001 in (Verdict.PASS, Verdict.MARGINAL)]
    if not judged:
        return {"verdict": Verdict.ERROR.value, "why": "no camera announced a recording after an event" if out.cameras else "no camera adverts"}
    closest = max(judged, key=lambda r: r.latency_s or 0.0)
    verdict = Verdict.MARGINAL if any(r.act001 == Verdict.MARGINAL for r in judged) else Verdict.PASS
    return {"verdict": verdict.value, "why": f"{len(judged)} start(s) within {out.limit_s:g} s; slowest: event {closest.event}: {closest.serial} {closest.why}"}


def _overall_act005(out: AirVerdicts) -> dict[str, str]:
    failed = [r for r in out.results if r.act005 == Verdict.FAIL]
    stops = "" if out.stops_visible else "; stops not visible (no camera advertised one)"
    if failed:
        r = failed[0]
        what = f"restarted {r.restarts} time(s) by the repeats" if r.restarts else f"stopped {r.stops} time(s)"
        return {"verdict": Verdict.FAIL.value, "why": f"event {r.event}: {r.serial} {what} of {_event_name(out, r.event)}{stops}"}
    judged = [r for r in out.results if r.act005 == Verdict.PASS]
    if not judged:
        return {"verdict": Verdict.ERROR.value, "why": "no camera started: nothing to judge"}
    return {"verdict": Verdict.PASS.value, "why": f"{len(judged)} start(s), none restarted by an event's repeats{stops}"}


def _event_name(out: AirVerdicts, number: int) -> str:
    ev = out.events[number - 1]
    return f"{ev.serial} {ev.event}"


def _rel(t_ms: float, out: AirVerdicts) -> str:
    return f"{(t_ms - out.origin_ms) / 1000:+.3f} s"


def render(v: AirVerdicts) -> list[str]:
    """The table: one block per source event, one line per camera; then the verdicts."""
    lines: list[str] = []
    if not v.events:
        lines.append("  no activating Signal event in the adverts")
    for ev in v.events:
        lines.append(f"  event {ev.number}  {_rel(ev.first_ms, v)}  {ev.serial} {ev.event} (event id {ev.event_id}), "
                     f"{ev.adverts} advert(s) until {_rel(ev.last_ms, v)}")
        lines.append(f"    {'camera':<11} {'distance':>8}  {'started':>10}  {'latency':>8}  {'ACT-001':<9} {'restarts':>8}  {'ACT-005':<10}")
        for r in (r for r in v.results if r.event == ev.number):
            dist = f"{r.distance_ft:g} ft" if r.distance_ft is not None else "-"
            start = _rel(r.start_ms, v) if r.start_ms is not None else "-"
            lat = f"{r.latency_s:.3f} s" if r.latency_s is not None else "-"
            lines.append(f"    {r.serial:<11} {dist:>8}  {start:>10}  {lat:>8}  {r.act001:<9} {r.restarts:>8}  {r.act005:<10}"
                         + ("" if r.latency_s is not None and r.act001 != Verdict.INFO else f"  {r.why}"))
    for rid, res in v.requirements.items():
        lines.append(f"  {rid}  {res['verdict'].upper():<9} {res['why']}")
    return [line.rstrip() for line in lines]
