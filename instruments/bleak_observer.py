"""A Signal observer built on bleak, for the Bluetooth adapter the operating system manages
(BlueZ on Linux, CoreBluetooth on macOS, WinRT on Windows), and a bleak scanner backend that
runs over a bumble ``Device`` (any bumble transport: the simulated air, ``tcp-client:...``,
``usb:0``, ``serial:...``).

``SignalObserver`` uses an unmodified ``bleak.BleakScanner`` and decodes every advert that
carries Service Data for UUID 0xFE6C (bleak's key: ``0000fe6c-0000-1000-8000-00805f9b34fb``)
with ``protocols.signal``. It records sightings (time, serial, event, RSSI, address) and sums
them up per device: which Signal sources (CEW, holster, vehicle) and which cameras (presence
and recording adverts) are on the air.

    observer = SignalObserver()                                      # the OS adapter
    observer = SignalObserver(backend=BumbleScannerBackend, bumble_device=device)  # a bumble radio
    async with observer:
        await asyncio.sleep(10)
    observer.devices()

The observer itself needs only bleak; bumble is imported by ``BumbleScannerBackend`` alone.

Caveat for OS adapters: their stacks may coalesce repeated identical adverts (BlueZ reports a
device again when its data or RSSI changes), so sightings there are not one per PDU. For
per-advert timing (ACT-001) use a radio on a bumble transport, which reports every PDU."""

from __future__ import annotations

import asyncio
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.exc import BleakError
from bleak.uuids import normalize_uuid_16, normalize_uuid_32

from protocols.signal import SIGNAL_UUID16, Event, SignalDecodeError, SignalFrame, SourceClass, decode_payload

if TYPE_CHECKING:
    from bumble.device import Advertisement, Device

SIGNAL_SERVICE_UUID = normalize_uuid_16(SIGNAL_UUID16)  # "0000fe6c-0000-1000-8000-00805f9b34fb"
KINDS = {SourceClass.CEW: "cew", SourceClass.HOLSTER: "holster", SourceClass.VEHICLE: "vehicle", SourceClass.CAMERA: "camera"}
ScanningMode = Literal["active", "passive"]


# ---- advertising data in bleak's terms -------------------------------------------------------

def _uuid128(raw: bytes) -> str:
    return str(uuidlib.UUID(bytes=bytes(reversed(raw))))


def advertisement_data(adv_data: bytes, rssi: int, platform_data: tuple[Any, ...] = ()) -> AdvertisementData:
    """Raw AdvData (AD structures) as bleak's AdvertisementData, keyed the way bleak's own
    backends key it: service data and UUIDs as lower-case 128-bit strings, manufacturer data
    by company id. A truncated trailing structure is ignored, as OS stacks do."""
    name: str | None = None
    manufacturer: dict[int, bytes] = {}
    service_data: dict[str, bytes] = {}
    uuids: list[str] = []
    tx_power: int | None = None
    data = bytes(adv_data)
    i = 0
    while i < len(data) and data[i] != 0:
        length = data[i]
        if i + 1 + length > len(data):
            break
        ad_type, value = data[i + 1], data[i + 2 : i + 1 + length]
        i += 1 + length
        if ad_type in (0x02, 0x03):
            uuids += [normalize_uuid_16(int.from_bytes(value[j : j + 2], "little")) for j in range(0, len(value) - 1, 2)]
        elif ad_type in (0x04, 0x05):
            uuids += [normalize_uuid_32(int.from_bytes(value[j : j + 4], "little")) for j in range(0, len(value) - 3, 4)]
        elif ad_type in (0x06, 0x07):
            uuids += [_uuid128(value[j : j + 16]) for j in range(0, len(value) - 15, 16)]
        elif ad_type == 0x09 or (ad_type == 0x08 and name is None):
            name = value.decode("utf-8", errors="replace")
        elif ad_type == 0x0A and len(value) == 1:
            tx_power = int.from_bytes(value, "little", signed=True)
        elif ad_type == 0x16 and len(value) >= 2:
            service_data[normalize_uuid_16(int.from_bytes(value[:2], "little"))] = bytes(value[2:])
        elif ad_type == 0x20 and len(value) >= 4:
            service_data[normalize_uuid_32(int.from_bytes(value[:4], "little"))] = bytes(value[4:])
        elif ad_type == 0x21 and len(value) >= 16:
            service_data[_uuid128(value[:16])] = bytes(value[16:])
        elif ad_type == 0xFF and len(value) >= 2:
            manufacturer[int.from_bytes(value[:2], "little")] = bytes(value[2:])
    return AdvertisementData(name, manufacturer, service_data, uuids, tx_power, rssi, platform_data)


# ---- the bumble backend ------------------------------------------------------------------------

class BumbleScannerBackend(BaseBleakScanner):
    """A bleak scanner backend whose radio is a bumble Device (and so any bumble transport).

    ``BleakScanner(callback, backend=BumbleScannerBackend, bumble_device=device)``: the
    device's host is powered on when scanning starts if it is not already. Every advertising
    report becomes one detection callback (duplicates are not filtered), with the RSSI the
    controller reported; ``BLEDevice.details`` is the advertiser's bumble ``hci.Address``
    (with its type, what ``Device.connect`` takes) and ``AdvertisementData.platform_data[0]``
    the bumble ``Advertisement``. A ``service_uuids`` filter matches the UUIDs listed in the
    advert and the UUIDs of its service data (so ``[SIGNAL_SERVICE_UUID]`` keeps Signal adverts)."""

    def __init__(self, detection_callback: AdvertisementDataCallback | None, service_uuids: list[str] | None,
                 scanning_mode: ScanningMode = "active", *, bumble_device: Device | None = None, **kwargs: Any) -> None:
        super().__init__(detection_callback, service_uuids)
        if bumble_device is None:
            raise BleakError("BumbleScannerBackend needs bumble_device=<bumble.device.Device> "
                             "(e.g. from emulators.transports.device_on_transport('usb:0', ...))")
        if scanning_mode not in ("active", "passive"):
            raise BleakError(f"scanning_mode must be 'active' or 'passive', not {scanning_mode!r}")
        self.device = bumble_device
        self.scanning_mode = scanning_mode
        self._listening = False

    async def start(self) -> None:
        self.seen_devices = {}
        if not self.device.powered_on:
            await self.device.power_on()
        if not self._listening:
            self.device.on("advertisement", self._on_advertisement)
            self._listening = True
        await self.device.start_scanning(active=self.scanning_mode == "active", filter_duplicates=False)

    async def stop(self) -> None:
        if self._listening:
            self.device.remove_listener("advertisement", self._on_advertisement)
            self._listening = False
        if self.device.is_scanning:
            await self.device.stop_scanning()

    def _on_advertisement(self, adv: Advertisement) -> None:
        data = advertisement_data(adv.data_bytes, adv.rssi, (adv,))
        if not self.is_allowed_uuid(data.service_uuids + list(data.service_data)):
            return
        address = adv.address.to_string(False)
        device = self.create_or_update_device(address, address, data.local_name, adv.address, data)
        self.call_detection_callbacks(device, data)


# ---- the Signal observer --------------------------------------------------------------------------

@dataclass(frozen=True)
class SignalSighting:
    t: float  # the observer's clock (default: the event loop's time; virtual time on the simulated air)
    serial: str
    event: Event | None  # None: a class/code pair protocols.signal does not know
    rssi: int
    address: str
    frame: SignalFrame


@dataclass
class SeenDevice:
    """Everything the observer heard from one Signal-speaking device."""

    serial: str
    source_class: int
    address: str  # the address of its latest advert
    adverts: int = 0
    rssi_max: int = -128
    rssi_last: int = -128
    first_t: float = 0.0
    last_t: float = 0.0
    events: list[str] = field(default_factory=list)  # distinct events, in the order first heard

    @property
    def kind(self) -> str:
        """camera, cew, holster, vehicle or unknown."""
        try:
            return KINDS.get(SourceClass(self.source_class), "unknown")
        except ValueError:
            return "unknown"


class SignalObserver:
    """Signal adverts and camera presence through an unmodified ``bleak.BleakScanner``.

    ``backend`` and ``**scanner_kwargs`` go to BleakScanner as they are: no backend means the
    OS adapter (``bluez={"adapter": "hci1"}`` picks a BlueZ adapter); ``backend=
    BumbleScannerBackend, bumble_device=device`` a bumble radio. ``clock`` stamps sightings
    (default: the running loop's time)."""

    def __init__(self, *, backend: type[BaseBleakScanner] | None = None, scanning_mode: ScanningMode = "active",
                 clock: Callable[[], float] | None = None, **scanner_kwargs: Any) -> None:
        self.scanner = BleakScanner(self._detected, scanning_mode=scanning_mode, backend=backend, **scanner_kwargs)
        self.clock = clock
        self.sightings: list[SignalSighting] = []
        self.malformed = 0  # 0xFE6C service data that did not decode
        self.other_adverts = 0  # adverts without Signal service data
        self._devices: dict[str, SeenDevice] = {}

    @property
    def backend_id(self) -> str:
        return str(self.scanner.backend_id)

    async def start(self) -> None:
        await self.scanner.start()

    async def stop(self) -> None:
        await self.scanner.stop()

    async def __aenter__(self) -> SignalObserver:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.stop()

    async def scan(self, seconds: float) -> list[SeenDevice]:
        """Scan for ``seconds`` and return the devices heard."""
        async with self:
            await asyncio.sleep(seconds)
        return self.devices()

    def _detected(self, device: BLEDevice, adv: AdvertisementData) -> None:
        self.on_detection(device, adv)

    def on_detection(self, device: BLEDevice, adv: AdvertisementData) -> SignalSighting | None:
        """bleak's detection callback: one advert in, a sighting out (None if not Signal)."""
        payload = adv.service_data.get(SIGNAL_SERVICE_UUID)
        if payload is None:
            self.other_adverts += 1
            return None
        try:
            frame = decode_payload(payload)
        except SignalDecodeError:
            self.malformed += 1
            return None
        t = self.clock() if self.clock is not None else asyncio.get_running_loop().time()
        sighting = SignalSighting(t, frame.serial, frame.event, adv.rssi, device.address, frame)
        self.sightings.append(sighting)
        self._tally(sighting)
        return sighting

    def _tally(self, s: SignalSighting) -> None:
        seen = self._devices.get(s.serial)
        if seen is None:
            seen = self._devices[s.serial] = SeenDevice(s.serial, s.frame.source_class, s.address, first_t=s.t)
        seen.source_class = s.frame.source_class
        seen.address = s.address
        seen.adverts += 1
        seen.rssi_last = s.rssi
        seen.rssi_max = max(seen.rssi_max, s.rssi)
        seen.last_t = s.t
        name = s.event.name if s.event is not None else f"unknown(class=0x{s.frame.source_class:02x},code=0x{s.frame.event_code:02x})"
        if name not in seen.events:
            seen.events.append(name)

    def devices(self) -> list[SeenDevice]:
        """Every Signal-speaking device heard, by serial."""
        return [self._devices[k] for k in sorted(self._devices)]

    def cameras(self) -> list[SeenDevice]:
        return [d for d in self.devices() if d.kind == "camera"]

    def sources(self) -> list[SeenDevice]:
        """Signal sources: CEWs, holster sensors, vehicle units (and unknown classes)."""
        return [d for d in self.devices() if d.kind != "camera"]

    def first(self, serial: str, event: Event, after: float = float("-inf")) -> SignalSighting | None:
        for s in self.sightings:
            if s.serial == serial and s.event is event and s.t >= after:
                return s
        return None
