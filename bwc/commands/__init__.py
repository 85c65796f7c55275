"""Subcommand modules: each defines ``register(subparsers)`` (see bwc/cli.py)."""
