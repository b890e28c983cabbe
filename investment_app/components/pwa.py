"""Head tags that make the app an installable PWA (manifest, icons, theme colour, service worker).

The files themselves live in ``assets/`` (served at "/"): ``manifest.webmanifest``, ``sw.js``,
``offline.html``, ``favicon.ico`` and ``icons/``. The service worker is registered by a plain
``rx.el.script``, which is prerendered into every page's <head>; ``rx.script`` would be injected later
by react-helmet and is not suitable here.
"""

import reflex as rx

THEME_COLOR = "#0f766e"
THEME_COLOR_DARK = "#134e4a"
APP_NAME = "Investment App"
SHORT_NAME = "Portfolio"
DESCRIPTION = "Track, analyze, optimize and rebalance your investment portfolio."

# Registered right away rather than on "load", so it cannot miss the event.
REGISTER_SERVICE_WORKER = (
    "if ('serviceWorker' in navigator) { navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {}); }"
)


def head_components() -> list[rx.Component]:
    """Tags for ``rx.App(head_components=...)``."""
    return [
        rx.el.link(rel="manifest", href="/manifest.webmanifest"),
        rx.el.meta(name="description", content=DESCRIPTION),
        rx.el.meta(name="theme-color", content=THEME_COLOR, custom_attrs={"media": "(prefers-color-scheme: light)"}),
        rx.el.meta(
            name="theme-color", content=THEME_COLOR_DARK, custom_attrs={"media": "(prefers-color-scheme: dark)"}
        ),
        rx.el.meta(name="application-name", content=SHORT_NAME),
        rx.el.meta(name="mobile-web-app-capable", content="yes"),
        rx.el.meta(name="apple-mobile-web-app-capable", content="yes"),
        rx.el.meta(name="apple-mobile-web-app-status-bar-style", content="default"),
        rx.el.meta(name="apple-mobile-web-app-title", content=SHORT_NAME),
        rx.el.link(rel="icon", href="/favicon.ico", sizes="16x16 32x32 48x48"),
        rx.el.link(rel="icon", href="/icons/icon-192.png", type="image/png", sizes="192x192"),
        rx.el.link(rel="apple-touch-icon", href="/icons/apple-touch-icon.png", sizes="180x180"),
        rx.el.script(REGISTER_SERVICE_WORKER),
    ]
