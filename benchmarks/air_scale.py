"""The simulated air with and without its spatial index, and stock ``bumble.link.LocalLink``,
on the same scene, side by side: N radios scattered (seeded) over a 300 x 200 ft city block,
every one scanning continuously, a quarter of them advertising a Signal presence frame every
100 ms, for ``--device-seconds`` / N seconds of virtual time (looptime; LocalLink for a fifth
of that: its cost per PDU does not depend on how long it runs, and it is slow). For N = 10, 50, 200
it reports PDUs delivered to hosts per CPU second, CPU per delivered PDU, the receivers the
air's loop tried (every scanning radio without the index; the index's candidates with it), the
path-loss draws, and the ratios against LocalLink measured in the same run. CPU is counted
from the first advert on (set-up excluded).

    PYTHONPATH=. python benchmarks/air_scale.py [--sizes 10,50,200] [--device-seconds 1000] [--no-local]

On a tree whose air has no index (``Air(index=...)`` absent: to compare before and after), the
"air" rows are that tree's air and the "air+index" rows are left out.

LocalLink hands every PDU to every other controller (no positions, no channels, no loss); the
air delivers only what path loss, channels and scan windows let through, so it delivers fewer
PDUs: the figures that compare are PDUs delivered per CPU second and CPU per delivered PDU. The
index must not change what is delivered: the script checks that both airs delivered the same."""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import time
from dataclasses import dataclass

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

BLOCK_FT = (300.0, 200.0)
ADVERTISING = 4  # one radio in 4 advertises
INTERVAL_MS = 100.0


@dataclass
class Result:
    delivered: int  # advertising reports the hosts got
    cpu_s: float
    tried: int  # (PDU event, receiver) pairs the link's loop looked at
    draws: int  # path-loss attempts (fading and loss drawn)


def _scatter(n: int) -> list[tuple[float, float]]:
    rnd = random.Random(f"air_scale {n}")
    return [(rnd.uniform(0, BLOCK_FT[0]), rnd.uniform(0, BLOCK_FT[1])) for _ in range(n)]


def _stock_radio(link: LocalLink, name: str) -> Device:
    address = static_random_address(name)
    controller = Controller(name, link=link, public_address=address)
    host = Host(controller, AsyncPipeSink(controller))
    return Device(name=name, address=hci.Address(address), host=host)


async def _scene(kind: str, n: int, seconds: float) -> Result:
    heard = [0]
    air: Air | None = None
    if kind == "LocalLink":
        link = LocalLink()
        devices = [_stock_radio(link, f"R{i}") for i in range(n)]
    else:
        try:
            air = Air(seed=1, keep_deliveries=False, index=kind == "air+index")
        except TypeError:  # a tree from before the index
            air = Air(seed=1, keep_deliveries=False)
        devices = [radio(air, f"R{i}", p) for i, p in enumerate(_scatter(n))]
    for d in devices:
        await d.power_on()
        d.on("advertisement", lambda _adv: heard.__setitem__(0, heard[0] + 1))
        await d.start_scanning(active=False, filter_duplicates=False)
    c0 = time.process_time()
    events = [0]
    index = getattr(air, "index", None)
    if air is not None:
        tried0 = index.candidates if index else 0
        event = air.advertising_event

        def counted(*a, **k):  # type: ignore[no-untyped-def]
            events[0] += 1
            return event(*a, **k)
        air.advertising_event = counted  # type: ignore[method-assign]
    for i, d in enumerate(devices[::ADVERTISING]):
        serial = f"X6SCL{i:04d}"
        await SignalAdvertiser(d, serial).advertise(SignalFrame.for_event(serial, Event.CAMERA_PRESENCE), INTERVAL_MS)
    await asyncio.sleep(seconds)
    cpu = time.process_time() - c0
    if air is None:
        return Result(heard[0], cpu, heard[0], 0)
    tried = index.candidates - tried0 if index else events[0] * (n - 1)
    return Result(heard[0], cpu, tried, air.stats.attempts)


def measure(kind: str, n: int, seconds: float) -> Result:
    loop = looptime.new_event_loop(start=0.0)
    try:
        return loop.run_until_complete(_scene(kind, n, seconds))
    finally:
        loop.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10,50,200")
    ap.add_argument("--device-seconds", type=float, default=1000.0)
    ap.add_argument("--no-local", action="store_true", help="skip stock LocalLink (slow at large N)")
    args = ap.parse_args()
    logging.getLogger("bumble").setLevel(logging.WARNING)
    kinds = ("air", "air+index") if args.no_local else ("LocalLink", "air", "air+index")
    if "index" not in Air.__init__.__code__.co_varnames:
        kinds = tuple(k for k in kinds if k != "air+index")
    print(f"{'N':>5} {'link':<10} {'sim s':>6} {'delivered':>10} {'CPU s':>7} {'PDUs/CPU s':>11} {'us/PDU':>8} {'tried':>9} {'draws':>8}"
          f" {'PDUs/CPU s vs LocalLink':>24}")
    for n in (int(x) for x in args.sizes.split(",")):
        seconds = args.device_seconds / n
        rows = {kind: measure(kind, n, seconds / 5 if kind == "LocalLink" else seconds) for kind in kinds}
        indexed = rows.get("air+index", rows["air"])
        if rows["air"].delivered != indexed.delivered or rows["air"].draws != indexed.draws:
            raise SystemExit(f"N = {n}: the index changed what was delivered ({rows['air']} vs {rows['air+index']})")
        for kind, r in rows.items():
            rate = r.delivered / r.cpu_s
            local = rows.get("LocalLink")
            vs = f"{rate / (local.delivered / local.cpu_s):.2f}x" if local and kind != "LocalLink" else "-"
            print(f"{n:>5} {kind:<10} {seconds / 5 if kind == 'LocalLink' else seconds:>6.2f} {r.delivered:>10} {r.cpu_s:>7.2f} {rate:>11.0f} {r.cpu_s / max(r.delivered, 1) * 1e6:>8.1f}"
                  f" {r.tried:>9} {r.draws:>8} {vs:>24}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
