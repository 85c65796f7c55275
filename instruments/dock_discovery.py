"""Finding docked cameras with pyudev: block devices carrying a FAT filesystem, by
enumeration and hot plug.

* Enumeration (``DockWatcher.volumes``) reads sysfs through pyudev; it works without udevd.
* Hot plug (``DockWatcher.monitor`` / ``wait_for``) listens with ``pyudev.Monitor``: source
  ``udev`` when systemd-udevd runs (its events carry ``ID_FS_LABEL``, ``ID_FS_UUID``, ...),
  else source ``kernel``.
* Filesystem properties come from the udev database when udevd runs; otherwise (or when
  udev has not probed the device) from ``blkid -p -o udev DEVICE``, which prints the same keys.
* A dock is matched by volume label, by filesystem UUID, or by camera serial (the label, or an
  evidence folder named after the serial on the filesystem).

Reading a block device needs root (or the ``disk`` group)."""

from __future__ import annotations

import time
from types import TracebackType

import pyudev  # type: ignore[import-untyped]

from instruments.dock_volumes import UDEV_CONTROL, DockError, DockNotFound, DockVolume, UnreadableFilesystem, blkid_properties, udevd_running
from instruments.fat_reader import read_dock


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
