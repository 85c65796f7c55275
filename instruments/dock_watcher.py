"""Dock watcher: finds docked cameras (block devices carrying a FAT filesystem) with pyudev
and reads their evidence off the filesystem without mounting it (pyfatfs). Exporting it,
checking it against the device's signed manifest and analysing the clips is
``instruments/dock_export.py``.

How a dock is found:

* Enumeration (``DockWatcher.volumes``) reads sysfs through pyudev; it works without udevd.
* Hot plug (``DockWatcher.monitor`` / ``wait_for``) listens with ``pyudev.Monitor``: source
  ``udev`` when systemd-udevd runs (its events carry ``ID_FS_LABEL``, ``ID_FS_UUID``, ...),
  else source ``kernel``.
* Filesystem properties come from the udev database when udevd runs; otherwise (or when
  udev has not probed the device) from ``blkid -p -o udev DEVICE``, which prints the same keys.
* A dock is matched by volume label, by filesystem UUID, or by camera serial (the label, or an
  evidence folder named after the serial on the filesystem).

Evidence on the filesystem: any folder (up to 3 levels deep) holding a ``manifest.json`` or
``.mp4`` files is one device's evidence folder; the device serial is the folder's name (the
volume label for files at the root). Names are read with the case the FAT entry records
(long names, or the NT lower-case flags of short names), as the device wrote them: they are
listed here, and checked before anything is written (``instruments/dock_export.py``).

Errors are ``DockError`` subclasses whose message names the device: ``DockNotFound`` and
``UnreadableFilesystem``. Reading a block device needs root (or the ``disk`` group)."""

from __future__ import annotations

import errno
import shutil
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import pyudev  # type: ignore[import-untyped]

UDEV_CONTROL = "/run/udev/control"
MANIFEST, SIGNATURE = "manifest.json", "manifest.sig.json"
FAT_TYPES = ("vfat",)
MAX_DEPTH = 3


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


@dataclass(frozen=True)
class DockFile:
    path: str  # on the FAT filesystem, as pyfatfs resolves it
    name: str  # the name with the case its FAT entry records
    size: int


@dataclass
class DockContents:
    volume: DockVolume
    evidence: dict[str, list[DockFile]] = field(default_factory=dict)  # serial -> files of its folder
    notes: list[str] = field(default_factory=list)

    @property
    def serials(self) -> list[str]:
        return sorted(self.evidence)


# ---- reading FAT without mounting ----------------------------------------------------------
# pyfatfs's low-level PyFat only: its PyFilesystem2 layer (PyFatFS, FatIO) imports
# pkg_resources, which setuptools >= 82 no longer ships.

def _names(entry: Any) -> tuple[str, str]:
    """(name pyfatfs resolves paths with, name with its recorded case) of a FAT entry."""
    from pyfatfs._exceptions import NotAnLFNEntryException  # type: ignore[import-untyped]

    try:
        long_name = entry.get_long_name()
        return long_name, long_name
    except NotAnLFNEntryException:
        short = entry.get_short_name()
    base, dot, ext = short.partition(".")
    ntres = int(getattr(entry, "ntres", 0))
    if ntres & 0x08:  # Windows NT flag: base name stored lower case
        base = base.lower()
    if ntres & 0x10:  # extension lower case
        ext = ext.lower()
    return short, base + dot + ext


def _detail(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class FatReader:
    """A FAT filesystem on a block device (or image), opened read only."""

    def __init__(self, vol: DockVolume) -> None:
        from pyfatfs.PyFat import PyFat  # type: ignore[import-untyped]

        self.vol = vol
        self.entries: dict[str, Any] = {}  # FAT path -> directory entry, filled by walk()
        self.fat = PyFat()
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                self.fat.open(vol.device, read_only=True)
        except Exception as exc:  # pyfatfs raises many types on damaged or non-FAT data
            if getattr(exc, "errno", None) == errno.EACCES or isinstance(exc, PermissionError):
                raise UnreadableFilesystem(f"{vol.device}: permission denied reading the device (run as root or join the 'disk' group)") from None
            raise UnreadableFilesystem(f"{vol.device}: not a readable FAT filesystem ({_detail(exc)})") from None
        self.notes = [f"{vol.device}: {w.message}" for w in caught]

    def close(self) -> None:
        try:
            self.fat.close()
        except Exception:  # already closed, or the device went away: nothing to release
            pass

    def walk(self) -> DockContents:
        contents = DockContents(self.vol, notes=list(self.notes))
        try:
            self._walk(self.fat.root_dir, "", None, 0, contents)
        except Exception as exc:
            raise UnreadableFilesystem(f"{self.vol.device}: cannot list the FAT directories ({_detail(exc)})") from None
        return contents

    def _walk(self, entry: Any, fat_path: str, display: str | None, depth: int, out: DockContents) -> None:
        dirs, files, _special = entry.get_entries()
        here = []
        for f in files:
            raw, name = _names(f)
            path = f"{fat_path}/{raw}"
            self.entries[path] = f
            here.append(DockFile(path, name, int(f.filesize)))
        if any(f.name.lower() == MANIFEST or f.name.lower().endswith(".mp4") for f in here):
            serial = display if display is not None else (self.vol.label or Path(self.vol.device).name)
            if serial in out.evidence:
                out.notes.append(f"{self.vol.device}: a second evidence folder named {serial} at {fat_path or '/'} was ignored")
            else:
                out.evidence[serial] = sorted(here, key=lambda f: f.name)
        if depth >= MAX_DEPTH:
            return
        for d in dirs:
            raw, name = _names(d)
            self._walk(d, f"{fat_path}/{raw}", name, depth + 1, out)

    def chunks(self, src: DockFile) -> Iterator[bytes]:
        """The file's bytes, cluster by cluster, following its FAT chain."""
        left = src.size
        if left == 0:
            return
        try:
            for cluster in self.fat.get_cluster_chain(self.entries[src.path].get_cluster()):
                data = self.fat.read_cluster_contents(cluster)[:left]
                left -= len(data)
                yield data
                if left <= 0:
                    return
        except Exception as exc:
            raise UnreadableFilesystem(f"{self.vol.device}: cannot read {src.path}: the FAT filesystem is damaged ({_detail(exc)})") from None
        raise UnreadableFilesystem(f"{self.vol.device}: cannot read {src.path}: the FAT filesystem is damaged "
                                   f"(the file's cluster chain ends {left} bytes short of its size)")


def read_dock(volume: DockVolume | str) -> DockContents:
    """List the evidence folders on a docked camera's FAT filesystem (read only)."""
    vol = volume if isinstance(volume, DockVolume) else DockWatcher().volume(volume)
    if not vol.is_fat:
        raise UnreadableFilesystem(f"{vol.device}: filesystem is {vol.fs_type or 'not recognised'}, not FAT; cannot read it")
    reader = FatReader(vol)
    try:
        return reader.walk()
    finally:
        reader.close()


# ---- finding docks with pyudev --------------------------------------------------------------

def _udevd_answers_within(seconds: float) -> bool:
    """udevd may be busy (a loaded machine, a burst of block events): give it a moment."""
    deadline = time.monotonic() + seconds
    while True:
        if udevd_running():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


class DockWatcher:
    """Finds FAT block devices with pyudev. ``source``: "udev" (needs systemd-udevd),
    "kernel" (no udevd: kernel events, blkid for the filesystem) or "auto" (udev when udevd
    answers, else kernel)."""

    def __init__(self, source: str = "auto", context: pyudev.Context | None = None) -> None:
        if source not in ("auto", "udev", "kernel"):
            raise ValueError(f"source must be auto, udev or kernel, not {source!r}")
        if source == "auto":
            source = "udev" if udevd_running() else "kernel"
        elif source == "udev" and not _udevd_answers_within(5.0):
            raise DockError(f"source 'udev' needs systemd-udevd, which does not answer on {UDEV_CONTROL}")
        self.source = source
        self.context = context or pyudev.Context()

    # -- describing devices --
    def volume(self, device: str, found_by: str = "enumeration") -> DockVolume:
        """The block device at ``device`` (a /dev path) as a DockVolume."""
        try:
            dev = pyudev.Devices.from_device_file(self.context, device)
        except (pyudev.DeviceNotFoundError, ValueError, OSError) as exc:
            raise DockNotFound(f"{device}: no such block device ({exc})") from None
        vol = self._volume(dev, found_by)
        if vol is None:
            raise DockNotFound(f"{device}: not a block device with media (size 0 or not a disk/partition)")
        return vol

    def _volume(self, dev: pyudev.Device, found_by: str, retries: int = 0) -> DockVolume | None:
        if dev.subsystem != "block" or dev.device_type not in ("disk", "partition") or not dev.device_node:
            return None
        try:
            size = int(dev.attributes.asint("size")) * 512
        except (KeyError, ValueError):
            size = 0
        if size == 0:
            return None
        props: dict[str, str] = {}
        origin = "udev"
        if self.source == "udev":
            props = {k: dev.properties.get(k, "") for k in dev.properties}
        if "ID_FS_TYPE" not in props:
            origin = "blkid"
            for attempt in range(retries + 1):  # a device that has just appeared may not be readable yet
                probed = blkid_properties(dev.device_node)
                if probed or attempt == retries:  # something recognised (a filesystem, a partition table)
                    props = {**props, **probed}
                    break
                time.sleep(0.1)
        get = lambda k: props.get(k) or None  # noqa: E731
        return DockVolume(dev.device_node, dev.sys_path, size, get("ID_FS_TYPE"), get("ID_FS_LABEL"), get("ID_FS_UUID"),
                          get("ID_FS_VERSION"), origin, found_by, get("ID_VENDOR"), get("ID_MODEL"), get("ID_SERIAL_SHORT"))

    def volumes(self, *, fat_only: bool = True) -> list[DockVolume]:
        """Block devices with media present now (FAT ones only, by default)."""
        out = []
        for dev in self.context.list_devices(subsystem="block"):
            try:
                vol = self._volume(dev, "enumeration")
            except UnreadableFilesystem:
                continue  # a device blkid cannot probe is no dock we can read
            if vol is not None and (vol.is_fat or not fat_only):
                out.append(vol)
        return sorted(out, key=lambda v: v.device)

    def matches(self, vol: DockVolume, *, label: str | None = None, uuid: str | None = None, serial: str | None = None) -> bool:
        if label is not None and (vol.label or "").upper() != label.upper():
            return False
        if uuid is not None and (vol.uuid or "").upper() != uuid.upper():
            return False
        if serial is not None and (vol.label or "").upper() != serial.upper():
            try:
                return serial.upper() in {s.upper() for s in read_dock(vol).evidence}
            except DockError:
                return False
        return True

    def find(self, *, label: str | None = None, uuid: str | None = None, serial: str | None = None) -> DockVolume:
        """The docked camera matching all the given criteria (exactly one must match)."""
        want = _wanted(label, uuid, serial)
        present = self.volumes()
        found = [v for v in present if self.matches(v, label=label, uuid=uuid, serial=serial)]
        if len(found) > 1:
            raise DockNotFound(f"{len(found)} docks match {want}: {'; '.join(v.describe() for v in found)}; be more specific")
        if not found:
            raise DockNotFound(f"no docked camera with {want} ({_present(present)})")
        return found[0]

    def monitor(self) -> DockMonitor:
        return DockMonitor(self)

    def wait_for(self, *, label: str | None = None, uuid: str | None = None, serial: str | None = None, timeout: float = 30.0) -> DockVolume:
        """The matching dock if present, else the first one that appears within ``timeout`` s."""
        with self.monitor() as mon:  # listen before looking, so a dock docked meanwhile is not missed
            try:
                return self.find(label=label, uuid=uuid, serial=serial)
            except DockNotFound:
                pass
            return mon.wait_for(label=label, uuid=uuid, serial=serial, timeout=timeout)


class DockMonitor:
    """pyudev Monitor on the block subsystem, yielding FAT volumes as they appear."""

    def __init__(self, watcher: DockWatcher) -> None:
        self.watcher = watcher
        self._monitor: pyudev.Monitor | None = pyudev.Monitor.from_netlink(watcher.context, source=watcher.source)
        self._monitor.filter_by("block")
        self._monitor.start()

    def next_volume(self, timeout: float) -> DockVolume | None:
        """The next FAT volume that is added or changes (media inserted), or None at timeout."""
        deadline = time.monotonic() + timeout
        while self._monitor is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            dev = self._monitor.poll(timeout=left)
            if dev is None:
                return None
            if dev.action not in ("add", "change"):
                continue
            try:
                vol = self.watcher._volume(dev, f"monitor:{self.watcher.source}", retries=3)
            except UnreadableFilesystem:
                continue
            if vol is not None and vol.is_fat:
                return vol
        raise DockError("the dock monitor is closed")

    def wait_for(self, *, label: str | None = None, uuid: str | None = None, serial: str | None = None, timeout: float = 30.0) -> DockVolume:
        deadline = time.monotonic() + timeout
        seen: list[DockVolume] = []
        while (left := deadline - time.monotonic()) > 0:
            vol = self.next_volume(left)
            if vol is None:
                break
            if self.watcher.matches(vol, label=label, uuid=uuid, serial=serial):
                return vol
            seen.append(vol)
        others = f"; FAT volumes that appeared meanwhile: {'; '.join(v.describe() for v in seen)}" if seen else ""
        raise DockNotFound(f"no docked camera with {_wanted(label, uuid, serial)} appeared within {timeout:g} s "
                           f"(watching {self.watcher.source} events){others}")

    def close(self) -> None:
        self._monitor = None  # pyudev closes the netlink socket when the monitor is released

    def __enter__(self) -> DockMonitor:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def _wanted(label: str | None, uuid: str | None, serial: str | None) -> str:
    parts = [f"{k} {v!r}" for k, v in (("label", label), ("uuid", uuid), ("serial", serial)) if v is not None]
    return " and ".join(parts) or "any label"


def _present(present: list[DockVolume]) -> str:
    if not present:
        return "no FAT volume is present"
    return "FAT volumes present: " + "; ".join(v.describe() for v in present)
