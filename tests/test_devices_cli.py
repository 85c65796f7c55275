"""`bwc devices` end to end, in real time: a simulated air runs in a background thread with a
CEW and a body camera advertising; `bwc devices` (a separate process) scans it through a
controller of that air served on tcp-server (the same host code path as a USB dongle), finds
the camera's dock (a real FAT loop device) and the in-car hosts sending ICP datagrams, and
prints bench stanzas that parse as YAML. Plus bad usage (exit 2) and a radio that is not
there (exit 1, the other findings still printed)."""

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from emulators.air import Air, radio, static_random_address
from emulators.bwc import BwcEmulator
from emulators.camera import Recording, CameraCore, CameraIdentity
from emulators.clock import DeviceClock, SceneClock
from emulators.dock import docked
from emulators.evidence_seal import device_key, seal_folder
from emulators.profiles import get_profile
from emulators.signal_source import SignalSourceEmulator
from emulators.transports import serve_air_controller
from emulators.video import VideoFormat
from protocols.incar import FLAG_ACK_REQUESTED, IncarMessage, MessageType
from protocols.signal import SourceClass
from tests.conftest import require_tool

REPO = Path(__file__).resolve().parents[1]
CEW, BWC, DVR, BWC_ICP = "X87002FP4", f"X6L{os.getpid() % 1_000_000:06d}", "F3DVR00A1", "X6BWC00C1"


def _bwc(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bwc", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout)


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("0.0.0.0", 0))
        return s.getsockname()[1]


class LiveAir:
    """The air, a CEW and a body camera in real time on a loop in a background thread."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="live-air", daemon=True)
        self.spec = ""

    async def _start(self) -> None:
        profile = get_profile("reference")
        self.air = Air(seed=4)
        self.served = await serve_air_controller(self.air, "DEVICES", (3.0, 3.0))
        self.cew = SignalSourceEmulator(CEW, radio(self.air, "CEW-A", (0.0, 0.0), kind="cew"), profile.cew, SourceClass.CEW)
        core = CameraCore(CameraIdentity(BWC, "EMU-BWC", "1.0", "bwc"), DeviceClock(SceneClock(1_780_000_000_000)),
                          Recording(VideoFormat(320, 180, 5), 2.0), self.tmp)
        self.camera = BwcEmulator(BWC, radio(self.air, "BWC-B", (6.0, 0.0), kind="bwc"), profile.bwc, core)
        await self.cew.start()
        await self.camera.start()  # returns after its 2 s boot, advertising presence
        self.spec = self.served.client_spec

    async def _stop(self) -> None:
        await self.camera.stop()
        await self.cew.stop()
        await self.served.close()

    def __enter__(self) -> "LiveAir":
        self.thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(30)
        except BaseException:
            self._halt()
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(30)
        finally:
            self._halt()

    def _halt(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        if not self.thread.is_alive():
            self.loop.close()


class IcpHosts:
    """A DVR heartbeating and a camera announcing a recording on the in-car protocol."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="icp-hosts", daemon=True)

    def _run(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as dvr, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as cam:
            seq = 0
            while not self.stop.is_set():
                seq += 1
                now = int(time.time() * 1000)
                dvr.sendto(IncarMessage(MessageType.HEARTBEAT, DVR, "CAR-A", now, seq).encode(), ("127.0.0.1", self.port))
                cam.sendto(IncarMessage(MessageType.RECORDING_STARTED, BWC_ICP, "CAR-C", now, seq, 1, 1, FLAG_ACK_REQUESTED).encode(),
                           ("127.0.0.1", self.port))
                cam.sendto(b"not ICP", ("127.0.0.1", self.port))
                self.stop.wait(0.2)

    def __enter__(self) -> "IcpHosts":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(5)


@pytest.fixture
def camera_dock(tmp_path):
    """The body camera's evidence folder docked as a FAT loop device."""
    for tool in ("losetup", "blkid", "mkfs.vfat", "mmd", "mcopy"):
        require_tool(tool)
    folder = tmp_path / "evidence" / BWC
    folder.mkdir(parents=True)
    (folder / f"{BWC}_1780000003000.mp4").write_bytes(os.urandom(20_000))
    (folder / f"{BWC}_1780000003000.json").write_text("{}\n")
    seal_folder(folder, device_key(BWC), "2026-05-28T20:27:00.000Z")
    with docked(folder, tmp_path) as dock:
        yield dock


def test_devices_finds_ble_docks_and_incar_hosts(tmp_path, camera_dock):
    port = _free_udp_port()
    with LiveAir(tmp_path / "live") as live, IcpHosts(port):
        proc = _bwc("devices", "--transport", live.spec, "--seconds", "4", "--icp-port", str(port))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = yaml.safe_load(proc.stdout)
    assert proc.stdout.startswith(f"# bwc devices: BLE on {live.spec} for 4 s")
    cameras = {c["serial"]: c for c in doc["cameras"]}
    # heard on BLE and docked: one stanza with both
    assert cameras[BWC] == {"label": f"BWC-{BWC}", "serial": BWC, "ble_address": static_random_address("BWC-B"), "dock_label": BWC}
    assert list(cameras[BWC]) == ["label", "serial", "ble_address", "dock_label"]
    # announced its recording on the in-car network: a camera without a radio we heard
    assert cameras[BWC_ICP] == {"label": f"BWC-{BWC_ICP}", "serial": BWC_ICP, "ble_address": None, "dock_label": None}
    assert doc["sources"] == [{"label": f"CEW-{CEW}", "kind": "cew", "serial": CEW, "ble_address": static_random_address("CEW-A")}]
    assert doc["dvrs"] == [{"label": f"DVR-{DVR}", "serial": DVR, "vehicle_id": "CAR-A", "address": "127.0.0.1"}]
    assert list(doc["dvrs"][0]) == ["label", "serial", "vehicle_id", "address"]
    lines = proc.stdout.splitlines()
    cam_line = next(line for line in lines if f'"BWC-{BWC}"' in line)
    assert "BLE: CAMERA_PRESENCE" in cam_line and f"dock: {camera_dock.device}" in cam_line
    assert "BLE: CEW_PRESENCE" in next(line for line in lines if f'"CEW-{CEW}"' in line)
    assert "ICP: HEARTBEAT x" in next(line for line in lines if f'"DVR-{DVR}"' in line)
    assert "datagram(s) on port" in proc.stdout  # the malformed ones are counted, not fatal


def test_devices_json_without_ble(tmp_path, camera_dock):
    port = _free_udp_port()
    with IcpHosts(port):
        proc = _bwc("devices", "--transport", "none", "--seconds", "1", "--icp-port", str(port), "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert {c["serial"]: c["dock_label"] for c in doc["cameras"]}[BWC] == BWC
    assert doc["dvrs"][0]["serial"] == DVR and doc["problems"] == []
    assert doc["seen"][f"BWC-{BWC}"] == [f"dock: {camera_dock.device}, uuid {camera_dock.uuid}"]


def test_a_radio_that_is_not_there_is_named_and_the_rest_still_printed():
    proc = _bwc("devices", "--transport", "tcp-client:127.0.0.1:1", "--seconds", "0.5", "--icp-port", "0")
    assert proc.returncode == 1
    assert "bwc devices: BLE: cannot open HCI transport 'tcp-client:127.0.0.1:1'" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    doc = yaml.safe_load(proc.stdout)
    assert set(doc) == {"cameras", "sources", "dvrs"} and doc["sources"] == []


def test_bad_usage_exits_2_with_the_problem_named():
    for args, message in (
        (["--seconds", "0"], "--seconds 0: must be more than 0"),
        (["--transport", "bogus:1"], "--transport 'bogus:1': not a bumble transport"),
        (["--icp-port", "70000"], "--icp-port 70000: must be 0..65535"),
        (["--seconds", "soon"], "argument --seconds: invalid float value: 'soon'"),
    ):
        proc = _bwc("devices", *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert message in proc.stderr and "Traceback" not in proc.stderr
        assert proc.stdout == ""
