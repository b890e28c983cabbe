"""Unsubscribe tokens: the signature is checked against an HMAC-SHA256 computed here with the standard
library (RFC 4231 test case 2 pins the primitive), and every kind of tampering is refused."""

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from investment_app.mail.tokens import InvalidToken, make_unsubscribe_token, read_unsubscribe_token

KEY = "unit-test-secret"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_hmac_sha256_matches_rfc4231_case_2() -> None:
    """The primitive the tokens use, against the published RFC 4231 §4.3 vector ("Jefe")."""
    digest = hmac.new(b"Jefe", b"what do ya want for nothing?", hashlib.sha256).hexdigest()
    assert digest == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


def test_token_layout_and_signature_are_hmac_sha256_of_the_documented_message() -> None:
    token = make_unsubscribe_token(42, KEY)
    expected = _b64(hmac.new(KEY.encode(), b"unsubscribe.v1:42:-", hashlib.sha256).digest())
    assert token == f"v1.42.-.{expected}"
    assert read_unsubscribe_token(token, KEY) == 42


def test_expiring_token_is_valid_until_its_expiry_then_refused() -> None:
    expires = NOW + timedelta(days=30)
    token = make_unsubscribe_token(7, KEY, expires_at=expires)
    assert token.split(".")[2] == str(int(expires.timestamp()))
    assert read_unsubscribe_token(token, KEY, now=NOW) == 7
    assert read_unsubscribe_token(token, KEY, now=expires - timedelta(seconds=1)) == 7
    with pytest.raises(InvalidToken, match="expired"):
        read_unsubscribe_token(token, KEY, now=expires)


def test_token_for_one_subscription_does_not_open_another() -> None:
    token = make_unsubscribe_token(5, KEY)
    other = token.replace("v1.5.", "v1.6.", 1)
    with pytest.raises(InvalidToken, match="bad signature"):
        read_unsubscribe_token(other, KEY)


def test_extending_the_expiry_breaks_the_signature() -> None:
    token = make_unsubscribe_token(5, KEY, expires_at=NOW)
    version, sub, _, sig = token.split(".")
    for forged in (f"{version}.{sub}.-.{sig}", f"{version}.{sub}.{int(NOW.timestamp()) + 86400}.{sig}"):
        with pytest.raises(InvalidToken, match="bad signature"):
            read_unsubscribe_token(forged, KEY, now=NOW - timedelta(days=1))


def test_every_single_character_change_of_the_signature_is_refused() -> None:
    token = make_unsubscribe_token(123, KEY)
    head, sig = token.rsplit(".", 1)
    for i in range(len(sig)):
        flipped = "A" if sig[i] != "A" else "B"
        with pytest.raises(InvalidToken):
            read_unsubscribe_token(f"{head}.{sig[:i]}{flipped}{sig[i + 1 :]}", KEY)


def test_another_key_is_refused() -> None:
    with pytest.raises(InvalidToken, match="bad signature"):
        read_unsubscribe_token(make_unsubscribe_token(9, KEY), "another-key")


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "v2.1.-.x",
        "v1.0.-." + "A" * 43,
        "v1.-1.-." + "A" * 43,
        "v1.1.-." + "A" * 42,
        "v1.1.-.A" * 2,
        None,
    ],
)
def test_malformed_tokens_are_refused(token: object) -> None:
    with pytest.raises(InvalidToken, match="malformed"):
        read_unsubscribe_token(token, KEY)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad_id", [0, -3, True, "12", 1.5])
def test_only_positive_integer_ids_are_signed(bad_id: object) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        make_unsubscribe_token(bad_id, KEY)  # type: ignore[arg-type]


def test_naive_expiry_and_empty_key_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        make_unsubscribe_token(1, KEY, expires_at=datetime(2030, 1, 1))
    with pytest.raises(ValueError, match="SECRET_KEY is empty"):
        make_unsubscribe_token(1, "")


def test_verification_uses_constant_time_comparison(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
    read_unsubscribe_token(make_unsubscribe_token(3, KEY), KEY)
    assert len(calls) == 1
