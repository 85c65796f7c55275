"""Body-worn camera emulator: buttons, sleep, dock, Signal handling (cool-down, allow-list,
false-signal cancel), presence/status adverts, and the in-car link to its cruiser's DVR."""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from bumble.device import Advertisement, Device

from emulators.camera import CameraCore, CameraState
from emulators.incar_net import Addr, IcpEndpoint, announce
from emulators.profiles import BwcProfile
from emulators.signal_radio import SignalAdvertiser
from emulators.signal_trust import LEGACY, SignalGate
from protocols.incar import FLAG_ACK_REQUESTED, IncarMessage, MessageType
from protocols.signal import Event, SignalDecodeError, SignalFrame, find_signal_frame

SIGNAL_REASONS = frozenset(e.name for e in Event)
KEEP_HEARD = 2000  # adverts and ignored senders kept for inspection: a flood must not grow the camera's memory


@dataclass
class HeardAdvert:
    loop_t: float
    frame: SignalFrame
    rssi: int


@dataclass
class BwcEmulator:
    serial: str
    device: Device
    profile: BwcProfile
    core: CameraCore
    vehicle_id: str | None = None  # the cruiser this camera is paired with
    network: list[Addr] = field(default_factory=list)  # DVR endpoints on the in-car network
    heard: deque[HeardAdvert] = field(default_factory=lambda: deque(maxlen=KEEP_HEARD))  # the latest adverts heard
    decode_errors: int = 0
    unknown_events: int = 0  # decodable adverts with an event code nobody defined
    ignored: deque[tuple[float, str, str]] = field(default_factory=lambda: deque(maxlen=KEEP_HEARD))  # (t, sender, why), the latest

    def __post_init__(self) -> None:
        self.adv = SignalAdvertiser(self.device, self.serial, channels=self.profile.adv_channels)
        self.signal_gate = SignalGate(self.profile.signal_auth)  # authenticated Signal (docs/signal-auth.md)
        self._pending_activation: asyncio.TimerHandle | None = None
        self._status_task: asyncio.Task | None = None
        self._icp: IcpEndpoint | None = None
        self._acked: set[int] = set()
        self._seq = 0
        self._recordings = 0
        self._last_trigger_by: dict[str, float] = {}
        self._seen_events: dict[str, set[int]] = {}  # sender -> event ids that acted (de-duplication)
        self._sender_table: OrderedDict[str, None] = OrderedDict()  # defect sender_table_size: senders in the order first heard
        self._group_dvr: Addr | None = None
        self.group_member = False

    async def start(self) -> None:
        await self.device.power_on()
        self.device.on("advertisement", self._on_advertisement)
        await self.device.start_scanning(
            active=False, filter_duplicates=False,
            scan_interval=self.profile.scan_interval_ms, scan_window=self.profile.scan_window_ms,
        )
        self._icp = await IcpEndpoint.open(self.serial, self._on_icp, auth=self.profile.icp_auth)
        await asyncio.sleep(self.profile.boot_s)
        await self.adv.advertise(SignalFrame.for_event(self.serial, Event.CAMERA_PRESENCE), self.profile.presence_interval_ms)
        self.core.power_on()

    async def stop(self) -> None:
        if self._status_task:
            self._status_task.cancel()
        if self._pending_activation:
            self._pending_activation.cancel()
        await self.device.stop_scanning()
        await self.adv.stop()
        await self.core.shutdown()
        if self._icp:
            self._icp.close()

    @property
    def icp_address(self) -> Addr:
        assert self._icp is not None
        return self._icp.address

    # -- Signal ---------------------------------------------------------------------------
    def _on_advertisement(self, advertisement: Advertisement) -> None:
        try:
            frame = find_signal_frame(advertisement.data_bytes)
        except SignalDecodeError:
            self.decode_errors += 1
            return
        if frame is None:
            return
        p = self.profile
        if p.lockup_after_malformed and self.decode_errors + self.unknown_events >= p.lockup_after_malformed:
            return  # defect: the Signal receiver hangs after that many malformed adverts
        loop = asyncio.get_running_loop()
        now = loop.time()
        self.heard.append(HeardAdvert(now, frame, advertisement.rssi))
        event = frame.event
        if event is None:
            self.unknown_events += 1
            if p.lenient_signal_parser:  # defect: an unknown code of a source class acts as that class's first event
                event = next((e for e in Event if e.source_class.value == frame.source_class and e.activates_cameras), None)
        if not p.signal_enabled or event is None or event.name not in p.activates_on:
            return
        if p.sender_table_size and not self._table_admits(frame.serial):
            self.ignored.append((now, frame.serial, "sender table full"))
            return
        admitted = self.signal_gate.admit(advertisement.data_bytes, frame.serial, now, self.ignored)
        if admitted is None:
            return
        if p.allow_list is not None and p.enforces_allow_list and frame.serial not in p.allow_list:
            self.ignored.append((now, frame.serial, "not on the allow-list"))
            return
        if p.cooldown_s > 0 and admitted == LEGACY:  # de-duplication (authenticated frames: the verifier's window)
            seen = self._seen_events.setdefault(frame.serial, set())
            if frame.event_id in seen:
                return
            seen.add(frame.event_id)
        state = self.core.state
        if state is CameraState.RECORDING:
            if p.stops_on_signal and self.core.active_clip is not None and self.core.active_clip.trigger.sender_serial != frame.serial:
                self.core.request_stop("signal")  # defect: a trigger must never stop a recording
            return
        if state is CameraState.SLEEP and not p.activates_in_sleep:
            return
        if state not in (CameraState.READY, CameraState.SLEEP) or self._pending_activation is not None:
            return
        last = self._last_trigger_by.get(frame.serial)
        if last is not None and now - last < p.cooldown_s:
            self.ignored.append((now, frame.serial, "cool-down"))
            return
        self._last_trigger_by[frame.serial] = now
        self._pending_activation = loop.call_later(p.activation_delay_s, self._activate, event.name, frame.serial)

    def _table_admits(self, serial: str) -> bool:
        """Defect sender_table_size: a fixed table of senders, filled by every sender heard
        (allow-listed or not), holds the de-duplication and cool-down state. Full, it either
        ignores new senders or forgets the oldest one's state (the flood of SEC-004)."""
        table = self._sender_table
        if serial in table:
            return True
        if len(table) >= self.profile.sender_table_size:
            if self.profile.sender_table_full == "drop-new":
                return False
            oldest, _ = table.popitem(last=False)
            self._seen_events.pop(oldest, None)
            self._last_trigger_by.pop(oldest, None)
        table[serial] = None
        return True

    def _activate(self, reason: str, sender: str | None, from_sleep: bool = False) -> None:
        self._pending_activation = None
        if self.core.state is CameraState.SLEEP and self.profile.activates_in_sleep:
            from_sleep = True
        trigger = self.core.activate(reason, sender, from_sleep=from_sleep)
        if trigger is None:
            return
        if self.profile.loses_signal_clips and reason in SIGNAL_REASONS:
            self.core.mark(delete_after_close=True)  # defect: recorded and announced, never exported
        loop = asyncio.get_running_loop()
        self._status_task = loop.create_task(self._status_burst())
        if self.profile.notify_dvr and self.vehicle_id is not None and reason != "GROUP":
            loop.create_task(self._notify_dvrs(trigger.utc_ms, reason))

    async def _status_burst(self) -> None:
        """Announce the recording: its adverts carry the camera's recording number as event id
        (docs/signal-codec.md), so an observer can tell one recording's repeats from the next."""
        p = self.profile
        self._recordings = (self._recordings + 1) & 0xFFFF
        frame = SignalFrame.for_event(self.serial, Event.CAMERA_RECORDING_STARTED, event_id=self._recordings)
        await self.adv.advertise(frame, p.status_interval_ms)
        await asyncio.sleep(p.status_burst_s)
        await self.adv.advertise(SignalFrame.for_event(self.serial, Event.CAMERA_PRESENCE), p.presence_interval_ms)

    # -- buttons and cradle ------------------------------------------------------------------
    def press_record(self) -> None:
        """Record button: from READY (with pre-event) or from SLEEP (without)."""
        self._activate("BUTTON", None, from_sleep=True)

    def press_stop(self) -> bool:
        """Stop button. In a group recording only the DVR stops the group (unless the
        profile allows members to)."""
        if self.group_member and self.core.recording and not self.profile.group_stop_allowed:
            return False
        stopped = self.core.request_stop("button")
        if stopped and self.group_member and self.profile.group_stop_allowed and self._icp and self._group_dvr:
            self._icp.send(IncarMessage(MessageType.STOP_GROUP, self.serial, self.vehicle_id or "", self.core.clock.utc_ms()), self._group_dvr)
        return stopped

    def cancel_false_signal(self) -> bool:
        """False-signal cancel: only for a recording Signal started from READY, within the
        window; the clip is kept and marked false."""
        fc = self.profile.false_cancel
        clip = self.core.active_clip
        if not fc.enabled or clip is None:
            return False
        started_by_signal = clip.trigger.reason in SIGNAL_REASONS and clip.trigger.from_state == "READY"
        age = asyncio.get_running_loop().time() - clip.trigger.loop_t
        if not fc.any_recording and (not started_by_signal or age > fc.window_s):
            return False
        self.core.mark(false_signal=True, false_signal_cancelled_after_s=round(age, 3))
        self.core.request_stop("false-signal-cancel")
        if fc.deletes_clip:
            self.core.mark(delete_after_close=True)
        return True

    def sleep(self) -> bool:
        return self.core.sleep()

    def wake(self) -> None:
        asyncio.get_running_loop().call_later(self.profile.wake_s, self.core.wake)

    def dock(self) -> bool:
        return self.core.dock()

    def undock(self) -> None:
        asyncio.get_running_loop().call_later(self.profile.boot_s, self.core.undock)

    def power_cut(self) -> None:
        self.core.power_cut()

    # -- in-car network --------------------------------------------------------------------
    async def _notify_dvrs(self, utc_ms: int, reason: str) -> None:
        """Announce the recording on the in-car network; repeat every 100 ms until the paired
        DVR acknowledges, for as long as the DVR could still start within CHN-001's 2.0 s (a
        flood of junk on the network can cost a datagram or several)."""
        assert self._icp is not None and self.vehicle_id is not None
        self._seq = (self._seq + 1) & 0xFFFF
        seq = self._seq
        event = Event[reason] if reason in Event.__members__ else None
        message = IncarMessage(
            MessageType.RECORDING_STARTED, self.serial, self.vehicle_id, utc_ms, seq,
            event.source_class.value if event else 0, event.code if event else 0, FLAG_ACK_REQUESTED,
        )
        await announce(self._icp, message, self.network, lambda: seq in self._acked)

    def _on_icp(self, message: IncarMessage, addr: Addr) -> None:
        if message.vehicle_id != self.vehicle_id:
            return
        if message.type is MessageType.ACK:
            self._acked.add(message.sequence)
        elif message.type is MessageType.RECORDING_STARTED and self.group_member:
            if self._group_dvr is None:  # learnt once (the scene pairs it); a forged start cannot re-point it
                self._group_dvr = addr
            if not self.core.recording:
                self._activate("GROUP", message.sender_serial, from_sleep=False)
        elif message.type is MessageType.STOP_GROUP and self.group_member and addr == self._group_dvr:
            self.core.request_stop("group-stop")  # only from the group's DVR (where its start came from), not from any host
