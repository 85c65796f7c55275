"""The shipped Wireshark dissectors (protocols/wireshark/*.lua) read a virtual scene's captures:
tshark prints every Signal field of air.pcap as our codec decodes it, and every ICP message of
icp.pcap (timestamps on the same scene clock, checksums and CRC checked)."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest

from emulators.air import Transmission
from emulators.scene import scene_from_dict
from emulators.video import VideoFormat
from fixtures.virtual import VirtualTarget
from instruments.pcap import AirCapture, IcpCapture
from protocols.incar import IncarMessage, MessageType
from protocols.signal import SERVICE_DATA_HEADER, Event, SignalFrame, decode_adv_data, encode_adv_data
from tests.conftest import require_tool
from tests.emulators.scene_helpers import profile

TOOLS = Path(__file__).resolve().parents[2] / "protocols" / "wireshark"
SIGNAL_FIELDS = ("frame.time_epoch", "bwc_signal.version", "bwc_signal.serial", "bwc_signal.class", "bwc_signal.code", "bwc_signal.event",
                 "bwc_signal.activates", "bwc_signal.sequence", "bwc_signal.event_id", "bwc_signal.reserved")
ICP_FIELDS = ("frame.time_epoch", "ip.src", "udp.srcport", "udp.dstport", "bwc_icp.magic", "bwc_icp.type", "bwc_icp.flags.ack_requested",
              "bwc_icp.seq", "bwc_icp.sender", "bwc_icp.vehicle", "bwc_icp.event_time_ms", "bwc_icp.reason_class", "bwc_icp.reason_code",
              "bwc_icp.crc", "bwc_icp.crc.status", "ip.checksum.status", "udp.checksum.status")


def tshark(pcap: Path, fields: tuple[str, ...] = (), display_filter: str | None = None) -> list[dict[str, str]]:
    cmd = [require_tool("tshark"), "-n", "-r", str(pcap), "-X", f"lua_script:{TOOLS / 'signal.lua'}", "-X", f"lua_script:{TOOLS / 'icp.lua'}",
           "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a"]
    cmd += [a for f in fields for a in ("-e", f)] + (["-Y", display_filter] if display_filter else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "Lua: Error" not in proc.stderr, proc.stderr
    return [dict(zip(fields, line.split("\t"))) for line in proc.stdout.splitlines()]


def truthy(value: str) -> bool:
    return value in ("1", "True")


def pcap_records(path: Path) -> list[tuple[float, bytes]]:
    raw, out, i = path.read_bytes(), [], 24
    while i < len(raw):
        sec, usec, incl, _ = struct.unpack_from("<IIII", raw, i)
        out.append((sec + usec / 1e6, raw[i + 16 : i + 16 + incl]))
        i += 16 + incl
    return out


@pytest.fixture(scope="module")
def scene_run(tmp_path_factory) -> Path:
    """A CEW armed next to a camera whose cruiser's DVR is paired with it: Signal adverts of both
    devices on the air, the camera's announcement and the DVR's ACK on the in-car network."""
    spec = scene_from_dict({"name": "wireshark", "end_s": 8, "officers": [
        {"name": "A", "bwc": "X6WSK00A1", "cew": "X8WSK000A", "vehicle": "CAR-A", "position": [0, 0]}],
        "vehicles": [{"id": "CAR-A", "dvr": "F3WSK00A1", "officer": "A", "position": [-60, 0]}],
        "timeline": [{"t": 3, "do": "cew", "target": "A", "event": "armed"}, {"t": 6, "do": "stop_all"}]}, "<test>")
    light = profile({"bwc": {"audio": False, "pre_event_s": 0.0}, "dvr": {"pre_event_s": 0.0, "rear_pre_event_s": 0.0}})
    out = tmp_path_factory.mktemp("wireshark")
    record = VirtualTarget(spec, light, out, seed=1, video_override=VideoFormat(320, 180, 5)).run_incident()
    assert record.artifacts["icp_pcap"] == str(out / "icp.pcap") and record.stats["icp_datagrams"] >= 2
    return out


def test_signal_dissector_prints_every_field_as_our_codec_decodes_it(scene_run):
    rows = tshark(scene_run / "air.pcap", SIGNAL_FIELDS)
    records = pcap_records(scene_run / "air.pcap")
    assert len(rows) == len(records) > 100
    for row, (t, record) in zip(rows, records):
        frame = decode_adv_data(record[22:-3])  # pseudo-header, access address, PDU header, AdvA | AdvData | CRC
        assert abs(float(row["frame.time_epoch"]) - t) < 1e-6
        event = frame.event
        assert event is not None
        assert (int(row["bwc_signal.version"], 16), row["bwc_signal.serial"], int(row["bwc_signal.class"], 16), int(row["bwc_signal.code"], 16),
                row["bwc_signal.event"], truthy(row["bwc_signal.activates"]), int(row["bwc_signal.sequence"]), int(row["bwc_signal.event_id"])) == (
            frame.version, frame.serial, frame.source_class, frame.event_code, event.name, frame.activates_cameras, frame.sequence, frame.event_id)
        assert row["bwc_signal.reserved"] == "00000000,00,0000"
    seen = {(r["bwc_signal.serial"], r["bwc_signal.event"]) for r in rows}
    assert {("X8WSK000A", "CEW_ARMED"), ("X6WSK00A1", "CAMERA_RECORDING_STARTED")} <= seen


def test_icp_dissector_prints_the_announcement_and_its_ack_on_the_scene_clock(scene_run):
    rows = tshark(scene_run / "icp.pcap", ICP_FIELDS)
    assert len(rows) == len(pcap_records(scene_run / "icp.pcap")) >= 2
    assert all(r["udp.srcport"] == r["udp.dstport"] == "47600" and r["bwc_icp.magic"] == "ICP1" for r in rows)
    assert all(r["bwc_icp.crc.status"] == "1" and r["ip.checksum.status"] == r["udp.checksum.status"] == "1" for r in rows), rows  # 1: Good
    started = next(r for r in rows if r["bwc_icp.type"] == "2")
    ack = next(r for r in rows if r["bwc_icp.type"] == "4")
    assert (started["bwc_icp.sender"], started["bwc_icp.vehicle"], truthy(started["bwc_icp.flags.ack_requested"])) == ("X6WSK00A1", "CAR-A", True)
    assert (started["bwc_icp.reason_class"], started["bwc_icp.reason_code"]) == ("1", "1")  # CEW armed
    assert (ack["bwc_icp.sender"], ack["bwc_icp.seq"], ack["ip.src"] != started["ip.src"]) == ("F3WSK00A1", started["bwc_icp.seq"], True)
    # the same scene clock as air.pcap: the announcement follows the CEW's first armed advert, within the
    # camera's activation latency, and its event time (the camera's clock) says the same
    adverts = tshark(scene_run / "air.pcap", ("frame.time_epoch", "bwc_signal.event"), 'bwc_signal.event == "CEW_ARMED"')
    armed_s = float(adverts[0]["frame.time_epoch"])
    assert 0 < float(started["frame.time_epoch"]) - armed_s < 1.0
    assert abs(int(started["bwc_icp.event_time_ms"]) / 1000 - float(started["frame.time_epoch"])) < 1.0


BWC_ADDR, DVR_ADDR = ("127.0.0.1", 40001), ("127.0.0.1", 40002)


def _icp_capture(path: Path) -> IcpCapture:
    """A capture that knows a camera and a DVR endpoint (written by hand, not by a scene)."""
    capture = IcpCapture(path, epoch_utc_ms=1_780_000_000_000)
    capture.opened("X6WSK00A1", BWC_ADDR)
    capture.opened("F3WSK00A1", DVR_ADDR)
    return capture


def test_every_icp_message_type_and_a_bad_crc(tmp_path):
    path = tmp_path / "icp.pcap"
    capture = _icp_capture(path)
    bwc, dvr = BWC_ADDR, DVR_ADDR
    for i, kind in enumerate(MessageType):
        message = IncarMessage(kind, "X6WSK00A1", "CAR-A", 1_780_000_000_000 + i, sequence=i, reason_class=3, reason_code=2, flags=i % 2)
        capture.sent(0.1 * i, bwc, dvr, message.encode())
    bad = bytearray(IncarMessage(MessageType.ACK, "F3WSK00A1", "CAR-A", 1_780_000_000_900, sequence=7).encode())
    bad[-1] ^= 0x01
    capture.sent(0.9, dvr, bwc, bytes(bad))
    capture.sent(1.0, dvr, bwc, b"ICP1 too short")
    capture.close()
    rows = tshark(path, ("bwc_icp.type", "bwc_icp.seq", "bwc_icp.flags.ack_requested", "bwc_icp.vehicle", "bwc_icp.event_time",
                         "bwc_icp.crc.status", "ip.src", "ip.dst"))
    assert [r["bwc_icp.type"] for r in rows] == ["1", "2", "3", "4", "5", "4", ""]
    assert [truthy(r["bwc_icp.flags.ack_requested"]) for r in rows[:5]] == [False, True, False, True, False]
    assert {r["bwc_icp.vehicle"] for r in rows[:6]} == {"CAR-A"} and rows[0]["bwc_icp.event_time"].startswith("May 28, 2026 20:26:40.000")
    assert [r["bwc_icp.crc.status"] for r in rows[4:]] == ["1", "0", ""]
    assert (rows[0]["ip.src"], rows[0]["ip.dst"], rows[5]["ip.src"]) == ("169.254.76.1", "169.254.76.2", "169.254.76.2")
    assert len(tshark(path, ("frame.number",), "bwc_icp.crc.bad")) == 1
    assert len(tshark(path, ("frame.number",), "bwc_icp.malformed")) == 1


def test_icp2_shows_its_counter_and_mac(tmp_path):
    from protocols.incar_auth import IcpSigner, emulation_network_key

    path = tmp_path / "icp2.pcap"
    capture = _icp_capture(path)
    signer = IcpSigner(emulation_network_key("Springfield PD"), counter=41)
    message = IncarMessage(MessageType.RECORDING_STARTED, "X6WSK00A1", "CAR-A", 1_780_000_000_000, sequence=3, flags=1)
    datagram = signer.sign(message)
    capture.sent(0.1, BWC_ADDR, DVR_ADDR, datagram)
    capture.close()
    rows = tshark(path, ("bwc_icp.magic", "bwc_icp.type", "bwc_icp.sender", "bwc_icp.counter", "bwc_icp.mac"))
    assert rows == [{"bwc_icp.magic": "ICP2", "bwc_icp.type": "2", "bwc_icp.sender": "X6WSK00A1", "bwc_icp.counter": "42",
                     "bwc_icp.mac": datagram[-8:].hex()}]
    assert not tshark(path, ("frame.number",), "bwc_icp.malformed")


def test_signal_heuristic_leaves_other_service_data_alone(tmp_path):
    path = tmp_path / "air.pcap"
    capture = AirCapture(path, epoch_utc_ms=1_780_000_000_000)
    ours = encode_adv_data(SignalFrame("X87002FP4", 0x07, 0x09, sequence=3_349_454, event_id=2))  # unknown class/code: still decoded
    short = bytes((0x02, 0x01, 0x06, 0x07, 0x16, 0x6C, 0xFE)) + b"X8700"  # 0xFE6C, but not the payload's shape
    other = bytes((0x02, 0x01, 0x06)) + bytes((SERVICE_DATA_HEADER[0], 0x16, 0x6D, 0xFE)) + encode_adv_data(SignalFrame.for_event("X87002FP4", Event.CEW_ARC))[7:]
    for i, data in enumerate((ours, short, other)):
        capture(Transmission(0.01 * i, "CEW", "C1:22:33:44:55:66", data, 37, (1.0, 0.0)))
    capture.close()
    rows = tshark(path, ("bwc_signal.serial", "bwc_signal.event", "bwc_signal.sequence", "bwc_signal.event_id"))
    assert rows[0] == {"bwc_signal.serial": "X87002FP4", "bwc_signal.event": "unknown (class 0x07, code 0x09)",
                       "bwc_signal.sequence": "3349454", "bwc_signal.event_id": "2"}
    assert [r["bwc_signal.serial"] for r in rows[1:]] == ["", ""]


def test_signal_dissector_shows_the_authenticated_fields(tmp_path):
    from protocols.signal_auth import AuthFrame, decode_auth_payload, device_key, emulation_agency_key, encode_auth_adv_data
    path = tmp_path / "air.pcap"
    capture = AirCapture(path, epoch_utc_ms=1_780_000_000_000)
    key = device_key(emulation_agency_key("Springfield PD", 1), "X8CEW0001")
    auth = encode_auth_adv_data(AuthFrame.for_event("X8CEW0001", Event.CEW_ARMED, 0x030201, 1), key)
    legacy = encode_adv_data(SignalFrame.for_event("X8CEW0001", Event.CEW_ARMED, sequence=5, event_id=4))
    for i, data in enumerate((auth, legacy)):
        capture(Transmission(0.01 * i, "CEW", "C1:22:33:44:55:66", data, 37, (1.0, 0.0)))
    capture.close()
    fields = ("bwc_signal.version", "bwc_signal.serial", "bwc_signal.event", "bwc_signal.authenticated", "bwc_signal.mac",
              "bwc_signal.counter", "bwc_signal.key_id", "bwc_signal.event_id", "bwc_signal.sequence", "_ws.col.Info")
    rows = tshark(path, fields)
    mac = decode_auth_payload(auth[7:]).mac.hex()
    assert rows[0] == {"bwc_signal.version": "0x02", "bwc_signal.serial": "X8CEW0001", "bwc_signal.event": "CEW_ARMED",
                       "bwc_signal.authenticated": rows[0]["bwc_signal.authenticated"], "bwc_signal.mac": mac,
                       "bwc_signal.counter": str(0x030201), "bwc_signal.key_id": "1", "bwc_signal.event_id": str(0x0201),
                       "bwc_signal.sequence": "", "_ws.col.Info": "Signal X8CEW0001 CEW_ARMED auth counter 197121 key 1"}
    assert truthy(rows[0]["bwc_signal.authenticated"])
    assert rows[1]["bwc_signal.counter"] == "" and rows[1]["bwc_signal.sequence"] == "5" and rows[1]["bwc_signal.event_id"] == "4"


def test_bwc_wireshark_names_and_installs_the_shipped_dissectors(tmp_path):
    import subprocess
    import sys

    run = lambda *a: subprocess.run([sys.executable, "-m", "bwc", "wireshark", *a], capture_output=True, text=True, timeout=60)  # noqa: E731
    shown = run()
    assert shown.returncode == 0 and [Path(x) for x in shown.stdout.splitlines()[:2]] == [TOOLS / "signal.lua", TOOLS / "icp.lua"]
    done = run("--install", str(tmp_path / "plugins"))
    assert done.returncode == 0 and (tmp_path / "plugins" / "icp.lua").read_bytes() == (TOOLS / "icp.lua").read_bytes()
    (tmp_path / "file").write_text("")
    refused = run("--install", str(tmp_path / "file" / "sub"))
    assert refused.returncode == 2 and "cannot write there" in refused.stderr and "Traceback" not in refused.stderr
