"""The ``bwc scene`` command line (arguments only); the work is in bwc/scene_command.py, imported
when the command runs, so that every other command starts without loading the emulators."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser("scene", help="play a scene file on the emulators; print its timeline and write a map")
    p.add_argument("file", help="scene YAML (see docs/scenes.md)")
    p.add_argument("--profile", help="emulator profile name or YAML file for every device without its own (default: the scene's `profile:`, else reference)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="output directory (default: runs/scene-<name>-<UTC time>)")
    p.add_argument("--full-video", action="store_true", help="record at the profile's video format (default: 320x180, 5 fps, faster)")
    p.add_argument("--check", action="store_true",
                   help="judge the activation requirements on the scene (ACT-001, CHN-001, GRP-001 limits); exit 1 on a failure")
    p.set_defaults(func=cmd_scene)


def cmd_scene(args: argparse.Namespace) -> int:
    from bwc.scene_command import cmd_scene as run

    return run(args)
