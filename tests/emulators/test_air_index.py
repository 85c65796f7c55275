"""The air's spatial index (emulators/air_index.py) changes the cost, never the result: the same
scene played with and without it gives the same deliveries in the same order, the same draws
(every RSSI), the same host reports and the same capture, byte for byte."""

from __future__ import annotations

import asyncio
import functools
import math
import random
from pathlib import Path

import pytest
from bumble import hci, ll
from bumble.controller import Controller

from emulators import scene_runner
from emulators.air import Air, PathLossModel, Still, radio
from emulators.air_index import MOTION_SLACK, _Grid
from emulators.scene import Path2D, scene_from_dict
from emulators.signal_radio import SignalAdvertiser
from instruments.pcap import AirCapture
from protocols.signal import Event, SignalFrame
from tests.conftest import run_virtual
from tests.emulators.scene_helpers import SMALL, profile


def _stats(air: Air) -> tuple:
    s = air.stats
    return (s.transmitted, s.attempts, s.delivered, s.not_listening, s.out_of_reach)


async def _mixed_air(out: Path, index: bool) -> tuple[Air, list[tuple]]:
    """Radios scattered over a city block: still ones (two receive gains), walkers and a car on
    paths, one on a plain function of time, a duty-cycled scanner, a +25 dB observer; a quarter
    advertise. Mid-run a radio is dropped, one handed over, one stops and restarts scanning and
    a stronger transmitter arrives (the grids are rebuilt)."""
    rnd = random.Random(5)
    air = Air(PathLossModel(), seed=9, index=index)
    capture = AirCapture(out / "air.pcap", epoch_utc_ms=1_780_000_000_000, position=(150.0, 100.0))
    air.add_observer(capture)
    reports: list[tuple] = []
    devices = []
    for i in range(40):
        devices.append(radio(air, f"S{i}", (rnd.uniform(0, 300), rnd.uniform(0, 200)), rx_gain_db=-6.0 if i % 7 == 0 else 0.0,
                             tx_power_db=-6.0 if i % 9 == 0 else 0.0))
    walkers = [Path2D(((0.0, rnd.uniform(0, 300), rnd.uniform(0, 200)), (8.0, rnd.uniform(0, 300), rnd.uniform(0, 200)))) for _ in range(5)]
    car = Path2D(((1.0, -50.0, 100.0), (9.0, 350.0, 100.0)))
    devices += [radio(air, f"W{i}", w) for i, w in enumerate(walkers)]
    devices.append(radio(air, "CAR", car))
    devices.append(radio(air, "ORBIT", lambda t: (150 + 60 * math.cos(t), 100 + 60 * math.sin(t))))
    devices.append(radio(air, "OBSERVER", (150.0, 100.0), rx_gain_db=25.0))
    duty = radio(air, "DUTY", (140.0, 90.0))
    for d in [*devices, duty]:
        await d.power_on()
        d.on("advertisement", lambda adv, name=d.name: reports.append((name, asyncio.get_running_loop().time(), adv.rssi, adv.data_bytes)))
    for d in devices:
        await d.start_scanning(active=False, filter_duplicates=False)
    await duty.start_scanning(active=False, filter_duplicates=False, scan_interval=100.0, scan_window=30.0)
    senders = [d for i, d in enumerate(devices) if i % 4 == 0] + [devices[-4]]  # and the car
    for i, d in enumerate(senders):
        serial = f"X6IDX{i:04d}"
        await SignalAdvertiser(d, serial).advertise(SignalFrame.for_event(serial, Event.CAMERA_PRESENCE), 100.0)
    await asyncio.sleep(2.0)
    air.node("W0").position = Still(air.node("W0").at(asyncio.get_running_loop().time()))  # dropped
    air.node("S1").position = walkers[1]  # handed over
    await devices[2].stop_scanning()
    await asyncio.sleep(2.0)
    await devices[2].start_scanning(active=False, filter_duplicates=False)
    strong = radio(air, "STRONG", (200.0, 50.0), tx_power_db=10.0)
    await strong.power_on()
    await SignalAdvertiser(strong, "X8IDX9999").advertise(SignalFrame.for_event("X8IDX9999", Event.CEW_ARMED), 50.0)
    air.node("S3").rx_gain_db = 6.0
    await asyncio.sleep(6.0)
    capture.close()
    return air, reports


def test_the_index_changes_no_delivery_draw_report_or_captured_byte(tmp_path):
    runs = {}
    for index in (False, True):
        out = tmp_path / str(index)
        out.mkdir()
        (air, reports), _ = run_virtual(lambda out=out, index=index: _mixed_air(out, index))
        runs[index] = (air, reports, (out / "air.pcap").read_bytes())
    (plain, plain_reports, plain_pcap), (indexed, indexed_reports, indexed_pcap) = runs[False], runs[True]
    assert plain.stats.deliveries == indexed.stats.deliveries and len(plain.stats.deliveries) > 5_000
    assert _stats(plain) == _stats(indexed) and plain.stats.out_of_reach > plain.stats.attempts
    assert plain_reports == indexed_reports and len(plain_reports) > 2_000
    assert plain_pcap == indexed_pcap
    assert plain.rng.random() == indexed.rng.random()  # the shared stream was consumed the same
    assert plain.index is None and indexed.index is not None
    scanning_others = 48  # receivers the index may leave out: far fewer are handed to the air
    assert indexed.index.candidates < 0.5 * scanning_others * plain.stats.transmitted / 3, indexed.index.candidates


def _scene_air(scene: dict, out: Path, index: bool) -> tuple[tuple, list, bytes, list]:
    spec = scene_from_dict(scene, "<test scene>")

    async def main() -> scene_runner.VirtualScene:
        vs = scene_runner.VirtualScene(spec, profile(), out, 2, video_override=SMALL)
        capture = AirCapture(out / "air.pcap", epoch_utc_ms=spec.epoch_utc_ms)
        vs.air.add_observer(capture)
        await vs.build()
        await vs.play()
        await asyncio.sleep(1.0)
        await vs.shutdown()
        capture.close()
        return vs

    air_class = scene_runner.Air
    scene_runner.Air = functools.partial(Air, index=index)  # type: ignore[misc]
    try:
        vs, _ = run_virtual(main)
    finally:
        scene_runner.Air = air_class  # type: ignore[misc]
    assert (vs.air.index is not None) == index
    clips = [(name, c.trigger.reason, c.trigger.sender_serial, c.stop_reason) for name, b in vs.bwcs.items() for c in b.core.clips]
    return _stats(vs.air), vs.air.stats.deliveries, (out / "air.pcap").read_bytes(), clips


@pytest.mark.parametrize("name, scene", [
    ("cew-moves", {"name": "cew-moves", "end_s": 18, "officers": [
        {"name": "A", "bwc": "X6MOV00A1", "cew": "X8MOV000A", "path": [[0, 0, 0], [8, 0, 0], [12, 100, 0]]},
        {"name": "B", "bwc": "X6MOV00B1", "position": [0, 5]},
        {"name": "C", "bwc": "X6MOV00C1", "cew": "X8MOV000C", "position": [-100, 0]},
        {"name": "D", "bwc": "X6MOV00D1", "position": [100, 60]}],
        "vehicles": [{"id": "CAR-D", "dvr": "F3MOV00D1", "officer": "D", "path": [[0, 150, 60], [10, 100, 80]]}],
        "timeline": [{"t": 6, "do": "drop", "target": "A"}, {"t": 7, "do": "hand_over", "target": "C", "to": "D"},
                     {"t": 12, "do": "cew", "target": "A", "event": "armed"}, {"t": 12.5, "do": "cew", "target": "C", "event": "trigger"},
                     {"t": 16, "do": "stop_all"}]}),
])
def test_a_scene_with_moving_dropped_and_handed_over_devices_plays_the_same_with_the_index(tmp_path, name, scene):
    plain = _scene_air(scene, tmp_path / "plain", False)
    indexed = _scene_air(scene, tmp_path / "indexed", True)
    assert plain[0] == indexed[0] and plain[0][2] > 200
    assert plain[1] == indexed[1]
    assert plain[2] == indexed[2]
    assert plain[3] == indexed[3] and {c[0] for c in plain[3]} >= {"B", "D"}


def test_cells_follow_the_reach_the_path_loss_model_gives_each_receive_gain():
    """Cells: the reach of a reference transmitter into a receiver of that gain (8 fading sigmas
    below sensitivity) plus the motion slack; derived from the model, not a fixed 30 ft. A
    stronger transmitter searches more rings instead of widening every cell."""
    for model, reach in ((PathLossModel(), 30.0 * 10 ** (8 / 30)), (PathLossModel(nominal_range_ft=60.0, fading_sigma_db=2.0), 60.0 * 10 ** (16 / 30))):
        air = Air(model)
        assert air.reach_ft(0.0) == pytest.approx(reach, rel=1e-6)
        grid = _Grid(0.0, air.reach_ft)
        assert reach * (1 + MOTION_SLACK) < grid.cell_ft < reach * (1 + MOTION_SLACK) * 1.001
        assert grid.rings(0.0) == grid.rings(-6.0) == 1 and grid.rings(10.0) == 2
        observer = _Grid(25.0, air.reach_ft)
        assert observer.cell_ft == pytest.approx(grid.cell_ft * 10 ** (25 / 30), rel=1e-6)


def test_a_delivered_pdu_reaches_the_host_as_the_same_bytes_as_through_bumbles_own_report():
    """The controller builds only the one report a passive extended scanner gets (bumble builds
    a scan response too, which the air drops), serialised once per PDU with each receiver's
    RSSI byte: the host gets the bytes bumble's path gives, for every RSSI and PDU."""

    async def main() -> tuple[list, list]:
        air = Air()
        rx = radio(air, "RX", (0.0, 0.0))
        await rx.power_on()
        await rx.start_scanning(active=False, filter_duplicates=False)
        controller = air.node("RX").controller
        assert controller.le_features & hci.LeFeatureMask.LE_EXTENDED_ADVERTISING and not controller.pending_le_connection  # the own path
        sent: list[bytes] = []
        controller.host.on_packet = sent.append  # type: ignore[method-assign]
        got: dict[bool, list] = {True: [], False: []}
        pdus = [ll.AdvExtInd(advertiser_address=hci.Address(a), data=data, sid=3) for a, data in (
            ("C4:11:22:33:44:55", b"\x02\x01\x06\x0b\x16\x6c\xfe" + bytes(range(8))), ("D0:00:00:00:00:07", b""), ("FF:FF:FF:FF:FF:FF", bytes(31)))]
        for pdu in pdus:
            for rssi in (-128, -99, -71, -20, 0, 1, 25, 127):
                for own in (True, False):  # interleaved: the cached report of one PDU serves the next delivery of it only
                    sent.clear()
                    controller._rx_rssi = rssi
                    (controller.on_advertising_pdu if own else functools.partial(Controller.on_advertising_pdu, controller))(pdu)
                    controller._rx_rssi = None
                    await asyncio.sleep(0)
                    got[own].append(list(sent))
        return got[True], got[False]

    (own, bumbles), _ = run_virtual(main)
    assert own == bumbles and all(len(g) == 1 for g in own) and len(own) == 24
