"""Logging: one JSON object per line in production (LOG_FORMAT=json), plain text otherwise."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from investment_app.settings import get_settings

QUIET_LOGGERS = ("apscheduler", "alembic")  # one INFO line per job run / per migration check
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Formats a record as JSON: time (UTC, ISO), level, logger, message, extra fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def configure_logging() -> None:
    """Install the root handler once, per LOG_FORMAT and LOG_LEVEL."""
    settings = get_settings()
    root = logging.getLogger()
    if any(getattr(h, "_investment_app", False) for h in root.handlers):
        return
    handler = logging.StreamHandler()
    handler._investment_app = True  # type: ignore[attr-defined]
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for chatty in QUIET_LOGGERS:
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
