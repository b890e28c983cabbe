"""Head tags that make the app an installable PWA (manifest, icons, theme colour, service worker).

The service worker is registered by a plain ``rx.el.script``, which is prerendered into every page's
<head> (``rx.script`` would be injected later by react-helmet).
"""

import reflex as rx

THEME_COLOR = "#0f766e"
DESCRIPTION = "Track, analyze, optimize and rebalance your investment portfolio."
REGISTER_SERVICE_WORKER = "if ('serviceWorker' in navigator) { navigator.serviceWorker.register('/sw.js'); }"


def head_components() -> list[rx.Component]:
    """Tags for ``rx.App(head_components=...)``."""
    return [
        rx.el.link(rel="manifest", href="/manifest.webmanifest"),
        rx.el.meta(name="theme-color", content=THEME_COLOR),
        rx.el.meta(name="description", content=DESCRIPTION),
        rx.el.meta(name="mobile-web-app-capable", content="yes"),
        rx.el.meta(name="apple-mobile-web-app-capable", content="yes"),
        rx.el.meta(name="apple-mobile-web-app-status-bar-style", content="default"),
        rx.el.meta(name="apple-mobile-web-app-title", content="Portfolio"),
        rx.el.link(rel="icon", href="/favicon.ico", sizes="any"),
        rx.el.link(rel="icon", href="/icons/icon-192.png", type="image/png"),
        rx.el.link(rel="apple-touch-icon", href="/icons/apple-touch-icon.png"),
        rx.el.script(REGISTER_SERVICE_WORKER),
    ]
