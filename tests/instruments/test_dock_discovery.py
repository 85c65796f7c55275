"""Docked cameras, the real path: an emulated camera records real clips, docks them as a FAT
filesystem on a loop device, the dock watcher finds it with pyudev (udev events from a
systemd-udevd this module starts itself, and kernel events + blkid), reads the filesystem
without mounting it, exports the evidence, checks it against the device's signed manifest
and measures the clips. Every loop device and daemon started here is cleaned up."""

import asyncio
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from emulators.camera import Recording, CameraCore, CameraIdentity
from emulators.clock import DeviceClock, SceneClock
from emulators.dock import DockedCamera, attach_loop, backing_file, build_fat_image, detach_loop, docked, fs_uuid
from emulators.video import VideoFormat
from instruments.dock_export import analyze_export, export_evidence
from instruments.dock_discovery import DockWatcher
from instruments.dock_volumes import DockNotFound, UnreadableFilesystem, udevd_running
from instruments.fat_reader import read_dock
from tests.conftest import require_tool, run_virtual

REPO = Path(__file__).resolve().parents[2]
SERIAL = f"X6D{os.getpid() % 1_000_000:06d}"  # unique per run: other docks may be attached on this machine
UDEVD_CANDIDATES = ("/lib/systemd/systemd-udevd", "/usr/lib/systemd/systemd-udevd")


def _tools() -> None:
    for tool in ("losetup", "blkid", "mkfs.vfat", "mmd", "mcopy"):
        require_tool(tool)


@pytest.fixture(scope="module")
def evidence(tmp_path_factory) -> Path:
    """A camera's real evidence folder: two clips (320x180, 5 fps), metadata, signed manifest."""
    root = tmp_path_factory.mktemp("camera")

    async def record() -> None:
        core = CameraCore(CameraIdentity(SERIAL, "EMU-BWC", "1.0", "bwc"), DeviceClock(SceneClock(1_780_000_000_000)),
                          Recording(VideoFormat(320, 180, 5), 2.0), root)
        core.power_on()
        for start, length in ((3.0, 2.0), (1.5, 1.0)):
            await asyncio.sleep(start)
            core.activate("BUTTON", None)
            await asyncio.sleep(length)
            core.request_stop()
        await asyncio.sleep(1.5)
        await core.shutdown()

    run_virtual(record)
    folder = root / SERIAL
    assert len(list(folder.glob("*.mp4"))) == 2 and (folder / "manifest.sig.json").is_file()
    return folder


@pytest.fixture
def udev_source(tmp_path_factory):
    """'udev' with a systemd-udevd running (started here unless one already runs, and stopped
    again), or 'kernel' where udevd is installed but cannot run."""
    if udevd_running():
        yield "udev"
        return
    exe = next((p for p in UDEVD_CANDIDATES if os.access(p, os.X_OK)), None) or shutil.which("systemd-udevd")
    if exe is None:
        pytest.fail("systemd-udevd is not installed (Debian package udev): run scripts/system-deps (make test does)")
    log = tmp_path_factory.mktemp("udevd") / "udevd.log"
    run_udev_existed = Path("/run/udev").exists()
    with open(log, "wb") as sink:  # a file, not a pipe: udevd must never block on its own warnings
        proc = subprocess.Popen([exe, "--children-max=2", "--resolve-names=never"], stdout=sink, stderr=sink)
    try:
        answered = False
        deadline = time.monotonic() + 10
        while not answered and proc.poll() is None and time.monotonic() < deadline:
            answered = udevd_running()
            time.sleep(0 if answered else 0.05)
        if not answered:
            tail = log.read_text(errors="replace")[-500:]
            sys.stderr.write(f"systemd-udevd could not run here (exit {proc.poll()}): {tail}; testing the kernel + blkid path\n")
        yield "udev" if answered else "kernel"
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if not run_udev_existed:  # udevd's database and control socket, left behind when it stops
            shutil.rmtree("/run/udev", ignore_errors=True)


def _check_export(export, evidence: Path) -> None:
    device = export.device(SERIAL)
    assert device.intact and device.problems == [], device.problems
    manifest = json.loads((evidence / "manifest.json").read_bytes())  # the device's own manifest
    assert (device.folder / "manifest.json").read_bytes() == (evidence / "manifest.json").read_bytes()
    assert set(manifest["files"]) == {p.name for p in evidence.iterdir()} - {"manifest.json", "manifest.sig.json"}
    for name, entry in manifest["files"].items():
        data = (device.folder / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"] == device.sha256[name] and len(data) == entry["size"]
    assert device.signer_fingerprint and device.signer_fingerprint.startswith("sha256:")
    analyses = analyze_export(export)
    assert len(analyses) == 2
    for clip, analysis in analyses:
        meta = json.loads(clip.metadata.read_text())
        assert analysis.ok and not analysis.damaged and analysis.readable == analysis.frames > 0
        assert (analysis.width, analysis.height) == (320, 180)
        assert analysis.first_utc_ms == meta_ms(meta["start_utc"])  # the pictures agree with the metadata


def meta_ms(iso: str) -> int:
    from bwc.commands.analyze import parse_utc

    return parse_utc(iso)


def test_dock_found_by_udev_events_exported_verified_and_analyzed(evidence, udev_source, tmp_path):
    _tools()
    watcher = DockWatcher(source=udev_source)
    with watcher.monitor() as monitor, docked(evidence, tmp_path) as dock:
        vol = monitor.wait_for(label=dock.label, timeout=20)
        assert vol.device == dock.device and vol.found_by == f"monitor:{udev_source}"
        assert (vol.fs_type, vol.label, vol.uuid) == ("vfat", SERIAL, fs_uuid(SERIAL))
        assert vol.properties_from == ("udev" if udev_source == "udev" else "blkid")
        # enumeration finds the same dock by serial and by uuid
        assert watcher.find(serial=SERIAL).device == dock.device == watcher.find(uuid=dock.uuid).device
        assert read_dock(vol).serials == [SERIAL]
        export = export_evidence(vol, tmp_path / "out")
        device = dock.device
    assert backing_file(device) != str(dock.image)
    _check_export(export, evidence)


def test_dock_found_by_kernel_events_and_blkid(evidence, tmp_path):
    _tools()
    watcher = DockWatcher(source="kernel")  # what a host without udevd does
    with watcher.monitor() as monitor, docked(evidence, tmp_path) as dock:
        vol = monitor.wait_for(serial=SERIAL, timeout=20)
        assert (vol.device, vol.found_by, vol.properties_from) == (dock.device, "monitor:kernel", "blkid")
        assert (vol.label, vol.uuid) == (SERIAL, fs_uuid(SERIAL))
        again = watcher.wait_for(serial=SERIAL, timeout=5)  # already docked: found by enumeration
        assert (again.device, again.found_by) == (dock.device, "enumeration")
        export = export_evidence(again.device, tmp_path / "out", serials=[SERIAL])
    _check_export(export, evidence)


def test_no_such_dock_names_what_was_asked_and_what_is_there(evidence, tmp_path):
    _tools()
    watcher = DockWatcher(source="kernel")
    with docked(evidence, tmp_path) as dock:
        with pytest.raises(DockNotFound, match=r"no docked camera with label 'NODOCK' \(FAT volumes present: .*" + dock.device):
            watcher.find(label="NODOCK")
        t0 = time.monotonic()
        with pytest.raises(DockNotFound, match=r"label 'NODOCK' appeared within 0.5 s \(watching kernel events\)"):
            watcher.wait_for(label="NODOCK", timeout=0.5)
        assert time.monotonic() - t0 < 5
        with pytest.raises(DockNotFound, match=f"{dock.device}: no evidence folder for X6NOTHERE on this dock \\(found: {SERIAL}\\)"):
            export_evidence(dock.device, tmp_path / "out", serials=["X6NOTHERE"])
    with pytest.raises(DockNotFound, match="/dev/nonexistent: no such block device"):
        watcher.volume("/dev/nonexistent")


def test_unreadable_filesystems_are_named_errors(evidence, tmp_path):
    _tools()
    blank = tmp_path / "blank.img"
    blank.write_bytes(bytes(1 << 20))
    image = build_fat_image(evidence, tmp_path / "damaged.img")
    data = bytearray(image.read_bytes())
    reserved, fat_sectors, fats = struct.unpack_from("<H", data, 14)[0], struct.unpack_from("<H", data, 22)[0], data[16]
    for i in range(fats):  # every cluster of every file marked bad: the directories stay, the data is lost
        start = (reserved + i * fat_sectors) * 512
        data[start + 3 : start + fat_sectors * 512] = b"\xf7" * (fat_sectors * 512 - 3)
    image.write_bytes(bytes(data))
    devices = []
    try:
        devices = [attach_loop(blank), attach_loop(image)]
        watcher = DockWatcher(source="kernel")
        with pytest.raises(UnreadableFilesystem, match=f"{devices[0]}: filesystem is not recognised, not FAT"):
            read_dock(watcher.volume(devices[0]))
        damaged = watcher.volume(devices[1])
        assert damaged.is_fat and read_dock(damaged).serials == [SERIAL]  # directories still list
        with pytest.raises(UnreadableFilesystem, match=f"{devices[1]}: cannot read /EVIDENCE/{SERIAL}/.*the FAT filesystem is damaged"):
            export_evidence(damaged, tmp_path / "out")
        proc = _bwc("dock", "--uuid", fs_uuid(SERIAL), "--source", "kernel", "--out", str(tmp_path / "cli"))
        assert proc.returncode == 1 and f"bwc dock: {devices[1]}: cannot read" in proc.stderr
        assert "Traceback" not in proc.stdout + proc.stderr
    finally:
        for device in devices:
            detach_loop(device)


def _bwc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bwc", *args], cwd=REPO, capture_output=True, text=True, timeout=120)


def test_bwc_dock_cli(evidence, tmp_path):
    _tools()
    tampered = tmp_path / "tampered" / SERIAL
    shutil.copytree(evidence, tampered)
    clip = sorted(tampered.glob("*.mp4"))[0]
    raw = bytearray(clip.read_bytes())
    raw[-100] ^= 0xFF  # one byte of the last fragment changed after the camera signed its manifest
    clip.write_bytes(bytes(raw))
    with DockedCamera(evidence, tmp_path / "good.img", keep_image=False) as dock:
        proc = _bwc("dock", "--serial", SERIAL, "--source", "kernel", "--out", str(tmp_path / "cli"))
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert f"dock      {dock.device} (vfat, label '{SERIAL}'" in proc.stdout
        assert "manifest ok, signature ok (sha256:" in proc.stdout and "verdict   intact" in proc.stdout
        assert proc.stdout.count(": 25 frames 320x180") + proc.stdout.count(": 15 frames 320x180") == 2
    with DockedCamera(tampered, tmp_path / "bad.img", keep_image=False):
        proc = _bwc("dock", "--serial", SERIAL, "--source", "kernel", "--out", str(tmp_path / "cli2"), "--json")
        assert proc.returncode == 1, proc.stderr
        result = json.loads(proc.stdout)
        (device,) = result["devices"]
        assert device["manifest"] == "mismatch" and device["signature"] == "ok" and not result["intact"]
        assert device["problems"] == [f"{SERIAL}: changed: {clip.name} (SHA-256 differs from the manifest)"]
    proc = _bwc("dock", "--label", "NODOCK", "--source", "kernel", "--out", str(tmp_path / "cli3"))
    assert proc.returncode == 2 and "bwc: error: no docked camera with label 'NODOCK'" in proc.stderr
    proc = _bwc("dock", "--out", str(tmp_path / "cli4"))
    assert proc.returncode == 2 and "name the dock: --label, --uuid or --serial" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_short_names_keep_their_recorded_case(evidence, tmp_path):
    """mtools stores 'log.txt' as an 8.3 entry with the NT lower-case flags and no long name;
    the export must keep the name the manifest lists, or the check would fail."""
    _tools()
    from emulators.evidence_seal import device_key, seal_folder

    folder = tmp_path / "evidence" / SERIAL
    shutil.copytree(evidence, folder)
    (folder / "log.txt").write_text("docked\n")
    (folder / "CAPS.TXT").write_text("upper\n")
    seal_folder(folder, device_key(SERIAL), "2026-05-28T20:28:00.000Z")
    with docked(folder, tmp_path) as dock:
        contents = read_dock(DockWatcher().volume(dock.device))
        names = {f.name: f.path.rsplit("/", 1)[1] for f in contents.evidence[SERIAL]}
        assert names["log.txt"] == "LOG.TXT" and names["CAPS.TXT"] == "CAPS.TXT"  # pyfatfs's path, the recorded case
        export = export_evidence(dock.device, tmp_path / "out")
    device = export.device(SERIAL)
    assert device.intact, device.problems
    assert (device.folder / "log.txt").read_text() == "docked\n" and "log.txt" in device.sha256
