"""``bwc air import CAPTURE`` measures ACT-001 and ACT-005 on a real capture (an nRF Sniffer,
Sniffle or Ubertooth pcap/pcapng, a btsnoop HCI log, a run's air.pcap) (docs/air.md). Exit
codes: 0 every requirement judged passed, 1 one failed or could not be measured, 2 bad input
(one line naming the file and the problem)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bwc.cli import EXIT_FAIL, EXIT_OK, UsageError
from conformance.air_verdicts import AirVerdicts, judge, render
from emulators.clock import iso_utc
from instruments.air_import import ImportedCapture, import_capture
from instruments.capture_file import CaptureError

PASSING = ("pass", "marginal")


def register(sub) -> None:
    air = sub.add_parser("air", help="real captures: measure a sniffer capture")
    verbs = air.add_subparsers(dest="verb", required=True, parser_class=type(air))
    imp = verbs.add_parser("import", help="measure ACT-001 and ACT-005 on a capture (pcap/pcapng link type 256 or 272, btsnoop)")
    imp.add_argument("capture", metavar="CAPTURE")
    imp.add_argument("--json", action="store_true", help="print the measurements as JSON instead of the table")
    imp.set_defaults(func=cmd_import)


def _read(path: str) -> ImportedCapture:
    try:
        return import_capture(Path(path))
    except CaptureError as exc:
        raise UsageError(str(exc)) from None


def _field_verdicts(capture: ImportedCapture, origin_ms: float | None = None) -> AirVerdicts:
    first = origin_ms if origin_ms is not None else (capture.first_s or 0.0) * 1000
    return judge([(a.t_ms, a.frame) for a in capture.adverts], first)


def _capture_json(capture: ImportedCapture) -> dict:
    return {"path": str(capture.path), "format": capture.format, "records": capture.records,
            "first_utc_ms": capture.first_s * 1000 if capture.first_s is not None else None,
            "last_utc_ms": capture.last_s * 1000 if capture.last_s is not None else None,
            "signal_adverts": len(capture.adverts), "counts": capture.summary(), "problems": capture.problems, "heard": _heard(capture)}


def _header(capture: ImportedCapture) -> list[str]:
    span = (capture.last_s - capture.first_s) if capture.first_s is not None and capture.last_s is not None else 0.0
    first = iso_utc(capture.first_s * 1000) if capture.first_s is not None else "-"
    c = capture.summary()
    lines = [f"{capture.path}: {capture.format}, {capture.records:,} records over {span:.1f} s from {first}",
             f"  Signal adverts {len(capture.adverts):,} ({c['signal PDUs']:,} PDUs); ignored: other advertisers {c['other advertisers']:,}, "
             f"other traffic {c['other traffic']:,}, bad CRC {c['bad CRC']:,}, malformed {c['malformed']:,}, malformed Signal {c['malformed Signal']:,}"]
    lines += [f"  refused {p}" for p in capture.problems]
    heard = _heard(capture)
    lines += [f"  heard {serial}: {h['adverts']:,} adverts" + (f", RSSI up to {h['rssi_max']} dBm" if h["rssi_max"] is not None else "")
              for serial, h in heard.items()]
    return lines


def _heard(capture: ImportedCapture) -> dict[str, dict]:
    """How much of each Signal device the capture holds (a device heard little was far, or hidden)."""
    out: dict[str, dict] = {}
    for a in capture.adverts:
        h = out.setdefault(a.frame.serial, {"adverts": 0, "rssi_max": None})
        h["adverts"] += 1
        if a.rssi is not None and (h["rssi_max"] is None or a.rssi > h["rssi_max"]):
            h["rssi_max"] = a.rssi
    return dict(sorted(out.items()))


def _exit(v: AirVerdicts) -> int:
    return EXIT_OK if all(r["verdict"] in PASSING for r in v.requirements.values()) else EXIT_FAIL


def cmd_import(args: argparse.Namespace) -> int:
    capture = _read(args.capture)
    verdicts = _field_verdicts(capture)
    if args.json:
        print(json.dumps({"schema": "bwc-air-import/1", "capture": _capture_json(capture), **verdicts.to_json()}, indent=1))
    else:
        print("\n".join(_header(capture) + ["  times from the capture's first record"] + render(verdicts)))
    return _exit(verdicts)
