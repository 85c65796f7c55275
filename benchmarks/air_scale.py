"""The simulated air against stock ``bumble.link.LocalLink`` on the same scene, side by side:
N radios on a grid 20 ft apart, every one advertising a Signal presence frame every 100 ms
and scanning continuously, for 100 device-seconds of virtual time (10 s at N = 10, 0.5 s at
N = 200; looptime). Reports PDUs delivered to hosts per CPU second and CPU per delivered PDU
(CPU from the first advert on: set-up excluded), for N = 10, 50, 200.

    PYTHONPATH=. python benchmarks/air_scale.py [--sizes 10,50,200] [--device-seconds 100]

LocalLink delivers every PDU to every other controller (no positions, no channels, no loss);
the air delivers only what path loss, channels and scan windows let through, so it delivers
fewer PDUs: the figure that compares is CPU per delivered PDU, and how it grows with N."""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import time

import looptime
from bumble import hci
from bumble.controller import Controller
from bumble.device import Device
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from emulators.air import Air, radio, static_random_address
from emulators.signal_radio import SignalAdvertiser
from protocols.signal import Event, SignalFrame

SPACING_FT = 20.0


def _grid(n: int) -> list[tuple[float, float]]:
    side = math.ceil(math.sqrt(n))
    return [((i % side) * SPACING_FT, (i // side) * SPACING_FT) for i in range(n)]


def _stock_radio(link: LocalLink, name: str) -> Device:
    address = static_random_address(name)
    controller = Controller(name, link=link, public_address=address)
    host = Host(controller, AsyncPipeSink(controller))
    return Device(name=name, address=hci.Address(address), host=host)


async def _scene(kind: str, n: int, seconds: float) -> tuple[int, float]:
    heard = [0]
    if kind == "air":
        air = Air(seed=1, keep_deliveries=False)
        devices = [radio(air, f"R{i}", p) for i, p in enumerate(_grid(n))]
    else:
        link = LocalLink()
        devices = [_stock_radio(link, f"R{i}") for i in range(n)]
    for d in devices:
        await d.power_on()
        d.on("advertisement", lambda _adv: heard.__setitem__(0, heard[0] + 1))
        await d.start_scanning(active=False, filter_duplicates=False)
    c0 = time.process_time()
    for i, d in enumerate(devices):
        serial = f"X6SCL{i:04d}"
        await SignalAdvertiser(d, serial).advertise(SignalFrame.for_event(serial, Event.CAMERA_PRESENCE), 100.0)
    await asyncio.sleep(seconds)
    return heard[0], time.process_time() - c0


def measure(kind: str, n: int, seconds: float) -> tuple[int, float]:
    loop = looptime.new_event_loop(start=0.0)
    try:
        return loop.run_until_complete(_scene(kind, n, seconds))
    finally:
        loop.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10,50,200")
    ap.add_argument("--device-seconds", type=float, default=100.0)
    args = ap.parse_args()
    logging.getLogger("bumble").setLevel(logging.WARNING)
    print(f"{'N':>5} {'link':<10} {'delivered':>10} {'CPU s':>7} {'PDUs/CPU s':>11} {'us/PDU':>8}")
    for n in (int(x) for x in args.sizes.split(",")):
        for kind in ("LocalLink", "air"):
            delivered, cpu = measure("air" if kind == "air" else "local", n, args.device_seconds / n)
            print(f"{n:>5} {kind:<10} {delivered:>10} {cpu:>7.2f} {delivered / cpu:>11.0f} {cpu / max(delivered, 1) * 1e6:>8.1f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
