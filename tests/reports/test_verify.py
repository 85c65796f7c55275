"""bwc verify: an intact run signed by a trusted key passes; any flipped byte, missing or added
file, forged signature or untrusted signer fails with a message naming it; bad input exits 2."""

from __future__ import annotations

import json
import shutil

import pytest

from bwc.cli import main
from protocols.evidence_manifest import build_manifest, canonical_json, generate_private_key, key_fingerprint, signature_document
from reports.signing import MANIFEST, SIGNATURE
from tests.reports.conftest import bwc


# an EC key on a curve OpenSSL cannot load (openssl genpkey ... ec_paramgen_curve:prime192v2)
PRIME192V2_PUBLIC = """-----BEGIN PUBLIC KEY-----
MEkwEwYHKoZIzj0CAQYIKoZIzj0DAQIDMgAExdvEpMqDH1GNEa4Dp3g3Jp7UW/iS
Hyb1005+pg8y45nMz+TX1mFkZfLlbRYEF9n/
-----END PUBLIC KEY-----
"""


@pytest.fixture(autouse=True)
def lab_machine(monkeypatch, tmp_path, test_key):
    """Verify as on the lab machine that signed the reference run: its signing key is the test
    key, its config directory (trust store) is empty."""
    monkeypatch.setenv("BWC_SIGNING_KEY", str(test_key.private_pem))
    monkeypatch.setenv("BWC_CONFIG_DIR", str(tmp_path / "conf"))
    return tmp_path / "conf"


def _forge(run, forger) -> None:
    """Alter a result and re-sign everything consistently with another key."""
    report = json.loads((run / "report.json").read_text())
    report["summary"]["overall"] = "pass-forged"
    report["signing"]["key_fingerprint"] = key_fingerprint(forger.public_key())
    (run / "report.json").write_text(json.dumps(report, indent=2))
    data = canonical_json(build_manifest(run, exclude={MANIFEST, SIGNATURE}))
    (run / MANIFEST).write_bytes(data)
    (run / SIGNATURE).write_text(json.dumps(signature_document(forger, data, MANIFEST, "2026-01-01T00:00:00Z")))


def _verify(capsys, *args: str) -> tuple[int, str]:
    code = main(["verify", *args])
    out = capsys.readouterr()
    return code, out.out + out.err


def _flip(path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset % len(data)] ^= 0x01
    path.write_bytes(bytes(data))


def test_intact_run_verifies_with_the_trusted_key(reference_run, test_key):
    proc = bwc("verify", str(reference_run.dir), "--key", str(test_key.public_pem), "--filed", str(reference_run.dir / "report.pdf"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "OK" in proc.stdout and key_fingerprint(test_key.private.public_key()) in proc.stdout
    assert "the trusted key" in proc.stdout and "filed copy matches" in proc.stdout
    manifest = json.loads((reference_run.dir / MANIFEST).read_text())
    on_disk = {p.relative_to(reference_run.dir).as_posix() for p in reference_run.dir.rglob("*") if p.is_file()}
    assert set(manifest["files"]) == on_disk - {MANIFEST, SIGNATURE}, "the manifest covers every artifact of the run"
    for name in ("report.pdf", "report.html", "report.json", "results.json", "air.pcap", "junit.xml", "provenance.json"):
        assert name in manifest["files"]
    assert any(p.startswith("evidence/") and p.endswith(".mp4") for p in manifest["files"])
    assert any(p.startswith("allure-results/") for p in manifest["files"])


def test_a_flipped_byte_in_any_artifact_fails(reference_copy, capsys):
    """A byte flipped in every artifact at once (a different place in each): one verify names
    each of them, so each file's hash is checked on its own (one pass instead of one per file);
    the manifest and the signature, which fail the whole run, are flipped one at a time."""
    artifacts = sorted(json.loads((reference_copy / MANIFEST).read_text())["files"])
    assert len(artifacts) > 20
    originals = {rel: (reference_copy / rel).read_bytes() for rel in artifacts}
    for i, rel in enumerate(artifacts):
        _flip(reference_copy / rel, 7919 * (i + 1))
    code, out = _verify(capsys, str(reference_copy))
    assert code == 1 and "FAILED" in out
    undetected = [rel for rel in artifacts if f"changed: {rel} (SHA-256 differs from the manifest)" not in out]
    assert undetected == [], f"flipping a byte of {undetected[:5]} was not detected"
    for rel, data in originals.items():
        (reference_copy / rel).write_bytes(data)
    for i, rel in enumerate((MANIFEST, SIGNATURE)):
        path = reference_copy / rel
        original = path.read_bytes()
        _flip(path, 7919 * (i + 1))
        code, out = _verify(capsys, str(reference_copy))
        assert code == 1 and "FAILED" in out and (MANIFEST in out or SIGNATURE in out), f"flipping a byte of {rel} was not detected"
        path.write_bytes(original)
    assert _verify(capsys, str(reference_copy))[0] == 0, "restored run verifies again"


def test_missing_and_added_files_fail(reference_copy, capsys):
    clip = next((reference_copy / "evidence").rglob("*.mp4"))
    rel = clip.relative_to(reference_copy).as_posix()
    clip.unlink()
    (reference_copy / "evidence" / "extra.mp4").write_bytes(b"not evidence")
    code, out = _verify(capsys, str(reference_copy))
    assert code == 1
    assert f"missing: {rel}" in out and "added: evidence/extra.mp4" in out


def test_forged_resignature_is_an_untrusted_signer(reference_copy, test_key, capsys, monkeypatch):
    """Issue 11: re-signed with any key and report.json patched, the run verified (exit 0).
    Only keys verify was told to trust count: --key, the harness's own key, the trust store."""
    forger = generate_private_key()
    _forge(reference_copy, forger)
    fingerprint = key_fingerprint(forger.public_key())
    code, out = _verify(capsys, str(reference_copy))
    assert code == 1 and f"signed by an untrusted key {fingerprint}" in out
    assert "integrity: intact" in out and "this harness's signing key" in out, "the integrity result is still printed"
    code, out = _verify(capsys, str(reference_copy), "--key", str(test_key.public_pem))
    assert code == 1 and f"signed by an untrusted key {fingerprint}" in out
    monkeypatch.delenv("BWC_SIGNING_KEY")
    code, out = _verify(capsys, str(reference_copy))
    assert code == 1 and "trusted keys: none" in out


def test_trust_store_and_own_key_are_trusted(reference_copy, test_key, lab_machine, capsys, monkeypatch):
    code, out = _verify(capsys, str(reference_copy))
    assert code == 0 and f"this harness's signing key {test_key.private_pem}" in out
    monkeypatch.delenv("BWC_SIGNING_KEY")
    (lab_machine / "trusted-keys").mkdir(parents=True)
    (lab_machine / "trusted-keys" / "lab.pem").write_bytes(test_key.public_pem.read_bytes())
    code, out = _verify(capsys, str(reference_copy))
    assert code == 0 and "trust store" in out and "lab.pem" in out
    (lab_machine / "trusted-keys" / "curve.pem").write_text(PRIME192V2_PUBLIC)
    code, out = _verify(capsys, str(reference_copy))
    assert code == 2 and out.strip().endswith("curve.pem: not an Ed25519 key (Curve 1.2.840.10045.3.1.2 is not supported)")


@pytest.mark.parametrize("name", [MANIFEST, SIGNATURE])
def test_deeply_nested_json_is_a_verification_failure_not_a_crash(reference_copy, name, capsys):
    """Issue 11: a RecursionError traceback."""
    (reference_copy / name).write_text("[" * 100_000 + "]" * 100_000)
    code, out = _verify(capsys, str(reference_copy))
    assert code == 1 and f"  {name}" in out and "is not valid JSON: nested too deeply" in out


def test_resigned_manifest_without_updating_the_report_fails(reference_copy, capsys):
    forger = generate_private_key()
    data = (reference_copy / MANIFEST).read_bytes()
    (reference_copy / SIGNATURE).write_text(json.dumps(signature_document(forger, data, MANIFEST, "2026-01-01T00:00:00Z")))
    code, out = _verify(capsys, str(reference_copy))
    assert code == 1 and "report.json names signing key" in out


def test_altered_filed_copy_fails(reference_run, tmp_path, capsys):
    copy = tmp_path / "filed.pdf"
    shutil.copy(reference_run.dir / "report.pdf", copy)
    _flip(copy, 5000)
    code, out = _verify(capsys, str(reference_run.dir), "--filed", str(copy))
    assert code == 1 and "matches no signed file" in out


@pytest.mark.parametrize("make, needle", [
    (lambda d: d / "nope", "no such directory"),
    (lambda d: (d / "f.txt").write_text("x") and d / "f.txt", "is not a directory"),
    (lambda d: d, "not a bwc run directory"),
])
def test_bad_input_exits_2_without_traceback(tmp_path, make, needle):
    proc = bwc("verify", str(make(tmp_path)))
    assert proc.returncode == 2 and needle in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_bad_key_and_filed_arguments_exit_2(reference_run, tmp_path):
    junk = tmp_path / "junk.pem"
    junk.write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    curve = tmp_path / "curve.pem"
    curve.write_text(PRIME192V2_PUBLIC)
    for args, needle in ((["--key", str(tmp_path / "missing.pem")], "cannot read"), (["--key", str(junk)], "not a PEM public key"),
                         (["--key", str(curve)], "not an Ed25519 key"), (["--filed", str(tmp_path / "missing.pdf")], "no such file")):
        proc = bwc("verify", str(reference_run.dir), *args)
        assert proc.returncode == 2 and needle in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_config_dir_that_is_a_file_exits_2(reference_run, tmp_path, monkeypatch, capsys):
    (tmp_path / "conf-file").write_text("")
    monkeypatch.setenv("BWC_CONFIG_DIR", str(tmp_path / "conf-file"))
    code, out = _verify(capsys, str(reference_run.dir))
    assert code == 2 and "conf-file: is not a directory" in out


def test_unsigned_run_fails(reference_copy, capsys):
    (reference_copy / SIGNATURE).unlink()
    code, out = _verify(capsys, str(reference_copy))
    assert code == 1 and f"{SIGNATURE} is missing" in out
    (reference_copy / MANIFEST).unlink()
    code, out = _verify(capsys, str(reference_copy))
    assert code == 1 and f"{MANIFEST} is missing" in out
