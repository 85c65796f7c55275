"""report.pdf: the report HTML rendered by WeasyPrint (print rules are in the HTML's CSS)."""

from __future__ import annotations

import logging
from pathlib import Path


class PdfError(RuntimeError):
    """WeasyPrint is missing or could not render (the message says what to install)."""


def html_to_pdf(html: str, path: Path) -> Path:
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: Pango/HarfBuzz system libraries missing
        raise PdfError(f"report.pdf needs WeasyPrint and Pango (pip install weasyprint==70.0; apt-get install libpango-1.0-0 libpangoft2-1.0-0): {exc}") from None
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)

    def no_network(url: str, *args, **kwargs):  # the report is self-contained; refuse any fetch
        raise ValueError(f"report.pdf must not fetch {url}")

    HTML(string=html, url_fetcher=no_network).write_pdf(path)
    return path


def write_report_pdf(report: dict, out_dir: Path) -> Path:
    from reports.html import render_html

    return html_to_pdf(render_html(report), out_dir / "report.pdf")
