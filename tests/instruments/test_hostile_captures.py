"""A capture is hostile input: truncated files, wrong link types, huge record lengths, a
directory, a file too big, mutated bytes. Every one gives exit 2 and one line naming the file
and the problem, never a traceback or a hang; every mutation of a valid capture either reads
or is refused with that one line, quickly."""

from __future__ import annotations

import random
import struct
import time
from pathlib import Path

import pytest
from bumble import hci
from bumble.snoop import BtSnooper, Snooper

from bwc.cli import main
from instruments import capture_file
from instruments.air_import import import_capture
from instruments.capture_file import CaptureError
from instruments.pcap import PcapWriter
from protocols.blell import phdr_record
from protocols.signal import Event, SignalFrame, encode_adv_data
from tests.instruments.captures import editcap, nordic_copy

ADV = encode_adv_data(SignalFrame.for_event("X87002FP4", Event.CEW_ARMED, event_id=3))
ADDRESS = "C3:CD:73:B7:F4:6D"


@pytest.fixture(scope="module")
def valid(tmp_path_factory) -> dict[str, Path]:
    """One small valid capture of each kind: pcap 256, nRF Sniffer 272, pcapng, btsnoop."""
    d = tmp_path_factory.mktemp("valid")
    writer = PcapWriter(d / "ll.pcap")
    pdu = bytes((0x42, 6 + len(ADV))) + bytes.fromhex(ADDRESS.replace(":", ""))[::-1] + ADV
    for i in range(6):
        writer.write(1_780_000_000 + 0.05 * i, phdr_record(pdu, adv_channel=(37, 38, 39)[i % 3], rssi_dbm=-50))
    writer.close()
    with (d / "hci.btsnoop").open("wb") as fh:
        snooper = BtSnooper(fh)
        report = hci.HCI_LE_Advertising_Report_Event.Report(
            event_type=hci.HCI_LE_Advertising_Report_Event.EventType.ADV_NONCONN_IND, address_type=1,
            address=hci.Address(ADDRESS), data=ADV, rssi=-60)
        for _ in range(3):
            snooper.snoop(bytes(hci.HCI_LE_Advertising_Report_Event([report])), Snooper.Direction.CONTROLLER_TO_HOST)
    return {"pcap": d / "ll.pcap", "nordic": nordic_copy(d / "ll.pcap", d / "nrf.pcap", 3),
            "pcapng": editcap(d / "ll.pcap", d / "ll.pcapng", "pcapng"), "btsnoop": d / "hci.btsnoop"}


def test_the_valid_captures_read(valid):
    for kind, path in valid.items():
        capture = import_capture(path)
        # 6 PDUs 50 ms apart: 6 events; 3 reports snooped within microseconds: one event
        assert len(capture.adverts) == (1 if kind == "btsnoop" else 6) and capture.adverts[0].frame.event is Event.CEW_ARMED, kind


def test_an_interface_option_cut_short_is_ignored(valid, tmp_path):
    ng = valid["pcapng"].read_bytes()
    idb = struct.unpack_from("<I", ng, 4)[0]
    body = struct.pack("<HHI", 256, 0, 65535) + bytes((9, 0, 1, 0))  # if_tsresol, 1 byte long, with no byte
    block = struct.pack("<II", 1, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))
    path = tmp_path / "option.pcapng"
    path.write_bytes(ng[:idb] + block + ng[idb + struct.unpack_from("<I", ng, idb + 4)[0] :])
    assert len(import_capture(path).adverts) == 6


def _pcap_header(linktype: int = 256) -> bytes:
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)


def _hostile(valid: dict[str, Path], tmp: Path) -> list[tuple[str, Path, str]]:
    pcap, ng, snoop = (valid[k].read_bytes() for k in ("pcap", "pcapng", "btsnoop"))
    idb = struct.unpack_from("<I", ng, 4)[0]  # the interface description follows the section header
    cases = {
        "empty": (b"", "empty file"),
        "text": (b"hello, this is not a capture\n", "not a capture file"),
        "pcap-header-cut": (pcap[:10], "cut short"),
        "ethernet": (_pcap_header(1) + pcap[24:], "link type 1 is not a BLE capture"),
        "record-cut": (pcap[:-5], "cut short: record 6 at byte 400 needs 56 bytes, 51 remain"),
        "record-huge": (_pcap_header() + struct.pack("<IIII", 0, 0, 0x7FFFFFF0, 0x7FFFFFF0) + bytes(64), "claims 2,147,483,632 bytes"),
        "pcapng-block-huge": (ng[:4] + struct.pack("<I", 0xFFFFFFF0) + ng[8:], "impossible length"),
        "pcapng-ethernet": (ng[: idb + 8] + struct.pack("<H", 1) + ng[idb + 10 :], "link type 1 is not a BLE capture"),
        "pcapng-interface": (ng[:idb] + ng[idb + struct.unpack_from("<I", ng, idb + 4)[0] :],  # the interface description left out
                             "names interface 0, which is not described"),
        "btsnoop-version": (snoop[:8] + struct.pack(">II", 2, 1002) + snoop[16:], "btsnoop version 2"),
        "btsnoop-huge": (snoop[:16] + struct.pack(">II", 40, 0x10000000) + snoop[24:], "claims 268,435,456 bytes"),
        "btsnoop-cut": (snoop[:-3], "cut short"),
    }
    out = []
    for name, (data, needle) in cases.items():
        path = tmp / f"{name}.cap"
        path.write_bytes(data)
        out.append((name, path, needle))
    big = tmp / "big.pcap"
    with big.open("wb") as fh:  # sparse: nothing is written but the header
        fh.write(_pcap_header())
        fh.truncate(capture_file.MAX_FILE_BYTES + 1)
    out += [("too-big", big, "more than the 1,073,741,824 read per file"), ("directory", tmp, "cannot read"),
            ("missing", tmp / "nothing-here.pcap", "cannot read: No such file or directory")]
    return out


def test_hostile_captures_get_exit_2_and_one_line(valid, tmp_path, capsys):
    for name, path, needle in _hostile(valid, tmp_path):
        for verb in ("import", "replay"):
            args = ["air", verb, str(path)] + (["--out", str(tmp_path / f"out-{name}")] if verb == "replay" else [])
            t0 = time.perf_counter()
            code = main(args)
            err = capsys.readouterr().err
            assert code == 2, (name, verb, err)
            assert err.count("\n") == 1 and err.startswith(f"bwc: error: {path}") and needle in err, (name, err)
            assert time.perf_counter() - t0 < 2.0, name


def test_a_capture_still_being_written_reads_to_its_last_complete_record(valid, tmp_path):
    cut = tmp_path / "growing.pcap"
    cut.write_bytes(valid["pcap"].read_bytes()[:-5])  # the sniffer is writing the sixth record
    with pytest.raises(CaptureError, match="cut short"):
        import_capture(cut)
    assert len(import_capture(cut, partial_ok=True).adverts) == 5


def test_too_many_records_is_refused(valid, monkeypatch):
    monkeypatch.setattr(capture_file, "MAX_RECORDS", 4)  # the bound, met by a small file
    with pytest.raises(CaptureError, match=r"more than 4 records; cut it into parts \(editcap -c 0\)"):
        import_capture(valid["pcap"])


def test_mutated_captures_read_or_are_refused_quickly(valid, tmp_path):
    """Truncations, flipped bytes, overwritten lengths: import_capture returns or raises
    CaptureError (one line); nothing else, and no file takes long."""
    rng = random.Random(14)
    outcomes = {"read": 0, "refused": 0}
    slowest = 0.0
    for kind, base in valid.items():
        data = base.read_bytes()
        for i in range(120):
            b = bytearray(data)
            how = i % 4
            if how == 0:
                b = b[: rng.randrange(len(b))]
            elif how == 1:
                for _ in range(rng.randint(1, 8)):
                    b[rng.randrange(len(b))] = rng.randrange(256)
            elif how == 2:
                at = rng.randrange(len(b) - 4)
                b[at : at + 4] = rng.choice([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f\xff\xff\xff", struct.pack("<I", rng.randrange(1 << 32))])
            else:
                at = rng.randrange(len(b))
                b[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 12)))
            path = tmp_path / f"{kind}-{i}.cap"
            path.write_bytes(bytes(b))
            t0 = time.perf_counter()
            try:
                import_capture(path)
                outcomes["read"] += 1
            except CaptureError as exc:
                assert "\n" not in str(exc) and str(exc).startswith(str(path))
                outcomes["refused"] += 1
            slowest = max(slowest, time.perf_counter() - t0)
    assert outcomes["read"] > 50 and outcomes["refused"] > 50 and slowest < 0.5, (outcomes, slowest)
