"""Report e-mails through a real SMTP server (aiosmtpd on 127.0.0.1, a free port per test).

The received bytes are parsed with the standard ``email`` package; the summary figures are compared with
empyrical-reloaded computed here on the same bundled returns (AAPL vs SPY, 2019 to the data's end). STARTTLS
and implicit TLS run against a self-signed certificate generated here with ``cryptography``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import ssl
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import empyrical
import pandas as pd
import pytest
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from investment_app.mail import (
    DeliveryFailed,
    SmtpConfig,
    compose_report_email,
    make_unsubscribe_token,
    read_unsubscribe_token,
    send_message,
)
from investment_app.marketdata.bundled import bundled_bars
from investment_app.tearsheet.build import build_tearsheet
from tests.fakes.smtp import Inbox, free_port, smtp_servers

KEY = "integration-secret"
SENDER = "Portfolio reports <reports@example.org>"
RECIPIENT = "owner@example.com"
MINUS = "\u2212"


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., int]]:
    """Start real aiosmtpd servers; yields a function (handler, **controller kwargs) → port."""
    with smtp_servers() as start:
        yield start


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 / localhost (P-256, one day)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def _server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture(scope="module")
def returns() -> tuple[pd.Series, pd.Series]:
    closes = bundled_bars().pivot(index="date", columns="symbol", values="adj_close")
    closes.index = pd.DatetimeIndex(closes.index)
    window = closes.loc["2019-01-01":"2024-12-31", ["AAPL", "SPY"]].dropna()
    daily = window.pct_change().iloc[1:]
    return daily["AAPL"].rename("AAPL"), daily["SPY"].rename("SPY")


@pytest.fixture(scope="module")
def report(returns: tuple[pd.Series, pd.Series]) -> EmailMessage:
    data = build_tearsheet(*returns, title="Weekly report: Growth", portfolio_name="Growth")
    token = make_unsubscribe_token(17, KEY)
    return compose_report_email(
        data, sender=SENDER, to=RECIPIENT, unsubscribe_url=f"https://invest.example.org/unsubscribe?token={token}"
    )


def _received(handler: Inbox) -> EmailMessage:
    assert len(handler.envelopes) == 1
    envelope = handler.envelopes[0]
    assert envelope.mail_from == "reports@example.org"
    assert envelope.rcpt_tos == [RECIPIENT]
    return message_from_bytes(envelope.original_content, policy=policy.default)


def _pct(value: float) -> str:
    return f"{value * 100:.2f}%".replace("-", MINUS)


def test_report_arrives_with_summary_attachments_and_one_click_unsubscribe(
    smtp_server, report: EmailMessage, returns: tuple[pd.Series, pd.Series]
) -> None:
    handler = Inbox()
    port = smtp_server(handler)
    send_message(report, SmtpConfig(host="127.0.0.1", port=port, security="none"))
    received = _received(handler)

    first, last = (day.date().isoformat() for day in returns[0].index[[0, -1]])
    assert received["Subject"] == f"Weekly report: Growth: {first} to {last}"
    assert received["From"] == SENDER and received["To"] == RECIPIENT
    assert received["Message-ID"].endswith("@example.org>")
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received.get_content_type() == "multipart/mixed"

    # The unsubscribe URL: one in the header, the same in both bodies; its token names subscription 17 only.
    url = received["List-Unsubscribe"].strip("<>")
    html_body = received.get_body(("html",)).get_content()
    text_body = received.get_body(("plain",)).get_content()
    assert f'href="{url.replace("&", "&amp;")}"' in html_body and url in text_body
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "invest.example.org", "/unsubscribe")
    assert read_unsubscribe_token(parse_qs(parts.query)["token"][0], KEY) == 17

    # The summary: five figures, against empyrical on the same returns (CAGR over 252 days, ddof=1 volatility).
    aapl = returns[0]
    expected = {
        "Total return": _pct(empyrical.cum_returns_final(aapl)),
        "Annual return (CAGR)": _pct(empyrical.annual_return(aapl)),
        "Annual volatility": _pct(empyrical.annual_volatility(aapl)),
        "Sharpe": f"{empyrical.sharpe_ratio(aapl):.2f}",
        "Max drawdown": _pct(empyrical.max_drawdown(aapl)),
    }
    for label, value in expected.items():
        assert f"{label}</td>" in html_body and f">{value}</td>" in html_body, (label, value)
        assert any(line.startswith(label) and line.endswith(value) for line in text_body.splitlines()), (label, value)

    attachments = {part.get_filename(): part for part in received.iter_attachments()}
    assert set(attachments) == {f"tearsheet-Growth-{last}.html", f"tearsheet-Growth-{last}.pdf"}
    tearsheet_html = attachments[f"tearsheet-Growth-{last}.html"]
    assert tearsheet_html.get_content_type() == "text/html"
    assert "Weekly report: Growth" in tearsheet_html.get_content()
    pdf = attachments[f"tearsheet-Growth-{last}.pdf"]
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_content().startswith(b"%PDF-") and b"%%EOF" in pdf.get_content()[-64:]


def test_refused_recipient_raises_with_the_server_answer(smtp_server, report: EmailMessage) -> None:
    handler = Inbox(refuse_rcpt="550 mailbox unavailable")
    port = smtp_server(handler)
    with pytest.raises(DeliveryFailed) as failure:
        send_message(report, SmtpConfig(host="127.0.0.1", port=port, security="none"))
    assert (failure.value.code, failure.value.stage) == (550, "recipients refused")
    assert failure.value.text == f"{RECIPIENT}: 550 mailbox unavailable"
    assert handler.envelopes == []


def test_refused_data_raises_with_the_server_answer(smtp_server, report: EmailMessage) -> None:
    handler = Inbox(refuse_data="554 5.7.1 message rejected as spam")
    port = smtp_server(handler)
    with pytest.raises(DeliveryFailed, match=r"554 5\.7\.1 message rejected as spam") as failure:
        send_message(report, SmtpConfig(host="127.0.0.1", port=port, security="none"))
    assert failure.value.code == 554


def test_no_server_listening_is_a_connection_failure(report: EmailMessage) -> None:
    with pytest.raises(DeliveryFailed, match="ConnectionRefusedError") as failure:
        send_message(report, SmtpConfig(host="127.0.0.1", port=free_port(), security="none", timeout=5))
    assert (failure.value.code, failure.value.stage) == (None, "connection")


def test_starttls_with_login(smtp_server, report: EmailMessage, certificate, caplog) -> None:
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"right password", handled=False)

    handler = Inbox()
    port = smtp_server(
        handler, tls_context=_server_tls(certificate), require_starttls=True, authenticator=authenticator
    )
    client_tls = ssl.create_default_context(cafile=str(certificate[0]))
    config = SmtpConfig("127.0.0.1", port, "starttls", "reporter", "right password", ssl_context=client_tls)
    send_message(report, config)
    assert _received(handler)["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert logins == [(b"reporter", b"right password")]

    wrong = SmtpConfig("127.0.0.1", port, "starttls", "reporter", "wrong password", ssl_context=client_tls)
    with caplog.at_level(logging.DEBUG), pytest.raises(DeliveryFailed) as failure:
        send_message(report, wrong)
    assert (failure.value.code, failure.value.stage) == (535, "login")
    assert "wrong password" not in str(failure.value) + caplog.text + repr(wrong)


def test_starttls_refuses_an_untrusted_certificate(smtp_server, report: EmailMessage, certificate) -> None:
    port = smtp_server(Inbox(), tls_context=_server_tls(certificate), require_starttls=True)
    with pytest.raises(DeliveryFailed, match="CERTIFICATE_VERIFY_FAILED") as failure:
        send_message(report, SmtpConfig("127.0.0.1", port, "starttls"))
    assert failure.value.code is None


def test_starttls_required_but_not_offered(smtp_server, report: EmailMessage) -> None:
    port = smtp_server(Inbox())
    with pytest.raises(DeliveryFailed, match="STARTTLS") as failure:
        send_message(report, SmtpConfig("127.0.0.1", port, "starttls"))
    assert failure.value.stage == "starttls"


def test_implicit_tls(smtp_server, report: EmailMessage, certificate) -> None:
    handler = Inbox()
    port = smtp_server(handler, ssl_context=_server_tls(certificate))
    client_tls = ssl.create_default_context(cafile=str(certificate[0]))
    send_message(report, SmtpConfig("127.0.0.1", port, "tls", ssl_context=client_tls))
    assert _received(handler)["To"] == RECIPIENT


def test_bad_configuration_and_url_are_refused(returns: tuple[pd.Series, pd.Series]) -> None:
    with pytest.raises(ValueError, match="SMTP_HOST is not set"):
        SmtpConfig(host="", port=25)
    with pytest.raises(ValueError, match="none, starttls, tls"):
        SmtpConfig(host="127.0.0.1", port=25, security="ssl")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="between 1 and 65535"):
        SmtpConfig(host="127.0.0.1", port=0)
    data = build_tearsheet(returns[0].iloc[:40], title="Short")
    for url in ("/unsubscribe?token=x", "javascript:alert(1)", "https://x.org/a b"):
        with pytest.raises(ValueError, match="absolute http"):
            compose_report_email(data, sender=SENDER, to=RECIPIENT, unsubscribe_url=url)
