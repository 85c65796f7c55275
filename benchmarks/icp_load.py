"""Load test (not a test): a DVR host under a UDP flood of junk still chains within CHN-001.

    python benchmarks/icp_load.py [--rate 10000] [--seconds 10] [--every 1.0] [--out icp-load.json]

Starts a DVR host (``python -m emulators.incar_node dvr``: the emulated DVR with its front
and rear cameras, on a free loopback port), floods that port with --rate datagrams per second
for --seconds (half malformed: random bytes; half valid ICP from other vehicles' cameras,
which the DVR must ignore), and meanwhile announces a recording every --every seconds the way
the emulated body camera does (``incar_net.announce``: repeated every 100 ms until the ACK,
for at most CHN-001's 2.0 s). Writes the figures as JSON: flood rate achieved, ACK latency of
every announcement and how many datagrams each needed, what the DVR counted, kept and
warned, and its resident memory from 2 s into the flood (the cameras' pre-event rings are
full by then) to its end. Exit status 1 when an
announcement was not acknowledged within 2.0 s or the DVR's memory grew by more than
--max-growth-mb (default 8 MB) while flooded."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emulators.incar_net import CHAIN_LIMIT_S, IcpEndpoint, announce  # noqa: E402
from protocols.incar import FLAG_ACK_REQUESTED, IncarMessage, MessageType  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DVR, CAMERA, VEHICLE = "F3LOD00A1", "X6LOD00A1", "CAR-L"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_bound(port: int, dvr: subprocess.Popen, timeout: float = 60.0) -> None:
    """Until the DVR host has bound its port (binding it here then fails)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and dvr.poll() is None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return
        time.sleep(0.05)
    raise RuntimeError(f"the DVR host did not bind 127.0.0.1:{port} (exit {dvr.poll()})")


def junk(n: int) -> list[bytes]:
    """Half random bytes (bad CRC), half valid announcements from cameras of other vehicles."""
    out = []
    for i in range(n):
        if i % 2:
            out.append(os.urandom(39))
        else:
            other = IncarMessage(MessageType.RECORDING_STARTED, f"X6JNK{i % 10000:04d}", f"CAR-{i % 97}", 1_780_000_000_000 + i, i & 0xFFFF,
                                 1, 1, FLAG_ACK_REQUESTED)
            out.append(other.encode())
    return out


def flood(port: int, rate: float, seconds: float, stop: threading.Event, sent: list[int]) -> None:
    """Paced in 5 ms batches from one UDP socket."""
    pool = junk(1000)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        start = time.perf_counter()
        n = 0
        while not stop.is_set() and (elapsed := time.perf_counter() - start) < seconds:
            due = int(rate * elapsed)
            while n < due:
                try:
                    s.sendto(pool[n % len(pool)], ("127.0.0.1", port))
                except OSError:  # ENOBUFS on a loaded machine: count what was sent
                    pass
                n += 1
            time.sleep(0.005)
        sent.append(n)


async def announcements(port: int, seconds: float, every: float) -> list[dict]:
    loop = asyncio.get_running_loop()
    acks: dict[int, float] = {}

    def on_message(msg: IncarMessage, addr) -> None:
        if msg.type is MessageType.ACK and msg.sequence not in acks:
            acks[msg.sequence] = loop.time()

    ep = await IcpEndpoint.open(CAMERA, on_message)
    out = []
    seq = 0
    end = loop.time() + seconds
    while loop.time() + CHAIN_LIMIT_S < end:
        seq += 1
        msg = IncarMessage(MessageType.RECORDING_STARTED, CAMERA, VEHICLE, int(time.time() * 1000), seq, 1, 1, FLAG_ACK_REQUESTED)
        before, start = ep.counters.tx, loop.time()
        ok = await announce(ep, msg, [("127.0.0.1", port)], lambda: seq in acks)
        out.append({"seq": seq, "acked": ok, "ack_after_s": round(acks[seq] - start, 4) if ok else None, "datagrams": ep.counters.tx - before})
        await asyncio.sleep(max(0.0, every - (loop.time() - start)))
    ep.close()
    return out


def run(rate: float, seconds: float, every: float, work: Path) -> dict:
    port = free_port()
    dvr = subprocess.Popen([sys.executable, "-m", "emulators.incar_node", "dvr", "--serial", DVR, "--vehicle", VEHICLE, "--paired", CAMERA,
                            "--bind", "127.0.0.1", "--port", str(port), "--seconds", str(seconds + 1.0), "--pre-event", "1", "--out", str(work)],
                           cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_bound(port, dvr)
    stop, sent = threading.Event(), list[int]()
    flooder = threading.Thread(target=flood, args=(port, rate, seconds, stop, sent), daemon=True)
    t0 = time.perf_counter()
    flooder.start()
    try:
        chained = asyncio.run(announcements(port, seconds, every))
    except BaseException:
        stop.set()
        raise
    finally:
        flooder.join()  # the flood runs its full time
    flood_s = time.perf_counter() - t0
    out, err = dvr.communicate(timeout=seconds + 60)
    if dvr.returncode != 0:
        raise RuntimeError(f"the DVR host failed (exit {dvr.returncode}): {err.strip()[-500:]}")
    report = json.loads(out.strip().splitlines()[-1])
    # samples while flooded, from 2 s on: by then the cameras' 1 s pre-event rings are full (the DVR's clock starts at its bind)
    rss = [kb for t, kb in report["rss_kb"] if 2.0 <= t <= flood_s]
    latencies = [c["ack_after_s"] for c in chained if c["acked"]]
    return {
        "rate_asked": rate, "flood_s": round(flood_s, 2), "flood_sent": sent[0], "flood_rate": round(sent[0] / flood_s),
        "announcements": len(chained), "acked_within_limit": sum(1 for x in latencies if x <= CHAIN_LIMIT_S),
        "ack_max_s": max(latencies, default=None), "datagrams_per_announcement_max": max((c["datagrams"] for c in chained), default=0),
        "chained": chained, "dvr_icp": report["icp"], "dvr_ignored": report["ignored"], "dvr_ignored_kept": report["ignored_kept"],
        "warning_lines": err.count("dropped bad ICP datagram"),
        "dvr_rss_kb_first": rss[0] if rss else None, "dvr_rss_kb_last": rss[-1] if rss else None,
        "dvr_rss_growth_kb": rss[-1] - rss[0] if rss else None,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=10_000.0, help="junk datagrams per second (default 10000)")
    ap.add_argument("--seconds", type=float, default=10.0, help="how long the flood lasts (default 10)")
    ap.add_argument("--every", type=float, default=1.0, help="seconds between announcements (default 1)")
    ap.add_argument("--max-growth-mb", type=float, default=8.0, help="DVR memory growth allowed while flooded")
    ap.add_argument("--out", type=Path, default=Path("icp-load.json"))
    args = ap.parse_args(argv)
    if args.rate <= 0 or args.seconds < CHAIN_LIMIT_S + 1:
        print(f"icp_load: --rate must be > 0 and --seconds >= {CHAIN_LIMIT_S + 1:g}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bwc-icp-load-") as tmp:
        result = run(args.rate, args.seconds, args.every, Path(tmp))
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "chained"}, indent=2))
    growth = result["dvr_rss_growth_kb"] or 0
    ok = result["acked_within_limit"] == result["announcements"] > 0 and growth <= args.max_growth_mb * 1024
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
