"""The ``bwc clock`` page: a self-contained HTML timecode display (two QR timecodes and the
human-readable UTC time, redrawn every display frame from the browser's clock) for a real
camera to film during a physical test. The page carries a JavaScript port of
protocols/qr_timecode.py; the analyzer reads what it draws. See docs/timecode.md."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TEMPLATE = Path(__file__).with_name("clock_page.html")


def render_page(*, offset_ms: int = 0) -> str:
    """The page's HTML. offset_ms is added to the computer's clock (e.g. a measured display
    latency, so that the code shows the instant the picture is actually lit)."""
    if not -86_400_000 <= offset_ms <= 86_400_000:
        raise ValueError(f"offset {offset_ms} ms is more than a day")
    return TEMPLATE.read_text(encoding="utf-8").replace("{{OFFSET_MS}}", str(int(offset_ms)))


def write_page(path: str | Path, *, offset_ms: int = 0) -> Path:
    path = Path(path)
    path.write_text(render_page(offset_ms=offset_ms), encoding="utf-8")
    return path


def make_server(page: str, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """An HTTP server for the page alone (``/`` and ``/index.html``; everything else 404).
    port 0 picks a free port (see ``server.server_address``). The caller runs
    ``serve_forever()`` and ``server_close()``."""
    body = page.encode("utf-8")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            if self.path.split("?")[0] not in ("/", "/index.html"):
                self.send_error(404, "only / is served")
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # quiet: the terminal shows the URL only
            pass

    return ThreadingHTTPServer((host, port), Handler)


def serve_in_thread(page: str, host: str = "127.0.0.1", port: int = 0) -> tuple[ThreadingHTTPServer, threading.Thread]:
    server = make_server(page, host, port)
    thread = threading.Thread(target=server.serve_forever, name="bwc-clock-http", daemon=True)
    thread.start()
    return server, thread
