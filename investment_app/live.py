"""Pushing fired alerts to the open pages of their owner: a toast and the badge, with no click.

Each web worker runs ``alert_pusher`` (a lifespan task). It polls the alert table every POLL_SECONDS for rows
newer than the last it saw — whichever process fired them: this worker's scheduler, another worker's, or a
standalone ``python -m jobs`` — and pushes each to the tabs of the alert's owner whose websocket is connected
to this worker (Reflex's token manager knows them). Every tab is served by exactly one worker, so each gets
each alert once. The owner of a tab is recorded when one of its guarded events resolves the viewer
(``register``): in this process, and in Redis when configured, so a tab that reconnects to another worker is
still known there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis
import reflex as rx
from reflex.istate.manager.token import BaseStateToken
from reflex.state import StateUpdate
from reflex_base.event import Event

from investment_app.db import session_scope
from investment_app.services import alerts
from investment_app.services.alerts import Fired
from investment_app.settings import get_settings

POLL_SECONDS = 0.25
"""How often each worker looks for new alerts (the push latency is at most this plus the push itself)."""
OWNER_TTL_SECONDS = 7 * 24 * 3600
REDIS_PREFIX = "invest:tab-owner:"
TOAST_KIND = {"low": "info", "medium": "info", "high": "warning", "critical": "error"}

log = logging.getLogger(__name__)
_owners: dict[str, int] = {}
_redis: redis.Redis | None = None


def _client() -> redis.Redis | None:
    global _redis
    url = get_settings().redis_url
    if url and _redis is None:
        _redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return _redis


def register(token: str, user_id: int) -> None:
    """Remember that tab ``token`` belongs to ``user_id`` (0 = signed out). Blocks briefly on Redis, and only
    when the owner changes: call it where blocking is fine (a worker thread, or a sync handler)."""
    if not token or _owners.get(token) == user_id:
        return
    _owners[token] = user_id
    if (client := _client()) is not None:
        with contextlib.suppress(redis.RedisError):
            client.set(REDIS_PREFIX + token, user_id, ex=OWNER_TTL_SECONDS)


def _owners_of(tokens: list[str]) -> dict[str, int]:
    """Each tab's owner: this process's record, else Redis's (read fresh each time: the tab may have signed
    in or out on another worker). Records of tabs no longer connected here are dropped."""
    for gone in set(list(_owners)) - set(tokens):
        _owners.pop(gone, None)
    owners = {token: _owners[token] for token in tokens if token in _owners}
    remote = [token for token in tokens if token not in _owners]
    if remote and (client := _client()) is not None:
        with contextlib.suppress(redis.RedisError):
            values = client.mget([REDIS_PREFIX + token for token in remote])
            owners |= {token: int(value) for token, value in zip(remote, values, strict=True) if value}
    return owners


def _local_tokens(app: Any) -> list[str]:
    """The tabs whose websocket this worker holds."""
    manager = app.event_namespace._token_manager
    return [t for t, record in list(manager.token_to_socket.items()) if record.instance_id == manager.instance_id]


async def _push(app: Any, token: str, alert: Fired, badge: int) -> None:
    """Set the tab's badge and show a toast for ``alert``."""
    from investment_app.state import AppState

    async with app.modify_state(BaseStateToken(ident=token, cls=AppState)) as root:
        (await root.get_state(AppState)).open_alerts = badge
    toast = getattr(rx.toast, TOAST_KIND.get(alert.severity, "info"))(
        alert.title, description=alert.message, duration=10_000, id=f"alert-{alert.id}"
    )
    await app.event_namespace.emit_update(StateUpdate(events=Event.from_event_type(toast)), token)


async def deliver(app: Any, fired: list[Fired]) -> int:
    """Push each alert to its owner's tabs on this worker; how many pushes were made."""
    owners = await asyncio.to_thread(_owners_of, _local_tokens(app))
    pushes = 0
    for alert in fired:
        targets = [token for token, owner in owners.items() if owner == alert.owner_id]
        if not targets:
            continue
        badge = await asyncio.to_thread(_open_count, alert.owner_id)
        for token in targets:
            try:
                await _push(app, token, alert, badge)
                pushes += 1
            except Exception:  # one broken tab must not stop the others
                log.exception("pushing alert %d to a tab failed", alert.id)
    return pushes


def _open_count(user_id: int) -> int:
    with session_scope() as db:
        return alerts.open_count(db, user_id)


def _fired_since(after_id: int | None) -> tuple[int, list[Fired]]:
    """The alerts after ``after_id`` and the new cursor; None starts from the newest (nothing old is pushed)."""
    with session_scope() as db:
        if after_id is None:
            return alerts.latest_id(db), []
        fired = alerts.fired_since(db, after_id)
    return (fired[-1].id if fired else after_id), fired


async def _pump(app: Any) -> None:
    cursor: int | None = None
    while True:
        try:
            cursor, fired = await asyncio.to_thread(_fired_since, cursor)
            if fired:
                await deliver(app, fired)
        except asyncio.CancelledError:
            raise
        except Exception:  # the database may be briefly away: keep watching
            log.exception("alert pusher: poll failed")
        await asyncio.sleep(POLL_SECONDS)


@asynccontextmanager
async def alert_pusher(app: Any) -> AsyncIterator[None]:
    """Lifespan task: watch for new alerts and push them to this worker's tabs until the app stops."""
    task = asyncio.create_task(_pump(app), name="alert-pusher")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
