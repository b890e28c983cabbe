"""Wiring only: the Reflex app, its theme and head tags, the REST API, the scheduler and the alert pusher."""

import reflex as rx

from investment_app import pages  # noqa: F401  (registers every page and State)
from investment_app.api import create_api
from investment_app.components.pwa import head_components
from investment_app.live import alert_pusher
from investment_app.logs import configure_logging
from jobs.lifespan import scheduler_lifespan

configure_logging()

app = rx.App(
    head_components=head_components(),
    api_transformer=create_api(),
    toaster=rx.toast.provider(position="top-center", close_button=True),
)
app.register_lifespan_task(scheduler_lifespan)
app.register_lifespan_task(alert_pusher)
