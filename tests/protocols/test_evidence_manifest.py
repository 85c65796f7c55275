import hashlib
import json

import pytest

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
    public_key_raw,
    public_key_to_pem,
    sign,
    signature_document,
    verify_signature,
)


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "evidence" / "X1").mkdir(parents=True)
    (tmp_path / "evidence" / "X1" / "clip.mp4").write_bytes(bytes(range(256)) * 10)
    (tmp_path / "a.json").write_text('{"k": 1}\n')
    (tmp_path / "empty").write_bytes(b"")
    return tmp_path


def test_manifest_lists_every_file_with_its_sha256_and_size(tree):
    m = build_manifest(tree)
    assert sorted(m["files"]) == ["a.json", "empty", "evidence/X1/clip.mp4"]
    clip = (tree / "evidence/X1/clip.mp4").read_bytes()
    assert m["files"]["evidence/X1/clip.mp4"] == {"sha256": hashlib.sha256(clip).hexdigest(), "size": 2560}
    assert m["files"]["empty"]["sha256"] == hashlib.sha256(b"").hexdigest()
    assert sorted(build_manifest(tree, exclude={"a.json"})["files"]) == ["empty", "evidence/X1/clip.mp4"]
    assert sorted(build_manifest(tree, ["a.json"])["files"]) == ["a.json"]


def test_canonical_json_is_independent_of_key_order():
    assert canonical_json({"b": 1, "a": [1, {"d": 2, "c": "é"}]}) == canonical_json({"a": [1, {"c": "é", "d": 2}], "b": 1})
    assert canonical_json({"a": 1}) == b'{"a":1}'
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_check_finds_changed_missing_and_added_files(tree):
    m = parse_manifest(canonical_json(build_manifest(tree)))
    assert check_manifest(tree, m).ok
    clip = tree / "evidence/X1/clip.mp4"
    data = bytearray(clip.read_bytes())
    data[1000] ^= 0x01  # same size, one bit
    clip.write_bytes(bytes(data))
    (tree / "a.json").unlink()
    (tree / "evidence/X1/extra.txt").write_text("x")
    result = check_manifest(tree, m)
    assert (result.changed, result.missing, result.added) == (["evidence/X1/clip.mp4"], ["a.json"], ["evidence/X1/extra.txt"])
    assert not result.ok and len(result.problems()) == 3
    assert check_manifest(tree, m, exclude={"evidence/X1/extra.txt"}).added == []


@pytest.mark.parametrize("bad", [b"not json", b'{"schema": "other"}', canonical_json({"schema": "bwc-manifest/1", "hash": "sha256", "files": {"../etc/passwd": {"sha256": "0" * 64, "size": 1}}}),
                                 canonical_json({"schema": "bwc-manifest/1", "hash": "sha256", "files": {"a": {"sha256": "abc", "size": 1}}})])
def test_parse_rejects_malformed_manifests(bad):
    with pytest.raises(ManifestError):
        parse_manifest(bad)


def test_sign_verify_and_pem_round_trip():
    key = generate_private_key()
    data = b"manifest bytes"
    sig = sign(key, data)
    assert verify_signature(key.public_key(), data, sig)
    assert not verify_signature(key.public_key(), data + b"!", sig)
    assert not verify_signature(generate_private_key().public_key(), data, sig)
    again = private_key_from_pem(private_key_to_pem(key))
    assert public_key_raw(again.public_key()) == public_key_raw(key.public_key())
    pub = public_key_from_pem(public_key_to_pem(key.public_key()))
    assert key_fingerprint(pub) == key_fingerprint(key.public_key()) == "sha256:" + hashlib.sha256(public_key_raw(pub)).hexdigest()
    with pytest.raises(ManifestError):
        private_key_from_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ManifestError):
        public_key_from_pem(private_key_to_pem(key))


def test_signature_document_detects_any_change():
    key = generate_private_key()
    data = canonical_json({"schema": "bwc-manifest/1", "hash": "sha256", "files": {}})
    doc = json.loads(json.dumps(signature_document(key, data, "manifest.json", "2026-01-01T00:00:00Z")))
    assert key_fingerprint(check_signature_document(doc, data)) == doc["key_fingerprint"]
    with pytest.raises(ManifestError, match="SHA-256 differs"):
        check_signature_document(doc, data + b" ")
    forged = dict(doc, signed_sha256=hashlib.sha256(data + b" ").hexdigest())
    with pytest.raises(ManifestError, match="does not verify"):
        check_signature_document(forged, data + b" ")
    other = generate_private_key().public_key()
    with pytest.raises(ManifestError, match="key_fingerprint"):
        check_signature_document(dict(doc, key_fingerprint=key_fingerprint(other)), data)
    with pytest.raises(ManifestError):
        check_signature_document({"schema": "x"}, data)
