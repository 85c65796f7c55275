"""The scene runner's clean-up when a run is interrupted inside an anchored step."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging

import looptime
import pytest

from emulators.scene import Step, scene_from_dict
from emulators.scene_runner import VirtualScene
from tests.emulators.scene_helpers import SMALL, profile


def test_an_interrupt_that_lands_in_an_anchored_step_is_collected(tmp_path, caplog):
    """bwc run's SIGINT handler raises in whatever frame runs. When that is an anchored step's
    task, the interrupt stops the loop; the virtual target then cancels the scene, and the
    scene must cancel and collect its anchored steps (before: 'Task was destroyed but it is
    pending' and 'Task exception was never retrieved' tracebacks in an interrupted run)."""
    spec = scene_from_dict({"name": "anchors", "end_s": 30, "officers": [
        {"name": "A", "position": [0, 0], "bwc": "X6TST00A1"}, {"name": "B", "position": [10, 0], "bwc": "X6TST00B1"},
        {"name": "C", "position": [0, 10], "bwc": "X6TST00C1"}]}, "<test>")
    spec = dataclasses.replace(spec, timeline=tuple(Step(3.0, "stop", o, anchor=(o, 1.0)) for o in ("A", "B", "C")))
    calls = []

    async def heard(who: str, since: float) -> float | None:
        calls.append(who)
        if len(calls) == 1:
            await asyncio.sleep(1.0)
            raise KeyboardInterrupt  # the signal handler's RunInterrupted
        await asyncio.sleep(1000)
        return None

    loop = looptime.new_event_loop(start=0.0)

    async def main() -> None:
        vs = VirtualScene(spec, profile(), tmp_path, 1, video_override=SMALL)
        vs.heard = heard
        await vs.build()
        try:
            await vs.play()
        finally:
            await vs.shutdown()

    task = loop.create_task(main())
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        with pytest.raises(KeyboardInterrupt):
            loop.run_until_complete(task)
        task.cancel()  # as fixtures/virtual.py does
        with contextlib.suppress(BaseException):
            loop.run_until_complete(task)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        del task
        gc.collect()
    assert calls == ["A", "B", "C"]
    assert "never retrieved" not in caplog.text and "destroyed but it is pending" not in caplog.text, caplog.text
