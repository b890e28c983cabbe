"""Reflex configuration. The database URL comes from investment_app.settings (REFLEX_DB_URL)."""

import reflex as rx

from investment_app.settings import get_settings

config = rx.Config(
    app_name="investment_app",
    db_url=get_settings().database_url,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[
        rx.plugins.SitemapPlugin(),
        rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="teal", gray_color="slate", radius="medium")),
    ],
)
