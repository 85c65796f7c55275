"""A conformance matrix merged into one document: matrix.json (every cell's verdict per
requirement, where it ran, what was expected of the profile) and matrix.html (one table, a row
per cell, a column per requirement). A cell whose run did not finish, wrote no report or was
not run at all is never a PASS: the matrix overall is then "incomplete"."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from html import escape
from pathlib import Path

from reports.html import CSS

MATRIX_SCHEMA = "bwc-matrix/1"


def cell_summary(name: str, profile: str, seed: int, folder: Path, outcome: dict | None, expected: list[str] | None,
                 harness: dict | None = None) -> dict:
    """One cell as the matrix reports it, from its own report.json (its verdicts are the run's,
    not re-judged); ``outcome`` is run_cell's answer without the archive (None: not run). A cell
    that ran on another harness version or revision than ``harness`` (a worker installed apart)
    is an error: its verdicts are kept, but it is not part of one measurement."""
    row: dict = {"cell": name, "profile": profile, "seed": seed, "folder": f"cells/{name}", "expected_failures": expected,
                 "exit_code": None, "overall": "not-run", "requirements": {}, "why": "", "wall_s": None, "host": None, "pid": None, "harness": None}
    if outcome is None:
        row["why"] = "the matrix stopped before this cell ran"
        return row
    row.update(exit_code=outcome["exit_code"], wall_s=outcome["wall_s"], host=outcome["host"], pid=outcome.get("pid"))
    try:
        report = json.loads((folder / "report.json").read_text())
        row["requirements"] = {r["id"]: r["verdict"] for r in report["requirements"]}
        row["overall"] = report["summary"]["overall"]
        ran_on = {k: report["harness"].get(k) for k in ("version", "git_revision")}
        row["harness"] = ran_on
        if harness is not None and ran_on != harness:
            row["overall"] = "error"
            row["why"] = f"ran on bwc-harness {ran_on['version']} {ran_on['git_revision']}, the matrix on {harness['version']} {harness['git_revision']}"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        row["overall"] = "error"
        last = (outcome.get("stderr") or "").strip().splitlines()[-1:] or [f"no report.json ({type(exc).__name__})"]
        row["why"] = f"the cell's run wrote no readable report (exit {outcome['exit_code']}): {last[0]}"
    return row


def matrix_document(rows: list[dict], started_utc: str, wall_s: float, cluster: str, interrupted: bool) -> dict:
    """Rows in a fixed order (profile as given, then seed), whatever order the workers finished."""
    counts = {v: sum(1 for r in rows if r["overall"] == v) for v in ("pass", "marginal", "fail", "error", "incomplete", "not-run", "not-tested")}
    overall = ("incomplete" if interrupted or counts["incomplete"] or counts["not-run"] else "error" if counts["error"]
               else "fail" if counts["fail"] else "marginal" if counts["marginal"] else "pass")
    return {"schema": MATRIX_SCHEMA, "started_utc": started_utc, "wall_s": round(wall_s, 1), "cluster": cluster,
            "summary": {"cells": len(rows), **counts, "overall": overall, "interrupted": interrupted},
            "seed_disagreements": seed_disagreements(rows), "cells": rows}


def seed_disagreements(rows: list[dict]) -> list[dict]:
    """Requirements whose verdict on one profile changed with the RF seed: a device (or a check)
    whose verdict depends on luck, for a person to look at."""
    by_profile: dict[str, list[dict]] = {}
    for r in rows:
        if r["requirements"]:
            by_profile.setdefault(r["profile"], []).append(r)
    out = []
    for profile, cells in by_profile.items():
        for req in sorted({k for c in cells for k in c["requirements"]}):
            verdicts = {str(c["seed"]): c["requirements"].get(req) for c in cells}
            if len(set(verdicts.values())) > 1:
                out.append({"profile": profile, "requirement": req, "verdicts_by_seed": verdicts})
    return out


def write_matrix(out: Path, doc: dict) -> None:
    (out / "matrix.json").write_text(json.dumps(doc, indent=1) + "\n")
    (out / "matrix.html").write_text(render_html(doc))


def render_html(doc: dict) -> str:
    rows = doc["cells"]
    reqs = sorted({k for r in rows for k, v in r["requirements"].items() if v != "not-tested"})
    s = doc["summary"]
    head = "".join(f"<th>{escape(k)}</th>" for k in reqs)
    body = []
    for r in rows:
        cells = "".join(_verdict(r["requirements"].get(k, "")) for k in reqs)
        expected = ", ".join(r["expected_failures"] or []) or "none"
        link = f'<a href="{escape(r["folder"])}/report.html">{escape(r["cell"])}</a>' if r["requirements"] else escape(r["cell"])
        why = f'<div class="muted">{escape(r["why"])}</div>' if r["why"] else ""
        wall = "" if r["wall_s"] is None else f"{r['wall_s']:.1f} s"
        body.append(f"<tr><td>{link}{why}</td><td>{escape(expected)}</td>{_verdict(r['overall'])}{cells}"
                    f"<td class=num>{wall}</td><td>{escape(str(r['host'] or ''))}</td></tr>")
    flaky = "".join(f"<li>{escape(d['profile'])} {escape(d['requirement'])}: "
                    + ", ".join(f"seed {k} {escape(str(v))}" for k, v in d["verdicts_by_seed"].items()) + "</li>" for d in doc["seed_disagreements"])
    generated = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>bwc conformance matrix</title><style>{CSS}</style></head><body>
<div class="kicker">bwc-harness conformance matrix</div><h1>{s['cells']} cells: {_badge(s['overall'])}</h1>
<p class="muted">started {escape(doc['started_utc'])}, {doc['wall_s']} s wall on {escape(doc['cluster'])}; written {generated}.
Each cell is a whole signed run (its folder, <code>bwc verify</code>); <code>bwc diff cells/A cells/B</code> compares two.</p>
<p>{', '.join(f"{v} {k}" for k, v in s.items() if k not in ('cells', 'overall', 'interrupted') and v)}</p>
<table><tr><th>cell</th><th>declared to fail</th><th>overall</th>{head}<th>wall</th><th>worker</th></tr>
{''.join(body)}</table>
<h2>Verdicts that changed with the RF seed</h2>{f'<ul>{flaky}</ul>' if flaky else '<p>none</p>'}
</body></html>
"""


def _badge(v: str) -> str:
    return f'<span class="v {escape(v)}">{escape(v)}</span>'


def _verdict(v: str) -> str:
    return f"<td>{_badge(v)}</td>" if v else "<td></td>"
