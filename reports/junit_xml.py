"""junit.xml for CI systems: pytest's --junitxml output, rewritten at the end of the session
(docs/report.md, "JUnit XML").

* One suite named after the run (``bwc-harness <profile> seed <n>``) with the run's properties
  (profile, seed, target, harness version, git revision).
* Inside it one nested suite per requirement holding that requirement's test cases, with the
  same properties and the requirement's id, title and source: the Jenkins JUnit schema (the
  xUnit plugin's junit-10.xsd) allows ``<properties>`` in a suite, not in a test case, so a
  case's properties are those of the suite around it (Jenkins and GitLab read nested suites).
* A failed requirement's message is the failing measurements (value, limit, subject), without
  a traceback; a test that could not measure is an ``<error>`` with its traceback.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from conformance.catalogue import load_catalogue
from conformance.scene_groups import plain_nodeid
from reports.results import TestOutcome

NODEID = "bwc_nodeid"  # user properties the results plugin gives every test case (moved out here)
REQUIREMENT = "requirement"
ROOT_COUNTS = ("tests", "failures", "errors")  # junit-10.xsd allows no "skipped" on <testsuites>


def suite_name(run: dict[str, str]) -> str:
    return f"bwc-harness {run.get('profile', '?')} seed {run.get('seed', '?')}"


def _properties(values: dict[str, str]) -> ET.Element:
    props = ET.Element("properties")
    for name, value in values.items():
        ET.SubElement(props, "property", name=name, value=str(value))
    return props


def _own_properties(case: ET.Element) -> dict[str, str]:
    found: dict[str, str] = {}
    for props in case.findall("properties"):
        found.update({p.get("name", ""): p.get("value", "") for p in props.findall("property")})
        case.remove(props)
    return found


def _outcome_of(case: ET.Element, outcome: TestOutcome | None) -> None:
    """failure: the harness's message (the failing measurements), no traceback; a test the
    harness counts as an error (could not measure) is an <error> with the traceback."""
    failure = case.find("failure")
    if failure is None or outcome is None:
        return
    if outcome.outcome == "failed":
        failure.set("message", outcome.message)
        failure.text = outcome.message
    elif outcome.outcome == "error":
        failure.tag = "error"
        failure.set("message", outcome.message)


def _count(cases: list[ET.Element]) -> dict[str, str]:
    return {"tests": str(len(cases)),
            "failures": str(sum(c.find("failure") is not None for c in cases)),
            "errors": str(sum(c.find("error") is not None for c in cases)),
            "skipped": str(sum(c.find("skipped") is not None for c in cases)),
            "time": f"{sum(float(c.get('time') or 0) for c in cases):.3f}"}


def rewrite(path: Path, run: dict[str, str], outcomes: list[TestOutcome]) -> None:
    """Regroup pytest's junit.xml at path by requirement and name it after the run."""
    tree = ET.parse(path)
    root = tree.getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    if suite is None:
        return
    by_node = {o.nodeid: o for o in outcomes}
    catalogue = load_catalogue()
    name = suite_name(run)
    groups: dict[str, list[ET.Element]] = {}
    loose: list[ET.Element] = []
    for case in suite.findall("testcase"):
        suite.remove(case)
        own = _own_properties(case)
        case.set("name", plain_nodeid(case.get("name", "")))  # a test of a parallel run is named as in a serial one
        _outcome_of(case, by_node.get(own.get(NODEID, "")))
        req = own.get(REQUIREMENT)
        (groups.setdefault(req, []) if req else loose).append(case)
    for old in suite.findall("properties"):
        suite.remove(old)
    suite.set("name", name)
    suite.insert(0, _properties(run))
    for req in sorted(groups, key=lambda r: list(catalogue).index(r) if r in catalogue else len(catalogue)):
        cases = groups[req]
        entry = catalogue.get(req)
        title = f"{req}: {entry.title}" if entry else req
        nested = ET.SubElement(suite, "testsuite", {"name": title, **_count(cases)})
        extra = {"requirement": req} | ({"requirement_title": entry.title, "requirement_source": entry.source} if entry else {})
        nested.append(_properties(run | extra))
        nested.extend(cases)
    suite.extend(loose)
    every = [c for c in suite.iter("testcase")]
    for key, value in _count(every).items():
        if key != "time":
            suite.set(key, value)
    if root.tag == "testsuites":
        root.set("name", name)
        for key in ROOT_COUNTS:
            root.set(key, suite.get(key, "0"))
        root.set("time", suite.get("time", "0"))
    tree.write(path, encoding="utf-8", xml_declaration=True)
