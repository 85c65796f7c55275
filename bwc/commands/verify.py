"""``bwc verify DIR``: check a signed run directory (every artifact's hash, no file missing
or added, the Ed25519 signature, and optionally that the signer is a trusted key)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bwc.cli import EXIT_FAIL, EXIT_OK, UsageError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "verify", help="check that a run directory was not altered since it was signed",
        description="Checks manifest.json against every file in DIR (SHA-256 and size; nothing missing, nothing added), "
                    "the Ed25519 signature in signature.json, that report.json prints the signed hashes and key, and with "
                    "--key that the signer is the given trusted key. Exit 0: intact; 1: verification failed; 2: bad input.")
    p.add_argument("dir", metavar="DIR", help="a 'bwc run' output directory")
    p.add_argument("--key", metavar="PUBKEY", help="trusted public key (PEM, from 'bwc key --export-public') the run must be signed with")
    p.add_argument("--filed", metavar="FILE", action="append", default=[],
                   help="a filed copy (e.g. the PDF an agency filed) that must be byte-identical to a signed file of the run; repeatable")
    p.set_defaults(func=cmd_verify)


def cmd_verify(args: argparse.Namespace) -> int:
    from reports.signing import MANIFEST, SigningKeyError, read_public_key, verify_run

    run = Path(args.dir)
    if not run.exists():
        raise UsageError(f"{run}: no such directory")
    if not run.is_dir():
        raise UsageError(f"{run}: is not a directory (give the run directory, not a file in it)")
    if not (run / MANIFEST).exists() and not (run / "report.json").exists():
        raise UsageError(f"{run}: not a bwc run directory (no report.json, no {MANIFEST})")
    for f in args.filed:
        if not Path(f).is_file():
            raise UsageError(f"--filed {f}: no such file")
    try:
        trusted = read_public_key(args.key) if args.key else None
    except SigningKeyError as exc:
        raise UsageError(str(exc)) from None
    result = verify_run(run, trusted, [Path(f) for f in args.filed])
    for line in result.filed:
        print(f"  filed copy matches: {line}")
    if not result.ok:
        print(f"bwc verify: {run}: FAILED ({len(result.problems)} problem(s))")
        for p in result.problems:
            print(f"  {p}")
        return EXIT_FAIL
    trust = ("the trusted key given with --key" if result.trusted
             else "a key that was not checked against a trusted one (pass --key LAB_PUBLIC_KEY.pem)")
    print(f"bwc verify: {run}: OK, {result.files_checked} files match the signed manifest")
    print(f"  signed by {result.fingerprint}, {trust}")
    return EXIT_OK
