"""``bwc verify DIR``: check a signed run directory (every artifact's hash, no file missing
or added, the Ed25519 signature) and that the signer is a key it was told to trust."""

from __future__ import annotations

import argparse
from pathlib import Path

from bwc.cli import EXIT_FAIL, EXIT_OK, UsageError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "verify", help="check that a run directory was not altered since it was signed",
        description="Checks manifest.json against every file in DIR (SHA-256 and size; nothing missing, nothing added), "
                    "the Ed25519 signature in signature.json, that report.json prints the signed hashes and key, and that the "
                    "signer is trusted: the key given with --key, or else this harness's own signing key or a public key in the "
                    "trust store ($BWC_CONFIG_DIR/trusted-keys/*.pem). "
                    "Exit 0: intact and signed by a trusted key; 1: verification failed or untrusted signer; 2: bad input.")
    p.add_argument("dir", metavar="DIR", help="a 'bwc run' output directory")
    p.add_argument("--key", metavar="PUBKEY", help="the trusted public key (PEM, from 'bwc key --export-public') the run must be signed with "
                                                   "(instead of the harness's own key and the trust store)")
    p.add_argument("--filed", metavar="FILE", action="append", default=[],
                   help="a filed copy (e.g. the PDF an agency filed) that must be byte-identical to a signed file of the run; repeatable")
    p.set_defaults(func=cmd_verify)


def cmd_verify(args: argparse.Namespace) -> int:
    from reports.signing import MANIFEST, TRUST_DIR, SigningKeyError, config_dir, trusted_keys, verify_run

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
        trusted = trusted_keys(args.key)
    except SigningKeyError as exc:
        raise UsageError(str(exc)) from None
    result = verify_run(run, trusted, [Path(f) for f in args.filed])
    for line in result.filed:
        print(f"  filed copy matches: {line}")
    if result.ok:
        print(f"bwc verify: {run}: OK, {result.files_checked} files match the signed manifest")
        print(f"  signed by {result.fingerprint}, {result.trusted}")
        return EXIT_OK
    problems = result.problems + ([result.untrusted] if result.untrusted else [])
    print(f"bwc verify: {run}: FAILED ({len(problems)} problem(s))")
    for p in problems:
        print(f"  {p}")
    print(f"  integrity: {'intact, ' if result.intact else 'FAILED, '}{result.files_checked} files checked against the signed manifest")
    if result.untrusted:
        where = "; ".join(sorted(set(trusted.values()))) or "none (no --key, no signing key of this harness, empty trust store)"
        print(f"  trusted keys: {where}. To trust this signer, pass its public key with --key or copy it into {config_dir() / TRUST_DIR}/")
    return EXIT_FAIL
