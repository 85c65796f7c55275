"""The air capture writes link-type-256 pcaps that tshark dissects (third-party check)."""

import subprocess

from emulators.air import PathLossModel, Transmission
from instruments.pcap import AirCapture
from protocols.signal import Event, SignalFrame, encode_adv_data
from tests.conftest import require_tool


def test_capture_opens_in_tshark_with_uuid_rssi_channel_and_time(tmp_path):
    tshark = require_tool("tshark")
    path = tmp_path / "air.pcap"
    cap = AirCapture(path, epoch_utc_ms=1_780_000_000_000, position=(0.0, 0.0), model=PathLossModel())
    data = encode_adv_data(SignalFrame.for_event("X87002FP4", Event.CEW_ARMED))
    for i, ch in enumerate((37, 38, 39)):
        cap(Transmission(0.05 * i, "CEW-A", "C1:22:33:44:55:66", data, ch, (10.0, 0.0)))
    cap.close()
    out = subprocess.run(
        [tshark, "-r", str(path), "-T", "fields", "-E", "separator=,", "-e", "btle_rf.channel", "-e", "btle_rf.signal_dbm",
         "-e", "btcommon.eir_ad.entry.uuid_16", "-e", "frame.time_epoch", "-e", "btle_rf.flags.crc_checked"],
        capture_output=True, text=True, check=True,
    ).stdout.strip().splitlines()
    assert len(out) == 3
    rows = [line.split(",") for line in out]
    assert [r[0] for r in rows] == ["0", "12", "39"]
    assert all(int(r[1]) == round(PathLossModel().mean_rssi(10.0)) for r in rows)
    assert all(r[2] == "0xfe6c" for r in rows)
    assert abs(float(rows[1][3]) - 1_780_000_000.05) < 1e-3
    assert all(r[4] in ("0", "False") for r in rows), "the harness wrote the CRC and checked none: it must not claim it did"
    bad = bytearray(path.read_bytes())
    bad[-1] ^= 0xFF  # the last record's CRC
    (tmp_path / "bad.pcap").write_bytes(bad)
    flagged = [subprocess.run([tshark, "-r", str(p), "-Y", "btle.crc.incorrect"], capture_output=True, text=True, check=True).stdout.count("\n")
               for p in (path, tmp_path / "bad.pcap")]
    assert flagged == [0, 1], "tshark checks the CRC itself: the written one is right, a damaged one is flagged"


def test_interleaved_advertising_events_are_written_in_time_order(tmp_path):
    """The air reports each advertising event at its start, all three channels at once; an
    event starting 0.15 ms after another must still come out between its PDUs."""
    import struct

    path = tmp_path / "air.pcap"
    cap = AirCapture(path, epoch_utc_ms=1_780_000_000_000)
    data = encode_adv_data(SignalFrame.for_event("X87002FP4", Event.CEW_ARMED))
    step = 0.000526  # 376 us of PDU + 150 us turnaround
    for start, sender in ((0.002389, "C1:22:33:44:55:66"), (0.002537, "C1:22:33:44:55:77"), (0.100, "C1:22:33:44:55:66")):
        for i, ch in enumerate((37, 38, 39)):
            cap(Transmission(start + i * step, sender, sender, data, ch, (10.0, 0.0)))
    cap.close()
    raw, times, at = path.read_bytes(), [], 24
    while at < len(raw):
        sec, usec, size, _ = struct.unpack_from("<IIII", raw, at)
        times.append(sec + usec / 1e6)
        at += 16 + size
    assert len(times) == 9 and times == sorted(times)
