"""What a measurement is about, as a value: a device (its label, serial and part) or
something that is not a device (the scene, a distance band, the target). Results store it
by key, so reports and diffs never parse it back out of a name."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Subject:
    label: str  # "BWC-A", "DVR-CAR-A"; for a non-device subject, what it is ("scene", "10 ft")
    serial: str | None = None
    part: str = ""  # "front" / "rear" of a DVR, else ""
    device: bool = True

    def __str__(self) -> str:
        return " ".join(x for x in (self.label, self.serial, self.part) if x)

    def of(self, part: str) -> Subject:
        """The same device's camera ``part`` ("front", "rear")."""
        return replace(self, part=part)

    @property
    def key(self) -> str:
        """The device without its serial, as diffs and figures name it: 'DVR-CAR-A rear' (a
        subject that is not a device: its text)."""
        return f"{self.label} {self.part}".strip()

    def to_json(self) -> dict | None:
        if not self.device:
            return None
        return {"label": self.label, "serial": self.serial, "part": self.part}

    @classmethod
    def from_json(cls, doc: dict | None, text: str) -> Subject:
        if not doc:
            return cls(text, device=False)
        return cls(str(doc["label"]), doc.get("serial"), str(doc.get("part") or ""))

    @classmethod
    def other(cls, what: str) -> Subject:
        """A subject that is not a device."""
        return cls(what, device=False)


def as_subject(who: Subject | str) -> Subject:
    return who if isinstance(who, Subject) else Subject.other(who)
