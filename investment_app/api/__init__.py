"""REST API mounted into the Reflex app through ``api_transformer``: /api/health, /api/auth, /api/v1."""

from fastapi import FastAPI

from investment_app.api import auth, health, notifications, reports, v1


def create_api() -> FastAPI:
    """The FastAPI app; its docs live under /api/docs so they never shadow a page."""
    api = FastAPI(title="Investment App API", docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json")
    api.include_router(health.router)
    api.include_router(auth.router)
    api.include_router(v1.router)
    api.include_router(reports.router)
    api.include_router(notifications.router)
    return api
