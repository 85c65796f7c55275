"""Benchmark (not a test): decode and check a 60 s 1280x720 30 fps clip; the budget is 1 s.

    python benchmarks/analyze_720p.py [--repeats 5] [--clip PATH] [--timecode band|qr] [--keep]

Makes the clip (H.264 like the emulated cameras, with AAC audio time marks) unless --clip
names an existing one, then times analyze_clip on it several times and prints each run, the
best and median seconds, the ratio to the 1 s budget and frames per second.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from instruments.clip_analyzer import analyze_clip  # noqa: E402
from instruments.synthetic_clip import ClipSpec, write_clip  # noqa: E402

BUDGET_S = 1.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--clip", type=Path, help="analyse this clip instead of making one")
    ap.add_argument("--timecode", choices=("band", "qr"), default="band", help="code in the made clip (default band, as our cameras)")
    ap.add_argument("--no-audio", action="store_true", help="make the clip without an audio track")
    ap.add_argument("--keep", type=Path, help="keep the made clip at this path")
    args = ap.parse_args(argv)
    tmp = tempfile.TemporaryDirectory(prefix="bwc-bench-")
    clip = args.clip
    if clip is None:
        clip = args.keep or Path(tmp.name) / "bench-720p.mp4"
        spec = ClipSpec(width=1280, height=720, fps=30, seconds=60.0, timecode=args.timecode, audio=not args.no_audio)  # crf 30, ultrafast, 1 s GOPs: the emulated cameras
        t0 = time.perf_counter()
        write_clip(clip, spec)
        print(f"made {clip} ({clip.stat().st_size / 1e6:.1f} MB, {spec.frame_count} frames, timecode {args.timecode}) in {time.perf_counter() - t0:.1f} s")
    elif not clip.exists():
        print(f"--clip {clip}: no such file", file=sys.stderr)
        return 2
    times, cpu = [], []
    result = None
    for i in range(args.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        result = analyze_clip(clip)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        print(f"  run {i + 1}: {times[-1]:.3f} s wall, {cpu[-1]:.3f} s CPU (all threads)")
    assert result is not None
    best, median = min(times), statistics.median(times)
    print(f"clip: {result.frames} frames {result.width}x{result.height}, readable {result.readable}, kind {result.timecode_kind}, "
          f"audio marks {result.audio.beeps if result.audio else '-'}, ok {result.ok}")
    print(f"analyze_clip: best {best:.3f} s, median {median:.3f} s; budget {BUDGET_S:.1f} s -> ratio {median / BUDGET_S:.2f} "
          f"({'within' if median <= BUDGET_S else 'OVER'} budget); {result.frames / median:.0f} frames/s")
    if os.getloadavg()[0] > 1.5:
        print(f"note: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: other processes share the CPU, wall times are inflated")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
