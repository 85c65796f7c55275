"""How a run was produced: harness revision (and uncommitted changes), the environment,
package and tool versions, the requirement catalogue. Written to provenance.json and
embedded in report.json."""

from __future__ import annotations

import hashlib
import platform
import shutil
import socket
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from protocols.evidence_manifest import sha256_file

PROVENANCE_SCHEMA = "bwc-provenance/1"
PACKAGES = ("bumble", "looptime", "scapy", "av", "numpy", "PyYAML", "pytest", "allure-pytest", "cryptography", "weasyprint", "pydyf")
TOOLS = {"ffprobe": ["ffprobe", "-version"], "tshark": ["tshark", "--version"], "git": ["git", "--version"]}


def _run(cmd: list[str], cwd: Path | None = None) -> str | None:
    try:
        out = subprocess.run(cmd, cwd=cwd, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.decode("utf-8", "replace") if out.returncode == 0 else None


def git_state(repo: Path) -> dict:
    """Full revision, whether the tree had uncommitted changes, which, and the SHA-256 of
    ``git diff HEAD`` so a dirty tree is still identified."""
    rev = _run(["git", "rev-parse", "HEAD"], repo)
    if rev is None:
        return {"revision": "unknown", "dirty": None, "changes": [], "diff_sha256": None}
    status = _run(["git", "status", "--porcelain", "--untracked-files=all"], repo) or ""
    changes = [line[3:] for line in status.splitlines() if line.strip()]
    diff = subprocess.run(["git", "diff", "HEAD", "--binary"], cwd=repo, capture_output=True, timeout=30).stdout if changes else b""
    return {"revision": rev.strip(), "dirty": bool(changes), "changes": changes[:200],
            "diff_sha256": hashlib.sha256(diff).hexdigest() if changes else None}


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def tool_versions() -> dict[str, str]:
    out = {}
    for name, cmd in TOOLS.items():
        if shutil.which(cmd[0]) is None:
            out[name] = "not installed"
            continue
        text = _run(cmd) or ""
        out[name] = text.splitlines()[0].strip() if text else "unknown"
    return out


def collect_provenance(report: dict, repo: Path) -> dict:
    from conformance.catalogue import CATALOGUE_PATH

    try:
        catalogue_path = CATALOGUE_PATH.relative_to(repo).as_posix()
    except ValueError:
        catalogue_path = str(CATALOGUE_PATH)
    return {
        "schema": PROVENANCE_SCHEMA,
        "collected_utc": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "harness": report.get("harness", {}),
        "git": git_state(repo),
        "command": report.get("cover", {}).get("command"),
        "operator": report.get("cover", {}).get("operator"),
        "run": {k: report.get("run", {}).get(k) for k in ("target", "profile", "seed", "scene")},
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})",
        "packages": package_versions(),
        "tools": tool_versions(),
        "catalogue": {"path": catalogue_path, "sha256": sha256_file(CATALOGUE_PATH)},
    }
