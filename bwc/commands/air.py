"""The ``bwc air`` command line (arguments only); the work is in bwc/air_command.py, imported
when the command runs, so that every other command starts without loading the emulators."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    air = sub.add_parser("air", help="real captures in and out: measure a sniffer capture, replay it against a profile")
    verbs = air.add_subparsers(dest="verb", required=True, parser_class=type(air))
    imp = verbs.add_parser("import", help="measure ACT-001 and ACT-005 on a capture (pcap/pcapng link type 256 or 272, btsnoop)")
    imp.add_argument("capture", metavar="CAPTURE")
    imp.add_argument("--json", action="store_true", help="print the measurements as JSON instead of the table")
    imp.set_defaults(func=cmd_import)
    rep = verbs.add_parser("replay", help="play a capture's Signal adverts against a camera profile; compare the verdicts")
    rep.add_argument("capture", metavar="CAPTURE")
    rep.add_argument("--profile", default="reference", help="emulator profile name or YAML file")
    rep.add_argument("--scene", help="scene file placing the cameras (default: cameras 10, 25, 29 and 45 ft from the source)")
    rep.add_argument("--at", default="0,0", help="X,Y in feet: where the replayed source stands (default 0,0; --at=-5,3 for a negative X)")
    rep.add_argument("--seed", type=int, default=0)
    rep.add_argument("--out", help="output directory (default: runs/replay-<UTC time>)")
    rep.set_defaults(func=cmd_replay)


def cmd_import(args: argparse.Namespace) -> int:
    from bwc.air_command import cmd_import as run

    return run(args)


def cmd_replay(args: argparse.Namespace) -> int:
    from bwc.air_command import cmd_replay as run

    return run(args)
