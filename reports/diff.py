"""Compare two runs' report.json (e.g. before and after a firmware update): verdict changes
per requirement and per measurement, measured-value changes, system-under-test changes."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from reports.build import READABLE_SCHEMAS, device_key

BAD = ("fail", "error")


class ReportInputError(ValueError):
    """A run directory or report.json that cannot be compared (the message names it)."""


def load_report(arg: str) -> tuple[dict, Path]:
    """A run directory (its report.json) or a report.json path."""
    path = Path(arg)
    if path.is_dir():
        path = path / "report.json"
        if not path.exists():
            raise ReportInputError(f"{arg}: no report.json in this directory (is it a 'bwc run' output directory?)")
    elif not path.exists():
        raise ReportInputError(f"{arg}: no such run directory or report.json")
    try:
        doc = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportInputError(f"{path}: cannot read: {exc}") from None
    except ValueError as exc:
        raise ReportInputError(f"{path}: not valid JSON ({exc})") from None
    except RecursionError:
        raise ReportInputError(f"{path}: not valid JSON (nested too deeply)") from None
    if not isinstance(doc, dict) or doc.get("schema") not in READABLE_SCHEMAS:
        schema = doc.get("schema") if isinstance(doc, dict) else None
        raise ReportInputError(f"{path}: schema {schema!r} is not a bwc report ({' or '.join(READABLE_SCHEMAS)})")
    if not isinstance(doc.get("requirements"), list):
        raise ReportInputError(f"{path}: has no requirements list")
    return doc, path


def verdict_change(a: str | None, b: str | None) -> str:
    """regressed | improved | changed | same (a, b: pass|marginal|fail|error|not-tested|info|None).
    pass <-> marginal is a change, not a regression: both pass."""
    if a == b:
        return "same"
    if b in BAD and a in ("pass", "marginal", "not-tested", "info", None):
        return "regressed"
    if a in ("pass", "marginal") and b in ("not-tested", None):
        return "regressed"  # no longer measured
    if a in BAD and b in ("pass", "marginal"):
        return "improved"
    if a in ("not-tested", None) and b in ("pass", "marginal"):
        return "improved"
    if a in ("pass", "marginal") and b == "exposed":
        return "regressed"  # an attack that did not work now does
    if a == "exposed" and b in ("pass", "marginal"):
        return "improved"
    return "changed"


def _numeric(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def value_direction(a: object, b: object, comparator: str | None) -> str:
    """worse | better | changed | same, against the limit's comparator."""
    if a == b:
        return "same"
    if _numeric(a) and _numeric(b) and comparator in (">=", "<="):
        up = b > a  # type: ignore[operator]
        return ("better" if up else "worse") if comparator == ">=" else ("worse" if up else "better")
    return "changed"


@dataclass
class Change:
    requirement: str
    subject: str  # device label (or "" for the requirement itself)
    what: str  # measurement name, or "verdict"
    a: object
    b: object
    kind: str  # regressed | improved | changed | worse | better | added | removed
    unit: str = ""
    limit: str = ""


@dataclass
class RunDiff:
    a: dict
    b: dict
    requirements: list[Change] = field(default_factory=list)
    measurements: list[Change] = field(default_factory=list)
    devices: list[Change] = field(default_factory=list)
    context: list[str] = field(default_factory=list)

    @property
    def regressions(self) -> list[Change]:
        return [c for c in self.requirements + self.measurements if c.kind == "regressed"]

    @property
    def improvements(self) -> list[Change]:
        return [c for c in self.requirements + self.measurements if c.kind == "improved"]

    def to_json(self) -> dict:
        return {"a": self.a, "b": self.b, "regressed": bool(self.regressions),
                "requirements": [asdict(c) for c in self.requirements], "measurements": [asdict(c) for c in self.measurements],
                "devices": [asdict(c) for c in self.devices], "context": self.context}


def _label(m: dict) -> str:
    """'BWC-A X6BWC00A1' -> 'BWC-A', 'DVR-CAR-A F3DVR00A1 rear' -> 'DVR-CAR-A rear': match
    devices by their role in the scene, not serial, so a unit swapped between runs is still
    compared."""
    return device_key(m)


def _measurements(req: dict) -> dict[tuple[str, str], dict]:
    out: dict[tuple[str, str], dict] = {}
    for m in req.get("measurements", []):
        key = (_label(m), m.get("name", ""))
        n = 2
        while key in out:  # the same check twice on one device: keep both, in order
            key = (_label(m), f"{m.get('name', '')} #{n}")
            n += 1
        out[key] = m
    return out


def _limit(m: dict) -> str:
    if not m.get("comparator"):
        return ""
    return f"{m['comparator']} {_v(m.get('limit'), '')}"


def _ident(report: dict, path: Path) -> dict:
    run, h = report.get("run", {}), report.get("harness", {})
    return {"path": str(path), "profile": run.get("profile"), "seed": run.get("seed"), "target": run.get("target"),
            "generated_utc": report.get("generated_utc"), "harness": f"{h.get('version')} ({h.get('git_revision')})",
            "overall": report.get("summary", {}).get("overall")}


def diff_reports(a: dict, b: dict, a_path: Path = Path("A"), b_path: Path = Path("B")) -> RunDiff:
    d = RunDiff(_ident(a, a_path), _ident(b, b_path))
    ra = {r["id"]: r for r in a["requirements"]}
    rb = {r["id"]: r for r in b["requirements"]}
    for rid in list(ra) + [i for i in rb if i not in ra]:
        x, y = ra.get(rid, {}), rb.get(rid, {})
        kind = verdict_change(x.get("verdict"), y.get("verdict"))
        if kind != "same":
            d.requirements.append(Change(rid, "", "verdict", x.get("verdict"), y.get("verdict"), kind))
        ma, mb = _measurements(x), _measurements(y)
        for key in list(ma) + [k for k in mb if k not in ma]:
            m, n = ma.get(key), mb.get(key)
            if m is None or n is None:
                present = n or m or {}
                d.measurements.append(Change(rid, key[0], key[1], m and m.get("value"), n and n.get("value"), "added" if m is None else "removed",
                                             present.get("unit", ""), _limit(present)))
                continue
            vkind = verdict_change(m.get("verdict"), n.get("verdict"))
            if vkind == "same":
                vkind = value_direction(m.get("value"), n.get("value"), n.get("comparator"))
            if vkind != "same":
                d.measurements.append(Change(rid, key[0], key[1], m.get("value"), n.get("value"), vkind, n.get("unit", ""), _limit(n)))
    da = {x.get("label"): x for x in a.get("system_under_test", [])}
    db = {x.get("label"): x for x in b.get("system_under_test", [])}
    for label in list(da) + [k for k in db if k not in da]:
        x, y = da.get(label), db.get(label)
        if x is None or y is None:
            d.devices.append(Change("", label, "device", x and x.get("serial"), y and y.get("serial"), "added" if x is None else "removed"))
            continue
        for f in ("vendor", "model", "firmware", "serial"):
            if x.get(f) != y.get(f):
                d.devices.append(Change("", label, f, x.get(f), y.get(f), "changed"))
    for k in ("profile", "seed", "target"):
        if d.a[k] != d.b[k]:
            d.context.append(f"{k}: {d.a[k]} -> {d.b[k]}")
    if d.a["harness"] != d.b["harness"]:
        d.context.append(f"harness: {d.a['harness']} -> {d.b['harness']} (a harness change can change measurements too)")
    return d


def _v(value: object, unit: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:g} {unit}".strip() if isinstance(value, float) else f"{value} {unit}".strip()


def render_text(d: RunDiff) -> str:
    lines = [f"A: {d.a['path']}  profile {d.a['profile']}, seed {d.a['seed']}, {d.a['generated_utc']}, overall {d.a['overall']}",
             f"B: {d.b['path']}  profile {d.b['profile']}, seed {d.b['seed']}, {d.b['generated_utc']}, overall {d.b['overall']}"]
    lines += [f"   differs: {c}" for c in d.context]
    if d.devices:
        lines.append("\nSystem under test")
        grouped: dict[tuple, list[str]] = {}
        for c in d.devices:
            grouped.setdefault((c.what, _v(c.a, ""), _v(c.b, "")), []).append(c.subject)
        for (what, a, b), who in grouped.items():
            lines.append(f"  {what:<9} {a} -> {b}   ({', '.join(who)})")
    lines.append("\nRequirements")
    if d.requirements:
        lines += [f"  {c.kind.upper():<10} {c.requirement:<9} {c.a} -> {c.b}" for c in d.requirements]
    else:
        lines.append("  no verdict changed")
    order = {"regressed": 0, "improved": 1, "worse": 2, "better": 3, "changed": 4, "added": 5, "removed": 6}
    if d.measurements:
        lines.append("\nMeasurements (A -> B)")
        for c in sorted(d.measurements, key=lambda c: order.get(c.kind, 9)):
            lim = f"  [limit {c.limit} {c.unit}]".rstrip() if c.limit else ""
            lines.append(f"  {c.kind.upper():<10} {c.requirement:<9} {c.subject:<11} {c.what}: {_v(c.a, c.unit)} -> {_v(c.b, c.unit)}{lim}")
    reg_r = [c.requirement for c in d.requirements if c.kind == "regressed"]
    imp_r = [c.requirement for c in d.requirements if c.kind == "improved"]
    reg_m = sum(1 for c in d.measurements if c.kind == "regressed")
    imp_m = sum(1 for c in d.measurements if c.kind == "improved")
    drift = sum(1 for c in d.measurements if c.kind in ("worse", "better"))
    head = "REGRESSED" if d.regressions else "no regression"
    lines.append(f"\n{head}: requirements regressed {len(reg_r)}{_ids(reg_r)}, improved {len(imp_r)}{_ids(imp_r)}; "
                 f"measurements regressed {reg_m}, improved {imp_m}, moved within their verdict {drift}")
    return "\n".join(lines)


def _ids(ids: list[str]) -> str:
    return f" ({', '.join(ids)})" if ids else ""
