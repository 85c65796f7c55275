"""Paths under an output folder, and names that come from devices.

A device under test is hostile until shown otherwise: a docked camera's FAT filesystem can
carry a long file name ``../../x.mp4``, an absolute ``/etc/cron.d/x`` or a folder named
``../../../x``, and the harness runs as root. So

* every writer of run output that joins a name it did not choose (a serial, a file or folder
  name read off a device, a name in a device's metadata) to its output folder does it with
  ``contained(root, relative)``: the joined path, resolved (``..`` and symbolic links
  followed), must stay inside the resolved root, or ``UnsafePath`` is raised;
* a name a device supplies for one file or folder is checked with ``device_name(name)``: one
  path component, not empty, not ``.`` or ``..``, no ``/`` or ``\\``, no control characters,
  at most 255 bytes (what every filesystem the harness writes to can hold).

``UnsafePath`` says which name and why; callers add which device it came from."""

from __future__ import annotations

from pathlib import Path, PurePath

NAME_MAX_BYTES = 255


class UnsafePath(ValueError):
    """A name or relative path that would leave the output folder (or is not one name)."""

    def __init__(self, name: str, why: str) -> None:
        self.name = name
        self.why = why
        super().__init__(f"{name!r} {why}")


def device_name(name: str) -> str:
    """``name`` if it is a safe single file or folder name (see the module doc)."""
    if not name:
        raise UnsafePath(name, "is empty")
    if name in (".", ".."):
        raise UnsafePath(name, "names a directory reference, not a file")
    if "/" in name or "\\" in name:
        raise UnsafePath(name, "contains a path separator")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise UnsafePath(name, "contains control characters")
    if len(name.encode("utf-8", "surrogateescape")) > NAME_MAX_BYTES:
        raise UnsafePath(name, f"is longer than {NAME_MAX_BYTES} bytes")
    return name


def contained(root: str | Path, relative: str | PurePath) -> Path:
    """``root / relative``, after checking that it stays inside ``root`` once resolved."""
    text = str(relative)
    if "\x00" in text:
        raise UnsafePath(text, "contains a NUL byte")
    rel = PurePath(relative)
    if rel.is_absolute() or rel.anchor:
        raise UnsafePath(text, "is an absolute path")
    base = Path(root).resolve()
    target = (base / rel).resolve()
    if target != base and base not in target.parents:
        raise UnsafePath(text, f"leads outside the output folder {root} (to {target})")
    return Path(root) / rel
