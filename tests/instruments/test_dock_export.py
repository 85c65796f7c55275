"""A hostile docked device cannot write outside the output folder: FAT images whose long file
names are ``../../x.mp4`` or an absolute path, or whose evidence folder is ``../../../x``
(crafted by renaming mtools' long-name entries in place), read with the real FAT reader; the
shared path check (instruments/safe_paths.py); the bench's copy by serial."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from emulators.dock import attach_loop, build_fat_image, detach_loop, fs_uuid
from emulators.evidence_seal import device_key, seal_folder
from fixtures.bench import Bench, BenchCamera, BenchError, BenchSource, BenchTarget
from instruments.dock_export import export_evidence
from instruments.dock_volumes import DockVolume
from instruments.fat_reader import read_dock
from instruments.safe_paths import UnsafePath, contained, device_name
from instruments.synthetic_clip import ClipSpec, write_clip
from protocols.evidence_manifest import check_manifest, parse_manifest
from tests.conftest import require_tool

REPO = Path(__file__).resolve().parents[2]
SERIAL = "X6HOS0001"
TAG = uuid.uuid4().hex[:4]
ABSOLUTE = f"/tmp/{TAG}.mp4"  # 13 characters: one long-name entry
PLACEHOLDERS = {"a+a+a+x.mp4": "../../x.mp4", f"a+mp+{TAG}.mp4": ABSOLUTE}  # same lengths; '+' forces a long name


def _rename_long_name(image: Path, old: str, new: str) -> None:
    """Rewrite the characters of a one-entry FAT long name in place (same length, <= 13): the
    entry's checksum covers the short name only, so the entry stays valid."""
    assert len(old) == len(new) <= 13
    data = bytearray(image.read_bytes())
    slots = [*range(1, 11), *range(14, 26), *range(28, 32)]  # bytes of the 13 UTF-16 characters of an LFN entry
    want = old.encode("utf-16-le")
    for entry in range(0, len(data) - 32, 32):
        if data[entry + 11] == 0x0F and bytes(data[entry + s] for s in slots[: len(want)]) == want:
            for s, b in zip(slots, new.encode("utf-16-le")):
                data[entry + s] = b
            image.write_bytes(bytes(data))
            return
    raise AssertionError(f"no long-name entry {old!r} in {image}")


def _volume(image: Path) -> DockVolume:
    return DockVolume(str(image), "", image.stat().st_size, "vfat", SERIAL, None)


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    """A camera folder with one clip and a signed manifest, plus two files whose names become
    ../../x.mp4 and an absolute path on the FAT image."""
    for tool in ("mkfs.vfat", "mmd", "mcopy"):
        require_tool(tool)
    root = tmp_path_factory.mktemp("hostile")
    folder = root / SERIAL
    folder.mkdir()
    write_clip(folder / f"{SERIAL}_1780000000000.mp4", ClipSpec(seconds=1, audio=False))
    seal_folder(folder, device_key(SERIAL), "2026-05-28T20:28:00.000Z")
    payloads = {}
    for placeholder, name in PLACEHOLDERS.items():
        payloads[name] = f"written by the device as {name}\n".encode()
        (folder / placeholder).write_bytes(payloads[name])
    image = build_fat_image(folder, root / "files.img")
    for placeholder, name in PLACEHOLDERS.items():
        _rename_long_name(image, placeholder, name)
    return image, payloads


def test_device_names_and_contained_paths(tmp_path):
    for bad in ("", ".", "..", "../x", "a/b", "a\\b", "x\x00y", "x\ny", "é" * 128):
        with pytest.raises(UnsafePath):
            device_name(bad)
    assert device_name("X6BWC00A1_1780000000000.mp4") == "X6BWC00A1_1780000000000.mp4"
    assert contained(tmp_path, "a/b.mp4") == tmp_path / "a/b.mp4"
    (tmp_path / "link").symlink_to("/etc")
    for bad, why in (("../x", "leads outside"), ("/etc/passwd", "is an absolute path"), ("link/passwd", "leads outside"),
                     ("a/../../x", "leads outside")):
        with pytest.raises(UnsafePath, match=why):
            contained(tmp_path, bad)


def test_hostile_file_names_are_refused_and_kept_inside(hostile_files, tmp_path):
    image, payloads = hostile_files
    assert set(payloads) <= {f.name for f in read_dock(_volume(image)).evidence[SERIAL]}  # what the old export wrote out
    out = tmp_path / "run" / "evidence"
    export = export_evidence(_volume(image), out)
    (device,) = export.devices
    assert not (tmp_path / "run" / "x.mp4").exists() and not Path(ABSOLUTE).exists()
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["evidence"]
    assert device.refused == {"../../x.mp4": "refused-name-1.bin", ABSOLUTE: "refused-name-2.bin"}
    for name, kept in device.refused.items():
        assert (device.folder / kept).read_bytes() == payloads[name]  # nothing the device handed over is lost
    assert not device.intact and not export.intact
    size = len(payloads["../../x.mp4"])
    assert f"{image}: {SERIAL}: refused the file name '../../x.mp4' contains a path separator; its {size} bytes were kept as refused-name-1.bin" \
        in device.problems
    # INT-001 reads the same folder: it does not match the device's manifest, naming the files
    check = check_manifest(device.folder, parse_manifest((device.folder / "manifest.json").read_bytes()),
                           exclude=("manifest.json", "manifest.sig.json"))
    assert sorted(check.added) == ["refused-name-1.bin", "refused-name-2.bin"] and not check.ok
    assert [c.clip.name for c in device.clips] == [f"{SERIAL}_1780000000000.mp4"]


def test_hostile_evidence_folder_name_is_refused(tmp_path):
    for tool in ("mkfs.vfat", "mmd", "mcopy"):
        require_tool(tool)
    folder = tmp_path / "a+b+c+d+ef"
    folder.mkdir()
    (folder / "clip.mp4").write_bytes(b"not a clip")
    image = build_fat_image(folder, tmp_path / "folder.img", label="HOSTILE")
    _rename_long_name(image, "a+b+c+d+ef", "../../../x")
    out = tmp_path / "a" / "b" / "out"
    export = export_evidence(_volume(image), out)
    assert export.devices == [] and not export.intact and not (tmp_path / "x").exists()
    assert export.problems == [f"{image}: refused the evidence folder '../../../x' contains a path separator; its 1 file(s) were not exported"]


def test_bwc_dock_names_the_device_and_the_refused_names(hostile_files, tmp_path):
    if os.geteuid() != 0:
        pytest.fail("loop devices need root (CI runs as root)")
    require_tool("losetup")
    image, _ = hostile_files
    device = attach_loop(image)
    try:
        proc = subprocess.run([sys.executable, "-m", "bwc", "dock", "--uuid", fs_uuid(SERIAL), "--source", "kernel", "--out", str(tmp_path / "o")],
                              cwd=REPO, capture_output=True, text=True, timeout=120)
    finally:
        detach_loop(device)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"problem  {device}: {SERIAL}: refused the file name '../../x.mp4' contains a path separator" in proc.stdout
    assert f"refused the file name '{ABSOLUTE}' contains a path separator" in proc.stdout
    assert "verdict   NOT INTACT" in proc.stdout and not Path(ABSOLUTE).exists() and not (tmp_path / "x.mp4").exists()


def test_bench_copy_by_serial_stays_in_the_run_folder(tmp_path):
    """A serial that climbs out (the bench file's own checks are elsewhere): the copy refuses it."""
    collect = tmp_path / "export" / "a" / "b"
    escaped = tmp_path / "export" / "escape"  # collect / "../../escape"
    escaped.mkdir(parents=True)
    collect.mkdir(parents=True)
    (escaped / "escape_1.json").write_text("{}")
    bench = Bench("t", tmp_path / "bench.yaml", (BenchCamera("BWC-A", "../../escape", 10.0),), BenchSource("CEW", "X87002FP4", "cew", "operator"),
                  "tcp-client:127.0.0.1:1", collect_path=collect, collect_wait_s=1.0)
    out = tmp_path / "run" / "out"
    with pytest.raises(BenchError, match=r"bench.yaml: cameras: BWC-A: serial '../../escape' leads outside the output folder"):
        asyncio.run(BenchTarget(bench, out)._collect())
    assert not (tmp_path / "run" / "escape").exists() and not (tmp_path / "escape").exists()
