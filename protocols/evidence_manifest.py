"""Canonical JSON manifests of files (relative path -> SHA-256 and size) and Ed25519
signatures over them.

Pure helpers: keys are passed in, nothing is global. A manifest is a dict

    {"schema": "bwc-manifest/1", "hash": "sha256",
     "files": {"evidence/X/clip.mp4": {"sha256": "<64 hex>", "size": 123}, ...}}

serialised canonically (sorted keys, no whitespace, UTF-8) so the same files always give
the same bytes. A signature document names the signed file, its SHA-256, the signer's raw
public key and the Ed25519 signature over the signed bytes."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

MANIFEST_SCHEMA = "bwc-manifest/1"
SIGNATURE_SCHEMA = "bwc-signature/2"  # /2: the signature also covers the signed file's name and the signing time
_CHUNK = 1 << 20


class ManifestError(ValueError):
    """A manifest, signature document or key is malformed (the message names what)."""


# ---- hashing and manifests ------------------------------------------------------------

def canonical_json(obj: object) -> bytes:
    """Sorted keys, no insignificant whitespace, UTF-8: equal data gives equal bytes."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def list_files(root: Path, exclude: Collection[str] = ()) -> list[str]:
    """Every regular file under root as a relative POSIX path, sorted; ``exclude`` holds
    relative paths to leave out. Symbolic links are listed (and hashed by content)."""
    out: list[str] = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            rel = Path(dirpath, name).relative_to(root).as_posix()
            if rel not in exclude:
                out.append(rel)
    return sorted(out)


def build_manifest(root: Path, files: Iterable[str] | None = None, *, exclude: Collection[str] = ()) -> dict:
    """Manifest of ``files`` (relative paths; default: every file under root but ``exclude``)."""
    names = list_files(root, exclude) if files is None else sorted(set(files) - set(exclude))
    entries = {}
    for rel in names:
        _check_relative(rel)
        path = root / rel
        entries[rel] = {"sha256": sha256_file(path), "size": path.stat().st_size}
    return {"schema": MANIFEST_SCHEMA, "hash": "sha256", "files": entries}


def parse_manifest(data: bytes) -> dict:
    """Parse and validate manifest bytes; raises ManifestError naming the problem."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ManifestError(f"manifest is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("schema") != MANIFEST_SCHEMA:
        raise ManifestError(f"manifest schema is not {MANIFEST_SCHEMA}")
    files = doc.get("files")
    if doc.get("hash") != "sha256" or not isinstance(files, dict):
        raise ManifestError("manifest has no sha256 'files' table")
    for rel, entry in files.items():
        _check_relative(rel)
        if not (isinstance(entry, dict) and isinstance(entry.get("sha256"), str) and len(entry["sha256"]) == 64 and isinstance(entry.get("size"), int)):
            raise ManifestError(f"manifest entry {rel!r} needs a 64-hex sha256 and an integer size")
    return doc


@dataclass
class ManifestCheck:
    """Differences between a manifest and the files on disk."""

    missing: list[str] = field(default_factory=list)  # listed, not on disk
    added: list[str] = field(default_factory=list)  # on disk, not listed
    changed: list[str] = field(default_factory=list)  # listed, content differs
    unreadable: list[str] = field(default_factory=list)  # listed, present, cannot be read
    checked: int = 0

    @property
    def ok(self) -> bool:
        return not (self.missing or self.added or self.changed or self.unreadable)

    def problems(self) -> list[str]:
        return ([f"changed: {p} (SHA-256 differs from the manifest)" for p in self.changed]
                + [f"missing: {p} (listed in the manifest, not on disk)" for p in self.missing]
                + [f"added: {p} (on disk, not in the manifest)" for p in self.added]
                + [f"unreadable: {p}" for p in self.unreadable])


def check_manifest(root: Path, manifest: dict, *, exclude: Collection[str] = ()) -> ManifestCheck:
    """Hash every listed file under root; report missing, added and changed files.
    ``exclude``: files on disk that are not expected in the manifest (e.g. the manifest)."""
    result = ManifestCheck()
    listed: dict[str, dict] = manifest["files"]
    on_disk = set(list_files(root, exclude))
    result.added = sorted(on_disk - set(listed))
    for rel, entry in sorted(listed.items()):
        path = root / rel
        if rel not in on_disk or not path.is_file():
            result.missing.append(rel)
            continue
        try:
            if path.stat().st_size != entry["size"] or sha256_file(path) != entry["sha256"]:
                result.changed.append(rel)
        except OSError:
            result.unreadable.append(rel)
            continue
        result.checked += 1
    return result


def check_file_entry(path: Path, manifest: dict, rel: str) -> ManifestCheck:
    """One file (``path``) against the entry ``rel`` of a parsed manifest: changed, missing
    (no such file), added (the manifest has no such entry) or unreadable."""
    result = ManifestCheck()
    entry = manifest["files"].get(rel)
    if entry is None:
        result.added.append(rel)
    elif not path.is_file():
        result.missing.append(rel)
    else:
        try:
            if path.stat().st_size != entry["size"] or sha256_file(path) != entry["sha256"]:
                result.changed.append(rel)
            else:
                result.checked = 1
        except OSError:
            result.unreadable.append(rel)
    return result


def _check_relative(rel: str) -> None:
    p = PurePosixPath(rel)
    if not rel or p.is_absolute() or ".." in p.parts or "\\" in rel:
        raise ManifestError(f"manifest path {rel!r} must be relative and stay inside the directory")


# ---- Ed25519 keys and signatures ------------------------------------------------------

def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_to_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def private_key_from_pem(data: bytes) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ManifestError(f"not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ManifestError(f"private key is {type(key).__name__}, not Ed25519")
    return key


def public_key_to_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def public_key_from_pem(data: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise ManifestError(f"not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ManifestError(f"public key is {type(key).__name__}, not Ed25519")
    return key


def public_key_raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_from_raw(raw: bytes) -> Ed25519PublicKey:
    if len(raw) != 32:
        raise ManifestError(f"an Ed25519 public key has 32 bytes, not {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def key_fingerprint(key: Ed25519PublicKey) -> str:
    """'sha256:' + hex SHA-256 of the 32-byte raw public key."""
    return "sha256:" + hashlib.sha256(public_key_raw(key)).hexdigest()


def sign(key: Ed25519PrivateKey, data: bytes) -> bytes:
    return key.sign(data)


def verify_signature(key: Ed25519PublicKey, data: bytes, signature: bytes) -> bool:
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def signed_statement(data: bytes, signed_file: str, signed_utc: str) -> bytes:
    """What the Ed25519 signature is over: the schema, the signed file's name, when it was
    signed and its SHA-256, so none of them can be changed without breaking the signature."""
    return f"{SIGNATURE_SCHEMA}\n{signed_file}\n{signed_utc}\n{hashlib.sha256(data).hexdigest()}\n".encode("utf-8")


def signature_document(key: Ed25519PrivateKey, data: bytes, signed_file: str, signed_utc: str) -> dict:
    """What signature.json holds: enough to verify ``data`` without any other file."""
    public = key.public_key()
    return {
        "schema": SIGNATURE_SCHEMA,
        "algorithm": "ed25519",
        "signed_file": signed_file,
        "signed_sha256": hashlib.sha256(data).hexdigest(),
        "signed_utc": signed_utc,
        "public_key": base64.b64encode(public_key_raw(public)).decode("ascii"),
        "key_fingerprint": key_fingerprint(public),
        "signature": base64.b64encode(sign(key, signed_statement(data, signed_file, signed_utc))).decode("ascii"),
    }


def check_signature_document(doc: object, data: bytes) -> Ed25519PublicKey:
    """Verify ``data`` against a signature document; return the signer's public key.
    Raises ManifestError naming the problem."""
    if not isinstance(doc, dict) or doc.get("schema") != SIGNATURE_SCHEMA or doc.get("algorithm") != "ed25519":
        raise ManifestError(f"signature document is not {SIGNATURE_SCHEMA} with algorithm ed25519")
    try:
        public = public_key_from_raw(base64.b64decode(doc["public_key"], validate=True))
        signature = base64.b64decode(doc["signature"], validate=True)
    except (KeyError, TypeError, ValueError) as exc:
        raise ManifestError(f"signature document has no valid public_key/signature: {exc}") from None
    if doc.get("key_fingerprint") != key_fingerprint(public):
        raise ManifestError("signature document's key_fingerprint does not match its public_key")
    if doc.get("signed_sha256") != hashlib.sha256(data).hexdigest():
        raise ManifestError(f"{doc.get('signed_file')}: SHA-256 differs from the one that was signed")
    signed_file, signed_utc = doc.get("signed_file"), doc.get("signed_utc")
    if not isinstance(signed_file, str) or not isinstance(signed_utc, str):
        raise ManifestError("signature document has no signed_file/signed_utc text")
    if not verify_signature(public, signed_statement(data, signed_file, signed_utc), signature):
        raise ManifestError(f"{doc.get('signed_file')}: Ed25519 signature does not verify")
    return public
