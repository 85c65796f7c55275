"""junit.xml for CI systems (reports/junit_xml.py): pytest's own --junitxml, written through the
harness's results plugin, valid against the Jenkins JUnit schema, grouped by requirement with the
run's properties, failures as measurements and errors with their traceback."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

import pytest

from conformance.catalogue import load_catalogue
from reports.build import HARNESS_VERSION
from tests.conftest import REPO
from tests.reports.junit_schema import violations

SUITE = '''
import pytest


@pytest.mark.requirement("PRE-001")
def test_buffer(measure):
    from conformance.limits import Limit
    measure.against(Limit(30.0, "s", ">="), "BWC-A", "pre-event video", 20.0)
    measure.verdict()


@pytest.mark.requirement("PRE-001")
def test_buffer_again(measure):
    from conformance.limits import Limit
    measure.against(Limit(30.0, "s", ">="), "BWC-B", "pre-event video", 31.0)
    measure.verdict()


@pytest.mark.requirement("AV-001")
def test_sync(measure):
    measure.cannot_measure("BWC-C", "A/V offset", "the clip has no sound track")


def test_plain():
    pass
'''


@pytest.fixture(scope="module")
def junit(tmp_path_factory) -> ET.Element:
    """pytest runs a small suite with the harness's plugins (entry points) and --junitxml."""
    tmp_path = tmp_path_factory.mktemp("junit")
    (tmp_path / "test_suite.py").write_text(textwrap.dedent(SUITE))
    xml = tmp_path / "junit.xml"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-c", "/dev/null", "--rootdir", str(tmp_path),
                           str(tmp_path / "test_suite.py"), "--junitxml", str(xml), "--bwc-profile", "short-buffer", "--bwc-seed", "7"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and xml.is_file(), proc.stdout + proc.stderr
    return ET.parse(xml).getroot()


def _props(el: ET.Element) -> dict[str, str]:
    node = el.find("properties")
    assert node is not None, el.attrib
    return {p.get("name", ""): p.get("value", "") for p in node.findall("property")}


def test_junit_is_grouped_by_requirement_with_the_runs_properties(junit):
    root = junit
    assert violations(root) == []
    suite = root.find("testsuite")
    assert suite is not None
    assert root.get("name") == suite.get("name") == "bwc-harness short-buffer seed 7"
    run = _props(suite)
    assert {k: run[k] for k in ("profile", "seed", "target", "harness_version")} == {
        "profile": "short-buffer", "seed": "7", "target": "virtual", "harness_version": HARNESS_VERSION}
    assert run["git_revision"]
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "1", "1")
    catalogue = load_catalogue()
    nested = {s.get("name"): s for s in suite.findall("testsuite")}
    assert list(nested) == [f"{r}: {catalogue[r].title}" for r in ("PRE-001", "AV-001")], "catalogue order"
    pre = nested[f"PRE-001: {catalogue['PRE-001'].title}"]
    assert _props(pre) == {**run, "requirement": "PRE-001", "requirement_title": catalogue["PRE-001"].title,
                           "requirement_source": catalogue["PRE-001"].source}
    assert [c.get("name") for c in pre.findall("testcase")] == ["test_buffer", "test_buffer_again"]
    assert (pre.get("tests"), pre.get("failures"), pre.get("errors")) == ("2", "1", "0")
    assert [c.get("name") for c in suite.findall("testcase")] == ["test_plain"], "a test without a requirement stays in the run's suite"
    assert all(c.find("properties") is None for c in root.iter("testcase")), "the schema allows no properties in a test case"


def test_failure_is_the_measurements_and_only_an_error_has_a_traceback(junit):
    root = junit
    cases = {c.get("name"): c for c in root.iter("testcase")}
    failure = cases["test_buffer"].find("failure")
    assert failure is not None and cases["test_buffer"].find("error") is None
    expected = "PRE-001 failed:\n  BWC-A: pre-event video = 20.0 s (limit >= 30.0)"
    assert failure.get("message") == failure.text == expected, (failure.get("message"), failure.text)
    error = cases["test_sync"].find("error")
    assert error is not None and cases["test_sync"].find("failure") is None
    assert error.get("message") == "BWC-C: A/V offset: the clip has no sound track"
    assert "measure.cannot_measure(" in (error.text or "") and "MeasurementError" in (error.text or ""), "the traceback, for an error"


def test_the_schema_check_rejects_what_the_schema_does():
    bad = ET.fromstring('<testsuites skipped="0"><testsuite name="s" tests="1" failures="0" time="1.5s">'
                        '<testcase><properties><property name="a"/></properties></testcase></testsuite></testsuites>')
    assert violations(bad) == [
        "/testsuites: attribute 'skipped' not allowed",
        "/testsuites/testsuite: required attribute 'errors' missing",
        "/testsuites/testsuite: time '1.5s' does not match SUREFIRE_TIME",
        "/testsuites/testsuite/testcase: required attribute 'name' missing",
        "/testsuites/testsuite/testcase: <properties> not allowed here",
    ]
