"""One in-car host in real time, for network-namespace tests and bench use.

``python -m emulators.incar_node dvr --serial F3DVR00A1 --vehicle CAR-A --paired X6BWC00A1
--bind 169.254.10.2 --seconds 8 --out DIR`` runs a DVR (front and rear cameras) that follows
its paired camera and prints its clips, its ICP counters and its resident memory over time;
``... bwc --serial X6BWC00A1 --vehicle CAR-A --dvr 169.254.10.2 --bind 169.254.10.1 --after 3``
announces a recording to it over ICP (repeated until acknowledged, as the emulated camera
does) and prints whether and when the ACK came. ``--port`` / ``--dvr-port`` default to 47600."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from emulators.scene_schema import rear_serial
from emulators.camera import CameraCore, CameraIdentity, Recording
from emulators.clock import DeviceClock, SceneClock
from emulators.dvr import DvrEmulator
from emulators.incar_net import IcpEndpoint, announce
from emulators.profiles import get_profile
from protocols.incar import DEFAULT_PORT, FLAG_ACK_REQUESTED, IncarMessage, MessageType



async def run_dvr(args) -> int:
    p = get_profile(args.profile)
    clock = DeviceClock(SceneClock(int(time.time() * 1000) - int(asyncio.get_running_loop().time() * 1000)))  # real UTC
    out = Path(args.out)
    front = CameraCore(CameraIdentity(args.serial, p.dvr.model, p.dvr.firmware, "dvr-front"), clock,
                       replace(Recording.of_dvr(p.dvr, "front"), pre_event_s=args.pre_event), out)
    rear = CameraCore(CameraIdentity(rear_serial(args.serial), p.dvr.model, p.dvr.firmware, "dvr-rear"), clock,
                      replace(Recording.of_dvr(p.dvr, "rear"), pre_event_s=args.pre_event), out)
    dvr = DvrEmulator(args.serial, args.vehicle, args.paired, p.dvr, front, rear, clock)
    dvr.icp = await IcpEndpoint.open(args.serial, dvr._on_message, host=args.bind, port=args.port)
    for cam in dvr.cameras:
        cam.power_on()
    loop = asyncio.get_running_loop()
    start = loop.time()
    rss: list[tuple[float, int]] = []
    while loop.time() < start + args.seconds:  # the officer stops the DVR --auto-stop seconds after it started
        for cam in dvr.cameras:
            clip = cam.active_clip
            if clip is not None and args.auto_stop and loop.time() - clip.trigger.loop_t >= args.auto_stop:
                cam.request_stop("button")
        rss.append((round(loop.time() - start, 2), _rss_kb()))
        await asyncio.sleep(0.2)
    await dvr.stop()
    icp = dvr.icp.counters
    print(json.dumps({"clips": [str(c.path) for cam in dvr.cameras for c in cam.clips], "rss_kb": rss,
                      "icp": {"rx": icp.rx, "rx_bad": icp.rx_bad, "tx": icp.tx, "warnings": icp.warnings, "log_kept": len(dvr.icp.log)},
                      "ignored": dvr.ignored_count, "ignored_kept": len(dvr.ignored)}))
    return 0


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def run_bwc(args) -> int:
    loop = asyncio.get_running_loop()
    acked_at: list[float] = []

    def on_message(msg: IncarMessage, addr) -> None:
        if msg.type is MessageType.ACK and msg.sequence == 7 and not acked_at:
            acked_at.append(loop.time())

    ep = await IcpEndpoint.open(args.serial, on_message, host=args.bind, port=args.port)
    await asyncio.sleep(args.after)
    msg = IncarMessage(MessageType.RECORDING_STARTED, args.serial, args.vehicle, int(time.time() * 1000), 7, 1, 1, FLAG_ACK_REQUESTED)
    start = loop.time()
    acked = await announce(ep, msg, [(args.dvr, args.dvr_port)], lambda: bool(acked_at))
    ep.close()
    print(json.dumps({"acked": acked, "ack_after_s": round(acked_at[0] - start, 4) if acked_at else None, "sent": ep.counters.tx}))
    return 0 if acked else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m emulators.incar_node")
    sub = ap.add_subparsers(dest="role", required=True)
    d = sub.add_parser("dvr")
    d.add_argument("--serial", required=True)
    d.add_argument("--vehicle", required=True)
    d.add_argument("--paired", required=True)
    d.add_argument("--bind", default="127.0.0.1")
    d.add_argument("--port", type=int, default=DEFAULT_PORT)
    d.add_argument("--seconds", type=float, default=8.0)
    d.add_argument("--out", required=True)
    d.add_argument("--profile", default="reference")
    d.add_argument("--pre-event", type=float, default=2.0, help="pre-event buffer of both cameras (s)")
    d.add_argument("--auto-stop", type=float, default=0.0, help="stop a recording this long after it started (0: never)")
    b = sub.add_parser("bwc")
    b.add_argument("--serial", required=True)
    b.add_argument("--vehicle", required=True)
    b.add_argument("--dvr", required=True)
    b.add_argument("--bind", default="127.0.0.1")
    b.add_argument("--port", type=int, default=DEFAULT_PORT)
    b.add_argument("--dvr-port", type=int, default=DEFAULT_PORT)
    b.add_argument("--after", type=float, default=3.0)
    args = ap.parse_args(argv)
    try:
        return asyncio.run(run_dvr(args) if args.role == "dvr" else run_bwc(args))
    except OSError as exc:
        print(f"incar_node: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
