"""CPU the simulated air spends per delivered PDU, on the default scene (Hartford, with the
harness observer and the air capture; small video, so the radio dominates).

    PYTHONPATH=. python benchmarks/air_speed.py [--repeat N]

Reports, per run: PDUs put on the air, path-loss attempts, PDUs delivered; the thread CPU of
the air's own code (advertising events, of which the capture's share) per delivered PDU; and
the main thread's CPU per delivered PDU (air + bumble hosts and controllers + the event loop;
the video is encoded on worker threads)."""

from __future__ import annotations

import argparse
import functools
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from emulators import air as air_mod
from emulators.profiles import get_profile
from emulators.scene import hartford
from emulators.video import VideoFormat
from fixtures.virtual import VirtualTarget
from instruments import pcap

SPENT = {"air": 0.0, "capture": 0.0}
_depth = {"air": 0, "capture": 0}


def _timed(key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*a: Any, **k: Any) -> Any:
        if _depth[key]:
            return fn(*a, **k)
        _depth[key] += 1
        t0 = time.thread_time()
        try:
            return fn(*a, **k)
        finally:
            SPENT[key] += time.thread_time() - t0
            _depth[key] -= 1
    return wrapper


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    logging.getLogger("bumble").setLevel(logging.WARNING)
    air_mod.Air.send_advertising_pdu = _timed("air", air_mod.Air.send_advertising_pdu)  # type: ignore[method-assign]
    if hasattr(air_mod.Air, "advertising_event"):  # absent in trees before the link-layer timing (to compare)
        air_mod.Air.advertising_event = _timed("air", air_mod.Air.advertising_event)  # type: ignore[method-assign]
    pcap.AirCapture.__call__ = _timed("capture", pcap.AirCapture.__call__)  # type: ignore[method-assign]
    for i in range(args.repeat):
        SPENT.update(air=0.0, capture=0.0)
        out = Path(tempfile.mkdtemp(prefix="air-speed-"))
        t0, c0 = time.perf_counter(), time.thread_time()
        rec = VirtualTarget(hartford(), get_profile("reference"), out, seed=i, video_override=VideoFormat(320, 180, 5)).run_incident()
        wall, cpu = time.perf_counter() - t0, time.thread_time() - c0
        s = rec.stats
        d = s["adverts_delivered"]
        print(f"run {i}: {s['adverts_transmitted']} PDUs, {s['delivery_attempts']} attempts, {d} delivered; "
              f"air {1e6 * SPENT['air'] / d:.1f} us/delivered (capture {1e6 * SPENT['capture'] / d:.1f}); "
              f"main thread {1e6 * cpu / d:.0f} us/delivered; wall {wall:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
