"""Names that come from input files, and the pydantic configuration every input model uses.

Names end up in file paths (a device's evidence folder is ``<out>/evidence/<serial>/``, a
scene's output ``runs/scene-<name>-<time>``), in adverts and in datagrams, so each kind has
a documented character set and length (docs/scenes.md, docs/bench.md):

* **serial** (body cameras, CEWs, holster sensors, DVRs, Signal Vehicle units): exactly 9
  characters, each an upper-case letter A-Z or a digit 0-9 (``X87002FP4``, ``F3DVR00A1``).
  The Signal advert carries 9 ASCII characters; upper-case letters and digits are what real
  serials use, what a FAT volume label keeps unchanged (a dock's label is its camera's
  serial), and they can never name a parent folder or an absolute path.
* **vehicle id**: 1 to 8 characters A-Z, a-z, 0-9, ``-``, ``_`` (the in-car protocol carries 8).
* **officer name, device label**: 1 to 32 characters A-Z, a-z, 0-9, ``-``, ``_``, ``.``, first
  a letter or digit.
* **scene or bench name**: the same, 1 to 64 characters."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, WithJsonSchema

INPUT_CONFIG = ConfigDict(extra="forbid", allow_inf_nan=False, coerce_numbers_to_str=True, str_max_length=2000)

SERIAL = r"^[A-Z0-9]{9}$"
VEHICLE_ID = r"^[A-Za-z0-9_-]{1,8}$"
IDENT = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$"
RUN_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


def matching(pattern: str, rule: str) -> Callable[[str], str]:
    """A validator: the text must match pattern, else 'VALUE: RULE'."""
    rx = re.compile(pattern)

    def check(value: str) -> str:
        if not rx.fullmatch(value):
            raise ValueError(f"{value!r:.48} is not {rule}")
        return value

    return check


def format_version(expected: str) -> Callable[[str], str]:
    """A validator of a file's ``schema:`` line: exactly this format version."""

    def check(value: str) -> str:
        if value != expected:
            raise ValueError(f"expected {expected!r}, got {value!r}")
        return value

    return check


def one_of(names: Iterable[str], what: str) -> Callable[[str], str]:
    known = tuple(names)

    def check(value: str) -> str:
        if value not in known:
            raise ValueError(f"unknown {what} {value!r:.40} (known: {', '.join(known)})")
        return value

    return check


SERIAL_RULE = "a serial: 9 characters, each A-Z or 0-9 (like X87002FP4)"
check_serial = matching(SERIAL, SERIAL_RULE)

Serial = Annotated[str, AfterValidator(check_serial),
                   WithJsonSchema({"type": "string", "pattern": SERIAL, "description": "9 characters A-Z, 0-9 (like X87002FP4)"})]
VehicleId = Annotated[str, AfterValidator(matching(VEHICLE_ID, "a vehicle id: 1 to 8 characters A-Z, a-z, 0-9, - or _")),
                      WithJsonSchema({"type": "string", "pattern": VEHICLE_ID})]
Ident = Annotated[str, AfterValidator(matching(IDENT, "a name: 1 to 32 characters A-Z, a-z, 0-9, - _ . (first a letter or digit)")),
                  WithJsonSchema({"type": "string", "pattern": IDENT})]
RunName = Annotated[str, AfterValidator(matching(RUN_NAME, "a name: 1 to 64 characters A-Z, a-z, 0-9, - _ . (first a letter or digit)")),
                    WithJsonSchema({"type": "string", "pattern": RUN_NAME})]


def safe_name(text: str) -> str:
    """A RunName made from free text (a file's stem): other characters become '-'."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", text).lstrip("-_.")[:64]
    return name or "unnamed"
