"""A stand-in for a physical bench, in real time: body cameras (emulators) on a simulated air
whose radios the harness reaches only over HCI transports (tcp-server controllers, exactly
like USB dongles), and whose evidence the harness gets only as a camera would give it (an
exported folder, or a docked FAT volume). Used by the physical-path tests and demos.

    python -m emulators.bench_rig --camera X6RIG00A1@10,0 --camera X6RIG00E1@45,0 \\
        --ports-file ports.json --evidence DIR --auto-stop 5 --seconds 60

writes {"stimulus": "tcp-client:127.0.0.1:P", "observer": "tcp-client:127.0.0.1:Q"} to
ports.json when the radios are up; the harness's CEW uses the stimulus radio (at the origin),
its observer the observer radio. Each recording stops --auto-stop seconds after it started
(the officer pressing stop); at the end the evidence is written under DIR/<serial>/. With
--capture FILE the air is also written as an independent sniffer at the stimulus radio would
capture it (link type 256, real UTC), for bench files whose observer is a capture."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import sys
import time
from pathlib import Path

from emulators.air import Air, radio
from emulators.bwc import BwcEmulator
from emulators.camera import CameraCore, CameraIdentity, Recording
from emulators.clock import DeviceClock, SceneClock
from emulators.profiles import get_profile
from emulators.incar_net import IcpEndpoint
from emulators.transports import serve_air_controller
from protocols.incar import DEFAULT_PORT
from instruments.pcap import AirCapture


def _camera_arg(text: str) -> tuple[str, tuple[float, float]]:
    serial, _, pos = text.partition("@")
    x, _, y = pos.partition(",")
    try:
        return serial, (float(x or 0), float(y or 0))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--camera {text!r}: expected SERIAL@X,Y (feet)") from None


async def run(args) -> int:
    profile = get_profile(args.profile)
    air = Air(seed=args.seed)
    loop = asyncio.get_running_loop()
    clock = SceneClock(int(time.time() * 1000) - int(loop.time() * 1000))  # real UTC
    capture = AirCapture(Path(args.capture), epoch_utc_ms=clock.epoch_utc_ms) if args.capture else None
    if capture is not None:
        air.add_observer(capture)
    work = Path(args.evidence).with_suffix(".rig")
    cams: list[BwcEmulator] = []
    for serial, pos in args.camera:
        core = CameraCore(CameraIdentity(serial, profile.bwc.model, profile.bwc.firmware, "bwc"), DeviceClock(clock),
                          Recording.of_bwc(profile.bwc), work)
        cam = BwcEmulator(serial, radio(air, f"BWC-{serial}", pos, kind="bwc"), profile.bwc, core)
        if args.dvr and serial == args.camera[0][0]:  # the first camera is paired with the cruiser
            cam.vehicle_id = args.vehicle
            cam.network = [(args.dvr, DEFAULT_PORT)]
        cams.append(cam)
    stim = await serve_air_controller(air, "STIMULUS", (0.0, 0.0), kind="cew")
    obs = await serve_air_controller(air, "OBSERVER", (0.0, 0.0), kind="observer", rx_gain_db=25.0)
    for cam in cams:
        await cam.start()
        if args.dvr and cam.vehicle_id and cam._icp is not None:  # announce from the in-car network's address
            cam._icp.close()
            cam._icp = await IcpEndpoint.open(cam.serial, cam._on_icp, host=args.icp_bind, port=DEFAULT_PORT)
    Path(args.ports_file).write_text(json.dumps({"stimulus": stim.client_spec, "observer": obs.client_spec}))
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    deadline = loop.time() + args.seconds
    while not stop.is_set() and loop.time() < deadline:
        for cam in cams:
            clip = cam.core.active_clip
            if clip is not None and loop.time() - clip.trigger.loop_t >= args.auto_stop:
                cam.press_stop()
        await asyncio.sleep(0.2)
    for cam in cams:
        await cam.stop()
    if capture is not None:
        capture.close()
    out = Path(args.evidence)
    out.mkdir(parents=True, exist_ok=True)
    for cam in cams:
        src = work / cam.serial
        if src.is_dir():
            shutil.copytree(src, out / cam.serial, dirs_exist_ok=True)
    shutil.rmtree(work, ignore_errors=True)
    await stim.close()
    await obs.close()
    docks = []
    if args.dock:  # the officers put the cameras that recorded in their docks
        from emulators.dock import DockedCamera

        try:
            for folder in sorted(p for p in out.iterdir() if p.is_dir()):
                dock = DockedCamera(folder, out / f"dock-{folder.name}.img", folder.name)
                dock.attach()
                docks.append(dock)
            print(json.dumps({"clips": sum(len(c.core.clips) for c in cams), "docks": [d.device for d in docks]}), flush=True)
            stop.clear()
            await stop.wait()  # docked until the harness is done (SIGTERM)
        finally:
            for dock in docks:
                dock.detach()
    else:
        print(json.dumps({"clips": sum(len(c.core.clips) for c in cams)}), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m emulators.bench_rig")
    ap.add_argument("--camera", type=_camera_arg, action="append", required=True, help="SERIAL@X,Y in feet from the stimulus radio")
    ap.add_argument("--ports-file", required=True)
    ap.add_argument("--evidence", required=True, help="where the cameras' evidence is exported at the end")
    ap.add_argument("--profile", default="reference")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--auto-stop", type=float, default=5.0, help="seconds after a recording starts that the officer stops it")
    ap.add_argument("--seconds", type=float, default=60.0, help="run this long at most (SIGTERM ends it sooner)")
    ap.add_argument("--dvr", help="ICP address of the cruiser DVR paired with the first camera")
    ap.add_argument("--vehicle", default="CAR-A", help="that cruiser's vehicle id")
    ap.add_argument("--icp-bind", default="127.0.0.1", help="local address for the camera's in-car link")
    ap.add_argument("--capture", help="also write the air to this pcap, as an independent sniffer at the stimulus radio")
    ap.add_argument("--dock", action="store_true", help="at the end, dock each camera that recorded (FAT on a loop device) until SIGTERM")
    args = ap.parse_args(argv)
    try:
        return asyncio.run(run(args))
    except (OSError, ValueError) as exc:
        print(f"bench_rig: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
