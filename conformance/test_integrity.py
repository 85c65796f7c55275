"""INT-001: every device's evidence folder carries a SHA-256 manifest signed with the
device's enrolled Ed25519 key, and the files match it."""

from __future__ import annotations

import json

import pytest

from conformance.incident_view import subject
from conformance.subjects import Subject
from protocols.evidence_manifest import ManifestError, check_manifest, check_signature_document, parse_manifest, public_key_raw

MANIFEST, SIGNATURE = "manifest.json", "manifest.sig.json"


@pytest.mark.requirement("INT-001")
def test_int001_evidence_is_signed_and_intact(incident, measure):
    import base64

    keys = {d.serial: d.public_key for d in incident.devices}
    labels = {d.serial: d.label for d in incident.devices}
    folders = sorted({item.clip.parent for cam in incident.cameras for item in cam.evidence}
                     | {item.clip.parent for d in incident.dvrs for item in d.evidence + d.rear_evidence})
    if not folders:
        measure.cannot_measure("scene", "evidence integrity", "no device exported evidence")
    exported = {f.name for f in folders}
    for cam in incident.cameras:  # a camera the harness heard announce a recording must have exported evidence
        if cam.status_starts_utc_ms and cam.serial not in exported:
            measure.expect(subject(cam), "exported the evidence of the recording it announced", False,
                           note=f"{len(cam.status_starts_utc_ms)} recording(s) announced, no evidence folder")
    for folder in folders:
        who = Subject(labels.get(folder.name, "evidence folder"), folder.name)
        manifest_path, sig_path = folder / MANIFEST, folder / SIGNATURE
        present = manifest_path.is_file() and sig_path.is_file()
        measure.expect(who, "signed manifest present", present)
        if not present:
            continue
        data = manifest_path.read_bytes()
        try:
            signer = check_signature_document(json.loads(sig_path.read_text()), data)
            manifest = parse_manifest(data)
        except (ManifestError, ValueError) as exc:
            measure.expect(who, "manifest signature verifies", False, note=str(exc))
            continue
        measure.expect(who, "manifest signature verifies", True)
        enrolled = keys.get(folder.name)
        signer_b64 = base64.b64encode(public_key_raw(signer)).decode("ascii")
        measure.expect(who, "signed with the device's enrolled key", enrolled is not None and signer_b64 == enrolled,
                       note="" if enrolled else "the target declares no key for this device")
        check = check_manifest(folder, manifest, exclude=(MANIFEST, SIGNATURE))
        measure.expect(who, "files match the manifest (none changed, missing or added)", check.ok, note="; ".join(check.problems()))
        clips = {p.name for p in folder.glob("*.mp4")}
        measure.expect(who, "every clip is listed", clips <= set(manifest["files"]))
