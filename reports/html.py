"""report.html: self-contained (inline CSS and SVG, no scripts, no network) and printable:
the same HTML is rendered to report.pdf by WeasyPrint (print rules in CSS)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone
from html import escape
from pathlib import Path

from reports.build import NOT_MEASURED, decisive_text, describe_interruption, device_key, not_tested_by_reason, ordered_requirements
from reports.figures import requirement_figures
from reports.exposure import exposure_section

CSS = """
:root{--ink:#24292f;--muted:#57606a;--line:#d0d7de;--soft:#f6f8fa}
body{font-family:"DejaVu Sans","Liberation Sans",Arial,sans-serif;color:var(--ink);margin:2rem auto;max-width:62rem;padding:0 1rem;line-height:1.45;font-size:15px}
h1{font-size:1.7rem;margin:.2rem 0} h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:1px solid var(--line);padding-bottom:.3rem}
h3{font-size:1.02rem;margin:1.2rem 0 .4rem}
table{border-collapse:collapse;width:100%;font-size:.87rem;margin:.4rem 0} th,td{border:1px solid var(--line);padding:.3rem .45rem;text-align:left;vertical-align:top}
th{background:var(--soft)} td.num{text-align:right;white-space:nowrap} table.kv th{width:13rem}
.v{font-weight:700;text-transform:uppercase;font-size:.75rem;padding:.1rem .4rem;border-radius:.3rem;white-space:nowrap}
.pass{background:#dafbe1;color:#1a7f37} .fail{background:#ffebe9;color:#cf222e} .error{background:#fff8c5;color:#7d4e00}
.not-tested{background:#eaeef2;color:#57606a} .marginal{background:#fff1e5;color:#bc4c00} .info{background:#ddf4ff;color:#0969da}
.exposed{background:#fbefff;color:#8250df}
.incomplete{background:#ffd8b5;color:#762c00;border:2px solid #bc4c00}
.banner{padding:.8rem 1rem;border-radius:.5rem;margin:1rem 0;font-size:1.1rem}
.muted{color:var(--muted);font-size:.85em} .small{font-size:.85em}
code,.mono{font-family:"DejaVu Sans Mono","Liberation Mono",monospace;font-size:.86em}
.hash{font-family:"DejaVu Sans Mono","Liberation Mono",monospace;font-size:.72rem;word-break:break-all}
table.manifest tr.dir td{background:var(--soft);font-weight:600;font-size:.8em;word-break:break-all}
table.manifest td{padding-top:.15rem;padding-bottom:.15rem}
td.sha{font-family:"DejaVu Sans Mono","Liberation Mono",monospace;font-size:.72rem;white-space:nowrap}
.path{word-break:break-all}
.kicker{text-transform:uppercase;letter-spacing:.08em;color:var(--muted);font-size:.8rem;margin-top:1rem}
.agency{font-size:1.2rem;margin:.2rem 0 .8rem}
.counts{display:flex;gap:.6rem;margin:.8rem 0} .counts div{flex:1;border-radius:.4rem;padding:.5rem .7rem;text-align:center}
.counts b{display:block;font-size:1.6rem}
figure{margin:1rem 0;break-inside:avoid;page-break-inside:avoid} figcaption{color:var(--muted);font-size:.82rem;margin-top:.3rem;max-width:46rem}
svg{max-width:100%;height:auto}
pre.msg{white-space:pre-wrap;word-break:break-word;background:#fff8f7;border:1px solid #ffcecb;padding:.5rem;font-size:.8rem;border-radius:.3rem}
ul.attention li{margin:.35rem 0}
.runline{color:var(--muted);font-size:.85rem} @media screen{.runline{display:none}}
@page{size:Letter;margin:16mm 15mm 18mm 15mm;
  @bottom-left{content:string(runline);font-size:7.5pt;color:#57606a;font-family:"DejaVu Sans",sans-serif}
  @bottom-right{content:"page " counter(page) " of " counter(pages);font-size:7.5pt;color:#57606a;font-family:"DejaVu Sans",sans-serif}}
@media print{
  body{margin:0;max-width:none;padding:0;font-size:9.6pt}
  .runline{string-set:runline content()}
  .cover{break-after:page}
  #matrix,#provenance,#manifest{break-before:page}
  section.req{margin-top:1.6em}
  .req-head{break-inside:avoid;page-break-inside:avoid}
  h2,h3{break-after:avoid;page-break-after:avoid}
  tr,.banner,.counts,pre.msg{break-inside:avoid;page-break-inside:avoid}
  thead{display:table-header-group}
  table{font-size:8.4pt} th,td{padding:2.5pt 4pt}
  .hash,td.sha{font-size:6.6pt}
  table.manifest td{padding-top:1pt;padding-bottom:1pt}
  a{color:inherit;text-decoration:none}
}
"""

VERDICT_WORDS = {"pass": "passed", "marginal": "passed at the margin", "fail": "failed", "error": "could not be measured", "not-tested": "not tested",
                 "exposed": "attack worked (informative)"}


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


def _cmp(comparator: str | None) -> str:
    return {">=": "&ge;", "<=": "&le;", "==": "="}.get(comparator or "", escape(comparator or ""))


def _limit(r: dict) -> str:
    if r.get("limit") is None or r.get("comparator") is None:
        return "&ndash;"
    return f"{_cmp(r['comparator'])} {_fmt(r['limit'], r.get('unit'))}"


def _measured(r: dict, block: bool) -> str:
    """The measurement that decided the verdict: its value, on which device, and what it was
    judged against (its own limit when not the catalogue's, or the fact it checks)."""
    d = r.get("decisive")
    if not d:
        return "&ndash;"
    value, against = decisive_text(r)
    notes = [escape(r["measured_subject"])] if r.get("measured_subject") else []
    if d.get("comparator") in (">=", "<=") and not isinstance(d.get("limit"), bool):
        if against != _plain_limit(r):
            notes.append(f"its limit {escape(against)}")
    elif against:
        notes.append(escape(against))
    if not notes:
        return escape(value)
    return escape(value) + (f'<br><span class="muted">{"; ".join(notes)}</span>' if block else f' &mdash; {"; ".join(notes)}')


def _plain_limit(r: dict) -> str:
    return f"{r['comparator']} {r['limit']:g} {r.get('unit') or ''}".strip() if r.get("limit") is not None and r.get("comparator") else ""


def _iso(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _date(generated_utc: str) -> str:
    try:
        return datetime.fromisoformat(generated_utc.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return generated_utc


def _given(value: str | None, option: str) -> str:
    return escape(value) if value else f'<span class="muted">not given (bwc run {escape(option)})</span>'


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def _scenarios(report: dict) -> str:
    scenarios = report.get("incident", {}).get("scenarios") or {}
    if not scenarios:
        return ""
    names = [f'{escape(name)} ({escape(str((sc.get("stats") or {}).get("simulated_s", "?")))} s)' for name, sc in scenarios.items() if isinstance(sc, dict)]
    return "; further scenarios: " + ", ".join(names)


def _cover(report: dict) -> list[str]:
    cover, run, s, h = report.get("cover", {}), report["run"], report["summary"], report["harness"]
    tested = s["pass"] + s.get("marginal", 0) + s["fail"] + s["error"] + s.get("exposed", 0)
    title = cover.get("project") or "Body-camera auto-activation conformance"
    runline = " · ".join(x for x in (cover.get("agency"), cover.get("project"), f"profile {run.get('profile')}", _date(report["generated_utc"])) if x)
    out = ['<header class="cover">', '<p class="kicker">Conformance report &middot; auto-activated body-worn cameras</p>',
           f"<h1>{escape(title)}</h1>", f'<p class="agency">{_given(cover.get("agency"), "--agency")}</p>',
           f'<p class="runline">{escape(runline)}</p>']
    overall = s["overall"]
    colour = overall if overall in ("pass", "marginal", "fail", "error", "incomplete") else "not-tested"
    stopped = ""
    if run.get("interrupted"):
        missed = len(s.get("not_measured", []))
        stopped = (f'<br>The run did not finish: {escape(describe_interruption(run["interrupted"]))}. '
                   + (f"{missed} requirement(s) scheduled for this run were not measured. " if missed else "")
                   + "What was measured is kept and signed; this report cannot show conformance.")
    exposed = f', {s["exposed"]} where an attack worked (informative)' if s.get("exposed") else ""
    out.append(f'<div class="banner {colour}"><b>Overall: {escape(overall.upper())}</b> &mdash; of {tested} requirements tested, '
               f'{s["pass"]} passed, {s.get("marginal", 0)} passed at the margin, {s["fail"]} failed, {s["error"]} could not be measured{exposed}; '
               f'{s["not-tested"]} more in the catalogue are not tested.{stopped}</div>')
    signing = report.get("signing", {})
    stim = run.get("stimulus", {})
    rows = [
        ("Date of the report", escape(_date(report["generated_utc"]))),
        ("Operator", _given(cover.get("operator"), "--operator")),
        ("Target and profile", f'{escape(str(run.get("target")))}, profile <b>{escape(str(run.get("profile")))}</b>, RF noise seed {escape(str(run.get("seed")))}'),
        ("Scene and stimulus", f'{escape(str(run.get("scene")))}: {escape(str(stim.get("stimulus_event")))} from CEW {escape(str(stim.get("stimulus_serial")))} '
                               f'at {escape(_iso(stim.get("stimulus_utc_ms")))} (scene clock){_scenarios(report)}'),
        ("Harness", f'{escape(h["name"])} {escape(h["version"])}, git revision <code>{escape(h["git_revision"])}</code>'),
        ("Signing key", f'<span class="hash">{escape(signing["key_fingerprint"])}</span> (Ed25519)' if signing else '<span class="muted">not signed yet</span>'),
    ]
    out.append('<table class="kv">' + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>")
    out.append("<h3>System under test</h3>")
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for d in report.get("system_under_test", []):
        groups[(d.get("role", ""), d.get("vendor", ""), d.get("model", ""), d.get("firmware", ""))].append(d)
    if groups:
        out.append("<table><thead><tr><th>Role</th><th>Vendor</th><th>Model</th><th>Firmware</th><th>Serial numbers (device)</th></tr></thead><tbody>")
        for (role, vendor, model, fw), devs in groups.items():
            serials = ", ".join(f'<code>{escape(d["serial"])}</code>&nbsp;({escape(d.get("label", ""))})' for d in devs)
            out.append(f"<tr><td>{escape(role.upper())}</td><td>{escape(vendor)}</td><td>{escape(model)}</td><td>{escape(fw)}</td><td>{serials}</td></tr>")
        out.append("</tbody></table>")
    else:
        out.append('<p class="muted">The target did not report a device inventory.</p>')
    out.append("</header>")
    return out


def _summary(report: dict) -> list[str]:
    s = report["summary"]
    reqs = ordered_requirements(report)
    out = ['<section id="summary"><h2>Executive summary</h2><div class="counts">']
    for v in ("fail", "error", "exposed", "marginal", "pass", "not-tested"):
        if v == "exposed" and not s.get(v):
            continue
        out.append(f'<div class="{v}"><b>{s.get(v, 0)}</b>{escape(VERDICT_WORDS[v])}</div>')
    out.append("</div>")
    attention = [r for r in reqs if r["verdict"] in ("fail", "error")]
    if attention:
        out.append("<h3>Requirements not met</h3><ul class=attention>")
        for r in attention:
            value, against = decisive_text(r)
            d = r.get("decisive") or {}
            worst = (f"{escape(d.get('name', ''))}: {escape(value)}" + (f" against {escape(against)}" if d.get("comparator") in (">=", "<=") else "")
                     if d else "no value against the limit")
            who = f' ({escape(r["measured_subject"])})' if r.get("measured_subject") else ""
            bad = [m for m in r["measurements"] if m["verdict"] in ("fail", "error")]
            devices = sorted({device_key(m) for m in bad})
            first = (f'{len(bad)} of {sum(1 for m in r["measurements"] if m["comparator"])} checks {VERDICT_WORDS[r["verdict"]]}, on {escape(", ".join(devices))}' if bad
                     else escape(r["messages"][0].strip().splitlines()[-1]) if r["messages"] else "")
            if r.get("why"):
                first = escape(r["why"]) + ("; " + first if first else "")
            if r.get("why") in NOT_MEASURED:
                worst = "not measured"
            out.append(f'<li>{_badge(r["verdict"])} <a href="#{escape(r["id"])}"><b>{escape(r["id"])}</b></a> {escape(r["title"])}: '
                       f'{worst}{who}.{"<br><span class=muted>" + first + "</span>" if first else ""}</li>')
        out.append("</ul>")
    else:
        out.append("<p>Every requirement this suite tests was met.</p>")
    exposed = [r for r in reqs if r["verdict"] == "exposed"]
    if exposed:
        out.append('<h3>Attacks that worked (informative under the procurement policy; see <a href="#exposure">Attack exposure</a>)</h3><ul>')
        for r in exposed:
            worked = sorted({m["subject"] for m in r["measurements"] if m["verdict"] == "exposed"})
            out.append(f'<li>{_badge("exposed")} <a href="#{escape(r["id"])}"><b>{escape(r["id"])}</b></a> {escape(r["title"])}: '
                       f'on {escape(", ".join(worked))}.</li>')
        out.append("</ul>")
    passed = [r for r in reqs if r["verdict"] in ("marginal", "pass")]
    if passed:
        out.append("<h3>Requirements met</h3><ul>")
        for r in passed:
            mark = f'{_badge("marginal")} ' if r["verdict"] == "marginal" else ""
            out.append(f'<li>{mark}<a href="#{escape(r["id"])}"><b>{escape(r["id"])}</b></a> {escape(r["title"])}: {_passed_line(r)}.</li>')
        out.append("</ul>")
    nt = not_tested_by_reason(report)
    if nt:
        listed = "; ".join(f'{why}: {", ".join(ids)}' for why, ids in nt.items())
        out.append(f'<p class="muted">Not tested ({sum(map(len, nt.values()))}): {escape(listed)}. They do not change the overall verdict.</p>')
    out.append("</section>")
    return out


def _passed_line(r: dict) -> str:
    d = r.get("decisive")
    if d is None or not isinstance(d.get("value"), (int, float)) or isinstance(d.get("value"), bool):
        checks = sum(1 for m in r["measurements"] if m["comparator"])
        return f"{checks} check(s) passed"
    return f"closest to its limit: {_measured(r, block=False)}"


def _matrix(report: dict) -> list[str]:
    out = ['<section id="matrix"><h2>Requirement matrix</h2>',
           "<table><thead><tr><th>Id</th><th>Requirement</th><th>Source</th><th>Limit</th><th>Measured (worst)</th><th>Verdict</th></tr></thead><tbody>"]
    for r in ordered_requirements(report):
        rid = f'<a href="#{escape(r["id"])}">{escape(r["id"])}</a>' if r["verdict"] != "not-tested" else escape(r["id"])
        text = f'<br><span class="muted">{escape(r["text"])}</span>' if r.get("text") and r["text"] != r["title"] else ""
        worst = _measured(r, block=True)
        out.append(f'<tr><td style="white-space:nowrap">{rid}</td><td><b>{escape(r["title"])}</b>{text}</td><td class="small">{escape(r["source"])}</td>'
                   f'<td style="white-space:nowrap">{_limit(r)}</td><td>{worst}</td><td>{_badge(r["verdict"])}{_why(r)}</td></tr>')
    out.append("</tbody></table></section>")
    return out


def _why(r: dict) -> str:
    return f'<br><span class="muted">{escape(r["why"])}</span>' if r.get("why") else ""


def _requirement(report: dict, r: dict, fig_no: list[int]) -> list[str]:
    out = [f'<section class="req" id="{escape(r["id"])}"><div class="req-head"><h2>{escape(r["id"])}: {escape(r["title"])} {_badge(r["verdict"])}</h2>',
           f'<p>{escape(r["text"])}</p>']
    rows = [("Source", escape(r["source"])), ("Limit", _limit(r)),
            ("Measured (worst)", _measured(r, block=False))]
    if r.get("method"):
        rows.insert(1, ("Method", escape(r["method"])))
    if r.get("why"):
        rows.insert(0, ("Verdict", f'{_badge(r["verdict"])} {escape(r["why"])}'))
    if r.get("tests"):
        rows.append(("Tests", "<br>".join(f"<code>{escape(t)}</code>" for t in r["tests"])))
    out.append('<table class="kv">' + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table></div>")
    for msg in r["messages"]:
        out.append(f'<pre class="msg">{escape(msg)}</pre>')
    for fig in requirement_figures(report, r):
        fig_no[0] += 1
        out.append(f"<figure>{fig.svg}<figcaption>Figure {fig_no[0]}. {escape(fig.caption)}</figcaption></figure>")
    out.append(f'<h3>Every measurement ({len(r["measurements"])})</h3>')
    out.append("<table><thead><tr><th>Device</th><th>Measurement</th><th>Value</th><th>Limit</th><th>Verdict</th></tr></thead><tbody>")
    for m in r["measurements"]:
        lim = _limit(m)
        note = f'<br><span class="muted">{escape(m["note"])}</span>' if m.get("note") else ""
        out.append(f'<tr><td style="white-space:nowrap">{escape(m["subject"])}</td><td>{escape(m["name"])}{note}</td><td class="num">{_fmt(m["value"], m["unit"])}</td>'
                   f'<td style="white-space:nowrap">{lim}</td><td>{_badge(m["verdict"])}</td></tr>')
    out.append("</tbody></table></section>")
    return out


def _provenance(report: dict) -> list[str]:
    p = report.get("provenance")
    h, run, cover = report["harness"], report["run"], report.get("cover", {})
    out = ['<section id="provenance"><h2>Environment and provenance</h2>']
    if not p:
        out.append(f'<p>{escape(h["name"])} {escape(h["version"])}, git <code>{escape(h["git_revision"])}</code>. '
                   '<span class="muted">Full provenance is added when the run is finalized (signed).</span></p></section>')
        return out
    git = p.get("git", {})
    tree = "clean" if not git.get("dirty") else (f'{len(git.get("changes", []))} uncommitted change(s); SHA-256 of <code>git diff HEAD</code>: '
                                                 f'<span class="hash">{escape(git.get("diff_sha256") or "-")}</span>')
    rows = [
        ("Command", f'<code>{escape(cover.get("command") or p.get("command") or "-")}</code>'),
        ("Harness", f'{escape(h["name"])} {escape(h["version"])}'),
        ("Git revision", f'<span class="hash">{escape(git.get("revision", "unknown"))}</span>'),
        ("Working tree", tree),
        ("Requirement catalogue", f'{escape(p.get("catalogue", {}).get("path", "-"))} <span class="hash">sha256 {escape(p.get("catalogue", {}).get("sha256", "-"))}</span>'),
        ("Host", escape(f'{p.get("hostname", "-")} ({p.get("platform", "-")})')),
        ("Python", escape(p.get("python", "-"))),
        ("Python packages", ", ".join(f"{escape(k)}&nbsp;{escape(v)}" for k, v in sorted(p.get("packages", {}).items()))),
        ("Tools", ", ".join(f"{escape(k)}: {escape(v)}" for k, v in sorted(p.get("tools", {}).items())) or "-"),
        ("Timing", escape("; ".join(f"{label} {run[key]} s" for key, label in (("simulated_s", "simulated"), ("incident_wall_s", "incident wall time"),
                                                                                ("suite_wall_s", "whole suite wall time")) if run.get(key) is not None))),
    ]
    out.append('<table class="kv">' + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>")
    if git.get("changes"):
        out.append('<p class="muted">Uncommitted: ' + escape(", ".join(git["changes"][:40])) + (" ..." if len(git["changes"]) > 40 else "") + "</p>")
    out.append("</section>")
    return out


def _manifest(report: dict) -> list[str]:
    artifacts = report.get("artifacts")
    signing = report.get("signing", {})
    out = ['<section id="manifest"><h2>Artifacts, SHA-256 manifest and signature</h2>']
    if not artifacts:
        out.append('<p class="muted">The artifact manifest is added when the run is finalized (signed).</p></section>')
        return out
    total = sum(a["size"] for a in artifacts)
    out.append(f"<p>Every file the run produced ({len(artifacts)} files, {_size(total)}), with its SHA-256. "
               "<code>manifest.json</code> lists these files and <code>report.json</code>, <code>report.html</code> and <code>report.pdf</code>; "
               "<code>signature.json</code> holds the Ed25519 signature over <code>manifest.json</code>"
               + (f' by the key <span class="hash">{escape(signing["key_fingerprint"])}</span>' if signing else "") + ".</p>")
    out.append("<p>To check that nothing was altered: <code>bwc verify RUN_DIR --key LAB_PUBLIC_KEY.pem</code> "
               "(and <code>--filed COPY.pdf</code> to check a filed copy of this PDF against the signed one). See docs/report.md.</p>")
    out.append('<table class="manifest"><thead><tr><th>File</th><th>Size</th><th>SHA-256</th></tr></thead><tbody>')
    folder = ""
    for a in sorted(artifacts, key=lambda a: (a["path"].count("/") > 0, a["path"])):
        parent, _, name = a["path"].rpartition("/")
        if parent != folder:
            folder = parent
            out.append(f'<tr class="dir"><td colspan="3">{escape(parent)}/</td></tr>')
        out.append(f'<tr><td class="path small">{escape(name)}</td><td class="num small">{_size(a["size"])}</td><td class="sha">{escape(a["sha256"])}</td></tr>')
    out.append("</tbody></table></section>")
    return out


def render_html(report: dict) -> str:
    run, cover = report["run"], report.get("cover", {})
    title = f'Conformance report - {cover.get("project") or "bwc-harness"} - {run.get("profile")}'
    h = [f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>',
         f'<meta name="author" content="{escape(cover.get("operator") or "")}">',
         f'<meta name="generator" content="{escape(report["harness"]["name"])} {escape(report["harness"]["version"])}">',
         f'<meta name="description" content="{escape(cover.get("agency") or "")} conformance report, schema {escape(report["schema"])}">',
         f'<meta name="dcterms.created" content="{escape(report["generated_utc"])}">',
         f"<style>{CSS}</style></head><body>"]
    h += _cover(report)
    h += _summary(report)
    h += exposure_section(report)
    h += _matrix(report)
    fig_no = [0]
    for r in ordered_requirements(report):
        if r["verdict"] != "not-tested":
            h += _requirement(report, r, fig_no)
    h += _provenance(report)
    h += _manifest(report)
    h.append("</body></html>")
    return "\n".join(h)


def write_report_html(report: dict, out_dir: Path) -> Path:
    path = out_dir / "report.html"
    path.write_text(render_html(report))
    return path
