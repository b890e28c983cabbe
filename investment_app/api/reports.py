"""GET/POST /api/v1/reports/unsubscribe?token=…: stop one e-mailed report without signing in.

GET shows which report the link stops (portfolio, frequency, address) with a button; it changes nothing, so
link scanners that fetch it do no harm. POST unsubscribes: the button's form, or a mail client's one-click
request (RFC 8058: body ``List-Unsubscribe=One-Click``). The signed token is the only authority and names
one subscription; a bad or expired one gets a 400 page with the reason and changes nothing. Pages are
small, self-contained HTML, never cached, and send no Referer (the token is in the URL).
"""

from __future__ import annotations

import html
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from investment_app.api.pages import page
from investment_app.db import session_scope
from investment_app.services import reports
from investment_app.services.errors import InvalidInput

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


def _what(row: reports.SubscriptionRow) -> str:
    e = html.escape
    return f"the {e(row.frequency)} report of <strong>{e(row.portfolio)}</strong> to {e(row.recipient)}"


def _invalid(exc: InvalidInput) -> HTMLResponse:
    return page("This link does not work", f"<p>{html.escape(str(exc))}</p>", 400)


@router.get("/unsubscribe", response_class=HTMLResponse)
def confirm(token: str = "") -> HTMLResponse:
    """Name the report the token stops, with a button that POSTs the one-click unsubscribe."""
    try:
        with session_scope() as db:
            row = reports.subscription_for_token(db, token)
    except InvalidInput as exc:
        return _invalid(exc)
    if not row.active:
        return page("Already unsubscribed", f"<p>You no longer receive {_what(row)}.</p>")
    action = html.escape(f"{reports.UNSUBSCRIBE_PATH}?{urlencode({'token': token})}")
    return page(
        "Unsubscribe from this report?",
        f"<p>Stop {_what(row)}? Other reports are not affected.</p>"
        f'<form method="post" action="{action}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit" style="font-size:1rem;padding:.5rem 1rem">Unsubscribe</button></form>',
    )


@router.post("/unsubscribe", response_class=HTMLResponse)
def unsubscribe(token: str = "") -> HTMLResponse:
    """Unsubscribe the one subscription the token names (idempotent) and confirm it."""
    try:
        with session_scope() as db:
            row = reports.unsubscribe_by_token(db, token)
    except InvalidInput as exc:
        return _invalid(exc)
    return page("Unsubscribed", f"<p>You will no longer receive {_what(row)}. Other reports are not affected.</p>")
