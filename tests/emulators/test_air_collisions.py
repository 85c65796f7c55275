"""Collisions and capture on the air (PDUs overlapping on one channel at a receiver), the
capture's companion table of overlaps, and the per-link budget: shadowing and obstacles."""

import asyncio
import csv
import subprocess

import pytest
from bumble import hci, ll

from emulators.air import Air, Obstacle, PathLossModel, pdu_air_time_s, radio
from emulators.air_links import LinkBudget
from instruments.pcap import AirCapture
from protocols.signal import Event, SignalFrame, encode_adv_data
from tests.conftest import require_tool, run_virtual

DATA = encode_adv_data(SignalFrame.for_event("X87002FP4", Event.CEW_ARMED))


def _pdu(name: str) -> ll.AdvExtInd:
    return ll.AdvExtInd(advertiser_address=hci.Address(f"C0:00:00:00:00:{name}"), data=DATA)


async def _two_at_once(a_at, b_at, offset_s, tmp_path=None, model=None):
    """Senders A and B start an advertising event ``offset_s`` apart (10 times, 200 ms
    apart), a receiver at the origin scans continuously: what it heard from each."""
    air = Air(model or PathLossModel(fading_sigma_db=0.0, loss_rate=0.0), seed=2)
    capture = AirCapture(tmp_path / "air.pcap", epoch_utc_ms=1_780_000_000_000) if tmp_path else None
    if capture:
        air.add_observer(capture)
    devs = {"A": radio(air, "A", a_at), "B": radio(air, "B", b_at), "RX": radio(air, "RX", (0.0, 0.0))}
    for dev in devs.values():
        await dev.power_on()
    heard: list[str] = []
    devs["RX"].on("advertisement", lambda adv: heard.append(str(adv.address)[-2:]))
    await devs["RX"].start_scanning(active=False, filter_duplicates=False)
    for _ in range(10):
        air.advertising_event(air.node("A").controller, _pdu("0A"), (37, 38, 39))
        if offset_s:
            await asyncio.sleep(offset_s)
        air.advertising_event(air.node("B").controller, _pdu("0B"), (37, 38, 39))
        await asyncio.sleep(0.2)
    if capture:
        capture.close()
    return air, heard


def test_pdus_on_one_channel_at_once_are_both_lost_where_neither_is_much_stronger():
    (air, heard), _ = run_virtual(lambda: _two_at_once((10.0, 0.0), (0.0, 12.0), 0.0))
    assert heard == [] and air.stats.collided == 20 and air.stats.delivered == 0  # one channel listened per event
    assert air.stats.overlaps == 30  # 37, 38 and 39 of 10 event pairs
    assert all(d.collided and not d.received for d in air.stats.deliveries)


def test_the_stronger_pdu_is_captured_when_it_leads_by_the_capture_threshold():
    m = PathLossModel(fading_sigma_db=0.0, loss_rate=0.0)
    assert m.mean_rssi(3.0) - m.mean_rssi(29.0) > m.capture_db > m.mean_rssi(10.0) - m.mean_rssi(29.0)
    (air, heard), _ = run_virtual(lambda: _two_at_once((3.0, 0.0), (0.0, 29.0), 0.0))
    assert heard == ["0A"] * 10 and air.stats.captured == 10 and air.stats.collided == 10


def test_pdus_apart_by_more_than_their_air_time_do_not_collide():
    gap = pdu_air_time_s(DATA) + 1e-6
    (air, heard), _ = run_virtual(lambda: _two_at_once((10.0, 0.0), (0.0, 12.0), gap))
    assert air.stats.overlaps == 0 and air.stats.collided == 0 and sorted(heard) == ["0A"] * 10 + ["0B"] * 10


def test_a_partial_overlap_collides_and_the_capture_lists_every_overlapping_pair(tmp_path):
    """B starts half a PDU after A: each channel's PDUs overlap. The capture keeps all of them
    (tshark reads 60 PDUs) and its companion table lists the 30 pairs with their frames."""
    tshark = require_tool("tshark")
    half = pdu_air_time_s(DATA) / 2
    (air, heard), _ = run_virtual(lambda: _two_at_once((10.0, 0.0), (0.0, 12.0), half, tmp_path))
    assert heard == [] and air.stats.overlaps == 30
    rows = subprocess.run([tshark, "-r", str(tmp_path / "air.pcap"), "-T", "fields", "-E", "separator=,", "-e", "frame.number",
                           "-e", "frame.time_epoch", "-e", "btle_rf.channel", "-e", "btle.advertising_address"],
                          capture_output=True, text=True, check=True).stdout.split()
    assert len(rows) == 60
    frames = {int(r.split(",")[0]): r.split(",") for r in rows}
    table = list(csv.DictReader((tmp_path / "air-collisions.csv").open()))
    assert len(table) == 30
    marked = {(int(r["frame_a"]), int(r["frame_b"])) for r in table}
    # every pair of PDUs on one RF channel closer than a PDU's air time is in the table, and only those
    found = set()
    for a in frames.values():
        for b in frames.values():
            if int(a[0]) < int(b[0]) and a[2] == b[2] and abs(float(a[1]) - float(b[1])) < pdu_air_time_s(DATA):
                found.add((int(a[0]), int(b[0])))
    assert found == marked
    assert {r["adva_a"][-2:] + r["adva_b"][-2:] for r in table} == {"0A0B"}
    assert all(float(r["overlap_us"]) == pytest.approx(half * 1e6, abs=1) for r in table)
    assert {r["sniffer_decodes"] for r in table} == {"neither"}  # the sniffer at the origin: 10 and 12 ft, 2.4 dB apart


def test_shadowing_is_one_seeded_offset_per_link_whatever_the_order_links_are_used_in():
    a, b = LinkBudget(seed=5, shadowing_sigma_db=4.0), LinkBudget(seed=5, shadowing_sigma_db=4.0)
    first = [a.shadow_db("CEW", f"R{i}") for i in range(200)]
    assert [b.shadow_db("CEW", f"R{i}") for i in reversed(range(200))] == first[::-1]
    assert a.shadow_db("R3", "CEW") != a.shadow_db("CEW", "R3")  # each direction is its own link
    assert 3.0 < (sum(x * x for x in first) / len(first)) ** 0.5 < 5.0 and max(map(abs, first)) <= 12.0
    assert LinkBudget(seed=6, shadowing_sigma_db=4.0).shadow_db("CEW", "R0") != first[0]
    assert LinkBudget(seed=5).shadow_db("CEW", "R0") == 0.0 and not LinkBudget(seed=5).active


def test_a_wall_or_a_car_body_between_two_radios_costs_its_loss_once():
    wall = Obstacle(((5.0, -10.0), (5.0, 10.0)), loss_db=10.0)
    car = Obstacle(((20.0, -3.0), (35.0, -3.0), (35.0, 3.0), (20.0, 3.0)), loss_db=6.0, closed=True)
    links = LinkBudget(seed=0, obstacles=(wall, car))
    assert links.obstacle_db((0.0, 0.0), (4.0, 0.0)) == 0.0
    assert links.obstacle_db((0.0, 0.0), (10.0, 0.0)) == -10.0
    assert links.obstacle_db((0.0, 0.0), (40.0, 0.0)) == -16.0  # through the wall and the car: the car once
    assert links.obstacle_db((25.0, 0.0), (40.0, 0.0)) == -6.0  # an officer in the car, one outside
    assert links.obstacle_db((25.0, 0.0), (30.0, 1.0)) == 0.0  # both inside
    assert links.obstacle_db((0.0, 20.0), (40.0, 20.0)) == 0.0  # past both


def test_an_obstacle_shortens_the_range_on_the_air():
    wall = Obstacle(((5.0, -50.0), (5.0, 50.0)), loss_db=10.0)

    async def main(obstacles):
        air = Air(PathLossModel(fading_sigma_db=0.0, loss_rate=0.0), seed=1, obstacles=obstacles)
        tx, rx = radio(air, "TX", (0.0, 0.0)), radio(air, "RX", (25.0, 0.0))
        got: list[int] = []
        for dev in (tx, rx):
            await dev.power_on()
        rx.on("advertisement", lambda adv: got.append(adv.rssi))
        await rx.start_scanning(active=False, filter_duplicates=False)
        for _ in range(5):
            air.advertising_event(air.node("TX").controller, _pdu("0A"), (37, 38, 39))
            await asyncio.sleep(0.1)
        return got

    open_air, _ = run_virtual(lambda: main(()))
    walled, _ = run_virtual(lambda: main((wall,)))
    assert len(open_air) == 5 and walled == []  # 25 ft: 2.4 dB of margin, a 10 dB wall takes it


def test_a_scene_file_sets_shadowing_capture_and_obstacles_and_a_wall_keeps_a_camera_idle(tmp_path):
    from emulators.scene import scene_from_dict
    from schemas.yaml_input import InputError
    from tests.emulators.scene_helpers import play

    scene = {"officers": [{"name": "A", "bwc": "X6WAL000A", "cew": "X8WAL000A", "position": [0, 0]},
                          {"name": "B", "bwc": "X6WAL000B", "position": [12, 0]},
                          {"name": "C", "bwc": "X6WAL000C", "position": [0, 12]}],
             "air": {"capture_db": 12, "obstacles": [{"name": "cinder-block wall", "points": [[6, -20], [6, 20]], "loss_db": 30}]},
             "timeline": [{"t": 3, "do": "cew", "target": "A", "event": "armed"}], "end_s": 8}
    spec = scene_from_dict(scene, "<wall>")
    assert spec.air is not None and spec.air.capture_db == 12 and spec.air.obstacles[0].loss_db == 30
    vs = play(spec, tmp_path)
    assert vs.air.model.capture_db == 12
    started = {name: [c.trigger.reason for c in vs.bwcs[name].core.clips] for name in ("B", "C")}
    assert started["B"] == [] and started["C"] != []  # 12 ft either way; B stands behind the wall
    bad = {**scene, "air": {"obstacles": [{"points": [[0, 0], [1, 1]], "loss_db": 5, "closed": True}]}}
    with pytest.raises(InputError, match=r"air\.obstacles\[0\]\.points.*at least 3 points"):
        scene_from_dict(bad, "<bad>")
    with pytest.raises(InputError, match=r"air\.shadowing_sigma_db"):
        scene_from_dict({**scene, "air": {"shadowing_sigma_db": 99}}, "<bad>")
