"""SIGINT and SIGTERM during ``bwc run``: the run stops, but is written up as INCOMPLETE and
signed only once every writer is done (docs/report.md, "Incomplete runs").

While the suite measures, the first signal raises RunInterrupted (a KeyboardInterrupt, so
pytest stops as on Ctrl-C and the scene being played shuts down); later signals only say that
the run is stopping. While the report is written and signed, the first signal is noted (the
report is then rewritten as INCOMPLETE before it is signed) and a further one aborts: nothing
more is written and nothing is signed."""

from __future__ import annotations

import os
import signal
import sys
import time
from datetime import datetime, timezone
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)
PAUSE_ENV = "BWC_PAUSE_BEFORE_SIGNING"  # seconds; the harness's own tests interrupt a run at this point


class RunInterrupted(KeyboardInterrupt):
    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


class RunAborted(KeyboardInterrupt):
    """A further signal while the report was being written: stop now, sign nothing."""


def pause_seconds() -> float:
    """$BWC_PAUSE_BEFORE_SIGNING (default 0); ValueError naming the variable when not a number."""
    raw = os.environ.get(PAUSE_ENV, "") or "0"
    try:
        return max(0.0, float(raw))
    except ValueError:
        raise ValueError(f"${PAUSE_ENV}={raw!r}: not a number of seconds") from None


class RunSignals:
    def __init__(self, pause_s: float = 0.0) -> None:
        self.received: list[dict] = []  # {signal, phase, utc}
        self.phase = "measuring"  # then "finalizing"
        self.pause_s = pause_s
        self._previous: dict[int, object] = {}
        self._fd: int | None = None

    def install(self) -> None:
        # pytest captures fd 2 while a test runs: say what happens on the terminal's stderr
        sys.stderr.flush()
        self._fd = os.dup(2)
        for sig in SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        self._previous.clear()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _say(self, line: str) -> None:
        """One unbuffered write: a signal that arrives while a message is being written must not
        re-enter a buffered writer (RuntimeError: reentrant call inside BufferedWriter)."""
        data = (line + "\n").encode()
        if self._fd is None:
            sys.stderr.write(line + "\n")
            return
        while data:
            try:
                data = data[os.write(self._fd, data):]
            except InterruptedError:
                continue

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        first = not self.received
        self.received.append({"signal": name, "phase": self.phase,
                              "utc": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")})
        if self.phase == "measuring":
            if first:
                self._say(f"\nbwc run: {name}: stopping; what was measured is kept and the run is reported INCOMPLETE")
                raise RunInterrupted(name)
            self._say(f"bwc run: {name}: still stopping (closing the clips being written)")
            return
        if first:
            self._say(f"\nbwc run: {name}: the run is reported INCOMPLETE; finishing the report (signal again to abort without signing)")
            return
        raise RunAborted(name)

    @property
    def first(self) -> dict | None:
        return self.received[0] if self.received else None

    def pause_before_signing(self) -> None:
        """With $BWC_PAUSE_BEFORE_SIGNING=S, wait up to S seconds for a signal here (for the
        tests that interrupt a run while it is written up). Not again once a signal came."""
        if self.pause_s <= 0 or self.received:
            return
        self._say(f"bwc run: pausing up to {self.pause_s:g} s before signing (${PAUSE_ENV})")
        seen, deadline = len(self.received), time.monotonic() + self.pause_s
        while len(self.received) == seen and time.monotonic() < deadline:
            time.sleep(0.02)
