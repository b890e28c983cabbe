"""Pushing fired alerts to the open pages of their owner: a toast and the badge, with no click.

Each web worker runs ``alert_pusher`` (a lifespan task) that polls the alert table every POLL_SECONDS for rows
newer than the last it saw, whichever process fired them (this worker's scheduler, another worker's, or a
standalone ``python -m jobs``). Tabs are recorded with their signed-in user whenever a guarded event resolves
the viewer (``register``). With one worker the records live in the process and it pushes itself. With several
workers sharing Redis (``REFLEX_REDIS_URL``) the records live in Redis, every worker sees every alert, and the
first to claim it (``SET NX`` on its id) pushes it to all the owner's tabs through ``app.modify_state``; Reflex
forwards each update to the worker that holds the tab's websocket. So each tab gets each alert once.
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
TAB_TTL_SECONDS = 7 * 24 * 3600
"""A user's tab record lapses this long after its last guarded event (closed tabs drop out)."""
TABS_KEY, OWNER_KEY, CLAIM_KEY = "invest:tabs:", "invest:tab-owner:", "invest:alert-pushed:"
TOAST_KIND = {"low": "info", "medium": "info", "high": "warning", "critical": "error"}

log = logging.getLogger(__name__)
_tabs: dict[int, set[str]] = {}
_owner: dict[str, int] = {}
_redis: redis.Redis | None = None


def _client() -> redis.Redis | None:
    global _redis
    url = get_settings().redis_url
    if url and _redis is None:
        _redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return _redis


def register(token: str, user_id: int) -> None:
    """Record that tab ``token`` is signed in as ``user_id`` (0 = nobody). Blocks briefly on Redis, and only
    when the record changes: call it from a worker thread or a sync handler."""
    if not token or _owner.get(token) == user_id:
        return
    before = _owner.get(token, 0)
    _tabs.get(before, set()).discard(token)
    _owner[token] = user_id
    if user_id:
        _tabs.setdefault(user_id, set()).add(token)
    if (client := _client()) is not None:
        with contextlib.suppress(redis.RedisError):
            pipe = client.pipeline()
            pipe.srem(f"{TABS_KEY}{before}", token)
            pipe.set(f"{OWNER_KEY}{token}", user_id, ex=TAB_TTL_SECONDS)
            if user_id:
                pipe.sadd(f"{TABS_KEY}{user_id}", token)
                pipe.expire(f"{TABS_KEY}{user_id}", TAB_TTL_SECONDS)
            pipe.execute()


def _claimed_tabs(alert: Fired) -> list[str]:
    """The owner's tabs if this worker is to push ``alert`` (it won the claim, or there is only this worker)."""
    client = _client()
    if client is None:
        return sorted(_tabs.get(alert.owner_id, ()))
    with contextlib.suppress(redis.RedisError):
        if client.set(f"{CLAIM_KEY}{alert.id}", 1, nx=True, ex=3600):
            tokens = client.smembers(f"{TABS_KEY}{alert.owner_id}")
            owners = client.mget([f"{OWNER_KEY}{t.decode()}" for t in tokens]) if tokens else []
            return sorted(t.decode() for t, o in zip(tokens, owners, strict=True) if o and int(o) == alert.owner_id)
    return []


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
    """Push each alert this worker is to push to its owner's tabs; how many pushes were made."""
    pushes = 0
    for alert in fired:
        tokens = await asyncio.to_thread(_claimed_tabs, alert)
        if not tokens:
            continue
        badge = await asyncio.to_thread(_open_count, alert.owner_id)
        for token in tokens:
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
    """Lifespan task: watch for new alerts and push them to the owners' tabs until the app stops."""
    task = asyncio.create_task(_pump(app), name="alert-pusher")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
