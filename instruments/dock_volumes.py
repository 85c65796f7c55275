"""A docked camera's block device as udev (or blkid) describes it, and the dock errors.
Finding docks is ``instruments/dock_discovery.py``; reading their FAT filesystem,
``instruments/fat_reader.py``; exporting and verifying the evidence, ``instruments/dock_export.py``.
Errors are ``DockError`` subclasses whose message names the device: ``DockNotFound`` and
``UnreadableFilesystem``."""

from __future__ import annotations

import shutil
import socket
import subprocess
from dataclasses import dataclass

UDEV_CONTROL = "/run/udev/control"
FAT_TYPES = ("vfat",)


class DockError(Exception):
    """A dock problem; the message names the device."""


class DockNotFound(DockError):
    """No block device matches what was asked for."""


class UnreadableFilesystem(DockError):
    """The device is there but its filesystem cannot be read."""


def udevd_running() -> bool:
    """True when systemd-udevd answers on its control socket."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sock.settimeout(1.0)
    try:
        sock.connect(UDEV_CONTROL)
        return True
    except OSError:
        return False
    finally:
        sock.close()


def blkid_properties(device: str) -> dict[str, str]:
    """``blkid -p -o udev DEVICE`` as a dict (ID_FS_TYPE, ID_FS_LABEL, ID_FS_UUID, ...); empty
    when blkid finds no filesystem there."""
    exe = shutil.which("blkid")
    if exe is None:
        raise DockError(f"{device}: blkid is not installed (Debian package util-linux); run scripts/system-deps")
    proc = subprocess.run([exe, "-p", "-o", "udev", device], capture_output=True, text=True, timeout=30)
    if proc.returncode == 2:  # nothing recognised
        return {}
    if proc.returncode != 0:
        raise UnreadableFilesystem(f"{device}: blkid failed (exit {proc.returncode}): {proc.stderr.strip() or 'no message'}")
    props = {}
    for line in proc.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            props[key.strip()] = value.strip()
    return props


@dataclass(frozen=True)
class DockVolume:
    """A block device with a filesystem, as udev (or blkid) describes it."""

    device: str  # /dev/loop0, /dev/sdb1
    sys_path: str
    size_bytes: int
    fs_type: str | None
    label: str | None
    uuid: str | None
    fs_version: str | None = None
    properties_from: str = "udev"  # "udev" (the udev database / event) or "blkid"
    found_by: str = "enumeration"  # "enumeration", "monitor:udev" or "monitor:kernel"
    vendor: str | None = None  # USB docks: ID_VENDOR, ID_MODEL, ID_SERIAL_SHORT (none for loop devices)
    model: str | None = None
    usb_serial: str | None = None

    @property
    def is_fat(self) -> bool:
        return self.fs_type in FAT_TYPES

    def describe(self) -> str:
        label = f"label {self.label!r}" if self.label else "no label"
        return f"{self.device} ({self.fs_type or 'no filesystem'}, {label}, uuid {self.uuid or '-'}, {self.size_bytes // 1024} KiB)"
