"""The report says what the run measured: report.json, report.html and report.pdf are
checked against results.json and the files on disk, not just for existence."""

from __future__ import annotations

import hashlib
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conformance.catalogue import load_catalogue
from reports.build import REPORT_SCHEMA
from reports.results import RunResults, requirement_verdict
from tests.conftest import require_tool
from tests.reports.conftest import COVER


class _Text(HTMLParser):
    """Visible text of an HTML page (no tags, no CSS), whitespace collapsed."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("style", "script")

    def handle_endtag(self, tag):
        self.skip -= tag in ("style", "script")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    p = _Text()
    p.feed(html)
    return " ".join(" ".join(p.parts).split())


def pdf_text(path: Path) -> str:
    require_tool("pdftotext")
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return out


def _fmt(v: float) -> str:
    return f"{v:g}"


def test_report_json_is_built_from_the_results(reference_run):
    report, results = reference_run.report(), RunResults.read(reference_run.dir / "results.json")
    assert report["schema"] == REPORT_SCHEMA
    assert [r["id"] for r in report["requirements"]][: len(load_catalogue())] == list(load_catalogue())
    for r in report["requirements"]:
        assert r["verdict"] == requirement_verdict(r["id"], results), r["id"]
        mine = [m.__dict__ for m in results.measurements if m.requirement == r["id"]]
        assert r["measurements"] == mine, r["id"]
        numbers = [m for m in results.measurements if m.requirement == r["id"] and m.comparator in (">=", "<=") and m.verdict in ("pass", "marginal")
                   and not isinstance(m.value, bool) and isinstance(m.value, (int, float))]
        if r["verdict"] == "pass" and numbers:  # the least margin to its own limit (relative), computed here independently
            worst = min(numbers, key=lambda m: (m.value - m.limit if m.comparator == ">=" else m.limit - m.value) / (abs(m.limit) or 1))
            assert (r["measured"], r["measured_subject"], r["measured_limit"]) == (worst.value, worst.subject, worst.limit), r["id"]
    counts = {v: sum(r["verdict"] == v for r in report["requirements"]) for v in ("pass", "fail", "error", "not-tested")}
    assert {k: report["summary"][k] for k in counts} == counts
    assert report["summary"]["overall"] == "pass" and reference_run.returncode == 0
    assert report["cover"]["agency"] == COVER["agency"] and report["cover"]["operator"] == COVER["operator"]
    serials = {d["serial"] for d in report["system_under_test"]}
    assert {d["serial"] for d in results.incident["devices"]} <= serials
    measured = {m.who.serial for m in results.measurements if m.who.device} - {None}
    assert measured and measured <= serials, "every measured device is on the cover"


def test_observations_match_the_evidence_and_measurements(reference_run):
    report, results = reference_run.report(), RunResults.read(reference_run.dir / "results.json")
    stim = results.incident["stimulus_utc_ms"]
    obs = {o["label"]: o for o in report["observations"]}
    for cam in results.incident["cameras"]:
        o = obs[f"BWC-{cam['label']}"]
        assert o["distance_ft"] == cam["distance_ft"]
        assert o["activated"] == bool(cam["evidence"] or cam["status_advert_utc_ms"])
        if cam["status_advert_utc_ms"]:
            assert o["advert_s"] == pytest.approx((cam["status_advert_utc_ms"] - stim) / 1000)
        if o["incident_clip"]:
            clip = o["incident_clip"]
            assert (reference_run.dir / clip["clip"]).is_file(), "evidence paths are relative to the run directory"
            pre = [m.value for m in results.measurements if m.requirement == "PRE-001" and m.subject.startswith(f"BWC-{cam['label']} ")
                   and m.comparator == ">=" and m.unit == "s"]
            assert clip["pre_event_s"] == pre[0]
            assert clip["trigger_s"] - clip["start_s"] == pytest.approx(pre[0])
    absolute = [v for v in _strings(report) if v.startswith(str(reference_run.dir))]
    assert absolute == [], "paths in report.json are relative to the run directory"


def _strings(x):
    if isinstance(x, dict):
        for v in x.values():
            yield from _strings(v)
    elif isinstance(x, list):
        for v in x:
            yield from _strings(v)
    elif isinstance(x, str):
        yield x


def test_html_shows_every_device_requirement_and_value(reference_run):
    report = reference_run.report()
    text = visible_text((reference_run.dir / "report.html").read_text())
    for value in COVER.values():
        assert value in text
    assert report["harness"]["git_revision"] in text and report["signing"]["key_fingerprint"] in text
    for d in report["system_under_test"]:
        for field in ("serial", "vendor", "model", "firmware"):
            assert d[field] in text, (field, d)
    for r in report["requirements"]:
        assert r["id"] in text
        if r["verdict"] != "not-tested":
            assert f"{r['id']}: {r['title']}" in text
            for m in r["measurements"]:
                if isinstance(m["value"], float):
                    assert f"{m['subject']} {m['name']}" in text and f"{_fmt(m['value'])} {m['unit']}".strip() in text
    for a in report["artifacts"]:  # listed by folder: "evidence/X6BWC00A1/" then "X6BWC00A1_....mp4  size  sha256"
        folder, _, name = a["path"].rpartition("/")
        assert f"{folder}/" in text if folder else True
        assert re.search(rf"{re.escape(name)} [\d.]+ (?:B|KiB|MiB|GiB) {a['sha256']}", text), a["path"]
        assert hashlib.sha256((reference_run.dir / a["path"]).read_bytes()).hexdigest() == a["sha256"]


def test_failed_requirement_comes_first_with_its_value(short_buffer_run):
    report = short_buffer_run.report()
    verdicts = {r["id"]: r["verdict"] for r in report["requirements"]}
    attention = report["summary"]["attention"]
    assert short_buffer_run.returncode == 1 and "PRE-001" in attention
    assert attention == [i for v in ("fail", "error") for i, x in verdicts.items() if x == v]
    pre = next(r for r in report["requirements"] if r["id"] == "PRE-001")
    assert pre["verdict"] == "fail" and pre["measured"] < 30
    text = visible_text((short_buffer_run.dir / "report.html").read_text())
    summary = text[text.index("Executive summary"): text.index("Requirement matrix")]
    assert summary.index("Requirements not met") < summary.index("PRE-001") < summary.index("Requirements met")
    assert f"{_fmt(pre['measured'])} s against >= 30 s" in summary
    matrix = text[text.index("Requirement matrix"):]
    passed = [i for i, v in verdicts.items() if v == "pass"]
    assert passed and max(matrix.index(f"{i} ") for i in attention) < min(matrix.index(f"{i} ") for i in passed)
    assert text.index("PRE-001: Activation keeps") < text.index("ACT-001: A CEW event")


def test_html_is_self_contained(reference_run):
    html = (reference_run.dir / "report.html").read_text()
    assert "<script" not in html.lower()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:|//|file:)""", html, re.I)
    assert "@import" not in html and "url(" not in html and "@font-face" not in html
    assert html.count("<svg") >= 5  # map, rate vs distance, timelines, bars


def test_pdf_has_the_report_content(short_buffer_run):
    report = short_buffer_run.report()
    text = pdf_text(short_buffer_run.dir / "report.pdf")
    flat = " ".join(text.split())
    for value in COVER.values():
        assert value in flat
    for d in report["system_under_test"]:
        assert d["serial"] in flat
    pre = next(r for r in report["requirements"] if r["id"] == "PRE-001")
    assert "PRE-001: Activation keeps the pre-event buffer in the clip FAIL" in flat
    assert f"{_fmt(pre['measured'])} s" in flat
    assert report["signing"]["key_fingerprint"] in flat
    for a in report["artifacts"]:
        assert a["sha256"] in text, f"{a['path']}: hash missing or broken across lines in the PDF"
    info = subprocess.run(["pdfinfo", str(short_buffer_run.dir / "report.pdf")], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= 5 and "612 x 792" in info  # US Letter
    assert re.search(r"page 1 of \d+", flat)
