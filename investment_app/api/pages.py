"""Small self-contained HTML pages for links opened from e-mails (no app shell, no sign-in): never cached,
never indexed, no Referer (the token is in the URL), and nothing loaded from elsewhere."""

from __future__ import annotations

import html

from fastapi.responses import HTMLResponse

HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    """A minimal page; ``body`` is HTML the caller has already escaped."""
    document = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head>"
        '<body style="font-family:system-ui,Arial,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem">'
        f'<h1 style="font-size:1.4rem">{html.escape(title)}</h1>{body}</body></html>'
    )
    return HTMLResponse(document, status_code=status, headers=HEADERS)
