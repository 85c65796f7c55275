"""Reading a docked camera's FAT filesystem without mounting it (pyfatfs), read only.

Evidence on the filesystem: any folder (up to 3 levels deep) holding a ``manifest.json`` or
``.mp4`` files is one device's evidence folder; the device serial is the folder's name (the
volume label for files at the root). Names are read with the case the FAT entry records
(long names, or the NT lower-case flags of short names), as the device wrote them: they are
listed here, and checked before anything is written (``instruments/dock_export.py``)."""

from __future__ import annotations

import errno
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from instruments.dock_volumes import DockVolume, UnreadableFilesystem

MANIFEST, SIGNATURE = "manifest.json", "manifest.sig.json"
MAX_DEPTH = 3


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


def read_dock(vol: DockVolume) -> DockContents:
    """List the evidence folders on a docked camera's FAT filesystem (read only)."""
    if not vol.is_fat:
        raise UnreadableFilesystem(f"{vol.device}: filesystem is {vol.fs_type or 'not recognised'}, not FAT; cannot read it")
    reader = FatReader(vol)
    try:
        return reader.walk()
    finally:
        reader.close()


