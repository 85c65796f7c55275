"""Play small scenes on the real air for emulator tests (small video to stay fast)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from emulators.profiles import Profile, get_profile, profile_from_dict
from emulators.scene import SceneSpec, scene_from_dict
from emulators.scene_runner import VirtualScene
from emulators.video import VideoFormat
from tests.conftest import run_virtual

SMALL = VideoFormat(320, 180, 5)


def profile(overrides: dict | None = None, base: str = "reference") -> Profile:
    if not overrides:
        return get_profile(base)
    return profile_from_dict({"name": "test", "base": base, **overrides}, "<test>")


def play(scene: SceneSpec | dict, out: Path, prof: Profile | None = None, seed: int = 1, video: VideoFormat | None = SMALL) -> VirtualScene:
    spec = scene if isinstance(scene, SceneSpec) else scene_from_dict(scene, "<test scene>")

    async def main() -> VirtualScene:
        vs = VirtualScene(spec, prof or profile(), out, seed, video_override=video)
        await vs.build()
        await vs.play()
        await asyncio.sleep(2.0)
        await vs.shutdown()
        return vs

    vs, _ = run_virtual(main)
    return vs


def clip_reasons(vs: VirtualScene, officer: str) -> list[tuple[str, str | None, str]]:
    return [(c.trigger.reason, c.trigger.sender_serial, c.stop_reason) for c in vs.bwcs[officer].core.clips]
