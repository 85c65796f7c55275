"""finalize_run and the signing key: where the key comes from, that finalizing is
repeatable, and that errors name the problem."""

from __future__ import annotations

import json
import stat

import pytest

from protocols.evidence_manifest import key_fingerprint, public_key_from_pem
from reports.finalize import FinalizeError, finalize_run
from reports.signing import trusted_keys, verify_run
from tests.reports.conftest import bwc


def test_finalize_writes_what_it_returns_and_can_run_again(reference_copy, test_key):
    report = json.loads((reference_copy / "report.json").read_text())
    written = finalize_run(reference_copy, report, signing_key=test_key.private)
    names = sorted(p.rsplit("/", 1)[-1] for p in written)
    assert names == ["manifest.json", "provenance.json", "report.html", "report.json", "report.pdf", "signature.json"]
    assert all((reference_copy / n).stat().st_size > 0 for n in names)
    assert verify_run(reference_copy, trusted_keys(str(test_key.public_pem))).ok
    prov = json.loads((reference_copy / "provenance.json").read_text())
    assert prov["git"]["revision"] and prov["packages"]["weasyprint"] and prov["catalogue"]["sha256"]
    assert report["provenance"] == prov and report["signing"]["key_fingerprint"] == key_fingerprint(test_key.private.public_key())


def test_default_key_is_generated_once_in_the_config_dir(reference_copy, tmp_path, monkeypatch):
    monkeypatch.delenv("BWC_SIGNING_KEY", raising=False)
    monkeypatch.setenv("BWC_CONFIG_DIR", str(tmp_path / "conf"))
    report = json.loads((reference_copy / "report.json").read_text())
    written = finalize_run(reference_copy, report, pdf=False)  # the PDF: the test above
    key = tmp_path / "conf" / "signing-key.pem"
    assert written[0] == str(key) and stat.S_IMODE(key.stat().st_mode) == 0o600
    again = finalize_run(reference_copy, report, pdf=False)
    assert str(key) not in again, "an existing key is reused, never replaced"
    assert verify_run(reference_copy).ok


def test_missing_explicit_key_is_an_error_naming_it(tmp_path, monkeypatch):
    monkeypatch.setenv("BWC_SIGNING_KEY", str(tmp_path / "nope.pem"))
    with pytest.raises(FinalizeError, match=r"BWC_SIGNING_KEY=.*nope.pem: no such file"):
        finalize_run(tmp_path, {})
    (tmp_path / "bad.pem").write_text("not a key")
    monkeypatch.setenv("BWC_SIGNING_KEY", str(tmp_path / "bad.pem"))
    with pytest.raises(FinalizeError, match="bad.pem"):
        finalize_run(tmp_path, {})


def test_key_command_generates_shows_and_exports(tmp_path):
    env = {"BWC_CONFIG_DIR": str(tmp_path / "conf"), "BWC_SIGNING_KEY": ""}
    none = bwc("key", env=env)
    assert none.returncode == 2 and "no signing key yet" in none.stderr
    made = bwc("key", "--generate", env=env)
    assert made.returncode == 0 and "created" in made.stdout and "BEGIN PUBLIC KEY" in made.stdout
    out = tmp_path / "lab-public.pem"
    shown = bwc("key", "--export-public", str(out), env=env)
    assert shown.returncode == 0 and "created" not in shown.stdout
    fp = key_fingerprint(public_key_from_pem(out.read_bytes()))
    assert fp in made.stdout and fp in shown.stdout
    bad = bwc("key", "--export-public", str(tmp_path / "no" / "dir" / "k.pem"), env=env)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
