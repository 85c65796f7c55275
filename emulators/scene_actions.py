"""The scene actions: one table that says, for every ``do:`` of a scene timeline, what it
targets, what the target must carry, which arguments it takes (a pydantic model: the
validation and the JSON Schema), whether it is a stimulus, and how the virtual runner plays it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, Field, WithJsonSchema

from emulators.air import Still
from emulators.dvr import INPUT_EVENTS
from protocols.signal import Event, SignalFrame, encode_adv_data
from schemas.names import INPUT_CONFIG, Ident, Serial, one_of

if TYPE_CHECKING:
    from emulators.scene import Step
    from emulators.scene_runner import VirtualScene

CewEventName = Literal["armed", "trigger", "arc"]
HolsterEventName = Literal["draw", "return"]
CEW_EVENTS = {name: Event[f"CEW_{name.upper()}"] for name in get_args(CewEventName)}
HOLSTER_EVENTS = {name: Event[f"HOLSTER_{name.upper()}"] for name in get_args(HolsterEventName)}
MAX_PULSE_MS = 60_000.0


class Args(BaseModel):
    """No arguments."""

    model_config = INPUT_CONFIG


class CewArgs(Args):
    event: CewEventName


class HolsterArgs(Args):
    event: HolsterEventName


class InputArgs(Args):
    input: Annotated[str, AfterValidator(one_of(INPUT_EVENTS, "vehicle input")), WithJsonSchema({"enum": list(INPUT_EVENTS)})]
    level: Literal["on", "off"] = "on"
    pulse_ms: Annotated[float, Field(gt=0, le=MAX_PULSE_MS)] | None = None  # back to the other level after this long


class HandOverArgs(Args):
    to: Ident  # the officer who carries it from now on


class IcpAttackArgs(Args):
    kind: Literal["forge-stop", "forge-start", "malformed"]
    vehicle: Ident  # the vehicle whose in-car network it is on
    to: Ident | None = None  # an officer whose camera it sends to (default: the vehicle's DVR)
    serial: Serial | None = None  # the sender it claims (default: the vehicle's paired camera)
    count: Annotated[int, Field(ge=1, le=100_000)] = 20
    interval_ms: Annotated[float, Field(ge=1, le=10_000)] = 50.0
    seed: Annotated[int, Field(ge=0, le=2**31)] = 0


class AttackArgs(Args):
    kind: Literal["replay", "spoof", "malformed", "flood"]
    serial: Serial | None = None  # replay: whose captured advert; spoof: the serial it claims; malformed: the sender its frames mutate
    event: CewEventName = "armed"  # spoof, flood: the event it claims
    senders: Annotated[int, Field(ge=1, le=10_000)] = 100  # flood: how many made-up serials it claims in turn
    count: Annotated[int, Field(ge=1, le=100_000)] = 20
    interval_ms: Annotated[float, Field(ge=20, le=10_240)] = 50.0  # 20 ms: the fastest legal advertising interval
    seed: Annotated[int, Field(ge=0, le=2**31)] = 0


class ComplexityArgs(Args):
    value: Annotated[float, Field(ge=0, le=1)]  # how busy the picture is (bitrate)


Run = Callable[["VirtualScene", "Step"], Awaitable[str]]


@dataclass(frozen=True)
class Action:
    doc: str
    target: Literal["officer", "vehicle", "attacker"] | None  # what `target` names (None: no target)
    needs: Literal["bwc", "cew", "holster"] | None  # what the target officer must carry
    args: type[Args]
    run: Run
    stimulus: bool = False  # a Signal or vehicle event (the incident's trigger)


def _target(step: Step) -> str:
    assert step.target is not None  # validate_scene checked it
    return step.target


async def _cew(vs: VirtualScene, step: Step) -> str:
    await vs.sources[(_target(step), "cew")].emit(CEW_EVENTS[step.args["event"]])
    return "done"


async def _holster(vs: VirtualScene, step: Step) -> str:
    await vs.sources[(_target(step), "holster")].emit(HOLSTER_EVENTS[step.args["event"]])
    return "done"


async def _input(vs: VirtualScene, step: Step) -> str:
    dvr, name, on = vs.dvrs[_target(step)], step.args["input"], step.args.get("level", "on") == "on"
    dvr.set_input(name, on)
    if step.args.get("pulse_ms") is not None:
        asyncio.get_running_loop().call_later(float(step.args["pulse_ms"]) / 1000, dvr.set_input, name, not on)
    return "done"


async def _drop(vs: VirtualScene, step: Step) -> str:
    """The CEW stays where its carrier is now (dropped, thrown, left on a car's hood)."""
    node = vs.air.node(f"CEW-{_target(step)}")
    here = node.at(asyncio.get_running_loop().time())
    node.position = Still(here)
    return "done"


async def _hand_over(vs: VirtualScene, step: Step) -> str:
    """From now on the CEW moves with another officer (it keeps its serial and owner's name)."""
    vs.air.node(f"CEW-{_target(step)}").position = vs.spec.officer(str(step.args["to"])).path
    return "done"


async def _attack(vs: VirtualScene, step: Step) -> str:
    """Starts the attack and returns at once (a storm lasts count x interval); the attacker's
    frames go on the air in the background until it is done or the scene ends."""
    a, args = vs.attackers[_target(step)], step.args
    interval = float(args.get("interval_ms", 50.0)) / 1000
    count, seed, kind = int(args.get("count", 20)), int(args.get("seed", 0)), args["kind"]
    if kind == "replay":
        if args["serial"] not in a.captured:
            return f"refused (nothing captured from {args['serial']})"
        work = a.replay(args["serial"], count, interval)
    elif kind == "spoof":
        work = a.spoof(args["serial"], CEW_EVENTS[args.get("event", "armed")], count, interval, seed)
    elif kind == "flood":
        work = a.flood(int(args.get("senders", 100)), CEW_EVENTS[args.get("event", "armed")], count, interval, seed)
    else:
        like = encode_adv_data(SignalFrame.for_event(args["serial"], Event.CEW_ARMED, event_id=1)) if args.get("serial") else None
        work = a.malformed(count, interval, seed, like)
    vs.background(work)
    return "started"


async def _icp_attack(vs: VirtualScene, step: Step) -> str:
    """Datagrams on a vehicle's in-car network from the attacker's own host (in the background)."""
    a, args = vs.attackers[_target(step)].icp, step.args
    vehicle = vs.spec.vehicle(str(args["vehicle"]))
    dvr = vs.dvrs[vehicle.vehicle_id]
    to = vs.bwcs[str(args["to"])].icp_address if args.get("to") else dvr.address
    claimed = str(args.get("serial") or (vs.spec.officer(vehicle.officer).bwc_serial if vehicle.officer else None) or dvr.serial)
    count, interval, utc = int(args.get("count", 20)), float(args.get("interval_ms", 50.0)) / 1000, dvr.clock.utc_ms()
    if args["kind"] == "malformed":
        work = a.malformed(claimed, vehicle.vehicle_id, utc, to, count, interval, int(args.get("seed", 0)))
    else:
        work = a.forge(str(args["kind"]), claimed, vehicle.vehicle_id, utc, to, count, interval, int(args.get("seed", 0)))
    vs.background(work)
    return "started"


def _button(method: str) -> Run:
    """A BWC button or state change; one that can be refused reports accepted or refused."""

    async def run(vs: VirtualScene, step: Step) -> str:
        result = getattr(vs.bwcs[_target(step)], method)()
        return "done" if result is None else "accepted" if result else "refused"

    return run


async def _dvr_stop(vs: VirtualScene, step: Step) -> str:
    vs.dvrs[_target(step)].press_stop()
    return "done"


async def _stop_all(vs: VirtualScene, step: Step) -> str:
    for bwc in vs.bwcs.values():
        bwc.core.request_stop("operator")
    for dvr in vs.dvrs.values():
        for cam in dvr.cameras:
            cam.request_stop("operator")
    return "done"


async def _complexity(vs: VirtualScene, step: Step) -> str:
    for cam in vs.all_cameras():
        cam.complexity = float(step.args["value"])
    return "done"


ACTIONS: dict[str, Action] = {
    "cew": Action("CEW event on the officer's CEW", "officer", "cew", CewArgs, _cew, stimulus=True),
    "holster": Action("holster sensor of the officer", "officer", "holster", HolsterArgs, _holster, stimulus=True),
    "drop": Action("the officer's CEW is dropped where they stand", "officer", "cew", Args, _drop),
    "hand_over": Action("the officer's CEW is handed to another officer (`to`)", "officer", "cew", HandOverArgs, _hand_over),
    "attack": Action("an attacker's radio sends replayed, spoofed or malformed Signal adverts", "attacker", None, AttackArgs, _attack),
    "icp_attack": Action("an attacker's host on a vehicle's in-car network sends forged or malformed ICP datagrams", "attacker", None,
                         IcpAttackArgs, _icp_attack),
    "input": Action("vehicle 12 V input", "vehicle", None, InputArgs, _input, stimulus=True),
    "record": Action("record button of the officer's BWC", "officer", "bwc", Args, _button("press_record")),
    "stop": Action("stop button of the officer's BWC", "officer", "bwc", Args, _button("press_stop")),
    "cancel": Action("false-signal cancel on the officer's BWC", "officer", "bwc", Args, _button("cancel_false_signal")),
    "sleep": Action("put the officer's BWC to sleep", "officer", "bwc", Args, _button("sleep")),
    "wake": Action("wake the officer's BWC", "officer", "bwc", Args, _button("wake")),
    "dock": Action("dock the officer's BWC", "officer", "bwc", Args, _button("dock")),
    "undock": Action("undock the officer's BWC", "officer", "bwc", Args, _button("undock")),
    "power_cut": Action("cut the officer's BWC power abruptly", "officer", "bwc", Args, _button("power_cut")),
    "dvr_stop": Action("stop button of the vehicle's DVR (stops a group)", "vehicle", None, Args, _dvr_stop),
    "stop_all": Action("stop every BWC and DVR", None, None, Args, _stop_all),
    "complexity": Action("scene complexity seen by every camera", None, None, ComplexityArgs, _complexity),
}
STIMULUS_ACTIONS = tuple(name for name, action in ACTIONS.items() if action.stimulus)
