"""The report's "Attack exposure" section: every attack the suite tried, on which device, and
whether it worked, as a matrix figure (attacks x devices) and in plain words, with the
procurement policy that decided whether a working attack fails (conformance/policy.py)."""

from __future__ import annotations

from html import escape

from reports.svg import FONT, GREEN, GRID, INK, MUTED, PURPLE, RED

CELL, ROW_LABEL_W, HEAD_H, LABEL_CHARS = 26, 420, 110, 62


def exposure_matrix_svg(exposures: list[dict]) -> str:
    """Rows: requirement + attack; columns: devices; a cell per attempt: green (did not work),
    purple (worked, informative under the policy), red (worked, and the policy fails it)."""
    rows = sorted({(e["requirement"], e["attack"]) for e in exposures})
    cols = sorted({e["subject"] for e in exposures})
    cell = {(e["requirement"], e["attack"], e["subject"]): e for e in exposures}
    width, height = max(ROW_LABEL_W + CELL * len(cols) + 130, 640), HEAD_H + CELL * len(rows) + 34
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="attack exposure matrix" font-family="{FONT}">']
    for j, who in enumerate(cols):
        x = ROW_LABEL_W + CELL * j + CELL / 2
        out.append(f'<text x="{x:.0f}" y="{HEAD_H - 6}" font-size="10" fill="{INK}" transform="rotate(-50 {x:.0f} {HEAD_H - 6})">{escape(who[:32])}</text>')
    for i, (rid, attack) in enumerate(rows):
        y = HEAD_H + CELL * i
        label = f"{rid}: {attack}"
        label = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"
        out.append(f'<text x="{ROW_LABEL_W - 6}" y="{y + CELL / 2 + 4:.0f}" font-size="10" fill="{INK}" text-anchor="end">'
                   f'<title>{escape(rid)}: {escape(attack)}</title>{escape(label)}</text>')
        for j, who in enumerate(cols):
            e = cell.get((rid, attack, who))
            x = ROW_LABEL_W + CELL * j
            if e is None:
                out.append(f'<rect x="{x + 1}" y="{y + 1}" width="{CELL - 2}" height="{CELL - 2}" fill="white" stroke="{GRID}"/>')
                continue
            colour = GREEN if not e["worked"] else RED if e["verdict"] == "fail" else PURPLE
            mark = "✗" if e["worked"] else "✓"
            out.append(f'<rect x="{x + 1}" y="{y + 1}" width="{CELL - 2}" height="{CELL - 2}" rx="3" fill="{colour}"><title>{escape(who)}: '
                       f'{escape(attack)}: {"worked" if e["worked"] else "did not work"}</title></rect>'
                       f'<text x="{x + CELL / 2}" y="{y + CELL / 2 + 5}" font-size="13" fill="white" text-anchor="middle">{mark}</text>')
    y = HEAD_H + CELL * len(rows) + 20
    legend = ((GREEN, "✓ the attack did not work"), (PURPLE, "✗ it worked (informative)"), (RED, "✗ it worked: fails"))
    for k, (colour, text) in enumerate(legend):
        out.append(f'<rect x="{10 + 190 * k}" y="{y - 10}" width="12" height="12" fill="{colour}"/>'
                   f'<text x="{26 + 190 * k}" y="{y}" font-size="10.5" fill="{MUTED}">{escape(text)}</text>')
    out.append("</svg>")
    return "".join(out)


def exposure_section(report: dict) -> list[str]:
    exposures = report.get("exposures") or []
    policy = report.get("policy") or {}
    out = ['<section id="exposure"><h2>Attack exposure</h2>',
           f'<p>Procurement policy: <b>{escape(str(policy.get("name", "built-in catalogue")))}</b>'
           + (f' (<code>{escape(str(policy.get("file")))}</code>)' if policy.get("file") else "")
           + (f'; attacks that fail this procurement when they work: {escape(", ".join(policy["fail_exposures"]))}.' if policy.get("fail_exposures")
              else "; a working attack is reported here and does not change the verdict.") + "</p>"]
    if not exposures:
        out.append('<p class="muted">No attack was tried in this run.</p></section>')
        return out
    by_question: dict[tuple[str, str], list[dict]] = {}
    for e in exposures:
        by_question.setdefault((e["requirement"], e["attack"]), []).append(e)
    out.append("<ul>")
    for (rid, attack), es in sorted(by_question.items()):
        worked = [e["subject"] for e in es if e["worked"]]
        answer = (f'<b>worked</b> on {len(worked)} of {len(es)} device(s): {escape(", ".join(worked))}' if worked
                  else f"did not work on any of {len(es)} device(s)")
        kind = " <span class=muted>(informative exposure)</span>" if es[0].get("informative") else ""
        out.append(f'<li><a href="#{escape(rid)}"><b>{escape(rid)}</b></a> {escape(attack)}{kind}: {answer}.</li>')
    out.append("</ul>")
    out.append(f"<figure>{exposure_matrix_svg(exposures)}<figcaption>Which attack worked on which device. Each cell is one attempt "
               "measured from the evidence and the air (a recording that started, a recording that stopped), not from what the device "
               "reported.</figcaption></figure></section>")
    return out
