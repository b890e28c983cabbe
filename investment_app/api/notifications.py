"""GET /api/v1/notifications/confirm?token=…: confirm an alert e-mail address from the link e-mailed to it.

The signed token binds the user to the address and expires after 48 hours; it is the only authority, so the
link works in any browser. A bad, expired or outdated link gets a 400 page with the reason and changes nothing.
"""

from __future__ import annotations

import html

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from investment_app.api.pages import page
from investment_app.db import session_scope
from investment_app.services import notifications
from investment_app.services.errors import InvalidInput

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


@router.get("/confirm", response_class=HTMLResponse)
def confirm(token: str = "") -> HTMLResponse:
    """Mark the address confirmed and say so."""
    try:
        with session_scope() as db:
            address = notifications.confirm(db, token)
    except InvalidInput as exc:
        return page("This link does not work", f"<p>{html.escape(str(exc))}</p>", 400)
    return page(
        "Address confirmed",
        f"<p>Alert e-mails will go to {html.escape(address)}, as your notification settings say.</p>"
        '<p><a href="/settings/notifications">Notification settings</a></p>',
    )
