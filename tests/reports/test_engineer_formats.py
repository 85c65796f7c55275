"""Engineers' formats: the Allure 3 HTML (pinned npm package, one offline file, no
analytics, measurements as steps) and the JUnit XML (valid against the Jenkins JUnit schema,
grouped by requirement), checked against the run's results."""

from __future__ import annotations

import base64
import json
import re
import xml.etree.ElementTree as ET

import pytest

from reports import allure_html
from reports.allure_html import AllureError, external_references
from tests.conftest import require_tool
from tests.reports.conftest import bwc
from tests.reports.junit_schema import violations


def _embedded(html: str) -> list[str]:
    """Decoded data: URIs and Allure's embedded report files."""
    out = [base64.b64decode(m.group(1)).decode("utf-8", "replace") for m in re.finditer(r"data:[a-z/+-]+;base64,([A-Za-z0-9+/=]+)", html)]
    for _name, value in re.findall(r'd\("([^"]+)","([^"]*)"\)', html):
        try:
            out.append(base64.b64decode(value).decode("utf-8", "replace"))
        except ValueError:
            out.append(value)
    return out


def test_allure_html_is_one_offline_file_with_the_tests(short_buffer_run, tmp_path):
    require_tool("node")
    out = tmp_path / "allure.html"
    proc = bwc("report", "--allure", str(short_buffer_run.dir), "-o", str(out), "--name", "Springfield PD: firmware 4.2 check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    html = out.read_text()
    assert "<title>Springfield PD: firmware 4.2 check</title>" in html, "the report is named as asked"
    assert list(tmp_path.iterdir()) == [out], "a single file"
    assert external_references(html) == []
    embedded = _embedded(html)
    assert "googletagmanager" not in html and not any("googletagmanager" in e or "gtag(" in e for e in embedded)
    for e in [html] + embedded:  # nothing fetched from another host: no remote script/style/font/image
        assert not re.search(r"""<(?:script|link|img|iframe)[^>]+(?:src|href)=["']https?://""", e), e[:200]
        assert not re.search(r"@import\s+url\(\s*['\"]?https?://|@font-face[^}]*https?://", e)
    data = "\n".join(embedded)
    tests = short_buffer_run.results()["tests"]
    for t in tests:
        assert t["nodeid"].split("::")[-1] in data
    failed = [t["nodeid"].split("::")[-1] for t in tests if t["outcome"] == "failed"]
    cases = [json.loads(e) for e in embedded if e.startswith("{") and '"status"' in e and '"name"' in e]
    statuses = {c["name"]: c["status"] for c in cases if "status" in c and isinstance(c.get("name"), str)}
    assert failed and all(statuses.get(name) == "failed" for name in failed), statuses
    env = next(json.loads(e) for e in embedded if e.startswith("[") and '"name":"profile"' in e.replace(" ", ""))
    assert {"name": "profile", "values": ["short-buffer"]} in env, "Environment widget from allure-results/environment.properties"
    assert {e["name"] for e in env} >= {"profile", "seed", "target", "harness_version", "git_revision"}
    pre = next(c for c in cases if "testStage" in c and "#test_pre001" in c.get("fullName", ""))
    steps = pre["testStage"]["steps"]
    failed = [st for st in steps if st["status"] == "failed"]
    assert failed and all({p["name"] for p in st["parameters"]} == {"value", "unit", "limit", "verdict"} for st in steps)
    assert {p["name"]: p["value"] for p in failed[0]["parameters"]}["limit"] == ">= 30.0", "each measurement a step, a failed one failed"
    assert {p["name"] for p in pre["parameters"]} == {"profile", "seed", "target"}
    assert [link["name"] for link in pre["links"]] == [f"PRE-001 source: {short_buffer_run.report()['requirements'][0]['source']}"]


def test_allure_refuses_to_write_into_the_signed_run(reference_run, tmp_path):
    for args, needle in ((["--allure", str(reference_run.dir), "-o", str(reference_run.dir / "a.html")], "inside the run directory"),
                         ([str(reference_run.dir)], "choose a format"), (["--allure", str(tmp_path)], "no Allure results")):
        proc = bwc("report", *args)
        assert proc.returncode == 2 and needle in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr


def test_npm_failure_is_reported_in_npms_own_words(tmp_path, monkeypatch):
    require_tool("npm")
    (tmp_path / "package.json").write_text('{"name": "x", "private": true, "dependencies": {"allure": "3.18.0"}}')  # and no lockfile
    monkeypatch.setattr(allure_html, "ALLURE_DIR", tmp_path)
    monkeypatch.setattr(allure_html, "CLI", tmp_path / "node_modules" / ".bin" / "allure")
    said: list[str] = []
    with pytest.raises(AllureError) as failure:
        allure_html.install(said.append)
    assert said[0].startswith("installing the pinned Allure") and any(line.startswith("  npm: ") for line in said), "progress as npm works"
    assert "failed (exit" in str(failure.value) and "package-lock.json" in str(failure.value), str(failure.value)


def test_junit_xml_lists_every_test_with_its_outcome(short_buffer_run):
    root = ET.parse(short_buffer_run.dir / "junit.xml").getroot()
    assert violations(root) == [], "valid against the Jenkins JUnit schema (junit-10.xsd)"
    run = short_buffer_run.report()["run"]
    suite = root.find("testsuite")
    assert suite is not None and suite.get("name") == root.get("name") == f"bwc-harness short-buffer seed {run['seed']}"
    props = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
    assert (props["profile"], props["seed"], props["target"]) == ("short-buffer", "0", "virtual") and props["git_revision"]
    for nested in suite.findall("testsuite"):
        own = {p.get("name"): p.get("value") for p in nested.findall("properties/property")}
        assert own["requirement"] == nested.get("name", "").split(":")[0] and own["profile"] == "short-buffer"
        assert {c.get("name") for c in nested.findall("testcase")}
    failures = [c.find("failure") for c in root.iter("testcase") if c.find("failure") is not None]
    assert all(f.get("message", "").startswith(("PRE-001 failed:", "PRE-002 failed:")) and "Traceback" not in (f.text or "") for f in failures)
    cases = {c.get("name"): c for c in root.iter("testcase")}
    tests = short_buffer_run.results()["tests"]
    assert set(cases) == {t["nodeid"].split("::")[-1] for t in tests}
    for t in tests:
        case = cases[t["nodeid"].split("::")[-1]]
        assert (case.find("failure") is not None) == (t["outcome"] == "failed"), t["nodeid"]
    assert int(suite.get("failures", "0")) == sum(t["outcome"] == "failed" for t in tests) >= 1
