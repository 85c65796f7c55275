"""Helpers to advertise Signal frames from a bumble Device (legacy, non-connectable)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bumble.device import AdvertisingChannelMap, AdvertisingEventProperties, AdvertisingParameters, AdvertisingSet, Device

from protocols.signal import SignalFrame, encode_adv_data


ALL_CHANNELS = (37, 38, 39)


def adv_params(interval_ms: float, channels: tuple[int, ...] = ALL_CHANNELS) -> AdvertisingParameters:
    channel_map = AdvertisingChannelMap(0)
    for c in channels:
        channel_map |= AdvertisingChannelMap(1 << (c - 37))
    return AdvertisingParameters(
        advertising_event_properties=AdvertisingEventProperties(is_connectable=False, is_scannable=False, is_legacy=True),
        primary_advertising_interval_min=interval_ms,
        primary_advertising_interval_max=interval_ms,
        primary_advertising_channel_map=channel_map,
    )


class SignalAdvertiser:
    """One advertising set whose payload and interval change with the device's state.

    The sequence counter of the payload is bumped every time the payload is re-set; the
    controller repeats the same bytes at the interval (as real gear does between updates).
    With ``sign`` (emulators.signal_trust.source_signer) the payloads go out authenticated,
    the sequence being their counter (docs/signal-auth.md)."""

    def __init__(self, device: Device, serial: str, sign: Callable[[SignalFrame], bytes] | None = None,
                 channels: tuple[int, ...] = ALL_CHANNELS) -> None:
        self.device = device
        self.serial = serial
        self.sign = sign
        self.channels = channels  # the advertising channel map
        self._set: AdvertisingSet | None = None
        self.sequence = 0
        self.current: SignalFrame | None = None
        self._lock = asyncio.Lock()  # a new event and the end of the last burst may change the set at the same instant

    async def advertise(self, frame: SignalFrame, interval_ms: float) -> None:
        async with self._lock:
            self.sequence = (self.sequence + 1) & 0xFFFFFF
            frame = SignalFrame(frame.serial, frame.source_class, frame.event_code, self.sequence, frame.event_id, frame.version)
            self.current = frame
            await self._stop()
            self._set = await self.device.create_advertising_set(
                advertising_parameters=adv_params(interval_ms, self.channels), advertising_data=self.sign(frame) if self.sign else encode_adv_data(frame)
            )

    async def stop(self) -> None:
        async with self._lock:
            await self._stop()

    async def _stop(self) -> None:
        if self._set is not None:
            current, self._set = self._set, None
            await current.stop()
            await current.remove()
