"""Alert rules, the alerts they fire, and each user's notification settings."""

from __future__ import annotations

import datetime as dt
import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from investment_app.models._time import timestamp


class AlertKind(enum.StrEnum):
    """What a rule watches. Symbol kinds need ``symbol``; portfolio kinds need ``portfolio_id``."""

    PRICE_CROSS = "price_cross"
    MOVE = "move"
    RSI = "rsi"
    MA_CROSS = "ma_cross"
    DRAWDOWN = "drawdown"
    DAILY_LOSS = "daily_loss"
    VAR = "var"
    CONCENTRATION = "concentration"
    DRIFT = "drift"


class Severity(enum.StrEnum):
    """How urgent an alert is: low < medium < high < critical."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return ("low", "medium", "high", "critical").index(self.value)


class AlertState(enum.StrEnum):
    """An alert's life: open until someone acknowledges it, then resolved."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class AlertRule(SQLModel, table=True):
    """A condition on a symbol or a portfolio, checked on every new day of prices.

    ``params`` holds the kind's thresholds (see ``services.alert_rules.KIND_PARAMS``). A rule fires when its
    condition holds and at least ``cooldown_minutes`` have passed since it last fired.
    """

    __tablename__ = "alert_rule"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    portfolio_id: int | None = Field(default=None, foreign_key="portfolio.id", index=True, ondelete="CASCADE")
    symbol: str | None = Field(default=None, max_length=16, index=True)
    kind: str = Field(max_length=24)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    severity: str = Field(default="medium", max_length=16)
    cooldown_minutes: int = 1440
    email: bool = False
    enabled: bool = True
    name: str = Field(default="", max_length=120)
    created_at: datetime = timestamp(default_now=True)
    last_fired_at: datetime | None = timestamp(nullable=True)


class Alert(SQLModel, table=True):
    """One firing of a rule: what was seen, on which day, and what the owner did about it. A rule fires at most
    once per price date (unique rule and date), however many checks run.

    ``email_status``: none (the rule does not e-mail), pending, deferred (quiet hours, until ``email_due_at``),
    sending (claimed; ``email_due_at`` is then the end of the claim), sent, failed (with ``email_error``; tried
    again at ``email_due_at``), undeliverable (failed ``MAX_EMAIL_ATTEMPTS`` times), skipped (with the reason).
    """

    __tablename__ = "alert"
    __table_args__ = (
        Index("ix_alert_owner_state", "owner_id", "state"),
        UniqueConstraint("rule_id", "as_of", name="uq_alert_rule_day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    rule_id: int | None = Field(default=None, foreign_key="alert_rule.id", index=True, ondelete="SET NULL")
    owner_id: int = Field(foreign_key="app_user.id", ondelete="CASCADE")
    portfolio_id: int | None = Field(default=None, foreign_key="portfolio.id", ondelete="CASCADE")
    symbol: str | None = Field(default=None, max_length=16)
    kind: str = Field(max_length=24)
    severity: str = Field(max_length=16)
    title: str = Field(max_length=200)
    message: str = Field(default="", sa_column=Column(Text, nullable=False))
    value: float | None = None
    threshold: float | None = None
    as_of: dt.date
    fired_at: datetime = timestamp(default_now=True, index=True)
    state: str = Field(default="open", max_length=16)
    acknowledged_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    acknowledged_at: datetime | None = timestamp(nullable=True)
    resolved_by: int | None = Field(default=None, foreign_key="app_user.id", ondelete="SET NULL")
    resolved_at: datetime | None = timestamp(nullable=True)
    email_status: str = Field(default="none", max_length=16, index=True)
    email_due_at: datetime | None = timestamp(nullable=True)
    emailed_at: datetime | None = timestamp(nullable=True)
    email_error: str | None = Field(default=None, sa_column=Column(Text))
    email_attempts: int = 0


class NotificationSettings(SQLModel, table=True):
    """Where and when a user's alert e-mails go. Absent row = defaults (login address, unconfirmed).

    Quiet hours are wall-clock times in ``timezone``; a window may cross midnight (22:00 to 07:00). E-mails
    that fall inside are deferred to its end, except critical ones when ``critical_bypasses_quiet``.
    """

    __tablename__ = "notification_settings"

    user_id: int = Field(foreign_key="app_user.id", primary_key=True, ondelete="CASCADE")
    email: str = Field(max_length=254)
    email_confirmed_at: datetime | None = timestamp(nullable=True)
    email_severities: list[str] = Field(
        default_factory=lambda: ["high", "critical"], sa_column=Column(JSON, nullable=False)
    )
    quiet_start: str | None = Field(default=None, max_length=5)
    quiet_end: str | None = Field(default=None, max_length=5)
    timezone: str = Field(default="UTC", max_length=64)
    critical_bypasses_quiet: bool = True
    confirmation_sent_at: datetime | None = timestamp(nullable=True)
    updated_at: datetime = timestamp(default_now=True)
