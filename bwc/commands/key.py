"""``bwc key``: the harness's Ed25519 signing key: where it is, its fingerprint, its public
half for auditors."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bwc.cli import EXIT_OK, UsageError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "key", help="show the report signing key's fingerprint, export its public key for auditors",
        description="The key that signs every run (docs/report.md): $BWC_SIGNING_KEY if set, else "
                    "$BWC_CONFIG_DIR (default ~/.config/bwc-harness)/signing-key.pem, generated on first use.")
    p.add_argument("--export-public", metavar="FILE", help="write the public key (PEM) to FILE, for 'bwc verify --key FILE'")
    p.add_argument("--generate", metavar="FILE", nargs="?", const="", help="create the key (at FILE, or at the default place) if it does not exist")
    p.set_defaults(func=cmd_key)


def cmd_key(args: argparse.Namespace) -> int:
    from protocols.evidence_manifest import generate_private_key, key_fingerprint, public_key_to_pem
    from reports.signing import SigningKeyError, load_signing_key, permission_warning, read_private_key, write_private_key

    try:
        if args.generate:  # an explicit file
            path = Path(args.generate)
            if path.exists():
                key = read_private_key(path)
                print(f"bwc key: {path} exists; kept")
            else:
                key = generate_private_key()
                write_private_key(key, path)
                print(f"bwc key: created {path} (mode 600); use it with BWC_SIGNING_KEY={path}")
        else:
            key, path, created = load_signing_key(create=args.generate is not None)
            print(f"bwc key: {'created' if created else 'signing key'} {path}")
    except SigningKeyError as exc:
        raise UsageError(str(exc)) from None
    warning = permission_warning(path)
    if warning:
        print(f"bwc: warning: {warning}", file=sys.stderr)
    pem = public_key_to_pem(key.public_key())
    print(f"  fingerprint {key_fingerprint(key.public_key())}")
    if args.export_public:
        out = Path(args.export_public)
        if out.is_dir() or not out.parent.exists():
            raise UsageError(f"--export-public {out}: not a writable file path")
        out.write_bytes(pem)
        print(f"  public key written to {out}")
    else:
        print(pem.decode("ascii").rstrip())
    return EXIT_OK
