"""One cell of a conformance matrix (a profile, an RF seed), as a distributed engine's task:
a whole ``bwc run`` in its own process on whichever worker takes it, its output folder sent
back as a gzipped tar (no shared file system is assumed). The profile travels as its text when
it is a file, and so do the run's extensions (--policy, --catalogue files, --tests folders), so
that a remote worker needs nothing but the harness installed."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

TAIL_CHARS = 4000  # of the cell's stderr, whose last line explains a cell without a report
MAX_EXTENSION_BYTES = 16 * 2**20  # what a --tests folder may hold: it travels with every cell


class ExtensionError(Exception):
    """An extension that cannot travel with the cells (a folder too big, a file unreadable)."""


@dataclass(frozen=True)
class Extension:
    """A ``bwc run`` option naming a file or folder of the client's, carried with the cell."""

    option: str  # --policy, --catalogue or --tests
    name: str  # the file's or folder's name
    files: tuple[tuple[str, bytes], ...]  # (path inside the folder, contents); a file: one entry with path ""

    @classmethod
    def of(cls, option: str, path: Path) -> Extension:
        path = path.resolve()  # '.' and '..' have names
        if not path.is_dir():
            return cls(option, path.name, (("", path.read_bytes()),))
        files = tuple((str(p.relative_to(path)), p.read_bytes()) for p in sorted(path.rglob("*"))
                      if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")
        if sum(len(data) for _, data in files) > MAX_EXTENSION_BYTES:
            raise ExtensionError(f"{option} {path}: more than {MAX_EXTENSION_BYTES >> 20} MiB, too much to send with every cell")
        return cls(option, path.name, files)

    def write(self, under: Path) -> Path:
        """The file or folder again, under ``under``; its path."""
        target = under / self.name
        for rel, data in self.files:
            dest = target / rel if rel else target
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
        if not self.files:  # an empty --tests folder
            target.mkdir(parents=True, exist_ok=True)
        return target


@dataclass(frozen=True)
class Cell:
    profile: str  # a built-in name, or the file name of profile_text
    seed: int
    profile_text: str | None = None  # a profile file's contents
    select: str | None = None  # bwc run --select (the harness's own tests make short matrices)
    pdf: bool = False
    timeout_s: float | None = None
    extensions: tuple[Extension, ...] = ()

    @property
    def name(self) -> str:
        """The cell's folder name: profile (file stem) and seed."""
        from schemas.names import safe_name

        return f"{safe_name(Path(self.profile).stem)}-seed{self.seed}"


def run_cell(cell: Cell) -> dict:
    """Run the cell with this worker's harness and environment (its BWC_SIGNING_KEY signs the
    cell's run); never raises for what the run itself did: a crash, a timeout or a bad profile
    are the cell's outcome."""
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bwc-cell-") as tmp:
        profile = cell.profile
        if cell.profile_text is not None:
            path = Path(tmp) / "profile" / Path(cell.profile).name
            path.parent.mkdir()
            path.write_text(cell.profile_text)
            profile = str(path)
        out = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "bwc", "run", "--out", str(out), "--profile", profile, "--seed", str(cell.seed)]
        cmd += ([] if cell.pdf else ["--no-pdf"]) + (["--select", cell.select] if cell.select else [])
        for i, ext in enumerate(cell.extensions):
            cmd += [ext.option, str(ext.write(Path(tmp) / "extensions" / str(i)))]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=cell.timeout_s, env=os.environ.copy())
            code, stderr = proc.returncode, proc.stderr
        except subprocess.TimeoutExpired:
            code = None
            stderr = f"the cell's run did not finish within {cell.timeout_s:g} s and was stopped"
        archive = _pack(out) if out.is_dir() else b""
    return {"exit_code": code, "stderr": stderr[-TAIL_CHARS:], "archive": archive,
            "wall_s": round(time.perf_counter() - t0, 3), "host": socket.gethostname(), "pid": os.getpid()}


def _pack(folder: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as tar:  # clips are compressed already
        tar.add(folder, arcname=".")
    return buf.getvalue()


def unpack(archive: bytes, into: Path) -> None:
    """Extract a cell's folder; the 'data' filter refuses absolute paths, '..', links out of the
    folder and device files (a worker is not trusted to write outside the matrix folder)."""
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        tar.extractall(into, filter="data")
