"""Export a docked camera's evidence: copy it off the FAT filesystem (hashing while reading),
check it against the device's signed manifest, hand the clips to the clip analyzer.

Everything on the dock is the device's word, names included, and the harness runs as root.
Before anything is written, every evidence folder name (the serial) and every file name must
be one safe name (``instruments.safe_paths.device_name``) and its output path must stay under
the output folder (``contained``). A name that fails is refused, in a message naming the
dock, the device and the name:

* a file name (``../../x.mp4``, ``/etc/cron.d/x``): the file's bytes are kept under a name the
  harness chooses, ``refused-name-<n>.bin`` in the device's folder, so nothing is lost; that
  file is not in the device's manifest, so the folder does not match it and the device is
  not intact (INT-001 fails for that device, naming the file);
* a folder name (``../../../x``): none of its files is exported; the export is not intact.

Temporary files are created with O_EXCL under names no device file can take over."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from instruments.dock_discovery import DockWatcher
from instruments.dock_volumes import DockError, DockNotFound, DockVolume, UnreadableFilesystem
from instruments.fat_reader import MANIFEST, SIGNATURE, DockFile, FatReader
from instruments.safe_paths import UnsafePath, contained, device_name
from protocols.evidence_manifest import (
    ManifestError, check_manifest, check_signature_document, key_fingerprint, parse_manifest, public_key_raw, sha256_file,
)

if TYPE_CHECKING:
    from instruments.clip_analyzer import ClipAnalysis

REFUSED = "refused-name-{}.bin"


@dataclass(frozen=True)
class ExportedClip:
    clip: Path
    metadata: Path | None  # <stem>.json beside the clip, when the device wrote one


@dataclass
class ExportedDevice:
    """One device's evidence copied off a dock, checked against its signed manifest."""

    serial: str
    folder: Path
    sha256: dict[str, str] = field(default_factory=dict)  # file name -> SHA-256 of the bytes read off the dock
    clips: list[ExportedClip] = field(default_factory=list)
    manifest: str = "missing"  # ok | mismatch | missing | invalid
    signature: str = "missing"  # ok | missing | invalid
    signer_public_key: str | None = None  # base64 raw Ed25519 key that signed the manifest
    signer_fingerprint: str | None = None
    refused: dict[str, str] = field(default_factory=dict)  # unsafe name on the dock -> where its bytes were kept
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return self.manifest == "ok" and self.signature == "ok" and not self.refused


@dataclass
class DockExport:
    volume: DockVolume
    out_dir: Path
    devices: list[ExportedDevice] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # evidence folders refused (unsafe names)

    def device(self, serial: str) -> ExportedDevice:
        for d in self.devices:
            if d.serial.upper() == serial.upper():
                return d
        raise KeyError(f"{self.volume.device}: no evidence of {serial} was exported")

    @property
    def intact(self) -> bool:
        return bool(self.devices) and all(d.intact for d in self.devices) and not self.problems


def _copy(reader: FatReader, src: DockFile, dest: Path) -> str:
    h = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=".dock-export-", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fout:
            for chunk in reader.chunks(src):
                h.update(chunk)
                fout.write(chunk)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DockError(f"{reader.vol.device}: writing {dest} failed ({exc.strerror or exc})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    digest = h.hexdigest()
    if dest.exists():
        tmp.unlink()
        if sha256_file(dest) != digest:
            raise DockError(f"{reader.vol.device}: {dest} already exists with other content; refusing to overwrite evidence "
                            "(export to an empty directory)")
    else:
        tmp.replace(dest)
    return digest


def _export_device(reader: FatReader, serial: str, folder: Path, files: list[DockFile]) -> ExportedDevice:
    device = ExportedDevice(serial, folder)
    names = {f.name for f in files}
    for f in files:
        try:
            dest = contained(folder, device_name(f.name))
        except UnsafePath as exc:
            kept = next(REFUSED.format(n) for n in range(1, len(files) + 2) if REFUSED.format(n) not in names | set(device.refused.values()))
            device.sha256[kept] = _copy(reader, f, folder / kept)
            device.refused[f.name] = kept
            device.problems.append(f"{reader.vol.device}: {serial}: refused the file name {exc}; its {f.size:,} bytes were kept as {kept}")
            continue
        device.sha256[f.name] = _copy(reader, f, dest)
    _check_device(device)
    return device


def export_evidence(volume: DockVolume | str, out_dir: Path, *, serials: Iterable[str] | None = None) -> DockExport:
    """Copy the evidence of ``serials`` (default: every device on the dock) to
    ``out_dir/<serial>/``, hashing while reading, then check each folder against its signed
    manifest. Files already there with the same bytes are kept; different bytes are an error.
    Unsafe names are refused (see the module doc)."""
    vol = volume if isinstance(volume, DockVolume) else DockWatcher().volume(volume)
    if not vol.is_fat:
        raise UnreadableFilesystem(f"{vol.device}: filesystem is {vol.fs_type or 'not recognised'}, not FAT; cannot read it")
    reader = FatReader(vol)
    try:
        contents = reader.walk()
        wanted = list(contents.evidence) if serials is None else list(serials)
        by_upper = {s.upper(): s for s in contents.evidence}
        missing = [s for s in wanted if s.upper() not in by_upper]
        if missing:
            found = ", ".join(contents.serials) or "none"
            raise DockNotFound(f"{vol.device}: no evidence folder for {', '.join(missing)} on this dock (found: {found})")
        export = DockExport(vol, Path(out_dir), notes=list(contents.notes))
        for wanted_serial in wanted:
            serial = by_upper[wanted_serial.upper()]
            files = contents.evidence[serial]
            try:
                folder = contained(out_dir, device_name(serial))
            except UnsafePath as exc:
                export.problems.append(f"{vol.device}: refused the evidence folder {exc}; its {len(files)} file(s) were not exported")
                continue
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DockError(f"{vol.device}: cannot create {folder} ({exc.strerror})") from None
            export.devices.append(_export_device(reader, serial, folder, files))
    finally:
        reader.close()
    return export


def _check_device(device: ExportedDevice) -> None:
    folder = device.folder
    names = set(device.sha256) - set(device.refused.values())
    for name in sorted(names):
        if name.lower().endswith(".mp4"):
            meta = Path(name).with_suffix(".json").name
            device.clips.append(ExportedClip(folder / name, folder / meta if meta in names else None))
    if MANIFEST not in names:
        device.problems.append(f"{device.serial}: no {MANIFEST} on the dock: the files cannot be checked")
        return
    data = (folder / MANIFEST).read_bytes()
    try:
        manifest = parse_manifest(data)
    except ManifestError as exc:
        device.manifest = "invalid"
        device.problems.append(f"{device.serial}: {exc}")
        return
    check = check_manifest(folder, manifest, exclude=(MANIFEST, SIGNATURE))
    device.manifest = "ok" if check.ok else "mismatch"
    device.problems += [f"{device.serial}: {p}" for p in check.problems()]
    if SIGNATURE not in names:
        device.problems.append(f"{device.serial}: no {SIGNATURE}: the manifest is not signed")
        return
    try:
        signer = check_signature_document(json.loads((folder / SIGNATURE).read_text()), data)
    except (ManifestError, ValueError) as exc:
        device.signature = "invalid"
        device.problems.append(f"{device.serial}: {exc}")
        return
    device.signature = "ok"
    device.signer_public_key = base64.b64encode(public_key_raw(signer)).decode("ascii")
    device.signer_fingerprint = key_fingerprint(signer)


def analyze_export(export: DockExport) -> list[tuple[ExportedClip, ClipAnalysis]]:
    """Every exported clip through the clip analyzer (decoded pictures, never metadata), in
    its worker process: a docked device's clip that crashes or hangs the decoder is reported."""
    from instruments.clip_isolation import analyze_clip_isolated

    return [(clip, analyze_clip_isolated(clip.clip)) for device in export.devices for clip in device.clips]
