"""Engineers' formats: the Allure 3 HTML (pinned npm package, one offline file, no
analytics) and the JUnit XML, checked against the run's results."""

from __future__ import annotations

import base64
import json
import re
import xml.etree.ElementTree as ET

from reports.allure_html import external_references
from tests.conftest import require_tool
from tests.reports.conftest import bwc


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
    proc = bwc("report", "--allure", str(short_buffer_run.dir), "-o", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    html = out.read_text()
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


def test_allure_refuses_to_write_into_the_signed_run(reference_run, tmp_path):
    for args, needle in ((["--allure", str(reference_run.dir), "-o", str(reference_run.dir / "a.html")], "inside the run directory"),
                         ([str(reference_run.dir)], "choose a format"), (["--allure", str(tmp_path)], "no Allure results")):
        proc = bwc("report", *args)
        assert proc.returncode == 2 and needle in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr


def test_junit_xml_lists_every_test_with_its_outcome(short_buffer_run):
    root = ET.parse(short_buffer_run.dir / "junit.xml").getroot()
    cases = {c.get("name"): c for c in root.iter("testcase")}
    tests = short_buffer_run.results()["tests"]
    assert set(cases) == {t["nodeid"].split("::")[-1] for t in tests}
    for t in tests:
        case = cases[t["nodeid"].split("::")[-1]]
        assert (case.find("failure") is not None) == (t["outcome"] == "failed"), t["nodeid"]
    suite = root.find("testsuite")
    assert int(suite.get("failures")) == sum(t["outcome"] == "failed" for t in tests) >= 1
