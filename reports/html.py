"""report.html: self-contained (inline CSS and SVG, no scripts, no network)."""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape
from pathlib import Path

from reports.svg import incident_map, timeline

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#24292f;margin:2rem auto;max-width:60rem;padding:0 1rem;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
table{border-collapse:collapse;width:100%;font-size:.9rem} th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa} .v{font-weight:600;text-transform:uppercase;font-size:.8rem;padding:.1rem .4rem;border-radius:.3rem;white-space:nowrap}
.pass{background:#dafbe1;color:#1a7f37} .fail{background:#ffebe9;color:#cf222e} .error{background:#fff8c5;color:#9a6700}
.not-tested{background:#eaeef2;color:#57606a} .info{background:#ddf4ff;color:#0969da}
.banner{padding:1rem;border-radius:.5rem;margin:1rem 0;font-size:1.1rem} .muted{color:#57606a;font-size:.85rem}
.figs{display:flex;flex-wrap:wrap;gap:1rem;align-items:flex-start} code{font-size:.85rem}
"""


def _badge(verdict: str) -> str:
    return f'<span class="v {escape(verdict)}">{escape(verdict)}</span>'


def _fmt(value, unit) -> str:
    if value is None:
        return "&ndash;"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g} {escape(unit or '')}".strip()
    return f"{escape(str(value))} {escape(unit or '')}".strip()


def _iso(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _timeline_rows(report: dict) -> list[dict]:
    from conformance.evidence import utc_ms  # parsing helper only

    incident = report.get("incident", {})
    stim = incident.get("stimulus_utc_ms")
    if stim is None:
        return []
    coverage = {}
    for req in report["requirements"]:
        for m in req["measurements"]:
            if "before its activation" in m["name"] or "before activation" in m["name"]:
                coverage[m["subject"].split()[1]] = m["value"]
    rows = []
    devices = [(f"BWC-{c['label']}", c["serial"], c["evidence"]) for c in incident.get("cameras", [])]
    devices += [(f"DVR-{d['vehicle_id']}", d["serial"], d["evidence"]) for d in incident.get("dvrs", [])]
    import json

    for label, serial, evidence in devices:
        row = {"label": label, "start_s": None, "activation_s": None, "end_s": None}
        for item in evidence:
            try:
                meta = json.loads(Path(item["metadata_path"]).read_text())
            except (OSError, ValueError, KeyError):
                continue
            act = utc_ms(meta["trigger_utc"]) if meta.get("trigger_utc") else None
            if act is None or act < stim - 100:
                continue
            row["activation_s"] = (act - stim) / 1000
            row["end_s"] = (utc_ms(meta["stop_utc"]) - stim) / 1000 if meta.get("stop_utc") else None
            cov = coverage.get(serial)
            row["start_s"] = row["activation_s"] - cov if isinstance(cov, (int, float)) else None
            break
        rows.append(row)
    return rows


def render_html(report: dict) -> str:
    s = report["summary"]
    run = report["run"]
    incident = report.get("incident", {})
    overall = s["overall"]
    failed = [r for r in report["requirements"] if r["verdict"] in ("fail", "error")]
    ordered = failed + [r for r in report["requirements"] if r not in failed]
    h = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Conformance report - {escape(str(run.get('profile')))}</title><style>{CSS}</style></head><body>"]
    h.append("<h1>Body-camera auto-activation conformance report</h1>")
    h.append(f'<p class="muted">Generated {escape(report["generated_utc"])} by {escape(report["harness"]["name"])} {escape(report["harness"]["version"])} (git {escape(report["harness"]["git_revision"])})</p>')
    colour = {"pass": "pass", "fail": "fail", "error": "error"}.get(overall, "not-tested")
    h.append(f'<div class="banner {colour}"><b>Overall: {escape(overall.upper())}</b> &mdash; {s["pass"]} passed, {s["fail"]} failed, {s["error"]} could not be measured, {s["not-tested"]} not tested.</div>')
    h.append("<h2>System under test and run</h2><table>")
    for k, v in (("Target", run.get("target")), ("Profile", run.get("profile")), ("Scene", run.get("scene")), ("RF noise seed", run.get("seed")),
                 ("Stimulus", f'{run.get("stimulus", {}).get("stimulus_event")} from {run.get("stimulus", {}).get("stimulus_serial")} at {_iso(run.get("stimulus", {}).get("stimulus_utc_ms"))}'),
                 ("Simulated time", f'{run.get("simulated_s")} s'), ("Wall time of the incident", f'{run.get("incident_wall_s")} s')):
        h.append(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>")
    h.append("</table>")
    devices = [(f"BWC-{c['label']}", c["serial"], f"{c['distance_ft']:g} ft from the CEW", bool(c.get("status_advert_utc_ms")) or bool(c["evidence"])) for c in incident.get("cameras", [])]
    devices += [(f"DVR-{d['vehicle_id']}", d["serial"], f"paired with BWC-{d.get('paired_label')}", bool(d["evidence"])) for d in incident.get("dvrs", [])]
    activated = {name: on for name, _serial, _where, on in devices}
    h.append("<h2>Incident</h2><div class=figs>")
    if incident.get("positions"):
        h.append(incident_map({k: tuple(v) for k, v in incident["positions"].items()}, tuple(incident.get("source_position", (0, 0))), activated))
    h.append("<table><tr><th>Device</th><th>Serial</th><th>Where</th><th>Recorded</th></tr>")
    for name, serial, where, on in devices:
        h.append(f"<tr><td>{escape(name)}</td><td><code>{escape(serial)}</code></td><td>{escape(where)}</td><td>{'yes' if on else 'no'}</td></tr>")
    h.append("</table></div>")
    rows = _timeline_rows(report)
    if rows:
        h.append("<h2>Activation timeline</h2><p class=muted>Light green: pre-event video in the clip (decoded); dark green: recording after activation. Time relative to the CEW event.</p>")
        h.append(timeline(rows))
    h.append("<h2>Requirement matrix</h2><table><tr><th>Id</th><th>Requirement</th><th>Limit</th><th>Measured (worst)</th><th>Verdict</th></tr>")
    for r in ordered:
        limit = f"{escape(r['comparator'])} {r['limit']:g} {escape(r['unit'])}" if r["limit"] is not None else "&ndash;"
        worst = _fmt(r["measured"], r["unit"]) + (f'<br><span class=muted>{escape(r["measured_subject"])}</span>' if r.get("measured_subject") else "")
        h.append(f"<tr><td><a href='#{escape(r['id'])}'>{escape(r['id'])}</a></td><td>{escape(r['title'])}<br><span class=muted>{escape(r['source'])}</span></td><td>{limit}</td><td>{worst}</td><td>{_badge(r['verdict'])}</td></tr>")
    h.append("</table>")
    for r in ordered:
        if r["verdict"] == "not-tested":
            continue
        h.append(f"<h2 id='{escape(r['id'])}'>{escape(r['id'])}: {escape(r['title'])} {_badge(r['verdict'])}</h2><p>{escape(r['text'])}</p><p class=muted>Source: {escape(r['source'])}</p>")
        for msg in r["messages"]:
            h.append(f"<pre>{escape(msg)}</pre>")
        h.append("<table><tr><th>Device</th><th>Measurement</th><th>Value</th><th>Limit</th><th>Verdict</th></tr>")
        for m in r["measurements"]:
            lim = f"{escape(str(m['comparator']))} {_fmt(m['limit'], m['unit'])}" if m["comparator"] else "&ndash;"
            note = f"<br><span class=muted>{escape(m['note'])}</span>" if m.get("note") else ""
            h.append(f"<tr><td>{escape(m['subject'])}</td><td>{escape(m['name'])}{note}</td><td>{_fmt(m['value'], m['unit'])}</td><td>{lim}</td><td>{_badge(m['verdict'])}</td></tr>")
        h.append("</table>")
    nt = [r["id"] for r in report["requirements"] if r["verdict"] == "not-tested"]
    if nt:
        h.append(f"<h2>Not tested in this run</h2><p>{escape(', '.join(nt))}: in the catalogue, no test in this suite measures them yet.</p>")
    h.append("</body></html>")
    return "\n".join(h)


def write_report_html(report: dict, out_dir: Path) -> Path:
    path = out_dir / "report.html"
    path.write_text(render_html(report))
    return path
