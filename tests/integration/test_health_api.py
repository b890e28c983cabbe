"""GET /api/health and the /api/v1 role checks, over HTTP through the ASGI app."""

import httpx
import pytest
from sqlmodel import select

from investment_app.api import create_api
from investment_app.auth import sessions
from investment_app.db import session_scope
from investment_app.models.audit import AuditRecord
from investment_app.models.user import Role
from investment_app.services import accounts


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_api()), base_url="http://test")


async def test_health_reports_database_migrations_and_scheduler(app_db):
    async with _client() as client:
        response = await client.get("/api/health")
    body = response.json()
    assert body["database"] == {"ok": True}
    assert body["migrations"]["at_head"] is True
    assert body["scheduler"]["state"] in {"starting", "running", "stale", "off", "unknown"}
    assert response.status_code == (200 if body["status"] == "ok" else 503)


async def test_health_is_503_with_one_line_when_the_database_is_unreachable(monkeypatch):
    from investment_app.settings import get_settings

    monkeypatch.setenv("REFLEX_DB_URL", "postgresql+psycopg://nobody:secret-pw@127.0.0.1:1/none")
    get_settings.cache_clear()
    try:
        async with _client() as client:
            response = await client.get("/api/health")
    finally:
        get_settings.cache_clear()
    assert response.status_code == 503
    error = response.json()["database"]["error"]
    assert "unreachable" in error and "\n" not in error and "secret-pw" not in error


def _cookie_for(role: Role, email: str) -> dict[str, str]:
    with session_scope() as db:
        user = accounts.create_user(db, email, "correct horse 42", role=role)
        token = sessions.redeem_ticket(db, sessions.issue_ticket(db, user.id))
    return {sessions.COOKIE_NAME: token}


@pytest.mark.parametrize(("role", "status"), [(Role.VIEWER, 403), (Role.ANALYST, 403), (Role.ADMIN, 200)])
async def test_admin_routes_check_the_role(app_db, role, status):
    cookies = _cookie_for(role, f"{role.value}@example.com")
    async with _client() as client:
        client.cookies.update(cookies)
        assert (await client.get("/api/v1/admin/users")).status_code == status
        assert (await client.get("/api/v1/admin/audit")).status_code == status
        me = await client.get("/api/v1/me")
    assert me.status_code == 200 and me.json()["role"] == role.value


async def test_routes_need_a_live_session(app_db):
    async with _client() as client:
        assert (await client.get("/api/v1/me")).status_code == 401
        client.cookies.set(sessions.COOKIE_NAME, "tampered-token")
        assert (await client.get("/api/v1/portfolios")).status_code == 401


async def test_ticket_route_sets_an_httponly_cookie_once(app_db):
    with session_scope() as db:
        user = accounts.create_user(db, "ann@example.com", "correct horse 42")
        ticket = sessions.issue_ticket(db, user.id)
    async with _client() as client:
        first = await client.get("/api/auth/session", params={"ticket": ticket, "next": "//evil.example"})
        again = await client.get("/api/auth/session", params={"ticket": ticket})
    cookie = first.headers["set-cookie"]
    assert first.status_code == 303 and first.headers["location"] == "/"
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert again.status_code == 303 and again.headers["location"].startswith("/signin")
    with session_scope() as db:
        actions = [r.action for r in db.exec(select(AuditRecord)).all()]
    assert actions == ["user.create", "session.create"]


async def test_logout_revokes_the_session_and_clears_the_cookie(app_db):
    cookies = _cookie_for(Role.ANALYST, "ann@example.com")
    async with _client() as client:
        client.cookies.update(cookies)
        response = await client.get("/api/auth/logout")
        assert response.status_code == 303
        assert 'inv_session=""' in response.headers["set-cookie"] or "Max-Age=0" in response.headers["set-cookie"]
        client.cookies.update(cookies)  # replaying the old cookie does not work any more
        assert (await client.get("/api/v1/me")).status_code == 401
    with session_scope() as db:
        assert db.exec(select(AuditRecord).where(AuditRecord.action == "session.end")).one().actor_email == (
            "ann@example.com"
        )
