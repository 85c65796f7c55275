"""A camera in its dock: its evidence folder as a FAT filesystem on a loop device.

A body camera that sits in a USB dock shows up on the host as a block device carrying a FAT
filesystem. The emulated dock does the same with the kernel's loop driver: it builds a FAT
image of the camera's evidence folder (``mkfs.vfat`` from dosfstools, files copied in with
mtools' ``mcopy``, never mounted) and attaches it with ``losetup``. The host then sees a
block device like any other; ``instruments.dock_discovery`` finds it with pyudev and ``instruments.fat_reader`` reads it.

Layout of the filesystem::

    /evidence/<serial>/<serial>_<ms>.mp4, <serial>_<ms>.json, manifest.json, manifest.sig.json

Volume label rule (FAT labels are at most 11 characters, stored upper case): the camera's
serial, upper-cased, with any character other than A-Z, 0-9, ``_`` and ``-`` replaced by
``_``, cut to 11 characters. The harness's serials are 9 characters, so the label *is* the
serial (``X6BWC00A1`` -> ``X6BWC00A1``) and a dock can be found by either. The volume id
(what blkid and udev show as ``ID_FS_UUID``, ``XXXX-XXXX``) is the CRC-32 of the serial, so
the same camera always docks with the same id.

Needs root (losetup) and the Debian packages util-linux, dosfstools and mtools:
``scripts/system-deps`` installs them.

``python -m emulators.dock EVIDENCE/<serial>`` docks a folder until Enter is pressed (for
trying ``bwc devices`` / ``bwc dock`` by hand)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

FAT_LABEL_MAX = 11
EVIDENCE_ROOT = "evidence"  # top-level folder on the dock's filesystem
TOOLS = {"losetup": "util-linux", "mkfs.vfat": "dosfstools", "mmd": "mtools", "mcopy": "mtools"}
_MIB = 1 << 20


class DockError(RuntimeError):
    """The dock could not be built, attached or detached (the message names the command)."""


def volume_label(serial: str) -> str:
    """The FAT volume label for a camera serial (see the module doc for the rule)."""
    label = re.sub(r"[^A-Z0-9_-]", "_", serial.strip().upper())[:FAT_LABEL_MAX]
    if not label:
        raise DockError(f"serial {serial!r} gives an empty volume label")
    return label


def volume_id(serial: str) -> str:
    """The 32-bit FAT volume id for a serial, as 8 hex digits (mkfs.vfat -i)."""
    return f"{zlib.crc32(serial.strip().upper().encode('utf-8')):08X}"


def fs_uuid(serial: str) -> str:
    """The volume id as blkid/udev print it (ID_FS_UUID): ``XXXX-XXXX``."""
    vid = volume_id(serial)
    return f"{vid[:4]}-{vid[4:]}"


def missing_tools() -> list[str]:
    """The commands this module needs that are not on PATH, with their Debian package."""
    return [f"{tool} (Debian package {pkg})" for tool, pkg in TOOLS.items() if shutil.which(tool) is None]


def _run(cmd: list[str], what: str) -> str:
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1", "LC_ALL": "C"}
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    except FileNotFoundError:
        raise DockError(f"{what}: {cmd[0]} is not installed; run scripts/system-deps") from None
    except subprocess.TimeoutExpired:
        raise DockError(f"{what}: {' '.join(cmd)} did not finish in 60 s") from None
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise DockError(f"{what}: {' '.join(cmd)} failed (exit {proc.returncode}): {detail[-1] if detail else 'no message'}")
    return proc.stdout


def image_size(folder: Path) -> int:
    """Bytes for a FAT image holding ``folder``: the files rounded up to 16 KiB clusters,
    plus room for the FATs and directories, at least 2 MiB, in whole MiB."""
    files = [p for p in folder.rglob("*") if p.is_file()]
    data = sum(-(-p.stat().st_size // 16384) * 16384 for p in files)
    need = int(data * 1.1) + _MIB + 4096 * len(files)
    return max(2 * _MIB, -(-need // _MIB) * _MIB)


def build_fat_image(evidence_folder: Path, image: Path, *, serial: str | None = None, label: str | None = None) -> Path:
    """Write a FAT image of a camera's evidence folder to ``image`` (replaced if present).
    ``serial`` defaults to the folder's name; ``label`` to ``volume_label(serial)``."""
    folder = Path(evidence_folder)
    if not folder.is_dir():
        raise DockError(f"{folder}: no such evidence folder")
    serial = serial or folder.name
    label = label or volume_label(serial)
    if len(label) > FAT_LABEL_MAX:
        raise DockError(f"volume label {label!r} is longer than {FAT_LABEL_MAX} characters")
    image = Path(image)
    image.parent.mkdir(parents=True, exist_ok=True)
    image.unlink(missing_ok=True)
    with open(image, "wb") as fh:
        fh.truncate(image_size(folder))
    try:
        _run(["mkfs.vfat", "-n", label, "-i", volume_id(serial), str(image)], f"formatting {image}")
        _run(["mmd", "-i", str(image), f"::/{EVIDENCE_ROOT}"], f"creating /{EVIDENCE_ROOT} in {image}")
        target = f"::/{EVIDENCE_ROOT}/{serial}"
        _run(["mmd", "-i", str(image), target], f"creating {target} in {image}")
        sources = sorted(str(p) for p in folder.iterdir())
        if sources:
            _run(["mcopy", "-s", "-m", "-Q", "-i", str(image), *sources, target + "/"], f"copying {folder} into {image}")
    except DockError:
        image.unlink(missing_ok=True)
        raise
    return image


def attach_loop(image: Path, *, read_only: bool = False) -> str:
    """Attach an image to the first free loop device; return its path (/dev/loopN)."""
    cmd = ["losetup", "--find", "--show", *(["--read-only"] if read_only else []), str(image)]
    device = _run(cmd, f"attaching {image}").strip()
    if not device.startswith("/dev/"):
        raise DockError(f"attaching {image}: losetup printed {device!r}, not a device path")
    return device


def detach_loop(device: str) -> None:
    _run(["losetup", "--detach", device], f"detaching {device}")


def backing_file(device: str) -> str | None:
    """The image a loop device is attached to (None when it is not attached)."""
    name = Path(device).name
    try:
        return Path(f"/sys/block/{name}/loop/backing_file").read_text().strip() or None
    except OSError:
        return None


@dataclass
class DockedCamera:
    """One camera's evidence as a FAT image; ``attach()`` docks it, ``detach()`` undocks it.
    As a context manager it attaches on entry and always detaches on exit."""

    evidence_folder: Path
    image: Path
    serial: str = ""
    label: str = ""
    read_only: bool = False
    keep_image: bool = True  # False: the image file is removed on exit
    device: str | None = None
    _built: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        self.evidence_folder = Path(self.evidence_folder)
        self.image = Path(self.image)
        self.serial = self.serial or self.evidence_folder.name
        self.label = self.label or volume_label(self.serial)

    @property
    def uuid(self) -> str:
        return fs_uuid(self.serial)

    def build(self) -> Path:
        build_fat_image(self.evidence_folder, self.image, serial=self.serial, label=self.label)
        self._built = True
        return self.image

    def attach(self) -> str:
        if self.device is not None:
            return self.device
        if not self._built:
            self.build()
        self.device = attach_loop(self.image, read_only=self.read_only)
        return self.device

    def detach(self) -> None:
        device, self.device = self.device, None
        if device is not None and backing_file(device) is not None:
            detach_loop(device)

    def __enter__(self) -> DockedCamera:
        try:
            self.attach()
        except BaseException:
            self._cleanup()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._cleanup()

    def _cleanup(self) -> None:
        try:
            self.detach()
        finally:
            if not self.keep_image:
                self.image.unlink(missing_ok=True)


@contextmanager
def docked(evidence_folder: Path, workdir: Path, *, serial: str | None = None, label: str | None = None,
           read_only: bool = False, keep_image: bool = False) -> Iterator[DockedCamera]:
    """Dock a camera for the duration of the block: FAT image in ``workdir``, loop device
    attached; detached (and the image removed unless ``keep_image``) whatever happens."""
    folder = Path(evidence_folder)
    serial = serial or folder.name
    dock = DockedCamera(folder, Path(workdir) / f"dock-{volume_label(serial)}.img", serial, label or "", read_only, keep_image)
    with dock:
        yield dock


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m emulators.dock", description="Dock a camera's evidence folder as a FAT loop device until Enter.")
    ap.add_argument("folder", help="the camera's evidence folder (evidence/<serial>)")
    ap.add_argument("--image", help="where to write the FAT image (default: <folder>/../dock-<label>.img, removed at the end)")
    ap.add_argument("--read-only", action="store_true")
    args = ap.parse_args(argv)
    folder = Path(args.folder)
    image = Path(args.image) if args.image else folder.parent / f"dock-{volume_label(folder.name)}.img"
    try:
        with DockedCamera(folder, image, read_only=args.read_only, keep_image=bool(args.image)) as dock:
            print(f"docked {dock.serial} at {dock.device} (label {dock.label}, uuid {dock.uuid}); press Enter to undock", flush=True)
            try:
                input()
            except (EOFError, KeyboardInterrupt):
                pass
    except DockError as exc:
        print(f"dock: {exc}", file=sys.stderr)
        return 1
    print("undocked")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
