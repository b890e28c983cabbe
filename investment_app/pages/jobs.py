"""Admin · Jobs: every scheduled job with its schedule, state, next run and last runs; run now, pause, resume.

Commands are queued for the scheduler's leader (jobs.control), which applies them within a second or two.
"""

from __future__ import annotations

from datetime import datetime

import reflex as rx

from investment_app.auth.viewer import Viewer
from investment_app.components.layout import app_page
from investment_app.components.tables import RIGHT, scroll_table
from investment_app.db import session_scope
from investment_app.models.user import Role
from investment_app.state import AppState, authorized
from jobs import control
from jobs.control import JobView, RunView
from jobs.status import scheduler_status

STATE_COLOR = {"scheduled": "green", "paused": "orange", "not scheduled": "gray"}
RUN_COLOR = {"ok": "green", "running": "blue", "retrying": "orange", "failed": "red", "skipped": "gray"}
ACTION_DONE = {"run": "Run requested.", "pause": "Pause requested.", "resume": "Resume requested."}


class JobsState(AppState):
    """The jobs page's view data."""

    jobs: list[JobView] = []
    scheduler: str = ""

    def _reload(self, viewer: Viewer) -> None:
        with session_scope() as db:
            self.jobs = control.overview(db, viewer)
        status = scheduler_status()
        beat = status.get("last_heartbeat")
        beat = f"{datetime.fromisoformat(beat):%Y-%m-%d %H:%M:%S} UTC" if beat else "never"
        self.scheduler = f"Scheduler {status['state']} ({status['mode']}); last heartbeat {beat}"

    @rx.event
    @authorized(Role.ADMIN)
    def load(self, viewer: Viewer) -> None:
        self._reload(viewer)

    @rx.event
    @authorized(Role.ADMIN)
    def command(self, viewer: Viewer, job_id: str, action: str):
        with session_scope() as db:
            control.request(db, viewer, job_id, action)
        self._reload(viewer)
        return rx.toast.info(ACTION_DONE.get(action, "Requested."))


def run_row(r: RunView) -> rx.Component:
    return rx.table.row(
        rx.table.cell(r.started, white_space="nowrap"),
        rx.table.cell(rx.badge(r.status, color_scheme=rx.match(r.status, *RUN_COLOR.items(), "gray"), size="1")),
        rx.table.cell(r.attempt, **RIGHT),
        rx.table.cell(r.processed, **RIGHT),
        rx.table.cell(r.duration, **RIGHT),
        rx.table.cell(rx.text(r.error, size="1", color_scheme="red")),
    )


def job_card(job: JobView) -> rx.Component:
    buttons = rx.hstack(
        rx.button("Run now", size="1", on_click=JobsState.command(job.id, "run")),
        rx.cond(
            job.state == "paused",
            rx.button("Resume", size="1", variant="soft", on_click=JobsState.command(job.id, "resume")),
            rx.button(
                "Pause", size="1", variant="soft", color_scheme="orange", on_click=JobsState.command(job.id, "pause")
            ),
        ),
        spacing="2",
    )
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(job.name, size="4"),
                rx.badge(job.state, color_scheme=rx.match(job.state, *STATE_COLOR.items(), "gray")),
                rx.spacer(),
                buttons,
                width="100%",
                align="center",
                wrap="wrap",
            ),
            rx.text(job.description, size="2", color_scheme="gray"),
            rx.text(
                job.schedule,
                rx.cond(job.next_run != "", " · next run " + job.next_run, ""),
                rx.cond(job.pending != "", " · waiting for the scheduler: " + job.pending, ""),
                size="2",
            ),
            rx.cond(
                job.runs.length() > 0,
                scroll_table(["Started", "Status", "Attempt", "Items", "Took", "Error"], rx.foreach(job.runs, run_row)),
                rx.text("No runs yet.", size="2", color_scheme="gray"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        id=f"job-{job.id}",
    )


@app_page("/admin/jobs", "Jobs", on_load=JobsState.load)
def jobs_page() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.text(JobsState.scheduler, size="2", color_scheme="gray"),
            rx.spacer(),
            rx.button(rx.icon("refresh-cw", size=14), "Refresh", size="1", variant="soft", on_click=JobsState.load),
            width="100%",
            align="center",
        ),
        rx.foreach(JobsState.jobs, job_card),
        width="100%",
        spacing="3",
    )
