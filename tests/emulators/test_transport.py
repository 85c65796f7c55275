"""The physical-radio code path: an emulated CEW whose host talks HCI over tcp-client to a
controller of the air served on tcp-server triggers a body camera on the air."""

import asyncio

import pytest

from emulators.air import Air, radio
from emulators.bwc import BwcEmulator
from emulators.camera import Recording, CameraCore, CameraIdentity
from emulators.clock import DeviceClock, SceneClock
from emulators.profiles import get_profile
from emulators.signal_source import SignalSourceEmulator
from emulators.transports import TransportError, device_on_transport, serve_air_controller
from emulators.video import VideoFormat
from protocols.signal import Event, SourceClass
from tests.conftest import run_virtual


def test_cew_over_tcp_transport_activates_camera_on_the_air(tmp_path):
    profile = get_profile("reference")

    async def main():
        air = Air(seed=3)
        served = await serve_air_controller(air, "CEW-TCP", (0.0, 0.0), kind="cew")
        device, transport = await device_on_transport(served.client_spec, "CEW-TCP")
        cew = SignalSourceEmulator("X8TCP0001", device, profile.cew, SourceClass.CEW)
        core = CameraCore(CameraIdentity("X6TCP00B1", "m", "f", "bwc"), DeviceClock(SceneClock(1_780_000_000_000)),
                          Recording(VideoFormat(320, 180, 5), 30.0), tmp_path)
        bwc = BwcEmulator("X6TCP00B1", radio(air, "BWC-B", (10.0, 0.0), kind="bwc"), profile.bwc, core)
        await bwc.start()
        await cew.start()
        await asyncio.sleep(5.0)
        await cew.emit(Event.CEW_TRIGGER)
        await asyncio.sleep(2.0)
        bwc.press_stop()
        await asyncio.sleep(1.5)
        await bwc.stop()
        await cew.stop()
        await transport.close()
        await served.close()
        return bwc, air

    (bwc, air), _ = run_virtual(main)
    (clip,) = bwc.core.clips
    assert clip.trigger.reason == "CEW_TRIGGER" and clip.trigger.sender_serial == "X8TCP0001"
    assert air.node("CEW-TCP").kind == "cew" and air.stats.transmitted > 0


def test_unreachable_transport_is_a_clear_error():
    async def main():
        with pytest.raises(TransportError, match="cannot open HCI transport 'tcp-client:127.0.0.1:1'"):
            await device_on_transport("tcp-client:127.0.0.1:1", "X")

    run_virtual(main)
