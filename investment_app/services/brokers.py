"""A user's broker connections (Alpaca keys, paper or live): sealed at rest, never shown again, never logged.
Only the key id's last four characters (``key_hint``) are ever returned."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from investment_app.auth.secrets_box import seal
from investment_app.auth.viewer import Viewer
from investment_app.models.rebalance import RebalanceSettings
from investment_app.models.trading import BrokerConnection
from investment_app.services import audit
from investment_app.services.errors import InvalidInput
from investment_app.settings import get_settings

NOT_FOUND = "No such broker connection, or it is not yours."


@dataclass(frozen=True)
class ConnectionRow:
    """A connection as pages show it: no key material beyond its hint."""

    id: int
    name: str
    live: bool
    key_hint: str
    url_override: str
    created: str


def _row(c: BrokerConnection) -> ConnectionRow:
    return ConnectionRow(c.id, c.name, c.live, c.key_hint, c.url_override, f"{c.created_at:%Y-%m-%d}")


def _clean_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if url and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc):
        raise InvalidInput(f"The API URL {url!r} is not an http(s) URL.")
    return url


def add_connection(
    db: Session, viewer: Viewer, name: str, key_id: str, secret: str, live: bool = False, url_override: str = ""
) -> ConnectionRow:
    """Store an Alpaca connection with its keys sealed (audited without the keys)."""
    name, key_id, secret = name.strip(), key_id.strip(), secret.strip()
    if not name or len(name) > 120:
        raise InvalidInput("Give the connection a name of 1 to 120 characters.")
    if len(key_id) < 8 or len(secret) < 8:
        raise InvalidInput("Enter the API key id and secret from your Alpaca dashboard.")
    taken = db.exec(
        select(BrokerConnection).where(BrokerConnection.owner_id == viewer.user_id, BrokerConnection.name == name)
    ).first()
    if taken is not None:
        raise InvalidInput(f"You already have a broker connection named {name!r}.")
    key = get_settings().secret_key
    conn = BrokerConnection(
        owner_id=viewer.user_id,
        name=name,
        live=live,
        key_id_encrypted=seal(key_id, key),
        secret_encrypted=seal(secret, key),
        key_hint=key_id[-4:],
        url_override=_clean_url(url_override),
    )
    db.add(conn)
    db.flush()
    audit.record(db, viewer, "broker.connect", "broker_connection", conn.id, after={"name": name, "live": live})
    return _row(conn)


def list_connections(db: Session, viewer: Viewer) -> list[ConnectionRow]:
    """The viewer's own connections."""
    stmt = (
        select(BrokerConnection).where(BrokerConnection.owner_id == viewer.user_id).order_by(col(BrokerConnection.id))
    )
    return [_row(c) for c in db.exec(stmt).all()]


def delete_connection(db: Session, viewer: Viewer, connection_id: int) -> None:
    """Forget a connection and its keys; portfolios using it fall back to the paper broker. Audited."""
    conn = db.get(BrokerConnection, connection_id)
    if conn is None or conn.owner_id != viewer.user_id:
        raise InvalidInput(NOT_FOUND)
    for s in db.exec(select(RebalanceSettings).where(RebalanceSettings.connection_id == connection_id)).all():
        s.connection_id, s.broker = None, "paper"
        db.add(s)
    db.delete(conn)
    audit.record(db, viewer, "broker.disconnect", "broker_connection", connection_id, before={"name": conn.name})
