"""``bwc analyze CLIP [--trigger UTC] [--manifest MANIFEST] [--json]``: measure one clip by
hand (ours, or a vendor camera's export of a recording of the ``bwc clock`` page). The clip
is decoded in a worker process (instruments/clip_isolation.py): a clip that crashes or hangs
the decoder is reported, not fatal. With ``--manifest`` the clip's bytes are checked against
the device's manifest (SHA-256 and size; ``manifest.sig.json`` beside it is verified too).

Exit codes: 0 the clip was measured and is intact (and matches its manifest); 1 the clip is
damaged, unreadable or altered (what could be recovered is still printed, with the reason);
2 bad usage or input (no such file, a malformed --trigger, a manifest that cannot be read or
does not cover the clip)."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone
from pathlib import Path

from bwc.cli import EXIT_FAIL, EXIT_OK, UsageError
from protocols.evidence_manifest import ManifestError, check_file_entry, check_signature_document, key_fingerprint, parse_manifest

SIGNATURE = "manifest.sig.json"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "analyze",
        help="decode a clip and print its measurements (timecode coverage, gaps, fps, audio, clock drift)",
        description=(
            "Decodes CLIP (any container/codec FFmpeg reads) and measures it from the pictures: the timecode "
            "in every frame (the bar band of the emulated cameras, or the QR codes of `bwc clock` filmed by a "
            "real camera), coverage around the trigger, gaps and dropped frames, fps, size, the timecode "
            "against the container timestamps (clock drift), when sound starts and the A/V offset."
        ),
    )
    p.add_argument("clip", help="the clip file")
    p.add_argument("--trigger", help="trigger instant, UTC: ISO 8601 (2026-05-28T20:27:40.600Z; no zone means UTC) or epoch milliseconds")
    p.add_argument("--manifest", help="the device's manifest.json listing the clip: a clip whose bytes differ from it is reported ALTERED")
    p.add_argument("--json", action="store_true", help="print the measurements as JSON")
    p.set_defaults(func=cmd_analyze)


def parse_utc(text: str) -> int:
    """ISO 8601 (zone optional: UTC) or epoch milliseconds -> epoch milliseconds."""
    value = text.strip()
    if value.isdigit():
        ms = int(value)
        if not 10**11 <= ms < 1 << 48:
            raise UsageError(f"--trigger {text}: epoch milliseconds out of range (expected 12-15 digits, e.g. 1780000060600)")
        return ms
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UsageError(f"--trigger {text!r}: not an ISO 8601 UTC time (e.g. 2026-05-28T20:27:40.600Z) nor epoch milliseconds") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return int(round(stamp.timestamp() * 1000))


def iso(ms: float | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000.0, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def check_integrity(clip: Path, manifest: Path) -> dict:
    """The clip against its entry in a device manifest (and the manifest's signature, when
    manifest.sig.json lies beside it). Raises UsageError for a manifest that cannot be used."""
    try:
        data = manifest.read_bytes()
        doc = parse_manifest(data)
    except OSError as exc:
        raise UsageError(f"--manifest {manifest}: cannot read ({exc.strerror})") from None
    except ManifestError as exc:
        raise UsageError(f"--manifest {manifest}: {exc}") from None
    try:
        entry = clip.resolve().relative_to(manifest.parent.resolve()).as_posix()
    except ValueError:
        raise UsageError(f"--manifest {manifest}: {clip} is not inside {manifest.parent}, so the manifest cannot list it") from None
    check = check_file_entry(clip, doc, entry)
    problems = check.problems()
    signature, fingerprint = "missing", None
    sig = manifest.parent / SIGNATURE
    if sig.is_file():
        try:
            signature, fingerprint = "ok", key_fingerprint(check_signature_document(json.loads(sig.read_text()), data))
        except (ManifestError, ValueError, OSError) as exc:
            signature = "invalid"
            problems.append(f"{SIGNATURE}: {exc}")
    return {"manifest": str(manifest), "entry": entry, "bytes_match": check.ok, "intact": not problems, "problems": problems,
            "signature": signature, "signer_fingerprint": fingerprint}


def measurements(analysis, trigger_ms: int | None, integrity: dict | None = None) -> dict:
    """analysis.to_dict() plus readable times, with a trigger the coverage around it, with a
    manifest the integrity check."""
    out = analysis.to_dict()
    if integrity is not None:
        out["integrity"] = integrity
    out["first_utc"] = iso(analysis.first_utc_ms)
    out["last_utc"] = iso(analysis.last_utc_ms)
    if analysis.audio is not None:
        out["audio"]["start_utc"] = iso(analysis.audio.start_utc_ms)
    if trigger_ms is not None:
        out["trigger_utc_ms"] = trigger_ms
        out["trigger_utc"] = iso(trigger_ms)
        out["coverage_before_s"] = analysis.coverage_before_s(trigger_ms)
        out["coverage_after_s"] = analysis.coverage_after_s(trigger_ms)
        out["audio_before_trigger_s"] = analysis.audio_before_trigger_s(trigger_ms)
    return out


def _s(value: float | None, unit: str = "s", fmt: str = ".3f") -> str:
    return "-" if value is None else f"{value:{fmt}} {unit}"


def render_text(m: dict) -> str:
    lines = [f"clip        {m['path']}"]
    lines.append(f"container   {m['container'] or '-'}{'  (TRUNCATED)' if m['truncated'] else ''}")
    if m["frames"]:
        lines.append(
            f"video       {m['codec']} {m['width']}x{m['height']}, {m['frames']} frames, "
            f"{_s(m['fps'], 'fps', '.3f')} by timecode, {_s(m['container_fps'], 'fps', '.3f')} by container timestamps"
        )
        kind = {"band": "bar band", "qr": "QR (filmed clock display)"}.get(m["timecode_kind"], "none found")
        lines.append(f"timecode    {kind}: readable in {m['readable']} of {m['frames']} frames")
    lines.append(f"first frame {m['first_utc'] or '-'}")
    lines.append(f"last frame  {m['last_utc'] or '-'}")
    if "trigger_utc" in m:
        lines.append(f"trigger     {m['trigger_utc']}")
        lines.append(f"  picture before the trigger  {_s(m['coverage_before_s'])}")
        lines.append(f"  picture after the trigger   {_s(m['coverage_after_s'])}")
    gaps = m["gaps"]
    lines.append(f"gaps        {len(gaps) if gaps else 'none'}")
    for g in gaps:
        hidden = "  HIDDEN: the container timestamps run on as if nothing were missing" if g.get("hidden") else ""
        lines.append(f"  {iso(g['from_utc_ms'])} -> {iso(g['to_utc_ms'])}: {g['missing_ms']} ms missing (~{g.get('missing_frames', '?')} frames){hidden}")
    lines.append(f"frames      {m['dropped_frames']} dropped (per container timestamps), {m['duplicate_frames']} repeated, {m['backward_steps']} backward steps")
    if m["clock_unset_frames"]:
        lines.append(f"            {m['clock_unset_frames']} frames flagged 'clock unset' by the device")
    drift = "-" if m["clock_drift_ppm"] is None else f"{m['clock_drift_ppm']:+.1f} ppm (+-{m['clock_drift_stderr_ppm']:.1f})"
    lines.append(f"clock       timecode vs container: drift {drift}, jitter {_s(m['timing_jitter_ms'], 'ms')}, container 0 s = {iso(m['clock_origin_utc_ms']) or '-'}")
    if m["creation_time"]:
        lines.append(f"            the file claims creation at {m['creation_time']} ({_s(m['creation_time_offset_s'], 's', '+.3f')} from the first frame's timecode)")
    a = m["audio"]
    if a is None:
        lines.append("audio       no audio stream")
    else:
        lines.append(f"audio       {a['codec']} {a['sample_rate']} Hz, {a['channels']} channel(s); sound from {a['start_utc'] or '- (silent)'}")
        if "audio_before_trigger_s" in m and m["audio_before_trigger_s"] is not None:
            before = m["audio_before_trigger_s"]
            lines.append(f"  sound {'before' if before >= 0 else 'after'} the trigger       {abs(before):.3f} s {'before' if before >= 0 else 'after'}")
        if a["av_offset_ms"] is not None:
            lines.append(
                f"  A/V offset  {a['av_offset_ms']:+.1f} ms (> 0: sound late), from {a['beeps']} time marks, "
                f"range {a['av_offset_min_ms']:+.1f} .. {a['av_offset_max_ms']:+.1f} ms"
            )
        if a["dropouts"]:
            lines.append(f"  {a['dropouts']} hole(s) in the audio timeline")
        lines += [f"  note: {n}" for n in a["notes"]]
    lines += [f"note        {n}" for n in m["notes"]]
    if m["error"]:
        lines.append(f"problem     {m['error']}")
    integrity = m.get("integrity")
    if integrity is not None:
        signed = {"ok": f"signature ok ({integrity['signer_fingerprint']})", "missing": f"not signed (no {SIGNATURE})",
                  "invalid": "signature INVALID"}[integrity["signature"]]
        state = "bytes match the manifest" if integrity["bytes_match"] else "ALTERED"
        lines.append(f"integrity   {integrity['manifest']}, entry {integrity['entry']}: {state}; {signed}")
        lines += [f"  problem  {p}" for p in integrity["problems"]]
    if integrity is not None and not integrity["intact"]:
        lines.append("verdict     ALTERED: the clip is not what its manifest lists; its measurements cannot be relied on")
    elif not m["ok"]:
        lines.append("verdict     NOT MEASURABLE: no frame with a readable timecode could be recovered (see above)")
    elif m["damaged"]:
        lines.append(f"verdict     DAMAGED: the measurements above cover only what could be recovered ({m['readable']} frames)")
    else:
        lines.append("verdict     measured")
    return "\n".join(lines)


def cmd_analyze(args: argparse.Namespace) -> int:
    path = Path(args.clip)
    if not path.exists():
        raise UsageError(f"{path}: no such file")
    if path.is_dir():
        raise UsageError(f"{path}: is a directory, not a clip")
    trigger = parse_utc(args.trigger) if args.trigger else None
    integrity = check_integrity(path, Path(args.manifest)) if args.manifest else None
    from instruments.clip_isolation import analyze_clip_isolated

    analysis = analyze_clip_isolated(path)
    m = measurements(analysis, trigger, integrity)
    print(json.dumps(m, indent=2) if args.json else render_text(m))
    intact = integrity is None or integrity["intact"]
    return EXIT_OK if analysis.ok and not analysis.damaged and intact else EXIT_FAIL
