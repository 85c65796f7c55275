"""Which figures go with which requirement, built from report.json alone (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from reports.build import device_key
from reports.svg import SYMBOL, Bar, MapDevice, RatePoint, incident_map, limit_bars, rate_vs_distance, timeline


@dataclass(frozen=True)
class Figure:
    caption: str
    svg: str


def _numeric(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _label(m: dict) -> str:
    return device_key(m) or "?"


def _common_suffix(names: list[str]) -> str:
    """The words every name ends with ('CEW_ARC activation latency (...)' and
    'activation latency (...)' -> 'activation latency (...)')."""
    words = [n.split(" ") for n in names]
    out: list[str] = []
    for group in zip(*(reversed(w) for w in words)):
        if len(set(group)) != 1:
            break
        out.insert(0, group[0])
    return " ".join(out)


def measured_vs_limit(req: dict) -> list[Figure]:
    """One bar chart per limit (comparator, value, unit) with every numeric measurement held
    to it (e.g. pre-event coverage per camera, latency per camera), the limit drawn."""
    groups: dict[tuple, list[dict]] = {}
    for m in req.get("measurements", []):
        if m.get("comparator") in (">=", "<=") and _numeric(m.get("limit")) and (_numeric(m.get("value")) or m.get("value") is None):
            groups.setdefault((m["comparator"], float(m["limit"]), m.get("unit") or ""), []).append(m)
    figures = []
    for (comparator, limit, unit), ms in groups.items():
        names = [m["name"] for m in ms]
        common = _common_suffix(names)
        title = common[:1].upper() + common[1:] if common else f"Measured against {SYMBOL.get(comparator, comparator)} {limit:g} {unit}".strip()
        bars = []
        for m in ms:
            rest = m["name"][: len(m["name"]) - len(common)].strip() if common else m["name"]
            label = f"{_label(m)}: {rest}" if rest and not common else f"{_label(m)} {rest}".strip()
            bars.append(Bar(label, float(m["value"]) if m["value"] is not None else None, m["verdict"]))
        figures.append(Figure(f"{title}: {len(bars)} measured; limit {SYMBOL.get(comparator, comparator)} {limit:g} {unit}.".replace(" .", "."),
                              limit_bars(bars, limit=limit, comparator=comparator, unit=unit, title=title)))
    return figures


def _interval(k: int, n: int) -> tuple[float, float]:
    """Two-sided 95 % Clopper-Pearson interval (the suite's own binomial rule)."""
    from conformance.statistics import lower_bound, upper_bound

    return lower_bound(k, n, 0.975), upper_bound(k, n, 0.975)


def _required_rate(req: dict) -> float:
    """The rate the suite requires within range (a sweep's 'activation rate' limit), else
    1.0: every camera in range must activate."""
    for m in req.get("measurements", []):
        if m.get("name", "").startswith("activation rate") and m.get("comparator") == ">=" and _numeric(m.get("limit")) and not isinstance(m.get("limit"), bool):
            return float(m["limit"])
    return 1.0


def _rate_points(report: dict) -> tuple[list[RatePoint], bool]:
    incident = report.get("incident", {})
    sweep = incident.get("sweep")
    points = sweep.get("points", []) if isinstance(sweep, dict) else sweep  # bwc-results/1 kept the points list itself
    if points:
        return [RatePoint(float(s["distance_ft"]), int(s["trials"]), int(s["activations"]), interval=_interval(int(s["activations"]), int(s["trials"])))
                for s in points], True
    cams = [o for o in report.get("observations", []) if o["role"] == "bwc" and o.get("distance_ft") is not None]
    return [RatePoint(float(o["distance_ft"]), 1, int(o["activated"]), f"{o['label']}") for o in cams], False


def activation_figures(report: dict, req: dict) -> list[Figure]:
    incident = report.get("incident", {})
    range_ft = float(req.get("parameters", {}).get("range_ft", 30.0))
    obs = {o["label"]: o for o in report.get("observations", [])}
    figures = []
    positions = incident.get("positions") or {}
    if positions:
        devices = []
        for label, (x, y) in positions.items():
            o = obs.get(label, {})
            when = o.get("advert_s")
            if when is None and o.get("incident_clip"):
                when = o["incident_clip"].get("trigger_s")
            note = f"{when:+.2f} s" if when is not None else "recorded"
            devices.append(MapDevice(label, float(x), float(y), o.get("role", "dvr" if label.startswith("DVR") else "bwc"),
                                     bool(o.get("activated")), note, o.get("paired_label")))
        sx, sy = incident.get("source_position", (0.0, 0.0))
        source = report.get("run", {}).get("stimulus", {}).get("stimulus_serial") or "CEW"
        figures.append(Figure(
            f"Incident map: the dashed circle is {range_ft:g} ft around the Signal source (CEW {source}); green devices recorded after the event, "
            "with the time of their first 'recording started' advert relative to the event.",
            incident_map(devices, [("the CEW", float(sx), float(sy))], range_ft)))
    points, sweep = _rate_points(report)
    if points:
        need = _required_rate(req) if sweep else 1.0
        what = ("Repeated-trial sweep: activation rate per distance (activations/trials) with its two-sided 95 % Clopper-Pearson interval; "
                "the verdict uses the pooled in-range rate (see the measurements)" if sweep
                else "Single trial per camera in this run: 100 % = the camera activated, 0 % = it did not")
        figures.append(Figure(f"{what}. Blue: the requirement, at least {need * 100:g} % within {range_ft:g} ft.",
                              rate_vs_distance(points, range_ft=range_ft, required_rate=need, sweep=sweep)))
    return figures


def _timeline_rows(report: dict, roles: tuple[str, ...], paired_order: bool = False) -> list[dict]:
    obs = [o for o in report.get("observations", []) if o["role"] in roles]
    if paired_order:
        dvrs = {o["paired_label"]: o for o in obs if o["role"] == "dvr"}
        ordered = []
        for o in obs:
            if o["role"] == "bwc" and o["label"] in dvrs:
                ordered += [o, dvrs.pop(o["label"])]
        obs = ordered + list(dvrs.values())
    rows = []
    for o in obs:
        clip = o.get("incident_clip") or {}
        rows.append({"label": o["label"], "start_s": clip.get("start_s"), "trigger_s": clip.get("trigger_s"), "stop_s": clip.get("stop_s")})
    return rows


def _in_main_scene(report: dict, req: dict) -> bool:
    """The incident figures show the main scene: they go with a requirement that measured
    at least one main-scene device; one measured only in other scenarios (their own
    devices) gets only its measured-vs-limit charts."""
    labels = {o.get("label") for o in report.get("observations", [])}
    serials = {o.get("serial") for o in report.get("observations", [])}
    devices = [m["device"] for m in req.get("measurements", []) if m.get("device")]
    return any((d.get("serial") in serials) if d.get("serial") else (d.get("label") in labels) for d in devices)


def requirement_figures(report: dict, req: dict) -> list[Figure]:
    figures: list[Figure] = []
    if req.get("verdict") == "not-tested":
        return figures
    if not _in_main_scene(report, req):
        return measured_vs_limit(req)
    if "range_ft" in req.get("parameters", {}):
        figures += activation_figures(report, req)
    limit = req.get("limit")
    if req.get("family") == "Pre-event buffer":
        rows = _timeline_rows(report, ("bwc",))
        if rows:
            figures.append(Figure(f"Activation timeline per body camera, relative to the CEW event: the light part is the pre-event video found in the clip "
                                  f"(first decoded frame timecode), the dashed line {limit or 30:g} s before.", timeline(rows, limit_s=float(limit or 30))))
    if req.get("family") == "Dash-cam chaining":
        rows = _timeline_rows(report, ("bwc", "dvr"), paired_order=True)
        if rows:
            pre = float(req.get("parameters", {}).get("pre_event_s", 30.0))
            figures.append(Figure("Activation timeline of each cruiser DVR under its paired body camera, relative to the CEW event.",
                                  timeline(rows, limit_s=pre)))
    return figures + measured_vs_limit(req)
