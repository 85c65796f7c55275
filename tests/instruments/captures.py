"""Capture files for the air tests, made by the harness and by real tools:

* a small scene's air.pcap (link type 256) with the harness observer's own measurements;
* its records rewritten as nRF Sniffer records (link type 272, header versions 2 and 3;
  written directly, since scapy's builder for that layer is broken, and checked with tshark);
* editcap's pcapng and nanosecond pcap of it;
* foreign BLE traffic crafted with scapy (other advertisers, other service data, bad CRCs,
  malformed frames, data-channel packets) merged into it with mergecap;
* a btsnoop log written by bumble's own BtSnooper on the host of a virtual controller, in
  real time (BtSnooper stamps packets with the wall clock)."""

from __future__ import annotations

import asyncio
import logging
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

from scapy.layers.bluetooth import EIR_CompleteLocalName, EIR_Flags, EIR_Hdr, EIR_Manufacturer_Specific_Data, EIR_ServiceData16BitUUID
from scapy.layers.bluetooth4LE import BTLE, BTLE_ADV, BTLE_ADV_IND, BTLE_ADV_NONCONN_IND, BTLE_RF, BTLE_SCAN_REQ
from scapy.utils import RawPcapReader, RawPcapWriter

from emulators.profiles import get_profile, profile_from_dict
from emulators.scene import scene_from_dict
from emulators.video import VideoFormat
from fixtures.roles import IncidentRecord
from fixtures.virtual import VirtualTarget
from protocols.blell import phdr_record
from protocols.signal import Event, SignalFrame, encode_adv_data
from tests.conftest import require_tool

SMALL = VideoFormat(320, 180, 5)
CEW, HOLSTER = "X8AIR000A", "X8AIR000H"
CAMERAS = {"X6AIR00B1": 10.0, "X6AIR00C1": 25.0, "X6AIR00D1": 29.0, "X6AIR00E1": 45.0}
AIR_SCENE = {
    "name": "air", "end_s": 17,
    "officers": [{"name": "A", "cew": CEW, "position": [0, 0]}, {"name": "H", "holster": HOLSTER, "position": [0, 3]}]
    + [{"name": serial[-2], "bwc": serial, "position": [(ft, 0), (0, ft), (-ft, 0), (0, -ft)][i]} for i, (serial, ft) in enumerate(CAMERAS.items())],
    "timeline": [{"t": 3.0, "do": "cew", "target": "A", "event": "armed"}, {"t": 7.0, "do": "stop_all"},
                 {"t": 11.0, "do": "holster", "target": "H", "event": "draw"}, {"t": 15.0, "do": "stop_all"}],
}


@dataclass(frozen=True)
class AirScene:
    pcap: Path
    record: IncidentRecord

    def observed_latencies(self) -> dict[tuple[int, str], float]:
        """(event number, camera serial) -> what the harness observer measured: from the
        stimulus to the camera's first recording-started advert heard before the next one."""
        stimuli = [self.record.steps_of("cew")[0]["t_utc_ms"], self.record.steps_of("holster")[0]["t_utc_ms"], float("inf")]
        out = {}
        for n, (t0, t1) in enumerate(zip(stimuli, stimuli[1:]), 1):
            for cam in self.record.cameras:
                heard = next((t for t in cam.status_starts_utc_ms if t0 <= t < t1), None)
                if heard is not None:
                    out[(n, cam.serial)] = (heard - t0) / 1000
        return out


def play_air_scene(out: Path) -> AirScene:
    spec = scene_from_dict(AIR_SCENE, "<air scene>")
    record = VirtualTarget(spec, get_profile("reference"), out, seed=5, video_override=SMALL).run_incident()
    return AirScene(out / "air.pcap", record)


def big_endian_copy(src: Path, dest: Path) -> Path:
    """src written by scapy in big-endian byte order (as a big-endian host writes pcaps)."""
    writer = RawPcapWriter(str(dest), linktype=256, sync=True, endianness=">")
    writer.write_header(None)
    for data, meta in RawPcapReader(str(src)):
        writer.write_packet(data, sec=meta.sec, usec=meta.usec)
    writer.close()
    return dest


def nordic_copy(src: Path, dest: Path, version: int) -> Path:
    """The link-type-256 records of src as an nRF Sniffer would have written them."""
    writer = RawPcapWriter(str(dest), linktype=272, sync=True)
    writer.write_header(None)
    for i, (data, meta) in enumerate(RawPcapReader(str(src))):
        rf, rssi = data[0], struct.unpack("b", data[1:2])[0]
        t_us = meta.sec * 1_000_000 + meta.usec
        event = bytes((10, 0x01, {0: 37, 12: 38, 39: 39}[rf], -rssi & 0xFF)) + struct.pack("<HI", 0, t_us & 0xFFFFFFFF)
        payload = event + data[10:]
        record = struct.pack("<BHBHB", 1, len(payload), version, i & 0xFFFF, 0x02 if version == 3 else 0x06) + payload
        writer.write_packet(record, sec=meta.sec, usec=meta.usec)
    writer.close()
    return dest


def first_seconds(src: Path, dest: Path, seconds: float) -> Path:
    """The records of src in its first ``seconds`` (a shorter field capture)."""
    reader = RawPcapReader(str(src))
    writer = RawPcapWriter(str(dest), linktype=reader.linktype, sync=True)
    writer.write_header(None)
    start = None
    for data, meta in reader:
        t = meta.sec + meta.usec / 1e6
        start = t if start is None else start
        if t - start <= seconds:
            writer.write_packet(data, sec=meta.sec, usec=meta.usec)
    writer.close()
    return dest


def editcap(src: Path, dest: Path, fmt: str) -> Path:
    subprocess.run([require_tool("editcap"), "-F", fmt, str(src), str(dest)], check=True, capture_output=True)
    return dest


def tshark_fields(path: Path, *fields: str, display: str = "") -> list[list[str]]:
    cmd = [require_tool("tshark"), "-r", str(path), "-T", "fields", "-E", "separator=,"] + [a for f in fields for a in ("-e", f)]
    out = subprocess.run(cmd + (["-Y", display] if display else []), capture_output=True, text=True, check=True).stdout
    return [line.split(",") for line in out.splitlines() if line]


FOREIGN_KINDS = ("other advertisers", "other traffic", "bad CRC", "malformed", "malformed Signal")


def foreign_traffic(scene: AirScene, dest: Path) -> tuple[Path, dict[str, int]]:
    """The scene's capture with foreign BLE traffic merged in around its events: every frame a
    real sniffer at a scene also records. Returns the merged file and how many of each kind."""
    t0 = scene.record.stimulus_utc_ms / 1000
    phone = BTLE_ADV_IND(AdvA="5c:11:22:33:44:55", data=[EIR_Hdr() / EIR_Flags(flags=6), EIR_Hdr() / EIR_CompleteLocalName(local_name=b"Pixel 8"),
                                                         EIR_Hdr() / EIR_Manufacturer_Specific_Data(company_identifier=0x004C) / b"\x02\x15"])
    beacon = BTLE_ADV_NONCONN_IND(AdvA="5c:11:22:33:44:66", data=[EIR_Hdr() / EIR_ServiceData16BitUUID(svc_uuid=0xFEAA) / b"\x10\x00\x03abc"])
    taser = BTLE_ADV_NONCONN_IND(AdvA="00:25:df:00:00:01", data=[EIR_Hdr() / EIR_ServiceData16BitUUID(svc_uuid=0xFE6B) / bytes(24)])
    good = {"crc_checked": 1, "crc_valid": 1, "dewhitened": 1, "sig_power_valid": 1}
    frames: list[tuple[bytes, str]] = []
    for adv in (phone, beacon, taser):
        frames.append((bytes(BTLE_RF(rf_channel=0, signal=-70, **good) / BTLE() / BTLE_ADV(TxAdd=1) / adv), "other advertisers"))
    frames.append((bytes(BTLE_RF(rf_channel=0, signal=-50, **good) / BTLE() / BTLE_ADV() / BTLE_SCAN_REQ(ScanA="5c:11:22:33:44:55", AdvA="c3:cd:73:b7:f4:6d")),
                   "other traffic"))
    frames.append((bytes(BTLE_RF(rf_channel=5, signal=-50, **good) / BTLE(access_addr=0x50654A3B) / b"\x01\x00"), "other traffic"))
    # a camera "recording started" before any camera started, with a broken CRC: counted, never used
    early = SignalFrame.for_event("X6AIR00B1", Event.CAMERA_RECORDING_STARTED, event_id=9)
    broken = bytearray(_raw(encode_adv_data(early), 37))
    broken[-1] ^= 0xFF
    frames.append((bytes(broken), "bad CRC"))
    service = EIR_Hdr() / EIR_ServiceData16BitUUID(svc_uuid=0xFE6C) / encode_adv_data(early)[7:]
    frames.append((bytes(BTLE_RF(rf_channel=12, signal=-55, dewhitened=1, sig_power_valid=1, crc_checked=1, crc_valid=0) / BTLE() / BTLE_ADV()
                         / BTLE_ADV_NONCONN_IND(AdvA="d4:97:34:4e:22:65", data=[EIR_Hdr() / EIR_Flags(flags=6), service])), "bad CRC"))
    flags, header = bytes.fromhex("020106"), bytes((0x1B, 0x16, 0x6C, 0xFE))
    for data in (flags + bytes((0x0B, 0x16, 0x6C, 0xFE)) + bytes(8),  # 0xFE6C service data with 8 bytes of payload
                 flags + header + b"\x01" + "X6AIR0\u00e9B1".encode("latin-1") + bytes(14),  # a serial that is not ASCII
                 flags + header + bytes(10)):  # an AD structure that claims 27 bytes and holds 10
        frames.append((_raw(data, 39), "malformed Signal"))
    frames.append((bytes(6), "malformed"))  # shorter than a pseudo-header
    frames.append((_raw(b"", 38)[:-3 - 8] + bytes((0x42, 20)) + bytes(5), "malformed"))  # a PDU length beyond the record
    path = dest.with_suffix(".foreign.pcap")
    writer = RawPcapWriter(str(path), linktype=256, sync=True)
    writer.write_header(None)
    for i, (frame, _) in enumerate(frames * 3):
        t = t0 - 0.2 + 0.05 * i
        writer.write_packet(frame, sec=int(t), usec=int(round((t - int(t)) * 1e6)))
    writer.close()
    subprocess.run([require_tool("mergecap"), "-F", "pcap", "-w", str(dest), str(scene.pcap), str(path)], check=True, capture_output=True)
    counts: dict[str, int] = {}
    for _, kind in frames * 3:
        counts[kind] = counts.get(kind, 0) + 1
    return dest, counts


def _raw(adv_data: bytes, channel: int, address: str = "D4:97:34:4E:22:65") -> bytes:
    """A link-type-256 record of an ADV_NONCONN_IND, byte by byte (for frames scapy would tidy up)."""
    return phdr_record(bytes((0x42, 6 + len(adv_data))) + bytes.fromhex(address.replace(":", ""))[::-1] + adv_data, adv_channel=channel, rssi_dbm=-55)


@dataclass(frozen=True)
class Snooped:
    btsnoop: Path
    latency_heard_s: float  # the observer: first CEW advert heard -> first recording-started advert heard
    latency_stimulus_s: float  # from the CEW's emit


def snooped_btsnoop(out: Path) -> Snooped:
    """A CEW and a camera 10 ft away on the air, in real time; the observer's bumble host logs
    its HCI traffic through bumble.snoop.BtSnooper."""
    from bumble.snoop import BtSnooper

    from emulators.air import radio
    from emulators.scene_runner import VirtualScene
    from instruments.ble_observer import BleObserver

    logging.getLogger("bumble").setLevel(logging.WARNING)
    spec = scene_from_dict({"name": "snoop", "end_s": 5, "officers": [{"name": "A", "cew": CEW, "position": [0, 0]},
                                                                      {"name": "B", "bwc": "X6AIR00B1", "position": [10, 0]}]}, "<snoop>")
    profile = profile_from_dict({"name": "quick-boot", "base": "reference", "bwc": {"boot_s": 0.2, "audio": False, "pre_event_s": 0}}, "<test>")

    async def main() -> tuple[float, BleObserver]:
        scene = VirtualScene(spec, profile, out, 1, video_override=SMALL)
        device = radio(scene.air, "OBSERVER", (0.0, 0.0), kind="observer", rx_gain_db=25.0)
        with (out / "observer.btsnoop").open("wb") as fh:
            device.host.snooper = BtSnooper(fh)
            observer = BleObserver(device)
            await scene.build()
            await observer.start()
            await asyncio.sleep(0.3)
            t = await scene.sources[("A", "cew")].emit(Event.CEW_ARMED)
            await asyncio.sleep(1.0)
            await observer.stop()
            await scene.shutdown()
        return t, observer

    t, observer = asyncio.run(main())
    armed, started = observer.first(CEW, Event.CEW_ARMED), observer.first("X6AIR00B1", Event.CAMERA_RECORDING_STARTED)
    assert armed is not None and started is not None
    return Snooped(out / "observer.btsnoop", started.loop_t - armed.loop_t, started.loop_t - t)
