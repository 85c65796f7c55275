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
from collections import deque
from collections.abc import Callable
from pathlib import Path

ALLURE_DIR = Path(__file__).resolve().parent / "allure"
CLI = ALLURE_DIR / "node_modules" / ".bin" / "allure"
NPM_KEEP = 2000  # lines of npm's output kept while it runs
NPM_QUOTE = 12  # lines of npm's error an install failure quotes
EXTERNAL_SRC = re.compile(r"""<(?:script|link|img|iframe)[^>]+(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)


class AllureError(RuntimeError):
    """npm/node missing, install failed, or generation failed (the message says what)."""


def install(echo: Callable[[str], None] = print) -> None:
    """``npm ci`` in reports/allure: the only step that may need the npm registry. npm's lines
    are echoed as they come (progress), ``--prefer-offline`` takes every package npm's cache
    already holds from there (a warm cache installs with no network), and a failure carries npm's
    own last lines."""
    npm = shutil.which("npm")
    if npm is None:
        raise AllureError("npm is not installed (Node.js >= 20 with npm is needed for the Allure report)")
    cmd = [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline", "--loglevel=http"]
    echo(f"installing the pinned Allure ({' '.join(cmd[1:])} in {ALLURE_DIR}) ...")
    lines: deque[str] = deque(maxlen=NPM_KEEP)
    try:
        proc = subprocess.Popen(cmd, cwd=ALLURE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env={**os.environ, "NO_COLOR": "1", "npm_config_update_notifier": "false"})
    except OSError as exc:
        raise AllureError(f"'npm ci' in {ALLURE_DIR} could not start: {exc}") from None
    assert proc.stdout is not None
    with proc:
        for line in proc.stdout:
            line = line.rstrip()
            if line:
                lines.append(line)
                echo(f"  npm: {line}")
    if proc.returncode != 0 or not CLI.exists():
        raise AllureError(f"'npm ci' in {ALLURE_DIR} failed (exit {proc.returncode}); npm said:\n{npm_error(list(lines))}")


def npm_error(lines: list[str]) -> str:
    """npm's own error: its first "npm error" lines (npm follows them with its usage text or a
    log path), else the last lines it printed."""
    errors = [line for line in lines if line.startswith(("npm error", "npm ERR!"))]
    quoted = errors[:NPM_QUOTE] + [line for line in errors[NPM_QUOTE:] if "complete log" in line] if errors else lines[-NPM_QUOTE:]
    return "\n".join(quoted) or "(npm printed nothing)"


def build_allure_html(results_dir: Path, out_file: Path, name: str, echo: Callable[[str], None] = print) -> Path:
    """Generate the single-file report, titled ``name``, into out_file; refuse one that loads
    anything remote."""
    if not CLI.exists():
        install(echo)
    node = shutil.which("node")
    if node is None:
        raise AllureError("node is not installed (Node.js >= 20 is needed for the Allure report)")
    env = {**os.environ, "ALLURE_NO_ANALYTICS": "true", "NO_COLOR": "1", "npm_config_update_notifier": "false", "BWC_ALLURE_REPORT_NAME": name}
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
