"""Compose the report e-mail of one tearsheet: summary in the body, the tearsheet attached as HTML and PDF.

Structure (RFC 2046): multipart/mixed = [multipart/alternative = [text/plain, text/html], tearsheet.html,
tearsheet.pdf]. The body repeats five figures of the tearsheet's own summary, formatted as the tearsheet
formats them, so the e-mail and the attachment never disagree. Unsubscribing follows RFC 2369 (a
``List-Unsubscribe`` URL) and RFC 8058 (``List-Unsubscribe-Post: List-Unsubscribe=One-Click``: a mail client
POSTs to that URL without the user signing in), plus a visible link in both bodies; a one-off report (no
subscription) has none. ``Auto-Submitted: auto-generated`` (RFC 3834) tells auto-responders not to answer.
A scheduled report's Message-ID is derived from its idempotency key (``report_message_id``), so a resend of
the same report carries the same Message-ID.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from urllib.parse import urlsplit

from investment_app.analytics.catalogue import CATALOGUE
from investment_app.tearsheet import TearsheetData, render_html, render_pdf
from investment_app.tearsheet.formatting import MISSING, format_value

SUMMARY_KEYS = ("total_return", "annual_return", "annual_volatility", "sharpe", "max_drawdown")
"""The figures of the body, keys of ``analytics.catalogue.CATALOGUE``."""


@dataclass(frozen=True)
class Figure:
    """One line of the body's summary: the tearsheet's label, its formatted value, why it is missing."""

    label: str
    value: str
    reason: str | None = None


def summary_figures(data: TearsheetData) -> list[Figure]:
    """Total return, annual return, volatility, Sharpe and max drawdown as the tearsheet's metrics table shows them."""
    rows = {row.label: row for row in data.metrics}
    figures = []
    for key in SUMMARY_KEYS:
        row = rows.get(CATALOGUE[key].label)
        if row is None:
            figures.append(Figure(CATALOGUE[key].label, MISSING, "not in the tearsheet"))
        else:
            figures.append(
                Figure(row.label, format_value(row.value, row.kind), row.reason if row.value is None else None)
            )
    return figures


def _check_url(url: str) -> str:
    """An absolute http(s) URL without whitespace (RFC 8058 asks for https in production)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or re.search(r"\s", url):
        raise ValueError(f"unsubscribe URL must be an absolute http(s) URL without spaces; got {url!r}")
    return url


def report_message_id(key: str, sender: str) -> str:
    """``<report.{first 32 hex digits of SHA-256(key)}@{the sender's domain}>`` (RFC 5322 §3.6.4).

    The same idempotency key always gives the same Message-ID, so a copy sent again after a crash (between the
    server's 250 and our record of it) is recognisably the same message to the receiving side.
    """
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return f"<report.{digest}@{domain}>"


def _text_body(data: TearsheetData, figures: list[Figure], unsubscribe_url: str | None) -> str:
    width = max(len(f.label) for f in figures)
    lines = [f"{f.label:<{width}}  {f.value}" + (f"  ({f.reason})" if f.reason else "") for f in figures]
    stop = f"Stop this report (no sign-in needed): {unsubscribe_url}\n" if unsubscribe_url else ""
    return (
        f"{data.title}\n{data.portfolio_name}, {data.start.isoformat()} to {data.end.isoformat()}\n\n"
        + "\n".join(lines)
        + "\n\nThe full tearsheet is attached as HTML and PDF.\n\n"
        + stop
    )


def _html_body(data: TearsheetData, figures: list[Figure], unsubscribe_url: str | None) -> str:
    e = html.escape
    cell = 'style="padding:4px 12px;border-bottom:1px solid #ddd"'
    rows = "".join(
        f'<tr><td {cell}>{e(f.label)}</td><td {cell} align="right" title="{e(f.reason or "")}">{e(f.value)}</td></tr>'
        for f in figures
    )
    return (
        '<!DOCTYPE html><html><body style="font-family:Arial,Helvetica,sans-serif;color:#222">'
        f"<h2>{e(data.title)}</h2>"
        f"<p>{e(data.portfolio_name)}, {data.start.isoformat()} to {data.end.isoformat()}</p>"
        f'<table style="border-collapse:collapse">{rows}</table>'
        "<p>The full tearsheet is attached as HTML and PDF.</p>"
        + (
            f'<p style="font-size:12px;color:#666"><a href="{e(unsubscribe_url)}">Unsubscribe from this report</a>'
            " (no sign-in needed; other reports are not affected).</p>"
            if unsubscribe_url
            else ""
        )
        + "</body></html>"
    )


def compose_report_email(
    data: TearsheetData,
    *,
    sender: str,
    to: str,
    unsubscribe_url: str | None,
    subject: str | None = None,
    message_id: str | None = None,
) -> EmailMessage:
    """The report e-mail of ``data`` from ``sender`` to ``to``; renders the tearsheet as HTML and PDF attachments.

    ``unsubscribe_url`` None (a one-off report) leaves out the List-Unsubscribe headers and links;
    ``message_id`` None makes a fresh random one.
    """
    url = _check_url(unsubscribe_url) if unsubscribe_url is not None else None
    figures = summary_figures(data)
    message = EmailMessage()
    message["Subject"] = subject or f"{data.title}: {data.start.isoformat()} to {data.end.isoformat()}"
    message["From"] = sender
    message["To"] = to
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id or make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    if url is not None:
        message["List-Unsubscribe"] = f"<{url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(_text_body(data, figures, url))
    message.add_alternative(_html_body(data, figures, url), subtype="html")
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", f"tearsheet-{data.portfolio_name}-{data.end.isoformat()}").strip("-")
    message.add_attachment(
        render_html(data).encode(),
        maintype="text",
        subtype="html",
        filename=f"{stem}.html",
        params={"charset": "utf-8"},
    )
    message.add_attachment(render_pdf(data), maintype="application", subtype="pdf", filename=f"{stem}.pdf")
    return message
