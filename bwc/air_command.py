"""``bwc air import CAPTURE`` measures ACT-001 and ACT-005 on a real capture (an nRF Sniffer,
Sniffle or Ubertooth pcap/pcapng, a btsnoop HCI log, a run's air.pcap); ``bwc air replay
CAPTURE`` plays its Signal adverts on the emulators' air against a camera profile and compares
the verdicts (docs/air.md). Exit codes: 0 every requirement judged passed, 1 one failed or
could not be measured, 2 bad input (one line naming the file and the problem)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import time
from datetime import datetime, timezone
from pathlib import Path

from bwc.cli import EXIT_FAIL, EXIT_OK, UsageError
from bwc.scene_command import SMALL, play_scene, prepare_out, scene_events, write_page
from conformance.air_verdicts import AirVerdicts, judge, render
from emulators.air import Point, distance_ft
from emulators.clock import iso_utc
from emulators.profiles import ProfileError, get_profile
from emulators.replay_source import TAIL_S, ReplayAdvert, ReplaySource, ring_scene
from emulators.scene import SceneError, SceneSpec, load_scene, validate_scene
from emulators.scene_runner import VirtualScene
from emulators.scene_schema import MAX_END_S, MAX_FT
from instruments.air_import import ImportedCapture, import_capture
from instruments.capture_file import CaptureError
from protocols.signal import SourceClass

READY_MARGIN_S = 1.0  # the first replayed advert comes this long after the cameras are READY
PASSING = ("pass", "marginal")


def _read(path: str) -> ImportedCapture:
    try:
        return import_capture(Path(path))
    except CaptureError as exc:
        raise UsageError(str(exc)) from None


def _field_verdicts(capture: ImportedCapture, origin_ms: float | None = None) -> AirVerdicts:
    first = origin_ms if origin_ms is not None else (capture.first_s or 0.0) * 1000
    return judge([(a.t_ms, a.frame) for a in capture.adverts], first)


def _capture_json(capture: ImportedCapture) -> dict:
    return {"path": str(capture.path), "format": capture.format, "records": capture.records,
            "first_utc_ms": capture.first_s * 1000 if capture.first_s is not None else None,
            "last_utc_ms": capture.last_s * 1000 if capture.last_s is not None else None,
            "signal_adverts": len(capture.adverts), "counts": capture.summary(), "problems": capture.problems, "heard": _heard(capture)}


def _header(capture: ImportedCapture) -> list[str]:
    span = (capture.last_s - capture.first_s) if capture.first_s is not None and capture.last_s is not None else 0.0
    first = iso_utc(capture.first_s * 1000) if capture.first_s is not None else "-"
    c = capture.summary()
    lines = [f"{capture.path}: {capture.format}, {capture.records:,} records over {span:.1f} s from {first}",
             f"  Signal adverts {len(capture.adverts):,} ({c['signal PDUs']:,} PDUs); ignored: other advertisers {c['other advertisers']:,}, "
             f"other traffic {c['other traffic']:,}, bad CRC {c['bad CRC']:,}, malformed {c['malformed']:,}, malformed Signal {c['malformed Signal']:,}"]
    lines += [f"  refused {p}" for p in capture.problems]
    heard = _heard(capture)
    lines += [f"  heard {serial}: {h['adverts']:,} adverts" + (f", RSSI up to {h['rssi_max']} dBm" if h["rssi_max"] is not None else "")
              for serial, h in heard.items()]
    return lines


def _heard(capture: ImportedCapture) -> dict[str, dict]:
    """How much of each Signal device the capture holds (a device heard little was far, or hidden)."""
    out: dict[str, dict] = {}
    for a in capture.adverts:
        h = out.setdefault(a.frame.serial, {"adverts": 0, "rssi_max": None})
        h["adverts"] += 1
        if a.rssi is not None and (h["rssi_max"] is None or a.rssi > h["rssi_max"]):
            h["rssi_max"] = a.rssi
    return dict(sorted(out.items()))


def _exit(v: AirVerdicts) -> int:
    return EXIT_OK if all(r["verdict"] in PASSING for r in v.requirements.values()) else EXIT_FAIL


def cmd_import(args: argparse.Namespace) -> int:
    capture = _read(args.capture)
    verdicts = _field_verdicts(capture)
    if args.json:
        print(json.dumps({"schema": "bwc-air-import/1", "capture": _capture_json(capture), **verdicts.to_json()}, indent=1))
    else:
        print("\n".join(_header(capture) + ["  times from the capture's first record"] + render(verdicts)))
    return _exit(verdicts)


def _point(text: str) -> Point:
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        raise UsageError(f"--at {text!r}: give X,Y in feet, e.g. 0,0") from None
    if not all(math.isfinite(v) and abs(v) <= MAX_FT for v in (x, y)):
        raise UsageError(f"--at {text!r}: each coordinate must be within {MAX_FT:g} ft of the origin")
    return (x, y)


def _replay_plan(capture: ImportedCapture, lead_s: float) -> tuple[list[ReplayAdvert], list[float], float]:
    """The captured adverts of Signal sources (never the captured cameras' own), on the scene
    clock; the scene times of their activating events' first adverts; the capture time at 0."""
    sources = [a for a in capture.adverts if a.frame.source_class != SourceClass.CAMERA]
    if not sources:
        raise UsageError(f"{capture.path}: no Signal adverts of a source (CEW, holster, vehicle) to replay")
    t0 = sources[0].t_s - lead_s
    adverts = [ReplayAdvert(round(a.t_s - t0, 6), a.address, a.adv_data) for a in sources]
    events = [ev.first_ms / 1000 - t0 for ev in _field_verdicts(capture).events]
    return adverts, events, t0


def _scene(args: argparse.Namespace, at: Point, events_s: list[float], end_s: float) -> SceneSpec:
    if end_s > MAX_END_S:
        raise UsageError(f"{args.capture}: its Signal adverts span {end_s - TAIL_S:.0f} s; a replay plays at most {MAX_END_S:g} s "
                         "(cut the capture: editcap -A START -B STOP)")
    try:
        if args.scene is None:
            spec = ring_scene(at, events_s, end_s)
        else:
            base = load_scene(Path(args.scene))
            spec = dataclasses.replace(base, end_s=max(base.end_s, end_s))
        validate_scene(spec)  # before anything is written
    except SceneError as exc:
        raise UsageError(str(exc)) from None
    return spec


def cmd_replay(args: argparse.Namespace) -> int:
    capture = _read(args.capture)
    at = _point(args.at)
    try:
        profile = get_profile(args.profile)
    except ProfileError as exc:
        raise UsageError(f"--profile: {exc}") from None
    if args.seed < 0:
        raise UsageError(f"--seed {args.seed}: must be >= 0")
    lead = profile.bwc.boot_s + READY_MARGIN_S
    adverts, events_s, t0 = _replay_plan(capture, lead)
    spec = _scene(args, at, events_s, adverts[-1].t_s + TAIL_S)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = prepare_out(Path(args.out) if args.out else Path("runs") / f"replay-{stamp}")
    print(f"bwc air replay: {len(adverts):,} adverts of {capture.path} from +{lead:g} s at {at[0]:g},{at[1]:g} ft; "
          f"profile {profile.name}, scene {spec.name}, {spec.end_s:.1f} s simulated")
    wall = time.perf_counter()
    sources: list[ReplaySource] = []

    def join(vs: VirtualScene) -> None:
        sources.append(ReplaySource(vs.air, adverts, at))
        sources[-1].start()

    vs, observer = play_scene(spec, profile, out, args.seed, SMALL, at=at, extra=join)
    events, positions = scene_events(spec, vs)
    positions["paths"]["REPLAY"], positions["sources"] = [at], [at]
    page = write_page(out, spec, events, positions)
    origin = spec.epoch_utc_ms
    where = {o.bwc_serial: o for o in spec.officers if o.bwc_serial}

    def distance(serial: str, t_ms: float) -> float | None:
        o = where.get(serial)
        return round(distance_ft(o.path((t_ms - origin) / 1000), at), 1) if o is not None else None

    replay = judge([(vs.clock.utc_ms(s.loop_t), s.frame) for s in observer.sightings], origin + lead * 1000, distance)
    field = _field_verdicts(capture, (t0 + lead) * 1000)
    comparison = compare(field, replay)
    doc = {"schema": "bwc-air-replay/1", "capture": _capture_json(capture), "profile": profile.name, "seed": args.seed,
           "scene": spec.name, "source_at_ft": list(at), "lead_s": lead, "adverts_replayed": sources[0].sent if sources else 0,
           "field": field.to_json(), "replay": replay.to_json(), "comparison": comparison}
    (out / "replay.json").write_text(json.dumps(doc, indent=1) + "\n")
    print("field capture (times from its first replayed advert):\n" + "\n".join(render(field)))
    print(f"replay on the emulators, profile {profile.name} (times from the first replayed advert):\n" + "\n".join(render(replay)))
    print("comparison (field -> replay):\n" + "\n".join(comparison_lines(comparison)))
    print(f"  {time.perf_counter() - wall:.1f} s wall; map and timeline: {page}; measurements: {out / 'replay.json'}")
    return _exit(replay)


def compare(field: AirVerdicts, replay: AirVerdicts) -> dict:
    """Verdicts side by side, and for each source event (matched by sender, event and event id)
    which cameras started and how fast, in the field and in the replay."""
    reqs = {rid: {"field": field.requirements[rid]["verdict"], "replay": replay.requirements[rid]["verdict"]} for rid in field.requirements}
    events = []
    for ev in field.events:
        twin = next((e for e in replay.events if (e.serial, e.event, e.event_id) == (ev.serial, ev.event, ev.event_id)), None)
        row = {"event": f"{ev.serial} {ev.event} (event id {ev.event_id})", "field": _started(field, ev.number),
               "replay": _started(replay, twin.number) if twin is not None else None}
        events.append(row)
    return {"requirements": reqs, "events": events}


def _started(v: AirVerdicts, number: int) -> dict:
    rows = [r for r in v.results if r.event == number]
    return {"cameras": len(rows), "started": {r.serial: r.latency_s for r in rows if r.latency_s is not None},
            "not_judged": [r.serial for r in rows if r.latency_s is not None and r.act001 == "info"]}


def _said(s: dict | None) -> str:
    if s is None:
        return "not heard"
    starts = ", ".join(f"{serial} {latency:.3f} s" + (" (not judged)" if serial in s["not_judged"] else "") for serial, latency in s["started"].items())
    return f"{len(s['started'])} of {s['cameras']} cameras started" + (f" ({starts})" if starts else "")


def comparison_lines(c: dict) -> list[str]:
    lines = [f"  {rid}  {v['field']} -> {v['replay']}" + ("" if v["field"] == v["replay"] else "  (differs)") for rid, v in c["requirements"].items()]
    return lines + [f"  {e['event']}: field {_said(e['field'])}; replay {_said(e['replay'])}" for e in c["events"]]
