"""``bwc devices``: find the bench's devices and print bench-file stanzas for them;
``bwc dock``: copy a docked camera's evidence off its filesystem, check it, measure its clips.

``bwc devices [--transport SPEC] [--seconds N] [--icp-port 47600] [--json]`` scans, at the
same time, for N seconds:

* BLE, for Signal adverts (CEWs, holster sensors, vehicle units) and camera presence, on a
  bumble transport (``usb:0``, ``serial:/dev/ttyACM0``, ``tcp-client:HOST:PORT``, ...) or on
  the operating system's adapter (``bleak``: BlueZ, macOS, Windows); ``none`` skips BLE;
* docks: FAT block devices (pyudev), whose evidence folders name the cameras;
* the in-car network: ICP datagrams arriving on UDP ``--icp-port`` (0 skips), whose senders
  are the in-car hosts.

It prints YAML stanzas (``cameras``, ``sources``, ``dvrs``) for the bench file; a comment on
each line says where the device was seen. Exit codes: 0 every scan ran; 1 a scan could not
run (the reason is printed; the other scans' findings still are); 2 bad usage.

``bwc dock [--label L | --uuid U | --serial S] [--wait SECONDS] --out DIR [--json]`` finds the
docked camera, exports its evidence to DIR/<serial>/, checks it against the signed manifest
and analyzes every clip. Exit codes: 0 intact and every clip measured; 1 a file does not
match the manifest, the signature does not verify, a clip is damaged, or the filesystem
cannot be read; 2 bad usage or no such dock."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from collections.abc import Awaitable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bwc.cli import EXIT_FAIL, EXIT_OK, UsageError
from protocols.incar import DEFAULT_PORT, FLAG_ACK_REQUESTED, IncarDecodeError, MessageType, decode

if TYPE_CHECKING:  # imported when a command runs: `bwc --help` stays fast
    from instruments.bleak_observer import SeenDevice
    from instruments.dock_volumes import DockVolume

BUMBLE_SCHEMES = ("serial", "udp", "tcp-client", "tcp-server", "ws-client", "ws-server", "pty", "file", "vhci", "hci-socket",
                  "usb", "pyusb", "android-emulator", "android-netsim", "unix", "unix-client", "unix-server")
LABEL_PREFIX = {"camera": "BWC", "cew": "CEW", "holster": "HOLSTER", "vehicle": "VEHICLE", "unknown": "SOURCE"}
START_TIMEOUT_S = 15.0


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "devices", help="scan BLE, docks and the in-car network; print bench-file stanzas for what was found",
        description=("Scans for Signal-speaking devices over BLE, docked cameras (FAT block devices) and in-car hosts "
                     "(ICP datagrams) at the same time, then prints YAML stanzas for a bench file."))
    p.add_argument("--transport", default="bleak",
                   help="BLE radio: a bumble transport (usb:0, serial:/dev/ttyACM0, tcp-client:HOST:PORT, ...), "
                        "'bleak' for the operating system's adapter (default), or 'none' to skip BLE")
    p.add_argument("--seconds", type=float, default=10.0, help="how long to listen on BLE and the in-car network (default 10)")
    p.add_argument("--icp-port", type=int, default=DEFAULT_PORT, help=f"UDP port of the in-car protocol (default {DEFAULT_PORT}; 0 skips)")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.set_defaults(func=cmd_devices)
    d = subparsers.add_parser(
        "dock", help="export a docked camera's evidence, check its signed manifest and analyze its clips",
        description="Finds a docked camera (a FAT block device), copies its evidence off the filesystem without mounting it, "
                    "verifies the files against the device's signed SHA-256 manifest and measures every clip.")
    d.add_argument("--label", help="FAT volume label of the dock")
    d.add_argument("--uuid", help="filesystem UUID of the dock (XXXX-XXXX)")
    d.add_argument("--serial", help="camera serial (the volume label, or an evidence folder of that name)")
    d.add_argument("--wait", type=float, default=0.0, help="seconds to wait for the camera to be docked (default 0: it must be docked now)")
    d.add_argument("--out", required=True, help="directory the evidence is copied to (DIR/<serial>/)")
    d.add_argument("--source", choices=("auto", "udev", "kernel"), default="auto", help="udev events (needs systemd-udevd) or kernel events + blkid")
    d.add_argument("--json", action="store_true", help="print the result as JSON")
    d.set_defaults(func=cmd_dock)


# ---- bwc devices ---------------------------------------------------------------------------------

def check_transport(spec: str) -> str:
    spec = spec.strip()
    if spec in ("bleak", "none"):
        return spec
    scheme = spec.split(":", 1)[0]
    if scheme not in BUMBLE_SCHEMES:
        raise UsageError(f"--transport {spec!r}: not a bumble transport (known: {', '.join(BUMBLE_SCHEMES)}), 'bleak' or 'none'")
    return spec


@dataclass
class IcpHost:
    serial: str
    vehicle_id: str
    address: str
    messages: dict[str, int] = field(default_factory=dict)  # message type name -> count
    announces: bool = False  # sent RECORDING_STARTED asking for an ACK: a body camera

    @property
    def role(self) -> str:
        """'camera' for a host that announces its recordings and never acknowledges; else 'dvr'."""
        return "camera" if self.announces and "ACK" not in self.messages else "dvr"


class _IcpListener(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.hosts: dict[str, IcpHost] = {}
        self.malformed = 0

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            msg = decode(data)
        except IncarDecodeError:
            self.malformed += 1
            return
        host = self.hosts.setdefault(msg.sender_serial, IcpHost(msg.sender_serial, msg.vehicle_id, addr[0]))
        host.vehicle_id, host.address = msg.vehicle_id or host.vehicle_id, addr[0]
        host.messages[msg.type.name] = host.messages.get(msg.type.name, 0) + 1
        if msg.type is MessageType.RECORDING_STARTED and msg.flags & FLAG_ACK_REQUESTED:
            host.announces = True


@dataclass
class Findings:
    ble: list[SeenDevice] = field(default_factory=list)
    docks: list[tuple[DockVolume, list[str]]] = field(default_factory=list)  # (volume, serials on it)
    icp: list[IcpHost] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


async def _scan_ble(spec: str, seconds: float, found: Findings) -> None:
    from instruments.bleak_observer import BumbleScannerBackend, SignalObserver

    transport = None
    try:
        if spec == "bleak":
            observer = SignalObserver()
        else:
            from emulators.transports import TransportError, device_on_transport

            try:
                device, transport = await asyncio.wait_for(device_on_transport(spec, "BWC-DEVICES"), START_TIMEOUT_S)
            except TransportError as exc:
                found.problems.append(f"BLE: {exc}; nothing was scanned on BLE")
                return
            observer = SignalObserver(backend=BumbleScannerBackend, bumble_device=device)
        await asyncio.wait_for(observer.start(), START_TIMEOUT_S)
        try:
            await asyncio.sleep(seconds)
        finally:
            await observer.stop()
        found.ble = observer.devices()
        if observer.malformed:
            found.notes.append(f"BLE: {observer.malformed} advert(s) with 0xFE6C service data did not decode")
    except asyncio.TimeoutError:
        found.problems.append(f"BLE: the radio on {spec!r} did not start scanning within {START_TIMEOUT_S:g} s")
    except Exception as exc:  # bleak and bumble raise many types (no BlueZ, no D-Bus, radio gone)
        what = "the operating system's Bluetooth adapter (bleak)" if spec == "bleak" else f"the radio on {spec!r}"
        hint = ""
        if spec == "bleak" and sys.platform.startswith("linux"):
            hint = ("; on Linux bleak needs BlueZ (bluetoothd) on the D-Bus system bus, "
                    "or give a radio on a bumble transport, e.g. --transport usb:0")
        found.problems.append(f"BLE: scanning with {what} failed: {type(exc).__name__}: {exc}{hint}")
    finally:
        if transport is not None:
            await transport.close()


async def _listen_icp(port: int, seconds: float, found: Findings) -> None:
    loop = asyncio.get_running_loop()
    listener = _IcpListener()
    try:
        transport, _ = await loop.create_datagram_endpoint(lambda: listener, local_addr=("0.0.0.0", port), allow_broadcast=True)
    except OSError as exc:
        found.problems.append(f"ICP: cannot listen on UDP port {port} ({exc.strerror or exc}); choose another --icp-port or 0 to skip")
        return
    try:
        await asyncio.sleep(seconds)
    finally:
        transport.close()
    found.icp = sorted(listener.hosts.values(), key=lambda h: h.serial)
    if listener.malformed:
        found.notes.append(f"ICP: {listener.malformed} datagram(s) on port {port} were not valid ICP")


def _scan_docks(found: Findings) -> None:
    try:
        from instruments.dock_discovery import DockWatcher
        from instruments.dock_volumes import DockError
        from instruments.fat_reader import read_dock

        volumes = DockWatcher().volumes()
    except Exception as exc:  # no libudev, no blkid, no sysfs
        found.problems.append(f"docks: cannot enumerate block devices: {type(exc).__name__}: {exc}")
        return
    for vol in volumes:
        try:
            serials = read_dock(vol).serials
        except DockError as exc:
            found.problems.append(f"docks: {exc}")
            continue
        if serials:
            found.docks.append((vol, serials))
        else:
            found.notes.append(f"docks: {vol.describe()} holds no evidence folder; not a camera")


async def _scan(transport: str, seconds: float, icp_port: int) -> Findings:
    found = Findings()
    jobs: list[Awaitable[None]] = [asyncio.get_running_loop().run_in_executor(None, _scan_docks, found)]
    if transport != "none":
        jobs.append(_scan_ble(transport, seconds, found))
    if icp_port:
        jobs.append(_listen_icp(icp_port, seconds, found))
    await asyncio.gather(*jobs)
    return found


def stanzas(found: Findings) -> tuple[dict[str, list[dict]], dict[str, list[str]]]:
    """The bench stanzas and, per label, where each device was seen."""
    cameras: dict[str, dict] = {}
    seen: dict[str, list[str]] = {}
    sources: list[dict] = []

    def camera(serial: str) -> dict:
        key = serial.upper()
        if key not in cameras:
            cameras[key] = {"label": f"BWC-{serial}", "serial": serial, "ble_address": None, "dock_label": None}
        return cameras[key]

    for d in found.ble:
        where = f"BLE: {', '.join(d.events)}; {d.adverts} advert(s), RSSI up to {d.rssi_max} dBm"
        if d.kind == "camera":
            entry = camera(d.serial)
            entry["ble_address"] = d.address
        else:
            entry = {"label": f"{LABEL_PREFIX[d.kind]}-{d.serial}", "kind": d.kind, "serial": d.serial, "ble_address": d.address}
            sources.append(entry)
        seen.setdefault(entry["label"], []).append(where)
    for vol, serials in found.docks:
        for serial in serials:
            entry = camera(serial)
            entry["dock_label"] = vol.label
            seen.setdefault(entry["label"], []).append(f"dock: {vol.device}, uuid {vol.uuid or '-'}")
    dvrs = []
    for h in found.icp:
        where = "ICP: " + ", ".join(f"{k} x{v}" for k, v in sorted(h.messages.items())) + f" from {h.address}"
        if h.role == "camera":
            entry = camera(h.serial)
        else:
            entry = {"label": f"DVR-{h.serial}", "serial": h.serial, "vehicle_id": h.vehicle_id or None, "address": h.address}
            dvrs.append(entry)
        seen.setdefault(entry["label"], []).append(where)
    return {"cameras": [cameras[k] for k in sorted(cameras)], "sources": sources, "dvrs": dvrs}, seen


def _scalar(value: Any) -> str:
    return "null" if value is None else json.dumps(value)  # a JSON string is a YAML double-quoted scalar


def render_yaml(doc: dict[str, list[dict]], seen: dict[str, list[str]], header: str) -> str:
    lines = [f"# {header}"]
    for section in ("cameras", "sources", "dvrs"):
        items = doc[section]
        if not items:
            lines.append(f"{section}: []")
            continue
        lines.append(f"{section}:")
        for item in items:
            body = ", ".join(f"{k}: {_scalar(v)}" for k, v in item.items())
            note = "; ".join(seen.get(item["label"], []))
            lines.append(f"  - {{{body}}}" + (f"  # {note}" if note else ""))
    return "\n".join(lines)


def cmd_devices(args: argparse.Namespace) -> int:
    transport = check_transport(args.transport)
    if not 0 < args.seconds <= 3600:
        raise UsageError(f"--seconds {args.seconds:g}: must be more than 0 and at most 3600")
    if not 0 <= args.icp_port <= 65535:
        raise UsageError(f"--icp-port {args.icp_port}: must be 0..65535 (0 skips the in-car network)")
    logging.getLogger("bumble").setLevel(logging.WARNING)
    t0 = time.perf_counter()
    found = asyncio.run(_scan(transport, args.seconds, args.icp_port))
    doc, seen = stanzas(found)
    parts = [f"BLE on {transport} for {args.seconds:g} s" if transport != "none" else "BLE skipped",
             f"{len(found.docks)} dock(s)", f"ICP on UDP {args.icp_port} for {args.seconds:g} s" if args.icp_port else "ICP skipped"]
    header = (f"bwc devices: {', '.join(parts)} ({time.perf_counter() - t0:.1f} s)\n"
              "# for a bench file, add distance_ft (feet from the Signal source) to each camera you test")
    if args.json:
        print(json.dumps({**doc, "seen": seen, "notes": found.notes, "problems": found.problems}, indent=2))
    else:
        print(render_yaml(doc, seen, header))
        for note in found.notes:
            print(f"# note: {note}")
    for problem in found.problems:
        print(f"bwc devices: {problem}", file=sys.stderr)
    return EXIT_FAIL if found.problems else EXIT_OK


# ---- bwc dock --------------------------------------------------------------------------------------

def cmd_dock(args: argparse.Namespace) -> int:
    from instruments.dock_export import analyze_export, export_evidence
    from instruments.dock_discovery import DockWatcher
    from instruments.dock_volumes import DockError, DockNotFound
    from instruments.fat_reader import read_dock

    if not (args.label or args.uuid or args.serial):
        raise UsageError("name the dock: --label, --uuid or --serial")
    if not 0 <= args.wait <= 86400:
        raise UsageError(f"--wait {args.wait:g}: must be 0..86400 seconds")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a directory")
    try:
        watcher = DockWatcher(source=args.source)
        want = {"label": args.label, "uuid": args.uuid, "serial": args.serial}
        vol = watcher.wait_for(**want, timeout=args.wait) if args.wait > 0 else watcher.find(**want)
    except DockNotFound as exc:
        raise UsageError(str(exc)) from None
    except DockError as exc:
        print(f"bwc dock: {exc}", file=sys.stderr)
        return EXIT_FAIL
    try:
        serials = None  # every device on the dock, unless the named serial has a folder of its own
        if args.serial and args.serial.upper() in {s.upper() for s in read_dock(vol).serials}:
            serials = [args.serial]
        export = export_evidence(vol, out, serials=serials)
    except DockError as exc:  # unreadable filesystem, a file that would overwrite other evidence
        print(f"bwc dock: {exc}", file=sys.stderr)
        return EXIT_FAIL
    try:
        analyses = analyze_export(export)
    except Exception as exc:  # a bug in the analyzer: say so plainly, without a traceback
        print(f"bwc dock: the analyzer failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAIL
    from bwc.commands.analyze import iso

    clips_ok = all(a.ok and not a.damaged for _, a in analyses)
    result = {
        "dock": asdict(vol),
        "out": str(out),
        "devices": [{"serial": d.serial, "folder": str(d.folder), "files": d.sha256, "manifest": d.manifest, "signature": d.signature,
                     "signer_fingerprint": d.signer_fingerprint, "signer_public_key": d.signer_public_key, "refused": d.refused,
                     "problems": d.problems}
                    for d in export.devices],
        "clips": [{"clip": str(c.clip), "metadata": str(c.metadata) if c.metadata else None, "ok": a.ok, "damaged": a.damaged,
                   "frames": a.frames, "readable": a.readable, "width": a.width, "height": a.height,
                   "first_utc": iso(a.first_utc_ms), "last_utc": iso(a.last_utc_ms), "error": a.error} for c, a in analyses],
        "notes": export.notes,
        "problems": export.problems,
        "intact": export.intact and clips_ok,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(_render_dock(result, vol))
    return EXIT_OK if result["intact"] else EXIT_FAIL


def _render_dock(r: dict, vol: DockVolume) -> str:
    lines = [f"dock      {vol.describe()}; found by {vol.found_by}, filesystem properties from {vol.properties_from}"]
    for d in r["devices"]:
        lines.append(f"device    {d['serial']}: {len(d['files'])} file(s) -> {d['folder']}")
        fp = f" ({d['signer_fingerprint']})" if d["signer_fingerprint"] else ""
        lines.append(f"  manifest {d['manifest']}, signature {d['signature']}{fp}")
        lines += [f"  problem  {p}" for p in d["problems"]]
    for c in r["clips"]:
        state = "measured" if c["ok"] and not c["damaged"] else f"NOT MEASURABLE: {c['error']}" if not c["ok"] else "DAMAGED"
        lines.append(f"clip      {Path(c['clip']).name}: {c['frames']} frames {c['width']}x{c['height']}, "
                     f"{c['first_utc'] or '-'} -> {c['last_utc'] or '-'}, {state}")
    lines += [f"note      {n}" for n in r["notes"]]
    lines += [f"problem   {p}" for p in r["problems"]]
    if not r["devices"]:
        lines.append("verdict   NO EVIDENCE on this dock")
    else:
        lines.append("verdict   intact: every file matches the signed manifest and every clip was measured" if r["intact"]
                     else "verdict   NOT INTACT (see above)")
    return "\n".join(lines)
