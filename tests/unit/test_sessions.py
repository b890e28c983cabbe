"""Sessions: ticket exchange, expiry (absolute and idle), revocation, deactivated users."""

from datetime import timedelta

from investment_app.auth import sessions
from investment_app.auth.tokens import token_id
from investment_app.models._time import utcnow
from investment_app.models.user import AuthSession, LoginTicket, User
from investment_app.services import accounts


def _user(db, email="ann@example.com") -> User:
    user = accounts.create_user(db, email, "correct horse 42", "Ann")
    db.commit()
    return user


def _open(db, user) -> str:
    ticket = sessions.issue_ticket(db, user.id)
    token = sessions.redeem_ticket(db, ticket, "127.0.0.1", "pytest")
    db.commit()
    return token


def test_ticket_opens_a_session_once(db):
    user = _user(db)
    ticket = sessions.issue_ticket(db, user.id)
    token = sessions.redeem_ticket(db, ticket)
    assert token and sessions.resolve(db, token).email == "ann@example.com"
    assert sessions.redeem_ticket(db, ticket) is None  # single use
    assert db.get(AuthSession, token_id(token)) is not None  # only the keyed hash is stored
    assert db.get(AuthSession, token) is None


def test_expired_ticket_is_refused(db):
    user = _user(db)
    ticket = sessions.issue_ticket(db, user.id)
    db.get(LoginTicket, token_id(ticket)).expires_at = utcnow() - timedelta(seconds=1)
    assert sessions.redeem_ticket(db, ticket) is None


def test_unknown_or_tampered_token_resolves_to_nobody(db):
    user = _user(db)
    token = _open(db, user)
    assert sessions.resolve(db, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert sessions.resolve(db, "") is None
    assert sessions.resolve(db, None) is None


def test_absolute_expiry(db):
    token = _open(db, _user(db))
    row = db.get(AuthSession, token_id(token))
    row.expires_at = utcnow() - timedelta(seconds=1)
    assert sessions.resolve(db, token) is None


def test_idle_expiry(db):
    token = _open(db, _user(db))
    row = db.get(AuthSession, token_id(token))
    row.last_seen_at = utcnow() - timedelta(hours=24 * 3, seconds=1)
    assert sessions.resolve(db, token) is None


def test_revoke_one_and_sign_out_everywhere(db):
    user = _user(db)
    first, second, third = _open(db, user), _open(db, user), _open(db, user)
    viewer = sessions.resolve(db, first)
    assert sessions.revoke(db, user.id, token_id(second))
    assert sessions.resolve(db, second) is None and sessions.resolve(db, first) is not None
    assert sessions.revoke_all(db, user.id, keep=viewer.session_id) == 1
    assert sessions.resolve(db, third) is None and sessions.resolve(db, first) is not None
    assert sessions.revoke_all(db, user.id) == 1
    assert sessions.resolve(db, first) is None


def test_cannot_revoke_someone_elses_session(db):
    ann, bob = _user(db), _user(db, "bob@example.com")
    token = _open(db, ann)
    assert not sessions.revoke(db, bob.id, token_id(token))
    assert sessions.resolve(db, token) is not None


def test_deactivated_user_has_no_session(db):
    user = _user(db)
    token = _open(db, user)
    user.is_active = False
    db.add(user)
    assert sessions.resolve(db, token) is None
