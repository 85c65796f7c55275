"""Allure 3 HTML for engineers from a run's allure-results/: the npm package pinned in
reports/allure/ (package-lock.json), its Allure 2-style plugin, one self-contained file,
analytics off (ALLURE_NO_ANALYTICS=true; the Awesome/Classic templates always add Google
Analytics, so they are not used)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

ALLURE_DIR = Path(__file__).resolve().parent / "allure"
CLI = ALLURE_DIR / "node_modules" / ".bin" / "allure"
EXTERNAL_SRC = re.compile(r"""<(?:script|link|img|iframe)[^>]+(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)


class AllureError(RuntimeError):
    """npm/node missing, install failed, or generation failed (the message says what)."""


def install(quiet: bool = True) -> None:
    """``npm ci`` in reports/allure (needs the npm registry once; generation is offline)."""
    npm = shutil.which("npm")
    if npm is None:
        raise AllureError("npm is not installed (Node.js >= 20 with npm is needed for the Allure report)")
    cmd = [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"] + (["--silent"] if quiet else [])
    try:
        proc = subprocess.run(cmd, cwd=ALLURE_DIR, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise AllureError(f"'npm ci' in {ALLURE_DIR} did not finish: {exc}") from None
    if proc.returncode != 0 or not CLI.exists():
        raise AllureError(f"'npm ci' in {ALLURE_DIR} failed: {(proc.stderr or proc.stdout).strip()[-800:]}")


def build_allure_html(results_dir: Path, out_file: Path, name: str = "bwc-harness conformance suite") -> Path:
    """Generate the single-file report into out_file; refuse one that loads anything remote."""
    if not CLI.exists():
        install()
    node = shutil.which("node")
    if node is None:
        raise AllureError("node is not installed (Node.js >= 20 is needed for the Allure report)")
    env = {**os.environ, "ALLURE_NO_ANALYTICS": "true", "NO_COLOR": "1", "npm_config_update_notifier": "false"}
    with tempfile.TemporaryDirectory(prefix="bwc-allure-") as tmp:
        cmd = [node, str(CLI), "generate", str(results_dir.resolve()), "--config", str(ALLURE_DIR / "allurerc.mjs"),
               "--output", tmp, "--report-name", name]
        try:
            proc = subprocess.run(cmd, cwd=ALLURE_DIR, env=env, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise AllureError(f"allure generate did not finish: {exc}") from None
        index = Path(tmp) / "index.html"
        if proc.returncode != 0 or not index.exists():
            raise AllureError(f"allure generate failed (exit {proc.returncode}): {(proc.stderr or proc.stdout).strip()[-800:]}")
        html = index.read_text(encoding="utf-8")
        remote = external_references(html)
        if remote:
            raise AllureError(f"the generated Allure report loads remote content ({', '.join(remote[:3])}); not writing it")
        try:
            out_file.write_text(html, encoding="utf-8")
        except OSError as exc:
            raise AllureError(f"cannot write {out_file}: {exc.strerror or exc}") from None
    return out_file


def external_references(html: str) -> list[str]:
    """Tags that would load something from the network (scripts, styles, images, frames)."""
    return [m.group(0)[:120] for m in EXTERNAL_SRC.finditer(html)]
