"""`bwc clock` in a real browser: headless Chromium renders the page, the analyzer's image
reader decodes the screenshot (also as a camera would film it), and the page's JavaScript QR
encoder draws exactly the symbols of protocols/qr_timecode.py. (Nothing is heard headless:
the sound test only shows the Web Audio path runs and schedules beeps on whole seconds.)"""

import json
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

from instruments.clock_page import render_page, serve_in_thread
from instruments.filmed_screen import Camera
from instruments.frame_timecode import read_image, read_image_timecodes
from protocols import audio_marks
from protocols.qr_timecode import payload, qr_matrix
from protocols.timecode import Timecode
from tests.conftest import require_tool

REPO = Path(__file__).resolve().parents[1]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    chromium = require_tool("chromium")
    profile = tmp_path / f"profile-{time.monotonic_ns()}"
    profile.mkdir()
    return subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=120)


def _bwc(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bwc", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_bwc_clock_page_in_chromium_is_read_back_also_when_filmed(tmp_path):
    page = tmp_path / "clock.html"
    proc = _bwc("clock", "--out", str(page))
    assert proc.returncode == 0 and page.exists() and "full screen" in proc.stdout
    assert "http" not in page.read_text().replace("http-equiv", "")  # self-contained: no network address

    shot = tmp_path / "clock.png"
    before_ms = time.time() * 1000
    out = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,720", page.as_uri())
    after_ms = time.time() * 1000
    assert out.returncode == 0 and shot.exists(), out.stderr[-2000:]
    luma = read_image(shot)
    assert luma.shape == (720, 1280)

    found = read_image_timecodes(shot)
    assert 1 <= len(found) <= 2  # two symbols, redrawn on alternate frames
    newest = found[0]
    assert before_ms - 5 <= newest.utc_ms <= after_ms + 5, (newest.iso(), before_ms, after_ms)
    assert not newest.clock_unset

    # a body camera filming the screen at an angle from across the room
    rng = np.random.default_rng(11)
    for quad, sigma, noise in (
        (((180, 90), (1100, 160), (1050, 650), (140, 600)), 1.5, 8.0),
        (((420, 250), (930, 210), (960, 520), (400, 560)), 1.0, 6.0),  # small in the picture, keystoned
    ):
        filmed = Camera(quad, blur_sigma=sigma, noise_sigma=noise).film(luma, rng)
        assert read_image_timecodes(filmed)[0] == newest


def test_javascript_encoder_draws_the_python_symbols(tmp_path):
    values = [0, 1, 1_780_000_000_000, 1_780_000_060_533, (1 << 48) - 1] + [int(v) for v in np.random.default_rng(5).integers(0, 1 << 48, 20)]
    server, thread = serve_in_thread(render_page())  # also proves the page is served over HTTP
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/#selftest={','.join(map(str, values))}&sound=1"
        before_ms = time.time() * 1000
        out = _chromium(tmp_path, "--dump-dom", url)
        after_ms = time.time() * 1000
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    match = re.search(r'<pre id="selftest">(.*?)</pre>', out.stdout, re.S)
    assert match, out.stdout[-2000:] + out.stderr[-2000:]
    drawn = json.loads(match.group(1))
    for v in values:
        tc = Timecode(v)
        assert drawn[str(v)]["payload"] == payload(tc)
        rows = ["".join("1" if b else "0" for b in row) for row in qr_matrix(tc)]
        assert drawn[str(v)]["rows"] == rows, v
    # the sound path (Web Audio) runs and schedules the next beeps on whole seconds
    sound = drawn["sound"]
    assert "error" not in sound, sound
    assert sound["scheduledUntil"] % 1000 == 0 and before_ms < sound["scheduledUntil"] <= after_ms + 3000
    # ... each followed by the number of its second, the same bits as protocols/audio_marks.py
    assert sound["codes"] == {str(v): audio_marks.code_word(v // 1000) for v in values}


def test_bwc_clock_serve_and_usage_errors(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "bwc", "clock", "--serve", "--port", "0"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        with urllib.request.urlopen(url, timeout=10) as r:
            body = r.read().decode()
        assert "const QR =" in body and "{{OFFSET_MS}}" not in body
        try:
            urllib.request.urlopen(url + "etc/passwd", timeout=10)
            raise AssertionError("served a path other than /")
        except urllib.error.HTTPError as exc:
            assert exc.code == 404
    finally:
        proc.terminate()
        proc.wait(10)
    assert 'Number("250")' in render_page(offset_ms=250)
    bad = _bwc("clock", "--out", str(tmp_path / "no" / "such" / "dir" / "c.html"))
    assert bad.returncode == 2 and "does not exist" in bad.stderr and "Traceback" not in bad.stderr
    bad = _bwc("clock", "--offset-ms", "999999999")
    assert bad.returncode == 2 and "--offset-ms" in bad.stderr
