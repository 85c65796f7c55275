"""Bad usage gets exit 2 and a message naming the problem, never a traceback."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bwc.cli import main

REPO = Path(__file__).resolve().parents[1]


def _bwc(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "bwc", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "args, needle",
    [
        (["run", "--profile", "nope"], "unknown profile 'nope'"),
        (["run", "--seed", "-1"], "--seed -1"),
        (["run", "--seed", "x"], "invalid int value"),
        (["run", "--jobs", "0"], "--jobs 0: must be >= 1"),
        (["run", "--jobs", "2", "--target", "bench.yaml"], "--jobs 2: a bench target's devices are driven by one process"),
        (["run", "--target", "/no/such/bench.yaml"], "/no/such/bench.yaml: cannot read"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_usage_errors(args, needle):
    proc = _bwc(*args)
    assert proc.returncode == 2
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_non_empty_out_is_kept(tmp_path):
    keep = tmp_path / "results.json"
    keep.write_text("{}")
    proc = _bwc("run", "--out", str(tmp_path))
    assert proc.returncode == 2 and "not empty" in proc.stderr
    assert keep.read_text() == "{}"


def test_profiles_lists_defects_with_their_requirements():
    proc = _bwc("profiles", "--json")
    assert proc.returncode == 0
    items = {p["name"]: p for p in json.loads(proc.stdout)}
    assert items["reference"]["violates"] == []
    assert items["short-buffer"]["violates"] == ["PRE-001", "PRE-002"]
    assert all(p["violates"] for p in items.values() if p["defect"])


# an EC private key on a curve OpenSSL cannot load (openssl genpkey ... ec_paramgen_curve:prime192v2)
PRIME192V2_PRIVATE = """-----BEGIN PRIVATE KEY-----
MG8CAQAwEwYHKoZIzj0CAQYIKoZIzj0DAQIEVTBTAgEBBBi6N0pS6OElFpx8w7iA
RkOeHSl2cCfrjOqhNAMyAATF28SkyoMfUY0RrgOneDcmntRb+JIfJvXTTn6mDzLj
mczP5NfWYWRl8uVtFgQX2f8=
-----END PRIVATE KEY-----
"""


def _main(capsys, monkeypatch, env: dict, *args: str) -> tuple[int, str, str]:
    """bwc in this process (the cases below stop before any suite runs)."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_signing_key_is_checked_before_the_run_starts(tmp_path, capsys, monkeypatch):
    """Issue 11: a bad key was found only after the whole suite had run; the curve error was a traceback."""
    curve = tmp_path / "curve.pem"
    curve.write_text(PRIME192V2_PRIVATE)
    curve.chmod(0o600)
    for key, needle in ((tmp_path / "missing.pem", "missing.pem: no such file"), (curve, "curve.pem: not an Ed25519 key")):
        out = tmp_path / f"run-{key.stem}"
        code, stdout, stderr = _main(capsys, monkeypatch, {"BWC_SIGNING_KEY": str(key)}, "run", "--no-pdf", "--out", str(out))
        assert code == 2 and needle in stderr and len(stderr.strip().splitlines()) == 1, stderr
        assert not out.exists() and stdout == "", "nothing ran"
    code, _out, stderr = _main(capsys, monkeypatch, {"BWC_SIGNING_KEY": str(curve)}, "key")
    assert code == 2 and "not an Ed25519 key" in stderr


def test_config_dir_that_is_a_file_is_one_line(tmp_path, capsys, monkeypatch):
    conf = tmp_path / "conf"
    conf.write_text("not a directory")
    for args in (["key"], ["key", "--generate"], ["run", "--no-pdf", "--out", str(tmp_path / "run")]):
        code, _out, stderr = _main(capsys, monkeypatch, {"BWC_CONFIG_DIR": str(conf), "BWC_SIGNING_KEY": ""}, *args)
        assert code == 2 and stderr == f"bwc: error: $BWC_CONFIG_DIR={conf}: is not a directory (the config directory holds signing-key.pem and trusted-keys/)\n", (args, stderr)


def test_a_signing_key_readable_by_others_is_warned_about(tmp_path, capsys, monkeypatch):
    env = {"BWC_CONFIG_DIR": str(tmp_path / "conf"), "BWC_SIGNING_KEY": ""}
    assert _main(capsys, monkeypatch, env, "key", "--generate")[0] == 0
    key = tmp_path / "conf" / "signing-key.pem"
    assert _main(capsys, monkeypatch, env, "key")[2] == "", "mode 600: no warning"
    key.chmod(0o644)
    code, _out, stderr = _main(capsys, monkeypatch, env, "key")
    assert code == 0
    assert stderr == f"bwc: warning: signing key {key} is accessible by others (mode 644): anyone who can read it can sign runs as this lab; chmod 600 {key}\n"
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    code, _out, stderr = _main(capsys, monkeypatch, env, "run", "--out", str(tmp_path / "full"))  # stops at the non-empty --out, after the key check
    assert code == 2 and stderr.startswith("bwc: warning: signing key")
