"""The rules of the Jenkins JUnit schema (the xUnit plugin's junit-10.xsd, jenkinsci/xunit-plugin,
src/main/resources/org/jenkinsci/plugins/xunit/types/model/xsd/junit-10.xsd), checked element by
element: which children each element may have, which attributes it may and must carry, and the
SUREFIRE_TIME pattern of the suites' time. The XSD itself is not vendored (third-party file);
these are its constraints, as a validator would apply them."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

RERUN = ("rerunFailure", "rerunError", "flakyFailure", "flakyError")
OUTCOME_ATTRS = {"type", "message"}
CHILDREN = {
    "testsuites": {"testsuite"},
    "testsuite": {"testsuite", "properties", "testcase", "system-out", "system-err"},
    "properties": {"property"},
    "property": set(),
    "testcase": {"skipped", "error", "failure", *RERUN, "system-out", "system-err"},
    "failure": set(), "error": set(), "skipped": set(), "system-out": set(), "system-err": set(),
    **{r: {"stackTrace", "system-out", "system-err"} for r in RERUN},
    "stackTrace": set(),
}
ALLOWED = {
    "testsuites": {"name", "time", "tests", "failures", "errors"},
    "testsuite": {"name", "tests", "failures", "errors", "group", "time", "skipped", "timestamp", "hostname", "id", "package", "file", "log", "url"},
    "properties": set(),
    "property": {"name", "value"},
    "testcase": {"name", "time", "classname", "group"},
    "failure": OUTCOME_ATTRS, "error": OUTCOME_ATTRS, "skipped": OUTCOME_ATTRS,
    "system-out": set(), "system-err": set(), "stackTrace": set(),
    **{r: {"message", "type"} for r in RERUN},
}
REQUIRED = {"testsuite": {"name", "tests", "failures", "errors"}, "property": {"name", "value"}, "testcase": {"name"},
            **{r: {"type"} for r in RERUN}}
SUREFIRE_TIME = re.compile(r"(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]*)?")
TEXT_ONLY = {"property", "properties", "testsuites", "testsuite", "testcase"}  # no character data of their own (whitespace aside)


def violations(root: ET.Element) -> list[str]:
    """Every way the document breaks the schema (empty: valid)."""
    problems: list[str] = []
    if root.tag not in ("testsuites", "testsuite"):
        problems.append(f"root element <{root.tag}> is not <testsuites> or <testsuite>")

    def check(el: ET.Element, where: str) -> None:
        path = f"{where}/{el.tag}"
        if el.tag not in CHILDREN:
            problems.append(f"{path}: element not in the schema")
            return
        attrs = set(el.attrib)
        problems.extend(f"{path}: attribute {a!r} not allowed" for a in sorted(attrs - ALLOWED[el.tag]))
        problems.extend(f"{path}: required attribute {a!r} missing" for a in sorted(REQUIRED.get(el.tag, set()) - attrs))
        if el.tag in ("testsuite", "testsuites") and "time" in el.attrib and not SUREFIRE_TIME.fullmatch(el.attrib["time"]):
            problems.append(f"{path}: time {el.attrib['time']!r} does not match SUREFIRE_TIME")
        if el.tag in TEXT_ONLY and ((el.text or "").strip() or any((c.tail or "").strip() for c in el)):
            problems.append(f"{path}: character data not allowed")
        for child in el:
            if child.tag not in CHILDREN[el.tag]:
                problems.append(f"{path}: <{child.tag}> not allowed here")
            else:
                check(child, path)

    check(root, "")
    return problems
