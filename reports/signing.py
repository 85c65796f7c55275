"""The harness's Ed25519 signing key, the signed run manifest, and verification of a run
directory (what ``bwc verify`` checks). Decisions are in docs/report.md."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from protocols.evidence_manifest import (
    ManifestError,
    build_manifest,
    canonical_json,
    check_manifest,
    check_signature_document,
    generate_private_key,
    key_fingerprint,
    parse_manifest,
    private_key_from_pem,
    private_key_to_pem,
    public_key_from_pem,
    sha256_file,
    signature_document,
)

KEY_ENV = "BWC_SIGNING_KEY"  # path of a PEM (PKCS#8, unencrypted) Ed25519 private key
CONFIG_ENV = "BWC_CONFIG_DIR"  # default: $XDG_CONFIG_HOME/bwc-harness or ~/.config/bwc-harness
KEY_FILE = "signing-key.pem"
TRUST_DIR = "trusted-keys"  # under the config dir: public keys (PEM) bwc verify trusts
MANIFEST = "manifest.json"
SIGNATURE = "signature.json"
UNSIGNED = frozenset({MANIFEST, SIGNATURE})
REPORT_FILES = ("report.json", "report.html", "report.pdf")


class SigningKeyError(Exception):
    """The signing key is missing, unreadable or not Ed25519 (the message names the file)."""


def config_dir() -> Path:
    """The per-user config directory; SigningKeyError when that path exists but is not a directory."""
    if os.environ.get(CONFIG_ENV):
        path, named = Path(os.environ[CONFIG_ENV]).expanduser(), f"${CONFIG_ENV}={os.environ[CONFIG_ENV]}"
    else:
        path = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "bwc-harness"
        named = str(path)
    if path.exists() and not path.is_dir():
        raise SigningKeyError(f"{named}: is not a directory (the config directory holds {KEY_FILE} and {TRUST_DIR}/)")
    return path


def signing_key_path() -> tuple[Path, bool]:
    """(path, explicit): $BWC_SIGNING_KEY if set, else the per-user default."""
    if os.environ.get(KEY_ENV):
        return Path(os.environ[KEY_ENV]).expanduser(), True
    return config_dir() / KEY_FILE, False


def read_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningKeyError(f"cannot read signing key {path}: {exc.strerror or exc}") from None
    try:
        return private_key_from_pem(data)
    except ManifestError as exc:
        raise SigningKeyError(f"signing key {path}: {exc}") from None
    except UnsupportedAlgorithm as exc:  # e.g. an EC key on a curve OpenSSL does not know
        raise SigningKeyError(f"signing key {path}: not an Ed25519 key ({exc})") from None


def permission_warning(path: Path) -> str | None:
    """A warning when the private key file can be read by others than its owner (as ssh warns)."""
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        return None
    if mode & 0o077 == 0:
        return None
    return f"signing key {path} is accessible by others (mode {mode:03o}): anyone who can read it can sign runs as this lab; chmod 600 {path}"


def write_private_key(key: Ed25519PrivateKey, path: Path) -> None:
    """Create the key file readable by its owner only; never overwrite an existing key."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:  # FileExistsError: the folder is a file
        raise SigningKeyError(f"cannot create signing key {path}: {path.parent} is not a directory we can create ({exc.strerror})") from None
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise SigningKeyError(f"{path} already exists; not overwriting a signing key") from None
    except OSError as exc:
        raise SigningKeyError(f"cannot create signing key {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "wb") as f:
        f.write(private_key_to_pem(key))


def load_signing_key(create: bool = True) -> tuple[Ed25519PrivateKey, Path, bool]:
    """(key, its path, whether it was just created). The per-user default key is generated
    on first use; a key named by $BWC_SIGNING_KEY must exist."""
    path, explicit = signing_key_path()
    if path.exists():
        return read_private_key(path), path, False
    if explicit:
        raise SigningKeyError(f"${KEY_ENV}={path}: no such file (unset it to use the per-user key, or create one with 'bwc key --generate {path}')")
    if not create:
        raise SigningKeyError(f"no signing key yet at {path}; 'bwc run' or 'bwc key --generate' creates it")
    key = generate_private_key()
    write_private_key(key, path)
    return key, path, True


def read_public_key(arg: str, named: str = "--key") -> Ed25519PublicKey:
    """A trusted key: a PEM public key file (as written by 'bwc key --export-public'), or a
    PEM private key file (its public half). Errors start with ``named`` and the file."""
    path = Path(arg).expanduser()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningKeyError(f"{named} {arg}: cannot read: {exc.strerror or exc}") from None
    try:
        if b"PRIVATE KEY" in data:
            return private_key_from_pem(data).public_key()
        return public_key_from_pem(data)
    except ManifestError as exc:
        raise SigningKeyError(f"{named} {arg}: {exc}") from None
    except UnsupportedAlgorithm as exc:
        raise SigningKeyError(f"{named} {arg}: not an Ed25519 key ({exc})") from None


def trusted_keys(key_arg: str | None) -> dict[str, str]:
    """The signers bwc verify trusts, fingerprint -> where the trust comes from: only the key
    given with --key; without it, the harness's own signing key (if there is one yet) and
    every public key (*.pem) in the trust store, $BWC_CONFIG_DIR/trusted-keys/."""
    if key_arg:
        return {key_fingerprint(read_public_key(key_arg)): "the trusted key given with --key"}
    trusted: dict[str, str] = {}
    path, _explicit = signing_key_path()
    if path.is_file():
        trusted[key_fingerprint(read_private_key(path).public_key())] = f"this harness's signing key {path}"
    store = config_dir() / TRUST_DIR
    if store.exists() and not store.is_dir():
        raise SigningKeyError(f"trust store {store}: is not a directory")
    for pem in sorted(store.glob("*.pem")) if store.is_dir() else []:
        trusted.setdefault(key_fingerprint(read_public_key(str(pem), "trust store key")), f"trust store {pem}")
    return trusted


def sign_run(out_dir: Path, key: Ed25519PrivateKey, signed_utc: str) -> tuple[Path, Path]:
    """Write manifest.json over every file in out_dir (but itself and the signature) and
    signature.json: Ed25519 over manifest.json's exact bytes."""
    manifest = build_manifest(out_dir, exclude=UNSIGNED)
    data = canonical_json(manifest)
    mpath = out_dir / MANIFEST
    mpath.write_bytes(data)
    spath = out_dir / SIGNATURE
    spath.write_text(json.dumps(signature_document(key, data, MANIFEST, signed_utc), indent=2) + "\n")
    return mpath, spath


@dataclass
class Verification:
    problems: list[str] = field(default_factory=list)  # integrity problems
    fingerprint: str | None = None  # of the key that signed
    trusted: str | None = None  # where the signer's trust comes from; None: not a trusted key (or not checked)
    untrusted: str | None = None  # the problem when a trust check was asked for and the signer is not trusted
    files_checked: int = 0
    filed: list[str] = field(default_factory=list)  # filed copies matched to signed files

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def ok(self) -> bool:
        return self.intact and self.untrusted is None


def _check_report_consistency(out_dir: Path, manifest: dict, fingerprint: str | None, result: Verification) -> None:
    """report.json (and so the PDF/HTML) prints the artifact hashes and the key
    fingerprint; they must be the signed ones."""
    try:
        report = json.loads((out_dir / "report.json").read_text())
    except (OSError, ValueError, RecursionError):
        return  # a missing or altered report.json is already a manifest problem
    if not isinstance(report, dict):
        return
    printed = report.get("signing", {}).get("key_fingerprint")
    if fingerprint and printed and printed != fingerprint:
        result.problems.append(f"report.json names signing key {printed}, but the manifest was signed by {fingerprint}")
    listed = {a.get("path"): a for a in report.get("artifacts", [])}
    for rel, a in listed.items():
        entry = manifest["files"].get(rel)
        if entry is None or entry["sha256"] != a.get("sha256"):
            result.problems.append(f"report.json prints a SHA-256 for {rel} that is not the signed one")
    expected = set(manifest["files"]) - set(REPORT_FILES)
    if listed and set(listed) != expected:
        result.problems.append("report.json's artifact list differs from the signed manifest: " + ", ".join(sorted(set(listed) ^ expected)))


def verify_run(out_dir: Path, trusted: dict[str, str] | None = None, filed: list[Path] | None = None) -> Verification:
    """Check the run's integrity and, when ``trusted`` (fingerprint -> why it is trusted, as
    from trusted_keys) is given, that its signer is one of those keys."""
    result = Verification()
    manifest: dict | None = None
    try:
        data = (out_dir / MANIFEST).read_bytes()
    except OSError:
        result.problems.append(f"{MANIFEST} is missing: the run was not signed (or the file was removed)")
        data = None
    if data is not None:
        try:
            manifest = parse_manifest(data)
        except ManifestError as exc:
            result.problems.append(f"{MANIFEST}: {exc}")
        except RecursionError:
            result.problems.append(f"{MANIFEST}: manifest is not valid JSON: nested too deeply")
        try:
            doc = json.loads((out_dir / SIGNATURE).read_text())
        except OSError:
            result.problems.append(f"{SIGNATURE} is missing: the manifest is not signed")
            doc = None
        except ValueError as exc:
            result.problems.append(f"{SIGNATURE} is not valid JSON: {exc}")
            doc = None
        except RecursionError:
            result.problems.append(f"{SIGNATURE} is not valid JSON: nested too deeply")
            doc = None
        if doc is not None:
            try:
                public = check_signature_document(doc, data)
                result.fingerprint = key_fingerprint(public)
                if doc.get("signed_file") != MANIFEST:
                    result.problems.append(f"{SIGNATURE} signs {doc.get('signed_file')!r}, not {MANIFEST}")
            except ManifestError as exc:
                result.problems.append(f"{SIGNATURE}: {exc}")
    if manifest is not None:
        check = check_manifest(out_dir, manifest, exclude=UNSIGNED)
        result.files_checked = check.checked
        result.problems += check.problems()
        _check_report_consistency(out_dir, manifest, result.fingerprint, result)
    if trusted is not None and result.fingerprint:
        result.trusted = trusted.get(result.fingerprint)
        if result.trusted is None:
            result.untrusted = f"signed by an untrusted key {result.fingerprint}"
    for copy in filed or []:
        digest = sha256_file(copy)
        names = [rel for rel, e in (manifest or {}).get("files", {}).items() if e["sha256"] == digest]
        if names:
            result.filed.append(f"{copy} = {names[0]}")
        else:
            result.problems.append(f"filed copy {copy} (sha256 {digest[:16]}...) matches no signed file of this run")
    return result

