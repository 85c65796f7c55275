"""The bleak observer: an unmodified bleak.BleakScanner with the bumble backend, on a radio of
the simulated air, hears a CEW's Signal adverts and a body camera's presence and recording
adverts, one sighting per delivered PDU; bleak's own discover() works through the backend;
the observer itself runs without bumble."""

import asyncio
import os
import subprocess
import sys
import uuid as uuidlib
from pathlib import Path

import pytest
from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bumble.core import AdvertisingData
from bumble.device import Advertisement

from emulators.air import ADV_CHANNEL_GAP_S, Air, pdu_air_time_s, radio, static_random_address
from emulators.bwc import BwcEmulator
from emulators.camera import Recording, CameraCore, CameraIdentity
from emulators.clock import DeviceClock, SceneClock
from emulators.profiles import get_profile
from emulators.signal_source import SignalSourceEmulator
from emulators.video import VideoFormat
from instruments.bleak_observer import SIGNAL_SERVICE_UUID, BumbleScannerBackend, SignalObserver, advertisement_data
from protocols.signal import Event, SignalFrame, SourceClass, decode_payload, encode_adv_data
from tests.conftest import run_virtual

REPO = Path(__file__).resolve().parents[2]
CEW, BWC = "X87002FP4", "X6BWC00B1"


async def _scene(tmp_path: Path):
    profile = get_profile("reference")
    air = Air(seed=5)
    cew = SignalSourceEmulator(CEW, radio(air, "CEW-A", (0.0, 0.0), kind="cew"), profile.cew, SourceClass.CEW)
    core = CameraCore(CameraIdentity(BWC, "EMU-BWC", "1.0", "bwc"), DeviceClock(SceneClock(1_780_000_000_000)),
                      Recording(VideoFormat(320, 180, 5), 2.0), tmp_path)
    bwc = BwcEmulator(BWC, radio(air, "BWC-B", (10.0, 0.0), kind="bwc"), profile.bwc, core)
    observer = SignalObserver(backend=BumbleScannerBackend, bumble_device=radio(air, "OBSERVER", (5.0, 5.0)))
    await observer.start()
    await bwc.start()
    await cew.start()
    await asyncio.sleep(6.0)
    stimulus = await cew.emit(Event.CEW_ARMED)
    await asyncio.sleep(3.0)
    bwc.press_stop()
    await asyncio.sleep(1.5)
    stopped = asyncio.get_running_loop().time()
    await observer.stop()
    await bwc.stop()
    await cew.stop()
    return air, observer, bwc, stimulus, stopped


def test_unmodified_bleak_scanner_over_bumble_hears_cew_and_camera(tmp_path):
    (air, observer, bwc, stimulus, stopped), simulated = run_virtual(lambda: _scene(tmp_path))
    assert simulated == pytest.approx(12.5, abs=0.1)  # the camera boots 2 s
    assert isinstance(observer.scanner, BleakScanner) and observer.backend_id == "BumbleScannerBackend"
    # every PDU the air delivered to the observer's radio became exactly one sighting, with its RSSI
    delivered = [d for d in air.stats.deliveries if d.receiver == "OBSERVER" and d.received and d.t < stopped]
    assert len(observer.sightings) == len(delivered) > 100  # (a PDU sent as the scan stops arrives after it)
    assert [s.rssi for s in observer.sightings] == [int(round(d.rssi_dbm)) for d in delivered]
    # the report reaches the host at the end of the advertising event (when collisions are known):
    # after the PDU's start, at most an event's span (three PDUs and two turnarounds) later
    span = 3 * pdu_air_time_s(bytes(31)) + 2 * ADV_CHANNEL_GAP_S
    assert all(0 <= s.t - d.t <= span + 1e-6 for s, d in zip(observer.sightings, delivered))

    cew, cam = (next(d for d in observer.devices() if d.serial == s) for s in (CEW, BWC))
    assert (cew.kind, cew.address, cew.events) == ("cew", static_random_address("CEW-A"), ["CEW_PRESENCE", "CEW_ARMED"])
    assert (cam.kind, cam.address) == ("camera", static_random_address("BWC-B"))
    assert cam.events == ["CAMERA_PRESENCE", "CAMERA_RECORDING_STARTED"]
    assert observer.cameras() == [cam] and observer.sources() == [cew]
    # presence before the event; the burst from the stimulus on; the camera announces its recording after it
    first_presence = observer.first(BWC, Event.CAMERA_PRESENCE)
    assert first_presence is not None and first_presence.t < stimulus
    armed = observer.first(CEW, Event.CEW_ARMED)
    assert armed is not None and stimulus <= armed.t < stimulus + 0.2
    started = observer.first(BWC, Event.CAMERA_RECORDING_STARTED)
    (clip,) = bwc.core.clips
    assert clip.trigger.reason == "CEW_ARMED" and started is not None
    assert clip.trigger.loop_t <= started.t < clip.trigger.loop_t + 1.0
    burst = [s for s in observer.sightings if s.event is Event.CEW_ARMED]
    assert len({s.frame.event_id for s in burst}) == 1 and len(burst) > 40  # 20 adverts/s for 3 s, as heard at ~7 ft
    assert observer.malformed == 0 and observer.other_adverts == 0


def test_bleak_discover_through_the_backend_gives_bleak_types(tmp_path):
    async def main():
        air = Air(seed=2)
        cew = SignalSourceEmulator(CEW, radio(air, "CEW-A", (0.0, 0.0), kind="cew"), get_profile("reference").cew, SourceClass.CEW)
        await cew.start()
        found = await BleakScanner.discover(timeout=3.0, return_adv=True, backend=BumbleScannerBackend,
                                            bumble_device=radio(air, "OBSERVER", (3.0, 0.0)), service_uuids=[SIGNAL_SERVICE_UUID])
        await cew.stop()
        return found

    found, _ = run_virtual(main)
    (address,) = found
    device, adv = found[address]
    assert isinstance(device, BLEDevice) and isinstance(adv, AdvertisementData)
    assert address == device.address == static_random_address("CEW-A")
    assert isinstance(adv.platform_data[0], Advertisement) and adv.platform_data[0].address == device.details  # an hci.Address
    assert list(adv.service_data) == ["0000fe6c-0000-1000-8000-00805f9b34fb"] == [SIGNAL_SERVICE_UUID]
    frame = decode_payload(adv.service_data[SIGNAL_SERVICE_UUID])
    assert (frame.serial, frame.event) == (CEW, Event.CEW_PRESENCE)
    assert -60 < adv.rssi < -30 and adv.tx_power is None and adv.manufacturer_data == {}


def test_advertisement_data_agrees_with_bumbles_parser():
    """Our AdvData -> bleak conversion against bumble's independent AD parser."""
    name = "Signal Tester".encode()
    raw = (bytes((2, 0x01, 0x06)) + bytes((5, 0x03, 0x0D, 0x18, 0x6C, 0xFE)) + bytes((len(name) + 1, 0x09)) + name
           + bytes((2, 0x0A, 0xF8)) + bytes((7, 0xFF, 0x4C, 0x00, 1, 2, 3, 4))
           + bytes((17, 0x07)) + bytes(range(16)))
    adv = advertisement_data(raw, -61)
    parsed = AdvertisingData.from_bytes(raw)
    assert adv.local_name == parsed.get(AdvertisingData.COMPLETE_LOCAL_NAME) == "Signal Tester"
    assert adv.tx_power == -8 and parsed.get(AdvertisingData.TX_POWER_LEVEL) == 0xF8  # signed dBm; bumble gives the raw byte
    company, payload = parsed.get(AdvertisingData.MANUFACTURER_SPECIFIC_DATA)
    assert adv.manufacturer_data == {company: payload} == {0x004C: bytes((1, 2, 3, 4))}
    full = [str(uuidlib.UUID(bytes=bytes(reversed(u.to_bytes(force_128=True)))))
            for key in (AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS, AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS)
            for u in parsed.get(key)]
    assert adv.service_uuids == full
    assert adv.service_uuids[:2] == ["0000180d-0000-1000-8000-00805f9b34fb", SIGNAL_SERVICE_UUID]
    assert adv.rssi == -61
    signal_raw = encode_adv_data(SignalFrame.for_event(CEW, Event.CEW_TRIGGER, sequence=7))
    uuid, payload = AdvertisingData.from_bytes(signal_raw).get(AdvertisingData.SERVICE_DATA_16_BIT_UUID)
    assert uuid.to_hex_str() == "FE6C"
    assert advertisement_data(signal_raw, -50).service_data == {SIGNAL_SERVICE_UUID: payload}
    assert advertisement_data(raw[:-3], -70).service_uuids == adv.service_uuids[:2]  # a truncated last structure is dropped


def test_observer_runs_without_bumble():
    """The observer needs bleak only: with bumble unimportable, it builds on bleak's OS backend
    and decodes Signal adverts handed to it as bleak types."""
    code = """
import asyncio, sys
sys.modules['bumble'] = None  # any 'import bumble...' now fails
from bleak.backends.device import BLEDevice
from instruments.bleak_observer import SignalObserver, advertisement_data
from protocols.signal import Event, SignalFrame, encode_adv_data
observer = SignalObserver()  # the OS backend (BlueZ here): constructed, never started
async def main():
    frame = SignalFrame.for_event('X87002FP4', Event.CEW_ARC, sequence=3, event_id=9)
    s = observer.on_detection(BLEDevice('C0:11:22:33:44:55', None, None), advertisement_data(encode_adv_data(frame), -57))
    assert observer.on_detection(BLEDevice('C0:11:22:33:44:56', None, None), advertisement_data(b'\\x02\\x01\\x06', -40)) is None
    print(observer.backend_id, s.serial, s.event.name, s.rssi, s.address, s.frame.event_id, observer.other_adverts)
asyncio.run(main())
assert not any(m == 'bumble' or m.startswith('bumble.') for m, v in sys.modules.items() if v is not None)
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["BleakBackend.BLUEZ_DBUS", "X87002FP4", "CEW_ARC", "-57", "C0:11:22:33:44:55", "9", "1"]


def test_backend_without_a_device_is_a_clear_bleak_error():
    from bleak.exc import BleakError

    with pytest.raises(BleakError, match="BumbleScannerBackend needs bumble_device="):
        BleakScanner(backend=BumbleScannerBackend)
