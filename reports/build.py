"""report.json from a run's results.json and the requirement catalogue (schema in docs/report.md)."""

from __future__ import annotations

import copy
import json
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from conformance.catalogue import with_extensions
from conformance.policy import DEFAULT as DEFAULT_POLICY
from conformance.subjects import Subject
from reports.results import Measurement, RunResults, requirement_status

REPORT_SCHEMA = "bwc-report/2"
READABLE_SCHEMAS = ("bwc-report/1", "bwc-report/2")
HARNESS_VERSION = "0.1.0"
VERDICT_ORDER = ("fail", "error", "exposed", "marginal", "pass", "not-tested")
NOT_MEASURED = ("run interrupted", "scheduled, not measured")  # the why of a scheduled requirement that did not run


def git_revision(repo: Path) -> str:
    if not (repo / ".git").exists():  # installed from a wheel: no checkout to name
        return "unknown"
    try:
        out = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5)
        rev = out.stdout.strip()
        if not rev:
            return "unknown"
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain"], capture_output=True, text=True, timeout=5).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def decisive(req_id: str, verdict: str, measurements: list[Measurement]) -> dict | None:
    """The measurement that decided the requirement's verdict: for a failure the failed
    measurement furthest beyond its own limit (a failed yes/no fact when no number failed);
    for an error the first value that could not be measured; for a pass the judged number
    closest to its own limit (a requirement may hold devices to different limits, e.g. 720
    vs 480 lines). None when nothing was judged."""
    mine = [m for m in measurements if m.requirement == req_id]
    wanted = {"fail": ("fail",), "error": ("error",), "exposed": ("exposed",), "marginal": ("marginal", "pass"), "pass": ("pass", "marginal")}.get(verdict, ())
    candidates = [m for m in mine if m.verdict in wanted and (m.comparator is not None or m.verdict == "error")]
    if not candidates:
        return None

    def margin(m: Measurement) -> float:
        if not (_numeric(m.value) and _numeric(m.limit)) or m.comparator not in (">=", "<="):
            return 0.0 if m.verdict == "fail" else float("inf")  # a failed fact ranks after failed numbers, a passed one after all numbers
        diff = float(m.value) - float(m.limit) if m.comparator == ">=" else float(m.limit) - float(m.value)  # type: ignore[arg-type]
        return diff / max(abs(float(m.limit)), 1e-9) if float(m.limit) else diff  # type: ignore[arg-type]

    best = min(candidates, key=margin) if verdict != "error" else candidates[0]
    return {"subject": best.subject, "device": best.device, "name": best.name, "value": best.value, "unit": best.unit, "limit": best.limit,
            "comparator": best.comparator, "verdict": best.verdict, "note": best.note, "uncertainty": best.uncertainty}


def decisive_text(row: dict) -> tuple[str, str]:
    """(what was measured, against what) for the measurement that decided a requirement,
    e.g. ('29.6 s', '<= 2 s') or ('no (expected yes)', 'activated at 29 ft')."""
    d = row.get("decisive")
    if not d:
        return "-", "-"
    value, limit, unit = d.get("value"), d.get("limit"), d.get("unit") or ""
    if d.get("verdict") == "error" or value is None:
        return "not measured", (d.get("note") or d.get("name") or "")
    if isinstance(value, bool) or isinstance(limit, bool):
        yes = {True: "yes", False: "no"}
        return f"{yes.get(value, value)} (expected {yes.get(limit, limit)})", str(d.get("name", ""))
    shown = f"{value:g}" if isinstance(value, (int, float)) else str(value)
    lim = f"{d.get('comparator')} {limit:g} {unit}".strip() if isinstance(limit, (int, float)) else "-"
    return f"{shown} {unit}".strip(), lim


def _numeric(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def device_key(m: dict) -> str:
    """A measurement's subject without its serial, read from its keys: 'DVR-CAR-A rear'
    (how diff, figures and the report name a device); a non-device subject as it is."""
    return Subject.from_json(m.get("device"), str(m.get("subject", ""))).key


def _utc_ms(iso: str | None) -> int | None:
    if not iso:
        return None
    try:
        return int(round(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000))
    except ValueError:
        return None


def _read_metadata(path: str) -> dict:
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _coverage(measurements: list[Measurement], serial: str) -> float | None:
    """Decoded pre-event coverage of a device's incident clip (PRE-001 / CHN-001 measurement)."""
    for m in measurements:
        who = m.who
        if who.device and who.serial == serial and who.part in ("", "front") and m.quantity == "pre_event_s" and _numeric(m.value):
            return float(m.value)  # type: ignore[arg-type]
    return None


def _rel_s(ms: float | None, stim_ms: int) -> float | None:
    return None if ms is None else round((ms - stim_ms) / 1000, 3)


def observations(incident: dict, measurements: list[Measurement]) -> list[dict]:
    """One row per camera and DVR: where it stood, whether and when it activated, and its
    incident clip on the stimulus timeline (seconds relative to the stimulus). Read from the
    evidence metadata now, so the report renders without the evidence files."""
    stim = incident.get("stimulus_utc_ms")
    if stim is None:
        return []
    rows = []
    devices = [("bwc", f"BWC-{c['label']}", c) for c in incident.get("cameras", [])]
    devices += [("dvr", f"DVR-{d['vehicle_id']}", d) for d in incident.get("dvrs", [])]
    chosen = incident.get("incident_clips") or {}  # per serial (rear: serial + " rear"), chosen on the harness clock
    for role, label, dev in devices:
        found = chosen.get(dev["serial"])
        clip = None
        if found is not None:
            meta = _read_metadata(found.get("metadata", ""))
            trigger = _rel_s(found.get("activation_utc_ms"), stim)
            coverage = _coverage(measurements, dev["serial"])
            stop = found.get("stop_utc_ms")
            clip = {
                "clip": found.get("clip"),
                "metadata": found.get("metadata"),
                "trigger_s": trigger,
                "start_s": round(trigger - coverage, 3) if trigger is not None and coverage is not None else _rel_s(found.get("first_frame_utc_ms"), stim),
                "start_from": "decoded timecodes" if coverage is not None else "clip metadata",
                "stop_s": _rel_s(stop, stim),
                "pre_event_s": coverage,
                "clock_offset_ms": found.get("clock_offset_ms"),
                "clock": found.get("clock"),
                "trigger_reason": meta.get("trigger_reason"),
            }
        advert = dev.get("status_advert_utc_ms")
        rows.append({
            "label": label, "role": role, "serial": dev["serial"],
            "distance_ft": dev.get("distance_ft"), "vehicle_id": dev.get("vehicle_id"),
            "paired_label": f"BWC-{dev['paired_label']}" if dev.get("paired_label") else None,
            "activated": clip is not None or advert is not None,
            "advert_s": _rel_s(advert, stim),
            "incident_clip": clip,
        })
    return rows


def inventory(incident: dict, measurements: list[Measurement]) -> list[dict]:
    """Every device of the system under test: the target's inventory (main scene and any
    scenario), then any measured device it did not list (vendor/model/firmware unknown)."""
    listed = list(incident.get("devices", []))
    for scenario in (incident.get("scenarios") or {}).values():
        if isinstance(scenario, dict):
            listed += scenario.get("devices", [])
    out: list[dict] = []
    seen: set[str] = set()
    for d in listed:
        if d.get("serial") not in seen:
            seen.add(d.get("serial"))
            out.append(d)
    for m in measurements:
        label, serial = m.who.label, m.who.serial
        if m.who.device and serial is not None and serial not in seen:
            seen.add(serial)
            out.append({"label": label, "role": label.split("-")[0].lower(), "serial": serial,
                        "vendor": "not reported by the target", "model": "not reported", "firmware": "not reported"})
    return out


def relativize(obj: Any, out_dir: Path) -> Any:
    """A copy of obj with every absolute path string inside out_dir made relative to it, so
    report.json stays right when the run directory is moved or archived."""
    root = str(out_dir.resolve()).rstrip("/") + "/"
    alt = str(out_dir.absolute()).rstrip("/") + "/"

    def walk(x: Any) -> Any:
        if isinstance(x, dict):
            return {k: walk(v) for k, v in x.items()}
        if isinstance(x, list):
            return [walk(v) for v in x]
        if isinstance(x, str):
            for prefix in (root, alt):
                if x.startswith(prefix):
                    return x[len(prefix):]
        return x

    return walk(copy.deepcopy(obj))


def _run_dir(results: RunResults) -> Path | None:
    pcap = results.incident.get("artifacts", {}).get("pcap")
    return Path(pcap).parent if pcap else None


def build_report(results: RunResults, *, repo: Path | None = None, cover: dict | None = None, out_dir: Path | None = None) -> dict:
    catalogue = with_extensions(results.catalogue_extra)
    rows = []
    for req in catalogue.values():
        verdict, why = requirement_status(req.id, results)
        decided = decisive(req.id, verdict, results.measurements)
        tests = [t for t in results.tests if t.requirement == req.id]
        rows.append(
            {
                "id": req.id,
                "family": req.family,
                "title": req.title,
                "text": req.text,
                "source": req.source,
                "method": req.method,
                "parameters": dict(req.extra),
                "verdict": verdict,
                "why": why,
                "measured": decided["value"] if decided else None,
                "measured_subject": decided["subject"] if decided else None,
                "measured_limit": decided["limit"] if decided else None,
                "decisive": decided,
                "limit": req.limit.value if req.limit else None,
                "unit": req.limit.unit if req.limit else None,
                "comparator": req.limit.comparator if req.limit else None,
                "tests": [t.nodeid for t in tests],
                "messages": [t.message for t in tests if t.message],
                "measurements": [m.__dict__ for m in results.measurements if m.requirement == req.id],
            }
        )
    # requirements measured by tests but missing from the catalogue are reported, not dropped
    known = set(catalogue)
    for req_id in sorted({t.requirement for t in results.tests if t.requirement and t.requirement not in known}):
        rows.append({"id": req_id, "family": "unknown", "title": "not in the catalogue", "text": "", "source": "", "method": "", "parameters": {},
                     "verdict": "error", "why": "not in the catalogue", "measured": None, "measured_subject": None, "measured_limit": None, "limit": None, "unit": None, "comparator": None,
                     "tests": [], "messages": [f"{req_id} is tested but missing from conformance/requirements.yaml"], "measurements": []})
    counts = {v: sum(1 for r in rows if r["verdict"] == v) for v in ("pass", "marginal", "fail", "error", "not-tested", "exposed")}
    overall = ("incomplete" if results.interrupted else "fail" if counts["fail"] else "error" if counts["error"]
               else "marginal" if counts["marginal"] else "pass" if counts["pass"] or counts["exposed"] else "not-tested")
    incident = results.incident
    report = {
        "schema": REPORT_SCHEMA,
        "generated_utc": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "harness": {"name": "bwc-harness", "version": HARNESS_VERSION, "git_revision": git_revision(repo) if repo else "unknown"},
        "cover": cover or {},
        "system_under_test": inventory(incident, results.measurements),
        "run": {
            **results.options,
            "scene": incident.get("scene"),
            "stimulus": {k: incident.get(k) for k in ("stimulus_event", "stimulus_serial", "stimulus_utc_ms")},
            "simulated_s": incident.get("stats", {}).get("simulated_s"),
            "incident_wall_s": incident.get("stats", {}).get("wall_s"),
            "interrupted": results.interrupted,
        },
        "summary": {**counts, "overall": overall,
                    "attention": [r["id"] for v in ("fail", "error") for r in rows if r["verdict"] == v],
                    "not_measured": [r["id"] for r in rows if r["verdict"] == "error" and r["why"] in NOT_MEASURED]},
        "requirements": rows,
        "policy": results.options.get("policy") or DEFAULT_POLICY.to_json(),
        "exposures": exposures(catalogue, results.measurements),
        "observations": observations(incident, results.measurements),
        "incident": incident,
    }
    base = out_dir or _run_dir(results)
    return relativize(report, base) if base is not None else report


def exposures(catalogue: dict, measurements: list[Measurement]) -> list[dict]:
    """Every attack the suite tried on a device, and whether it worked (the report's "Attack
    exposure" section), in plain data: the exposure measurements, and the attack requirements'
    counts of recordings an attack started or facts of recordings it stopped."""
    out = []
    for m in measurements:
        req = catalogue.get(m.requirement)
        if m.quantity == "exposure":
            worked = bool(m.value)
        elif getattr(req, "family", "") == "Attack resistance" and m.quantity == "recordings" and _numeric(m.value):
            worked = float(m.value) > 0  # type: ignore[arg-type]
        elif getattr(req, "family", "") == "Attack resistance" and m.quantity == "kept_recording" and isinstance(m.value, bool):
            worked = not m.value
        else:
            continue
        out.append({"requirement": m.requirement, "question": getattr(req, "exposure", None) or "", "subject": m.subject, "device": m.device,
                    "attack": m.name, "worked": worked, "verdict": m.verdict, "note": m.note, "informative": m.quantity == "exposure"})
    return out


def not_tested_by_reason(report: dict) -> dict[str, list[str]]:
    """why -> ids of the requirements not tested for that reason ("not in this suite", a skip reason...)."""
    out: dict[str, list[str]] = {}
    for r in report["requirements"]:
        if r["verdict"] == "not-tested":
            out.setdefault(r.get("why") or "not tested", []).append(r["id"])
    return out


def describe_interruption(interrupted: dict) -> str:
    """'SIGINT while measuring, during conformance/test_x.py::test_y' (report and CLI)."""
    text = f"{interrupted.get('reason')} while {interrupted.get('phase')}"
    if interrupted.get("during"):
        text += f", during {interrupted['during']}"
    detail = interrupted.get("detail") or ""
    if detail and detail != f"{interrupted.get('signal')} received":
        text += f" ({detail})"
    return text


def ordered_requirements(report: dict) -> list[dict]:
    """Failed first, then could-not-measure, passed, not tested; catalogue order within."""
    rank = {v: i for i, v in enumerate(VERDICT_ORDER)}
    return sorted(report["requirements"], key=lambda r: rank.get(r["verdict"], len(rank)))


def write_report_json(report: dict, out_dir: Path) -> Path:
    path = out_dir / "report.json"
    path.write_text(json.dumps(relativize(report, out_dir), indent=2, default=str) + "\n")
    return path
