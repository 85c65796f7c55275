"""``bwc scene FILE``: play a scene file on the emulators and show what happened, as a
timeline in the terminal and a map + timeline page (scene.html) in the output directory."""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import time
from datetime import datetime, timezone
from collections.abc import Callable
from pathlib import Path

import looptime

from bwc.cli import EXIT_FAIL, EXIT_OK, UsageError
from conformance.catalogue import load_catalogue
from conformance.scene_check import Limits, Row, check_scene, overall
from emulators.air import Point, Transmission, radio
from emulators.profiles import ProfileError, get_profile
from emulators.scene import SceneError, SceneSpec, load_scene
from emulators.scene_runner import VirtualScene
from emulators.video import VideoFormat
from fixtures.virtual import NOOP_CYCLES
from instruments.ble_observer import BleObserver
from instruments.pcap import AirCapture, icp_capture
from instruments.signal_log import SignalLog

SMALL = VideoFormat(320, 180, 5)


def cmd_scene(args: argparse.Namespace) -> int:
    try:
        spec = load_scene(Path(args.file))
    except SceneError as exc:
        raise UsageError(str(exc)) from None
    try:
        profile = get_profile(args.profile or spec.profile or "reference")
    except ProfileError as exc:
        raise UsageError(f"--profile: {exc}") from None
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = Path(args.out) if args.out else Path("runs") / f"scene-{spec.name}-{stamp}"
    prepare_out(out)
    print(f"bwc scene: {spec.name} ({spec.description or 'no description'}), profile {profile.name}, {spec.end_s:g} s simulated")
    wall = time.perf_counter()
    log = SignalLog()
    vs, _ = play_scene(spec, profile, out, args.seed, None if args.full_video else SMALL, observers=(log,))
    events, positions = scene_events(spec, vs)
    if len(events) <= MAX_PRINTED or not args.check:
        for t, who, what in events:
            print(f"  {t:7.2f} s  {who:<14} {what}")
    rows = check_scene(spec, vs, log, Limits.of(load_catalogue())) if args.check else None
    verdict = overall(rows) if rows is not None else None
    if rows is not None:
        print_checks(rows, verdict)
        if spec.expect is not None:
            print(f"  expected by the scene file: {expectation(spec, rows)}")
    page = write_page(out, spec, events, positions, rows, vs)
    (out / "scene.json").write_text(json.dumps(scene_summary(spec, vs, rows, verdict), indent=1) + "\n")
    air = air_counts(vs)
    print(f"  air: {air['pdus']:,} PDUs, {air['receptions']:,} receptions; {air['overlaps']:,} PDU pairs overlapped on a channel "
          f"(air-collisions.csv): {air['collided']:,} receptions lost, {air['captured']:,} captured")
    print(f"  {len(events)} events in {time.perf_counter() - wall:.1f} s wall; map and timeline: {page}")
    return EXIT_FAIL if verdict == "fail" else EXIT_OK


def expectation(spec: SceneSpec, rows: list[Row]) -> str:
    """Whether the check gave the outcome the scene file's ``expect:`` promises."""
    assert spec.expect is not None
    want, failing = spec.expect
    got = sorted({r.device.split()[0] for r in rows if r.verdict == "fail"})
    ok = overall(rows) == want and got == sorted(failing)
    return f"{want}{' on ' + ', '.join(failing) if failing else ''} -> {'matched' if ok else 'NOT matched (failing: ' + (', '.join(got) or 'none') + ')'}"


MAX_PRINTED = 200  # with --check, a longer timeline goes to timeline.json only


def print_checks(rows: list[Row], verdict: str | None) -> None:
    judged = [r for r in rows if r.verdict != "info"]
    failed = [r for r in judged if r.verdict == "fail"]
    print(f"\n  check: {len(judged)} judged, {len(failed)} failed, {len(rows) - len(judged)} informative -> {str(verdict).upper()}")
    for r in failed + [r for r in judged if r.verdict != "fail"][: max(0, 40 - len(failed))]:
        print(f"  {r.verdict:<8} {r.requirement:<8} {r.rule:<9} {r.device:<16} {r.profile:<16} {r.detail}")
    if len(judged) > 40 + len(failed):
        print(f"  ... {len(judged) - 40 - len(failed)} more passing rows in scene.json")


def scene_summary(spec: SceneSpec, vs: VirtualScene, rows: list[Row] | None, verdict: str | None) -> dict:
    devices = [{"device": f"BWC-{o.name}", "serial": o.bwc_serial, "profile": vs.profile_of(o.profile).name,
                "vendor": vs.profile_of(o.profile).bwc.vendor} for o in spec.officers if o.bwc_serial]
    devices += [{"device": f"DVR-{v.vehicle_id}", "serial": v.dvr_serial, "profile": vs.profile_of(v.profile).name,
                 "vendor": vs.profile_of(v.profile).dvr.vendor} for v in spec.vehicles]
    out: dict = {"schema": "bwc-scene-result/1", "scene": spec.name, "officers": len(spec.officers), "vehicles": len(spec.vehicles),
                 "simulated_s": spec.end_s, "devices": devices, "air": air_counts(vs)}
    if rows is not None:
        out["check"] = {"verdict": verdict, "rows": [r.plain() for r in rows]}
        if spec.expect is not None:
            out["check"]["expected"] = expectation(spec, rows)
    return out


def air_counts(vs: VirtualScene) -> dict[str, int]:
    st = vs.air.stats
    return {"pdus": st.transmitted, "receptions": st.delivered, "overlaps": st.overlaps, "collided": st.collided, "captured": st.captured}


def prepare_out(out: Path) -> Path:
    """The output directory: refused when it holds anything (results are never overwritten)."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"--out {out}: {'directory is not empty' if out.is_dir() else 'exists and is not a directory'}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot create the directory ({exc.strerror})") from None
    return out


def play_scene(spec: SceneSpec, profile, out: Path, seed: int, video, *, at: Point = (0.0, 0.0),
               extra: Callable[[VirtualScene], None] | None = None,
               observers: tuple[Callable[[Transmission], None], ...] = ()) -> tuple[VirtualScene, BleObserver]:
    """Play the scene with the harness's observer and the air capture at ``at`` (the source's
    place); ``extra(scene)`` runs once every device is up, before the timeline (a replay source
    joins the air there)."""
    loop = looptime.new_event_loop(start=0.0, noop_cycles=NOOP_CYCLES)  # as the virtual target plays scenes

    async def main():
        vs = VirtualScene(spec, profile, out, seed, video_override=video)
        capture = AirCapture(out / "air.pcap", epoch_utc_ms=spec.epoch_utc_ms, position=at, model=vs.model)
        vs.air.add_observer(capture)
        for watch in observers:
            vs.air.add_observer(watch)
        observer = BleObserver(radio(vs.air, "OBSERVER", at, kind="observer", rx_gain_db=25.0))
        with icp_capture(out / "icp.pcap", epoch_utc_ms=spec.epoch_utc_ms):
            try:
                await vs.build()
                await observer.start()
                if extra is not None:
                    extra(vs)
                await vs.play()
                await asyncio.sleep(2.0)
            finally:
                await vs.shutdown()
                capture.close()
        return vs, observer

    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()


def write_page(out: Path, spec: SceneSpec, events: list[tuple[float, str, str]], positions: dict,
               rows: list[Row] | None = None, vs: VirtualScene | None = None) -> Path:
    page = out / "scene.html"
    vendors = {}
    if vs is not None:
        vendors = {f"BWC-{o.name}": vs.profile_of(o.profile).name for o in spec.officers if o.bwc_serial}
        vendors.update({f"DVR-{v.vehicle_id}": vs.profile_of(v.profile).name for v in spec.vehicles})
    page.write_text(_page(spec, events, positions, rows, vendors))
    (out / "timeline.json").write_text(json.dumps([{"t_s": t, "device": w, "event": e} for t, w, e in events], indent=1) + "\n")
    return page


def scene_events(spec: SceneSpec, vs: VirtualScene) -> tuple[list[tuple[float, str, str]], dict]:
    """What happened, in time order (steps, camera states, clips), and where everyone was."""
    events: list[tuple[float, str, str]] = []
    for r in vs.results:
        target = r.step.target or "scene"
        args = " ".join(f"{k}={v}" for k, v in r.step.args.items())
        events.append((r.loop_t, target, f"{r.step.action} {args}".strip() + ("" if r.outcome == "done" else f" ({r.outcome})")))
    for name, bwc in vs.bwcs.items():
        for t, state in bwc.core.state_log:
            events.append((t, f"BWC-{name}", state))
        for c in bwc.core.clips:
            events.append((c.trigger.loop_t, f"BWC-{name}", f"clip {c.path.name}: {c.trigger.reason}" + (f" from {c.trigger.sender_serial}" if c.trigger.sender_serial else "")))
    for vid, dvr in vs.dvrs.items():
        for cam in dvr.cameras:
            for c in cam.clips:
                events.append((c.trigger.loop_t, f"DVR-{vid}", f"{cam.identity.role} clip {c.path.name}: {c.trigger.reason}"))
    n_steps = len(vs.results)
    keyed = {(round(t, 3), i >= n_steps, w, e) for i, (t, w, e) in enumerate(events)}  # stimuli first at equal times
    events = [(t, w, e) for t, _, w, e in sorted(keyed)]
    paths = {f"BWC-{o.name}" if o.bwc_serial else o.name: [o.path(t) for t in _times(spec)] for o in spec.officers}
    paths.update({f"DVR-{v.vehicle_id}": [v.position] for v in spec.vehicles})
    recorded = {w for _, w, e in events if e.startswith("clip") or " clip " in e}
    activated_at = {}
    for o in spec.officers:
        worn = vs.bwcs.get(o.name)
        if worn is not None and worn.core.clips:
            activated_at[f"BWC-{o.name}"] = o.path(worn.core.clips[0].trigger.loop_t)
    return events, {"paths": paths, "recorded": sorted(recorded), "activated_at": activated_at}


def _times(spec: SceneSpec) -> list[float]:
    n = 40
    return [spec.end_s * i / n for i in range(n + 1)]


def _check_table(rows: list[Row]) -> str:
    color = {"fail": "#cf222e", "pass": "#1a7f37", "marginal": "#9a6700", "info": "#6e7781"}
    body = "".join(f"<tr><td style='color:{color.get(str(r.verdict), '#000')}'>{html.escape(str(r.verdict))}</td><td>{r.requirement}</td>"
                   f"<td>{html.escape(r.rule)}</td><td>{html.escape(r.device)}</td><td>{html.escape(r.profile)}</td><td>{html.escape(r.detail)}</td></tr>"
                   for r in sorted(rows, key=lambda r: (r.verdict != "fail", r.verdict == "info")))
    failed = sum(r.verdict == "fail" for r in rows)
    return (f"<h2>Check: {'FAIL' if failed else 'PASS'}</h2><p>{len(rows)} rows, {failed} failed (docs/scenes.md, \"Checking a scene\").</p>"
            f"<table><tr><th>verdict</th><th>req.</th><th>rule</th><th>device</th><th>profile</th><th>what was measured</th></tr>{body}</table>")


def _page(spec: SceneSpec, events, positions, rows: list[Row] | None = None, vendors: dict[str, str] | None = None) -> str:
    pts = [p for path in positions["paths"].values() for p in path]
    xs, ys = [p[0] for p in pts] + [-35, 35], [p[1] for p in pts] + [-35, 35]
    x0, x1, y0, y1 = min(xs) - 15, max(xs) + 15, min(ys) - 15, max(ys) + 15
    size = 520
    k = size / max(x1 - x0, y1 - y0)

    def sx(x):
        return (x - x0) * k

    def sy(y):
        return size - (y - y0) * k

    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}"><rect width="{size}" height="{size}" fill="#f6f8fa"/>']
    sources = [o.path(0.0) for o in spec.officers if o.cew_serial or o.holster_serial] + positions.get("sources", [])
    for cx, cy in sources:
        svg.append(f'<circle cx="{sx(cx):.1f}" cy="{sy(cy):.1f}" r="{30 * k:.1f}" fill="#0969da" fill-opacity="0.07" stroke="#0969da" stroke-dasharray="5 4"/>')
    placed: list[tuple[float, float]] = []
    failed_devices = {r.device.split()[0] for r in rows or [] if r.verdict == "fail"}
    for name, path in positions["paths"].items():
        color = "#1a7f37" if name in positions["recorded"] else "#6e7781"
        if len(path) > 1 and len(set(path)) > 1:
            d = " ".join(f"{'M' if i == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}" for i, (x, y) in enumerate(path))
            svg.append(f'<path d="{d}" fill="none" stroke="{color}" stroke-width="1.5" stroke-dasharray="3 3"/>')
        x, y = path[-1]
        shape = f'<rect x="{sx(x) - 7:.1f}" y="{sy(y) - 5:.1f}" width="14" height="10" fill="{color}"/>' if name.startswith("DVR") else f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="6" fill="{color}"/>'
        lx, ly = sx(x) + 9, sy(y) + 4
        while any(abs(lx - px) < 70 and abs(ly - py) < 14 for px, py in placed):  # keep labels apart
            ly += 14
        placed.append((lx, ly))
        label = f"{name} ({vendors[name]})" if vendors and len(set(vendors.values())) > 1 and name in vendors else name
        if name in failed_devices:
            shape += f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="10" fill="none" stroke="#cf222e" stroke-width="2"/>'
        svg.append(shape + f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="12">{html.escape(label)}</text>')
    for name, (x, y) in positions.get("activated_at", {}).items():  # where a camera was when it started recording
        svg.append(f'<path d="M{sx(x) - 5:.1f},{sy(y) - 5:.1f} l10,10 m0,-10 l-10,10" stroke="#cf222e" stroke-width="2"/>')
    svg.append("</svg>")
    lines = "".join(f"<tr><td>{t:.2f}</td><td>{html.escape(w)}</td><td>{html.escape(e)}</td></tr>" for t, w, e in events)
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>scene {html.escape(spec.name)}</title>"
            "<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}td,th{border-bottom:1px solid #d0d7de;padding:.2rem .6rem;text-align:left}"
            "table{border-collapse:collapse;font-size:.9rem}</style></head><body>"
            f"<h1>Scene {html.escape(spec.name)}</h1><p>{html.escape(spec.description)}</p>"
            "<p>Map at the end of the scene: dashed circles are 30 ft around Signal sources, dashed lines the paths walked; "
            "green devices recorded; a red cross marks where each camera was when it started recording; a red ring, a device that failed the check.</p>"
            + "".join(svg) + (_check_table(rows) if rows is not None else "") +
            f"<h2>Timeline</h2><table><tr><th>t (s)</th><th>device</th><th>event</th></tr>{lines}</table></body></html>")
