"""What happens at the end of ``bwc run``, after report.json and report.html: provenance,
the artifact hashes printed in the report, report.pdf, the signed manifest."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocols.evidence_manifest import build_manifest, key_fingerprint, public_key_raw
from reports.build import relativize, write_report_json
from reports.html import write_report_html
from reports.pdf import PdfError, write_report_pdf
from reports.provenance import collect_provenance
from reports.signing import REPORT_FILES, UNSIGNED, SigningKeyError, load_signing_key, sign_run

REPO = Path(__file__).resolve().parent.parent
PROVENANCE = "provenance.json"


class FinalizeError(Exception):
    """The run could not be finalized (no signing key, no PDF renderer...); the message
    names the problem and what to do."""


def finalize_run(out_dir: Path, report: dict, *, signing_key: Ed25519PrivateKey | None = None, pdf: bool = True,
                 before_signing: Callable[[], bool] | None = None) -> list[str]:
    """Add provenance, the artifact hashes and the signing key to the report, rewrite
    report.json and report.html, write report.pdf, provenance.json, manifest.json (every
    file in out_dir) and signature.json. Returns the paths written. ``report`` is updated
    in place. The signing key defaults to the harness key (docs/report.md). When
    ``before_signing`` returns False the run is left unsigned (the report is out of date)."""
    try:
        return _finalize(out_dir, report, signing_key, pdf, before_signing)
    except OSError as exc:
        raise FinalizeError(f"cannot write {getattr(exc, 'filename', None) or out_dir}: {exc.strerror or exc}") from exc


def _finalize(out_dir: Path, report: dict, signing_key: Ed25519PrivateKey | None, pdf: bool,
              before_signing: Callable[[], bool] | None) -> list[str]:
    written: list[str] = []
    if signing_key is None:
        try:
            signing_key, key_path, created = load_signing_key()
        except SigningKeyError as exc:
            raise FinalizeError(str(exc)) from None
        if created:
            written.append(str(key_path))
    public = signing_key.public_key()
    report.update(relativize(report, out_dir))
    report["provenance"] = collect_provenance(report, REPO)
    report["signing"] = {
        "algorithm": "ed25519",
        "key_fingerprint": key_fingerprint(public),
        "public_key_b64": base64.b64encode(public_key_raw(public)).decode("ascii"),
        "manifest": "manifest.json",
        "signature": "signature.json",
    }
    (out_dir / PROVENANCE).write_text(json.dumps(report["provenance"], indent=2) + "\n")
    written.append(str(out_dir / PROVENANCE))
    exclude = set(UNSIGNED) | set(REPORT_FILES)
    files = build_manifest(out_dir, exclude=exclude)["files"]
    report["artifacts"] = [{"path": rel, **entry} for rel, entry in sorted(files.items())]
    written.append(str(write_report_json(report, out_dir)))
    written.append(str(write_report_html(report, out_dir)))
    if pdf:
        try:
            written.append(str(write_report_pdf(report, out_dir)))
        except PdfError as exc:
            raise FinalizeError(str(exc)) from None
    if before_signing is not None and not before_signing():
        return written
    signed_utc = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    written += [str(p) for p in sign_run(out_dir, signing_key, signed_utc)]
    return written
