"""The emulated dock: a camera's evidence folder as a real FAT image (dosfstools + mtools) on
a real loop device; read back with mtools and blkid, which share no code with the harness's
FAT reader (pyfatfs)."""

import hashlib
import os
import subprocess

import pytest

from emulators.dock import (
    FAT_LABEL_MAX, DockedCamera, DockError, backing_file, build_fat_image, docked, fs_uuid, volume_id, volume_label,
)
from emulators.evidence_seal import device_key, seal_folder
from tests.conftest import require_tool

SERIAL = "X6DCK00E1"


def _tools() -> None:
    for tool in ("losetup", "blkid", "mkfs.vfat", "mmd", "mcopy", "mdir"):
        require_tool(tool)


@pytest.fixture
def evidence(tmp_path):
    """A camera's evidence folder: two 'clips' with metadata, sealed like a camera seals it."""
    folder = tmp_path / "evidence" / SERIAL
    folder.mkdir(parents=True)
    for i, ms in enumerate((1780000003000, 1780000006500)):
        (folder / f"{SERIAL}_{ms}.mp4").write_bytes(os.urandom(40_000 + i * 7_001))
        (folder / f"{SERIAL}_{ms}.json").write_text(f'{{"clip": "{SERIAL}_{ms}.mp4"}}\n')
    seal_folder(folder, device_key(SERIAL), "2026-05-28T20:27:00.000Z")
    return folder


def test_volume_label_rule():
    assert volume_label("X6BWC00A1") == "X6BWC00A1"  # our 9-character serials are their own label
    assert volume_label("x6bwc00a1") == "X6BWC00A1"  # FAT labels are upper case
    assert volume_label("AB C.D/E") == "AB_C_D_E"  # characters outside A-Z 0-9 _ - become _
    assert volume_label("VERYLONGSERIAL42") == "VERYLONGSER" and len(volume_label("VERYLONGSERIAL42")) == FAT_LABEL_MAX
    with pytest.raises(DockError, match="empty volume label"):
        volume_label("  ")
    assert volume_id("X6BWC00A1") == volume_id("x6bwc00a1") != volume_id("X6BWC00A2")
    assert fs_uuid("X6BWC00A1") == f"{volume_id('X6BWC00A1')[:4]}-{volume_id('X6BWC00A1')[4:]}"


def test_fat_image_holds_the_folder_byte_for_byte(evidence, tmp_path):
    _tools()
    image = build_fat_image(evidence, tmp_path / "dock.img")
    # blkid reads the label and volume id from the image itself
    probe = subprocess.run(["blkid", "-p", "-o", "udev", str(image)], capture_output=True, text=True, check=True).stdout
    props = dict(line.split("=", 1) for line in probe.splitlines())
    assert (props["ID_FS_TYPE"], props["ID_FS_LABEL"], props["ID_FS_UUID"]) == ("vfat", SERIAL, fs_uuid(SERIAL))
    # mtools copies every file back out unchanged
    out = tmp_path / "back"
    out.mkdir()
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    subprocess.run(["mcopy", "-s", "-i", str(image), f"::/evidence/{SERIAL}", str(out)], check=True, env=env, capture_output=True)
    original = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in evidence.iterdir()}
    copied = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (out / SERIAL).iterdir()}
    assert copied == original and len(original) == 6


def test_docked_attaches_a_loop_device_and_always_detaches(evidence, tmp_path):
    _tools()
    with docked(evidence, tmp_path) as dock:
        device = dock.device
        assert device is not None and device.startswith("/dev/loop")
        assert backing_file(device) == str(dock.image)
        assert (dock.label, dock.uuid, dock.serial) == (SERIAL, fs_uuid(SERIAL), SERIAL)
        size = int(open(f"/sys/block/{device.rsplit('/', 1)[1]}/size").read()) * 512
        assert size == dock.image.stat().st_size
    assert backing_file(device) != str(dock.image)  # detached (the device may already serve someone else)
    assert not dock.image.exists()  # keep_image=False by default for docked()

    dock = DockedCamera(evidence, tmp_path / "kept.img")
    with pytest.raises(RuntimeError, match="boom"):
        with dock:
            device = dock.device
            raise RuntimeError("boom")
    assert backing_file(device) != str(dock.image) and dock.device is None
    assert dock.image.exists()  # DockedCamera keeps its image unless told otherwise


def test_clear_errors(tmp_path):
    _tools()
    with pytest.raises(DockError, match="no such evidence folder"):
        build_fat_image(tmp_path / "nothing", tmp_path / "x.img")
    with pytest.raises(DockError, match="losetup"):
        DockedCamera(tmp_path, tmp_path / "missing.img", serial="X", _built=True).attach()
