"""Failed sign-ins are limited per account and per client address."""

import pytest

from investment_app.auth import ratelimit
from investment_app.services import accounts
from investment_app.services.errors import InvalidInput, RateLimited
from investment_app.settings import get_settings


@pytest.fixture
def ann(db):
    accounts.create_user(db, "ann@example.com", "correct horse 42")
    db.commit()


def test_account_locks_after_max_failures_even_with_the_right_password(db, ann):
    limit = get_settings().login_max_failures
    for _ in range(limit):
        with pytest.raises(InvalidInput):
            accounts.sign_in(db, "ann@example.com", "wrong password 1", "10.0.0.1")
    with pytest.raises(RateLimited):
        accounts.sign_in(db, "ann@example.com", "correct horse 42", "10.0.0.2")


def test_success_clears_the_account_counter(db, ann):
    limit = get_settings().login_max_failures
    for _ in range(limit - 1):
        with pytest.raises(InvalidInput):
            accounts.sign_in(db, "ann@example.com", "wrong password 1", "10.0.0.1")
    assert accounts.sign_in(db, "ann@example.com", "correct horse 42", "10.0.0.1")
    assert not ratelimit.is_limited(db, "ann@example.com", "")


def test_address_locks_after_failures_across_many_accounts(db, ann):
    limit = get_settings().login_max_failures * ratelimit.ADDRESS_FACTOR
    for i in range(limit):
        with pytest.raises(InvalidInput):
            accounts.sign_in(db, f"user{i}@example.com", "wrong password 1", "10.0.0.9")
    with pytest.raises(RateLimited):
        accounts.sign_in(db, "ann@example.com", "correct horse 42", "10.0.0.9")
    assert accounts.sign_in(db, "ann@example.com", "correct horse 42", "10.0.0.10")


def test_wrong_password_and_unknown_account_read_the_same(db, ann):
    with pytest.raises(InvalidInput) as wrong:
        accounts.sign_in(db, "ann@example.com", "wrong password 1", "10.0.0.1")
    with pytest.raises(InvalidInput) as unknown:
        accounts.sign_in(db, "nobody@example.com", "wrong password 1", "10.0.0.1")
    with pytest.raises(InvalidInput) as malformed:
        accounts.sign_in(db, "not-an-email", "wrong password 1", "10.0.0.1")
    assert str(wrong.value) == str(unknown.value) == str(malformed.value) == accounts.BAD_CREDENTIALS
