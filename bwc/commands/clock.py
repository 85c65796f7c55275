"""``bwc clock``: the timecode display a real camera films during a physical test."""

from __future__ import annotations

import argparse
from pathlib import Path

from bwc.cli import EXIT_OK, UsageError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "clock",
        help="write (or serve) the timecode display page a physical camera films",
        description=(
            "Writes a self-contained HTML page showing two QR timecodes and the UTC time, redrawn every "
            "display frame from this computer's clock. Open it full screen in the room where the camera under "
            "test records; `bwc analyze` reads the camera's clip. Keep the clock NTP-synchronised."
        ),
    )
    p.add_argument("--out", default="bwc-clock.html", help="where to write the page (default: ./bwc-clock.html)")
    p.add_argument("--serve", action="store_true", help="serve the page on http://127.0.0.1:PORT/ instead of writing it (Ctrl-C stops)")
    p.add_argument("--port", type=int, default=8765, help="port for --serve (default 8765; 0: any free port)")
    p.add_argument("--offset-ms", type=int, default=0, help="add this to the computer's clock (e.g. a measured display latency)")
    p.set_defaults(func=cmd_clock)


def _how_to_open(where: str) -> str:
    return (
        f"  open {where} in a browser (Chromium, Firefox...), then press F (or double-click) for full screen;\n"
        "  press S for sound (a beep at every whole UTC second, for the A/V offset).\n"
        "  Film the screen with the camera under test, then run: bwc analyze CLIP --trigger UTC"
    )


def cmd_clock(args: argparse.Namespace) -> int:
    from instruments.clock_page import make_server, render_page, write_page

    try:
        page = render_page(offset_ms=args.offset_ms)
    except ValueError as exc:
        raise UsageError(f"--offset-ms: {exc}") from None
    if not args.serve:
        out = Path(args.out)
        if out.is_dir():
            raise UsageError(f"--out {out}: is a directory; give a file name such as {out / 'bwc-clock.html'}")
        if not out.parent.exists():
            raise UsageError(f"--out {out}: directory {out.parent} does not exist")
        write_page(out, offset_ms=args.offset_ms)
        print(f"bwc clock: wrote {out}")
        print(_how_to_open(out.resolve().as_uri()))
        return EXIT_OK
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port}: must be 0..65535")
    try:
        server = make_server(page, "127.0.0.1", args.port)
    except OSError as exc:
        raise UsageError(f"--port {args.port}: cannot listen on 127.0.0.1 ({exc.strerror or exc}); choose another or 0") from None
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    print(f"bwc clock: serving {url} (Ctrl-C stops)")
    print(_how_to_open(url), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("bwc clock: stopped")
    finally:
        server.server_close()
    return EXIT_OK
