"""Inline SVG figures for the report (no scripts, no external references): the incident map,
the activation timeline, measured-vs-limit bars and activation rate vs distance."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

GREEN = "#1a7f37"
RED = "#cf222e"
AMBER = "#9a6700"
GREY = "#8c959f"
BLUE = "#0969da"
PURPLE = "#8250df"
INK = "#24292f"
MUTED = "#57606a"
GRID = "#d0d7de"
CEW = "#bf8700"
FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"
SYMBOL = {">=": "≥", "<=": "≤", "==": "="}
VERDICT_COLOUR = {"pass": GREEN, "marginal": AMBER, "fail": RED, "error": AMBER, "info": BLUE, "exposed": PURPLE}


def _svg(width: float, height: float, label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'role="img" aria-label="{escape(label)}" font-family="{FONT}">')


def _text(x: float, y: float, s: str, size: float = 12, fill: str = INK, anchor: str = "start", weight: str = "normal") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" text-anchor="{anchor}" font-weight="{weight}">{escape(s)}</text>'


def _nice_step(span: float, target: int = 6) -> float:
    raw = span / max(1, target)
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


@dataclass(frozen=True)
class MapDevice:
    label: str
    x: float
    y: float
    role: str  # bwc | dvr
    activated: bool
    note: str = ""  # e.g. "+0.10 s"
    paired_with: str | None = None  # label of the BWC a DVR follows


def incident_map(devices: list[MapDevice], sources: list[tuple[str, float, float]], range_ft: float = 30.0, width: int = 680) -> str:
    """Top view in feet: a dashed circle of range_ft around every Signal source, devices
    coloured by whether they recorded after the event, DVRs linked to their paired BWC."""
    xs = [d.x for d in devices] + [x + s * range_ft for _n, x, _y in sources for s in (-1, 1)]
    ys = [d.y for d in devices] + [y + s * range_ft for _n, _x, y in sources for s in (-1, 1)]
    pad_x, pad_y = 40.0, 12.0
    x0, x1, y0, y1 = min(xs) - pad_x, max(xs) + pad_x, min(ys) - pad_y, max(ys) + pad_y
    scale = width / (x1 - x0)
    plot_h = min(620.0, (y1 - y0) * scale)
    scale = min(scale, plot_h / (y1 - y0))
    legend_h = 44
    height = plot_h + legend_h
    ox = (width - (x1 - x0) * scale) / 2

    def sx(x: float) -> float:
        return ox + (x - x0) * scale

    def sy(y: float) -> float:
        return plot_h - (y - y0) * scale

    parts = [_svg(width, height, "incident map"), f'<rect width="{width}" height="{plot_h:.0f}" fill="#f6f8fa" stroke="{GRID}"/>']
    step = 10
    for g in range(int(x0 // step) * step, int(x1) + step, step):
        if 0 <= sx(g) <= width:
            parts.append(f'<line x1="{sx(g):.1f}" y1="0" x2="{sx(g):.1f}" y2="{plot_h:.0f}" stroke="{GRID}" stroke-width="0.5"/>')
    for g in range(int(y0 // step) * step, int(y1) + step, step):
        if 0 <= sy(g) <= plot_h:
            parts.append(f'<line x1="0" y1="{sy(g):.1f}" x2="{width}" y2="{sy(g):.1f}" stroke="{GRID}" stroke-width="0.5"/>')
    pos = {d.label: (sx(d.x), sy(d.y)) for d in devices}
    for d in devices:
        if d.paired_with and d.paired_with in pos:
            (ax, ay), (bx, by) = pos[d.label], pos[d.paired_with]
            parts.append(f'<line x1="{ax:.1f}" y1="{ay:.1f}" x2="{bx:.1f}" y2="{by:.1f}" stroke="{GREY}" stroke-width="1" stroke-dasharray="2 3"/>')
    centre_x = sum(x for _n, x, _y in sources) / len(sources) if sources else 0.0
    for name, x, y in sources:
        r = range_ft * scale
        parts.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="{r:.1f}" fill="{BLUE}" fill-opacity="0.07" stroke="{BLUE}" stroke-width="1.5" stroke-dasharray="6 4"/>')
        parts.append(_text(sx(x), sy(y) + r + 14, f"{range_ft:g} ft from {name}", 11, BLUE, "middle"))
        parts.append(f'<path d="M{sx(x) - 7:.1f},{sy(y) + 15:.1f} l7,-12 l7,12 z" fill="{CEW}" stroke="white" stroke-width="1"/>')
    for d in devices:
        cx, cy = pos[d.label]
        colour = GREEN if d.activated else GREY
        if d.role == "dvr":
            parts.append(f'<rect x="{cx - 8:.1f}" y="{cy - 6:.1f}" width="16" height="12" rx="2" fill="{colour}" stroke="white"/>')
        else:
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="6.5" fill="{colour}" stroke="white"/>')
        state = d.note if d.activated else "no recording"
        text_w = 7.6 * len(d.label) + 6.4 * (len(state) + 1)  # DejaVu Sans at 12 px bold + 10.5 px
        left_side = d.x < centre_x - 1e-6
        if left_side and cx - 11 - text_w < 2:
            left_side = False
        elif not left_side and cx + 11 + text_w > width - 2:
            left_side = True
        anchor, tx = ("end", cx - 11) if left_side else ("start", cx + 11)
        label = (f'<tspan font-weight="bold">{escape(d.label)}</tspan> <tspan fill="{GREEN if d.activated else MUTED}" font-size="10.5">{escape(state)}</tspan>')
        parts.append(f'<text x="{tx:.1f}" y="{cy + 4:.1f}" font-size="12" fill="{INK}" text-anchor="{anchor}">{label}</text>')
    ly = plot_h + 16
    parts.append(f'<path d="M4,{ly + 4:.0f} l6,-10 l6,10 z" fill="{CEW}"/>' + _text(20, ly + 3, "Signal source (CEW)", 11, MUTED))
    parts.append(f'<circle cx="160" cy="{ly:.0f}" r="5.5" fill="{GREEN}"/>' + _text(170, ly + 4, "BWC recorded", 11, MUTED))
    parts.append(f'<circle cx="265" cy="{ly:.0f}" r="5.5" fill="{GREY}"/>' + _text(275, ly + 4, "BWC did not record", 11, MUTED))
    parts.append(f'<rect x="400" y="{ly - 5:.0f}" width="13" height="10" rx="2" fill="{GREEN}"/>' + _text(418, ly + 4, "cruiser DVR", 11, MUTED))
    parts.append(_text(4, ly + 22, "Grid 10 ft. Dotted line: a DVR and its officer's BWC. Time: first 'recording started' after the event.", 10.5, MUTED))
    parts.append("</svg>")
    return "".join(parts)


def timeline(rows: list[dict], *, before_s: float = 35.0, after_s: float = 35.0, width: int = 720, limit_s: float = 30.0) -> str:
    """rows: {label, start_s, trigger_s, stop_s} in seconds relative to the stimulus
    (trigger_s None = no incident clip). Light bar: pre-event video in the clip; dark bar:
    recording after activation."""
    left, right, row_h, top = 110, 16, 24, 30
    height = top + row_h * len(rows) + 44
    span = before_s + after_s
    scale = (width - left - right) / span

    def x(t: float) -> float:
        return left + (max(-before_s, min(after_s, t)) + before_s) * scale

    axis_y = top + row_h * len(rows) + 4
    parts = [_svg(width, height, "activation timeline")]
    for t in range(-int(before_s) // 10 * 10, int(after_s) + 1, 10):
        parts.append(f'<line x1="{x(t):.1f}" y1="{top - 4}" x2="{x(t):.1f}" y2="{axis_y}" stroke="{GRID}"/>')
        parts.append(_text(x(t), axis_y + 14, f"{t:+d} s" if t else "0 s", 11, MUTED, "middle"))
    parts.append(f'<line x1="{x(-limit_s):.1f}" y1="{top - 6}" x2="{x(-limit_s):.1f}" y2="{axis_y}" stroke="{BLUE}" stroke-width="1.5" stroke-dasharray="5 3"/>')
    parts.append(_text(x(-limit_s) - 4, top - 10, f"{limit_s:g} s before", 11, BLUE, "end"))
    parts.append(f'<line x1="{x(0):.1f}" y1="{top - 6}" x2="{x(0):.1f}" y2="{axis_y}" stroke="{CEW}" stroke-width="2"/>')
    parts.append(_text(x(0) + 4, top - 10, "CEW event", 11, CEW))
    for i, row in enumerate(rows):
        y = top + i * row_h
        parts.append(_text(left - 8, y + 15, row["label"], 12, INK, "end"))
        if row.get("trigger_s") is None:
            parts.append(_text(x(0) + 6, y + 15, "no recording", 11, GREY))
            continue
        act = row["trigger_s"]
        start = row["start_s"] if row.get("start_s") is not None else act
        end = row["stop_s"] if row.get("stop_s") is not None else after_s
        parts.append(f'<rect x="{x(start):.1f}" y="{y + 4}" width="{max(1.0, x(act) - x(start)):.1f}" height="16" fill="{GREEN}" fill-opacity="0.35"/>')
        parts.append(f'<rect x="{x(act):.1f}" y="{y + 4}" width="{max(1.0, x(end) - x(act)):.1f}" height="16" fill="{GREEN}"/>')
        if start < -before_s:
            parts.append(_text(left + 2, y + 16, "◀", 10, GREEN))
    ly = axis_y + 32
    parts.append(f'<rect x="{left}" y="{ly - 9}" width="14" height="10" fill="{GREEN}" fill-opacity="0.35"/>' + _text(left + 19, ly, "pre-event video in the clip", 11, MUTED))
    parts.append(f'<rect x="{left + 210}" y="{ly - 9}" width="14" height="10" fill="{GREEN}"/>' + _text(left + 229, ly, "recording after activation", 11, MUTED))
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    verdict: str  # pass | fail | error | info


def limit_bars(bars: list[Bar], *, limit: float, comparator: str, unit: str, title: str, width: int = 720) -> str:
    """One horizontal bar per device with the limit drawn as a line; failing bars red.
    Long labels go above their bar instead of beside it."""
    longest = max((len(b.label) for b in bars), default=0)
    above = longest > 34
    left = 12 if above else max(70, min(280, int(longest * 7.6) + 16))
    right, top = 70, 34
    row_h = 38 if above else 24
    height = top + row_h * len(bars) + 30
    values = [b.value for b in bars if b.value is not None]
    vmax = max([limit * 1.25] + [v * 1.1 for v in values]) or 1.0
    scale = (width - left - right) / vmax

    def x(v: float) -> float:
        return left + max(0.0, v) * scale

    axis_y = top + row_h * len(bars)
    parts = [_svg(width, height, title), _text(0, 14, title, 12, INK, "start", "bold")]
    step = _nice_step(vmax)
    t = 0.0
    while t <= vmax + 1e-9:
        parts.append(f'<line x1="{x(t):.1f}" y1="{top - 4}" x2="{x(t):.1f}" y2="{axis_y}" stroke="{GRID}"/>')
        parts.append(_text(x(t), axis_y + 14, f"{t:g} {unit}".strip(), 10.5, MUTED, "middle"))
        t += step
    for i, b in enumerate(bars):
        y = top + i * row_h + (14 if above else 0)
        if above:
            parts.append(_text(left, y - 1, b.label, 11.5, INK))
        else:
            parts.append(_text(left - 8, y + 15, b.label, 12, INK, "end"))
        if b.value is None:
            parts.append(_text(left + 4, y + 15, "not measured", 11, AMBER))
            continue
        colour = VERDICT_COLOUR.get(b.verdict, GREY)
        parts.append(f'<rect x="{left}" y="{y + 4}" width="{max(1.0, x(b.value) - left):.1f}" height="16" fill="{colour}" fill-opacity="0.8"/>')
        parts.append(_text(x(b.value) + 5, y + 16, f"{b.value:g} {unit}".strip(), 11, colour if b.verdict == "fail" else INK))
    parts.append(f'<line x1="{x(limit):.1f}" y1="{top - 8}" x2="{x(limit):.1f}" y2="{axis_y + 2}" stroke="{BLUE}" stroke-width="2" stroke-dasharray="5 3"/>')
    parts.append(_text(x(limit), top - 11, f"limit {SYMBOL.get(comparator, comparator)} {limit:g} {unit}".strip(), 11, BLUE, "middle"))
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class RatePoint:
    distance_ft: float
    trials: int
    activations: int
    label: str = ""
    interval: tuple[float, float] | None = None  # confidence interval of the rate, drawn as a bar


def rate_vs_distance(points: list[RatePoint], *, range_ft: float = 30.0, required_rate: float = 1.0, sweep: bool,
                     width: int = 720, height: int = 300) -> str:
    """Activation rate (%) against distance from the Signal source with the requirement
    drawn: at least required_rate up to range_ft (shaded), the range limit dashed."""
    left, right, top, bottom = 56, 20, 40, 44 + (26 if sweep else 0)
    height += 26 if sweep else 0
    dmax = max([range_ft * 1.5] + [p.distance_ft * 1.08 for p in points])
    pw, ph = width - left - right, height - top - bottom

    def x(d: float) -> float:
        return left + d / dmax * pw

    def y(rate: float) -> float:
        return top + (1 - rate) * ph

    kind = (f"sweep: {min(p.trials for p in points)}-{max(p.trials for p in points)} trials per distance" if sweep and points
            else "single trial per camera (this run's scene)")
    if sweep and points and min(p.trials for p in points) == max(p.trials for p in points):
        kind = f"sweep: {points[0].trials} trials per distance"
    parts = [_svg(width, height, "activation rate vs distance"), _text(0, 14, f"Activation rate vs distance ({kind})", 12, INK, "start", "bold")]
    parts.append(f'<rect x="{left}" y="{top}" width="{x(range_ft) - left:.1f}" height="{ph}" fill="{BLUE}" fill-opacity="0.07"/>')
    for r in (0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<line x1="{left}" y1="{y(r):.1f}" x2="{left + pw}" y2="{y(r):.1f}" stroke="{GRID}"/>')
        parts.append(_text(left - 6, y(r) + 4, f"{r * 100:.0f} %", 10.5, MUTED, "end"))
    step = _nice_step(dmax)
    d = 0.0
    while d <= dmax + 1e-9:
        parts.append(_text(x(d), top + ph + 15, f"{d:g}", 10.5, MUTED, "middle"))
        d += step
    parts.append(_text(left + pw / 2, height - 6, "distance from the Signal source (ft)", 11, MUTED, "middle"))
    parts.append(f'<line x1="{left}" y1="{y(required_rate):.1f}" x2="{x(range_ft):.1f}" y2="{y(required_rate):.1f}" stroke="{BLUE}" stroke-width="2.5"/>')
    parts.append(f'<line x1="{x(range_ft):.1f}" y1="{top - 6}" x2="{x(range_ft):.1f}" y2="{top + ph}" stroke="{BLUE}" stroke-width="2" stroke-dasharray="6 4"/>')
    need = "every camera within {:g} ft activates" if required_rate >= 1.0 else f"≥ {required_rate * 100:g} % within {{:g}} ft activate"
    parts.append(_text(x(range_ft) + 5, top - 8, "limit: " + need.format(range_ft), 11, BLUE))
    pts = sorted(points, key=lambda p: p.distance_ft)
    if sweep and len(pts) > 1:
        path = " ".join(f"{'M' if i == 0 else 'L'}{x(p.distance_ft):.1f},{y(p.activations / max(1, p.trials)):.1f}" for i, p in enumerate(pts))
        parts.append(f'<path d="{path}" fill="none" stroke="{INK}" stroke-width="1.2"/>')
    last_x, last_row = -1e9, 1
    if sweep:
        parts.append(_text(left - 6, top + ph + 30, "n/N", 9.5, MUTED, "end"))
    for i, p in enumerate(pts):
        rate = p.activations / p.trials if p.trials else 0.0
        inside = p.distance_ft <= range_ft
        colour = RED if inside and rate < required_rate else GREEN if rate > 0 else GREY
        if p.interval is not None:
            lo, hi = p.interval
            parts.append(f'<line x1="{x(p.distance_ft):.1f}" y1="{y(lo):.1f}" x2="{x(p.distance_ft):.1f}" y2="{y(hi):.1f}" stroke="{colour}" stroke-width="1.5"/>')
            for v in (lo, hi):
                parts.append(f'<line x1="{x(p.distance_ft) - 3:.1f}" y1="{y(v):.1f}" x2="{x(p.distance_ft) + 3:.1f}" y2="{y(v):.1f}" stroke="{colour}" stroke-width="1.5"/>')
        parts.append(f'<circle cx="{x(p.distance_ft):.1f}" cy="{y(rate):.1f}" r="5" fill="{colour}" stroke="white"/>')
        label = p.label or (f"{p.activations}/{p.trials}" if sweep else "")
        if sweep:  # activations/trials in two staggered rows under the axis
            row = 0 if x(p.distance_ft) - last_x >= 6.0 * len(label) + 4 else 1 - last_row
            parts.append(_text(x(p.distance_ft), top + ph + 30 + 11 * row, label, 9.5, INK, "middle"))
            last_x, last_row = x(p.distance_ft), row
        elif label:
            dy = (18 if rate > 0.5 else -10) + (i % 2) * (12 if rate > 0.5 else -12)
            parts.append(_text(x(p.distance_ft), y(rate) + dy, label, 10.5, INK, "middle"))
    parts.append("</svg>")
    return "".join(parts)
