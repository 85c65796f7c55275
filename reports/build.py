"""report.json from a run's results.json and the requirement catalogue."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from conformance.catalogue import Requirement, load_catalogue
from reports.results import RunResults, requirement_verdict

REPORT_SCHEMA = "bwc-report/1"
HARNESS_VERSION = "0.1.0"


def git_revision(repo: Path) -> str:
    try:
        out = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5)
        rev = out.stdout.strip()
        if not rev:
            return "unknown"
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain"], capture_output=True, text=True, timeout=5).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _worst(req: Requirement, results: RunResults) -> tuple[float | None, str | None]:
    """The measurement that decides the verdict: the worst value against the limit."""
    if req.limit is None:
        return None, None
    values = [
        (m.value, m.subject)
        for m in results.measurements
        if m.requirement == req.id and m.comparator == req.limit.comparator and m.unit == req.limit.unit and isinstance(m.value, (int, float)) and not isinstance(m.value, bool)
    ]
    if not values:
        return None, None
    pick = min(values) if req.limit.comparator == ">=" else max(values)
    return float(pick[0]), pick[1]


def build_report(results: RunResults, *, repo: Path | None = None, cover: dict | None = None) -> dict:
    catalogue = load_catalogue()
    rows = []
    for req in catalogue.values():
        verdict = requirement_verdict(req.id, results)
        worst, worst_subject = _worst(req, results)
        tests = [t for t in results.tests if t.requirement == req.id]
        rows.append(
            {
                "id": req.id,
                "family": req.family,
                "title": req.title,
                "text": req.text,
                "source": req.source,
                "verdict": verdict,
                "measured": worst,
                "measured_subject": worst_subject,
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
        rows.append({"id": req_id, "family": "unknown", "title": "not in the catalogue", "text": "", "source": "", "verdict": "error",
                     "measured": None, "measured_subject": None, "limit": None, "unit": None, "comparator": None,
                     "tests": [], "messages": [f"{req_id} is tested but missing from conformance/requirements.yaml"], "measurements": []})
    counts = {v: sum(1 for r in rows if r["verdict"] == v) for v in ("pass", "fail", "error", "not-tested")}
    overall = "fail" if counts["fail"] else "error" if counts["error"] else "pass" if counts["pass"] else "not-tested"
    incident = results.incident
    return {
        "schema": REPORT_SCHEMA,
        "generated_utc": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "harness": {"name": "bwc-harness", "version": HARNESS_VERSION, "git_revision": git_revision(repo) if repo else "unknown"},
        "cover": cover or {},
        "system_under_test": incident.get("devices", []),
        "run": {
            **results.options,
            "scene": incident.get("scene"),
            "stimulus": {k: incident.get(k) for k in ("stimulus_event", "stimulus_serial", "stimulus_utc_ms")},
            "simulated_s": incident.get("stats", {}).get("simulated_s"),
            "incident_wall_s": incident.get("stats", {}).get("wall_s"),
        },
        "summary": {**counts, "overall": overall},
        "requirements": rows,
        "incident": incident,
    }


def write_report_json(report: dict, out_dir: Path) -> Path:
    path = out_dir / "report.json"
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return path
