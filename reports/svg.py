"""Inline SVG figures for the report: the incident map and the activation timeline."""

from __future__ import annotations

from html import escape

GREEN = "#1a7f37"
RED = "#cf222e"
GREY = "#8c959f"
BLUE = "#0969da"


def incident_map(positions: dict[str, tuple[float, float]], source: tuple[float, float], activated: dict[str, bool], range_ft: float = 30.0, size: int = 460) -> str:
    xs = [p[0] for p in positions.values()] + [source[0] - range_ft, source[0] + range_ft]
    ys = [p[1] for p in positions.values()] + [source[1] - range_ft, source[1] + range_ft]
    pad = 18.0
    x0, x1, y0, y1 = min(xs) - pad, max(xs) + pad, min(ys) - pad, max(ys) + pad
    span = max(x1 - x0, y1 - y0)
    scale = size / span

    def sx(x: float) -> float:
        return (x - x0) * scale

    def sy(y: float) -> float:
        return size - (y - y0) * scale

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}" role="img" aria-label="incident map">',
             f'<rect width="{size}" height="{size}" fill="#f6f8fa"/>']
    # 10 ft grid
    step = 10
    gx = int(x0 // step) * step
    while gx <= x1:
        parts.append(f'<line x1="{sx(gx):.1f}" y1="0" x2="{sx(gx):.1f}" y2="{size}" stroke="#d0d7de" stroke-width="0.5"/>')
        gx += step
    gy = int(y0 // step) * step
    while gy <= y1:
        parts.append(f'<line x1="0" y1="{sy(gy):.1f}" x2="{size}" y2="{sy(gy):.1f}" stroke="#d0d7de" stroke-width="0.5"/>')
        gy += step
    parts.append(f'<circle cx="{sx(source[0]):.1f}" cy="{sy(source[1]):.1f}" r="{range_ft * scale:.1f}" fill="{BLUE}" fill-opacity="0.08" stroke="{BLUE}" stroke-dasharray="6 4"/>')
    parts.append(f'<text x="{sx(source[0]) + range_ft * scale * 0.71 + 4:.1f}" y="{sy(source[1]) - range_ft * scale * 0.71:.1f}" font-size="11" fill="{BLUE}">{range_ft:g} ft</text>')
    parts.append(f'<path d="M{sx(source[0]) - 7:.1f},{sy(source[1]):.1f} l7,-12 l7,12 z" fill="#bf8700"/>')
    for name, (x, y) in positions.items():
        on = activated.get(name, False)
        color = GREEN if on else GREY
        cx, cy = sx(x), sy(y)
        if name.startswith("DVR"):
            parts.append(f'<rect x="{cx - 7:.1f}" y="{cy - 5:.1f}" width="14" height="10" rx="2" fill="{color}"/>')
        else:
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="6" fill="{color}"/>')
        state = "recording" if on else "idle"
        parts.append(f'<text x="{cx + 9:.1f}" y="{cy + 4:.1f}" font-size="12" fill="#24292f">{escape(name)} ({state})</text>')
    parts.append(f'<text x="6" y="{size - 6}" font-size="10" fill="#57606a">grid 10 ft; triangle = CEW; green = recording after the event</text>')
    parts.append("</svg>")
    return "".join(parts)


def timeline(rows: list[dict], *, before_s: float = 35.0, after_s: float = 35.0, width: int = 760) -> str:
    """rows: {label, start_s, activation_s, end_s} relative to the stimulus (None = no clip)."""
    left, right, row_h, top = 150, 20, 26, 24
    height = top + row_h * len(rows) + 30
    span = before_s + after_s
    scale = (width - left - right) / span

    def x(t: float) -> float:
        return left + (max(-before_s, min(after_s, t)) + before_s) * scale

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="activation timeline">']
    for t in range(-int(before_s) // 10 * 10, int(after_s) + 1, 10):
        parts.append(f'<line x1="{x(t):.1f}" y1="{top - 6}" x2="{x(t):.1f}" y2="{height - 24}" stroke="#d0d7de"/>')
        parts.append(f'<text x="{x(t):.1f}" y="{height - 8}" font-size="11" text-anchor="middle" fill="#57606a">{t:+d} s</text>')
    parts.append(f'<line x1="{x(0):.1f}" y1="{top - 10}" x2="{x(0):.1f}" y2="{height - 24}" stroke="#bf8700" stroke-width="2"/>')
    parts.append(f'<text x="{x(0) + 4:.1f}" y="{top - 12}" font-size="11" fill="#bf8700">CEW event</text>')
    parts.append(f'<line x1="{x(-30):.1f}" y1="{top - 6}" x2="{x(-30):.1f}" y2="{height - 24}" stroke="{BLUE}" stroke-dasharray="4 3"/>')
    parts.append(f'<text x="{x(-30) + 4:.1f}" y="{top - 12}" font-size="11" fill="{BLUE}">-30 s</text>')
    for i, row in enumerate(rows):
        y = top + i * row_h
        parts.append(f'<text x="{left - 8}" y="{y + 15}" font-size="12" text-anchor="end" fill="#24292f">{escape(row["label"])}</text>')
        if row.get("activation_s") is None:
            parts.append(f'<text x="{left + 4}" y="{y + 15}" font-size="11" fill="{GREY}">no recording</text>')
            continue
        start = row["start_s"] if row.get("start_s") is not None else row["activation_s"]
        act, end = row["activation_s"], row.get("end_s") or after_s
        parts.append(f'<rect x="{x(start):.1f}" y="{y + 4}" width="{max(1.0, x(act) - x(start)):.1f}" height="16" fill="{GREEN}" fill-opacity="0.35"/>')
        parts.append(f'<rect x="{x(act):.1f}" y="{y + 4}" width="{max(1.0, x(end) - x(act)):.1f}" height="16" fill="{GREEN}"/>')
    parts.append("</svg>")
    return "".join(parts)
