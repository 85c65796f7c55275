"""Fuzz campaign (not a test): hostile variants of valid clips through the isolated analyzer.

    python benchmarks/fuzz_clips.py [--per-kind 200] [--seed 0] [--bases small,plain,720p,qr] [--hang-s 2.0]
                                    [--repeats 5] [--out fuzz-counts.json] [--findings DIR]

Makes the base clips (``clip_mutations.BASES``: band timecode + AAC time marks at 320x180
fragmented and plain MP4, 1280x720 fragmented; QR timecode at 640x360), then for every base,
every mutation kind (instruments/clip_mutations.py: bitflip, dup-chunk, dup-mdat, truncate,
box-size) and seeds 0..per-kind-1 writes the mutated file and analyses it with
``IsolatedAnalyzer`` (a worker process with time and memory limits), then checks it against
the base clip's manifest as ``bwc analyze CLIP --manifest`` does. Writes the counts as JSON:

* ``inputs``: mutated clips tried (``unchanged``: mutations that left the bytes as they were);
* ``tracebacks``: exceptions that escaped analyze_clip (a bug: the clip is named in ``findings``);
* ``hangs``: analyses that cost the worker more than --hang-s of CPU time, or hit its time
  limit (CPU time, not wall time: this machine is shared, and a loaded machine stretches wall
  time 2-4x; ``slowest_wall_s`` and ``slowest_cpu_s`` are both reported);
* ``decoder_crashes_contained``, ``memory_limit_hits``: the worker died or ran out of memory
  (the harness went on: the clip was reported damaged);
* ``harness_crashes``: exceptions out of the isolated analyzer itself (the caller would crash);
* ``altered_measured_intact``: altered clips the analyzer measured without finding damage;
  ``altered_reported_intact_with_manifest``: of those, how many the manifest check still
  passed (must be 0); ``altered_with_decode_errors_reported``: altered clips whose report
  names decode errors the decoder met;
* ``isolation``: seconds per clip isolated vs in process on the unmutated bases.

Exit status 1 when tracebacks, hangs or harness crashes were found."""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from instruments.clip_analyzer import analyze_clip  # noqa: E402
from instruments.clip_isolation import IsolatedAnalyzer  # noqa: E402
from instruments.clip_mutations import BASES, MUTATIONS, mutate  # noqa: E402
from instruments.synthetic_clip import write_clip  # noqa: E402
from protocols.evidence_manifest import build_manifest, check_file_entry  # noqa: E402

def make_bases(names: list[str], folder: Path) -> dict[str, Path]:
    return {name: write_clip(folder / f"{name}.mp4", BASES[name]) for name in names}


def isolation_overhead(analyzer: IsolatedAnalyzer, clips: dict[str, Path], repeats: int = 5) -> dict[str, dict[str, float]]:
    """Median seconds per clip, in process and isolated (worker already running)."""
    out = {}
    for name, clip in clips.items():
        inproc, isolated = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            analyze_clip(clip)
            inproc.append(time.perf_counter() - t0)
            isolated.append(analyzer.run(clip).wall_s)
        a, b = statistics.median(inproc), statistics.median(isolated)
        out[name] = {"in_process_s": round(a, 4), "isolated_s": round(b, 4), "overhead_ms": round((b - a) * 1000, 1)}
    return out


def campaign(clips: dict[str, Path], per_kind: int, seed: int, work: Path, hang_s: float, findings: Path | None,
             analyzer: IsolatedAnalyzer) -> dict:
    counts = {k: 0 for k in ("inputs", "unchanged", "tracebacks", "hangs", "decoder_crashes_contained", "memory_limit_hits",
                             "harness_crashes", "altered_measured_intact", "altered_reported_intact_with_manifest",
                             "altered_with_decode_errors_reported")}
    per_kind_counts: dict[str, dict[str, int]] = {}
    found: list[dict] = []
    slowest_wall = slowest_cpu = 0.0
    for base, clip in clips.items():
        original = clip.read_bytes()
        manifest = build_manifest(clip.parent, [clip.name])
        for kind in MUTATIONS:
            k = per_kind_counts.setdefault(kind, {"inputs": 0, "measured_intact": 0, "damaged_or_unmeasurable": 0})
            for s in range(seed, seed + per_kind):
                data, what = mutate(original, kind, s)
                if data == original:
                    counts["unchanged"] += 1
                    continue
                target = work / clip.name
                target.write_bytes(data)
                counts["inputs"] += 1
                k["inputs"] += 1
                try:
                    outcome = analyzer.run(target)
                except Exception as exc:  # the caller of the isolated analyzer would crash: the worst finding
                    counts["harness_crashes"] += 1
                    found.append({"base": base, "kind": kind, "seed": s, "mutation": what, "result": "harness crash", "detail": repr(exc)})
                    continue
                a = outcome.analysis
                slowest_wall = max(slowest_wall, outcome.wall_s)
                slowest_cpu = max(slowest_cpu, outcome.cpu_s or 0.0)
                result = {"bug": "traceback", "crash": "decoder crash", "memory": "memory limit", "timeout": "hang"}.get(outcome.kind)
                if outcome.kind == "bug":
                    counts["tracebacks"] += 1
                elif outcome.kind == "crash":
                    counts["decoder_crashes_contained"] += 1
                elif outcome.kind == "memory":
                    counts["memory_limit_hits"] += 1
                if outcome.kind == "timeout" or (outcome.cpu_s or 0.0) > hang_s:
                    counts["hangs"] += 1
                    result = "hang"
                intact = a.ok and not a.damaged
                k["measured_intact" if intact else "damaged_or_unmeasurable"] += 1
                if intact:
                    counts["altered_measured_intact"] += 1
                    if check_file_entry(target, manifest, clip.name).ok:
                        counts["altered_reported_intact_with_manifest"] += 1
                if a.damaged_packets or a.corrupt_frames:
                    counts["altered_with_decode_errors_reported"] += 1
                if result is not None:
                    entry = {"base": base, "kind": kind, "seed": s, "mutation": what, "result": result,
                             "wall_s": round(outcome.wall_s, 3), "cpu_s": outcome.cpu_s, "error": a.error, "detail": outcome.detail[-2000:]}
                    found.append(entry)
                    if findings is not None:
                        findings.mkdir(parents=True, exist_ok=True)
                        shutil.copyfile(target, findings / f"{base}-{kind}-{s}.mp4")
    return {**counts, "slowest_wall_s": round(slowest_wall, 3), "slowest_cpu_s": round(slowest_cpu, 3), "per_kind": per_kind_counts, "findings": found}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-kind", type=int, default=200, help="mutations per kind and base clip (default 200)")
    ap.add_argument("--seed", type=int, default=0, help="first seed")
    ap.add_argument("--bases", default=",".join(BASES), help=f"base clips, from {', '.join(BASES)}")
    ap.add_argument("--hang-s", type=float, default=2.0, help="an analysis costing more CPU seconds than this counts as a hang")
    ap.add_argument("--repeats", type=int, default=5, help="runs per base clip for the isolation overhead (default 5)")
    ap.add_argument("--out", type=Path, default=Path("fuzz-counts.json"), help="where to write the counts (JSON)")
    ap.add_argument("--findings", type=Path, help="copy every clip that gave a traceback, a hang, a crash or hit the memory limit here")
    args = ap.parse_args(argv)
    names = [n.strip() for n in args.bases.split(",") if n.strip()]
    unknown = [n for n in names if n not in BASES]
    if unknown or args.per_kind < 1:
        print(f"fuzz_clips: --bases {','.join(unknown)}: unknown (from {', '.join(BASES)})" if unknown else "fuzz_clips: --per-kind must be >= 1",
              file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bwc-fuzz-") as tmp, IsolatedAnalyzer() as analyzer:
        base_dir, work = Path(tmp) / "bases", Path(tmp) / "work"
        base_dir.mkdir()
        work.mkdir()
        clips = make_bases(names, base_dir)
        overhead = isolation_overhead(analyzer, clips, max(1, args.repeats))
        counts = campaign(clips, args.per_kind, args.seed, work, args.hang_s, args.findings, analyzer)
        counts["worker_restarts"] = analyzer.restarts
    report = {"per_kind_and_base": args.per_kind, "seed": args.seed, "bases": names, "hang_s": args.hang_s,
              "wall_s": round(time.perf_counter() - t0, 1), "isolation": overhead, **counts}
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    summary = {k: v for k, v in report.items() if k not in ("per_kind", "findings", "isolation")}
    print(json.dumps(summary, indent=2))
    print(f"counts written to {args.out}")
    return 1 if report["tracebacks"] or report["hangs"] or report["harness_crashes"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
