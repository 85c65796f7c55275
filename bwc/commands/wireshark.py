"""``bwc wireshark``: where the shipped Lua dissectors are (Signal payload, ICP), and how to
use them with tshark or install them as Wireshark personal plugins."""

from __future__ import annotations

import argparse
import shutil
from importlib import resources
from pathlib import Path

from bwc.cli import EXIT_OK, UsageError

DISSECTORS = ("signal.lua", "icp.lua")


def dissectors() -> list[Path]:
    """The installed dissector files (package data of ``protocols``)."""
    root = resources.files("protocols") / "wireshark"
    return [Path(str(root / name)) for name in DISSECTORS]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "wireshark", help="the Lua dissectors for the Signal payload and ICP: their paths, or install them",
        description="Prints the shipped Wireshark dissectors and a tshark command that uses them "
                    "(docs/signal-codec.md, docs/incar-protocol.md). --install copies them into a Wireshark "
                    "personal plugin folder (default ~/.local/lib/wireshark/plugins).")
    p.add_argument("--install", metavar="DIR", nargs="?", const=str(Path.home() / ".local" / "lib" / "wireshark" / "plugins"),
                   help="copy the dissectors into DIR (created if missing)")
    p.set_defaults(func=cmd_wireshark)


def cmd_wireshark(args: argparse.Namespace) -> int:
    files = dissectors()
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise UsageError(f"{missing[0]}: the dissector is not installed with this harness")
    if args.install:
        target = Path(args.install)
        try:
            target.mkdir(parents=True, exist_ok=True)
            for f in files:
                shutil.copyfile(f, target / f.name)
        except OSError as exc:
            raise UsageError(f"--install {target}: cannot write there ({exc.strerror or exc})") from None
        print(f"bwc wireshark: installed {', '.join(f.name for f in files)} into {target} (restart Wireshark)")
        return EXIT_OK
    for f in files:
        print(f)
    scripts = " ".join(f"-X lua_script:{f}" for f in files)
    print(f"tshark {scripts} -r RUN/air.pcap -T fields -e bwc_signal.serial -e bwc_signal.event")
    return EXIT_OK
