"""Device-side evidence integrity: every camera keeps a manifest of its evidence folder
(SHA-256 of every clip and metadata file) signed with its Ed25519 device key, rewritten each
time a clip is closed. Emulated device keys are derived from the serial (reproducible, and
therefore NOT secret: they stand in for keys a real device keeps in secure storage)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocols.evidence_manifest import build_manifest, canonical_json, public_key_raw, signature_document

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig.json"


def device_key(serial: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"bwc-harness emulated device key {serial}".encode()).digest())


def signing_key(serial: str, which: str = "enrolled") -> Ed25519PrivateKey:
    """The key a device signs its evidence with: its enrolled key, or ("other", a defect) a
    valid Ed25519 key that is not the one enrolled for it (a unit re-flashed with another
    unit's or a development key)."""
    if which == "enrolled":
        return device_key(serial)
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"bwc-harness emulated unenrolled key {serial}".encode()).digest())


def device_public_key_b64(serial: str) -> str:
    import base64

    return base64.b64encode(public_key_raw(device_key(serial).public_key())).decode("ascii")


def seal_folder(folder: Path, key: Ed25519PrivateKey, signed_utc: str) -> None:
    """Write manifest.json (every file but the manifest and its signature) and its signature."""
    manifest = build_manifest(folder, exclude=(MANIFEST, SIGNATURE))
    data = canonical_json(manifest)
    (folder / MANIFEST).write_bytes(data)
    (folder / SIGNATURE).write_text(json.dumps(signature_document(key, data, MANIFEST, signed_utc), indent=2) + "\n")
