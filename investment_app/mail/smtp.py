"""Send a prepared ``EmailMessage`` over SMTP with the configured security (none, starttls or tls).

Every failure becomes ``DeliveryFailed`` carrying the server's answer (its SMTP code and text) or, when no
server answered, the network error; the password never appears in a message or a log line.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Literal

from investment_app.settings import Settings

log = logging.getLogger(__name__)

Security = Literal["none", "starttls", "tls"]
SECURITY_MODES = ("none", "starttls", "tls")


class DeliveryFailed(Exception):
    """The message was not accepted: ``code`` and ``text`` are the server's answer (code None: no answer)."""

    def __init__(self, stage: str, code: int | None, text: str) -> None:
        self.stage = stage
        self.code = code
        self.text = text
        answer = f"{code} {text}" if code is not None else text
        super().__init__(f"e-mail not delivered ({stage}): {answer}")


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to connect; ``ssl_context`` None means the system's trusted CAs with host-name checks."""

    host: str
    port: int
    security: Security = "starttls"
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 30.0
    ssl_context: ssl.SSLContext | None = None

    def __post_init__(self) -> None:
        if not self.host:
            raise ValueError("SMTP_HOST is not set: e-mail delivery is off")
        if self.security not in SECURITY_MODES:
            raise ValueError(f"SMTP security must be one of {', '.join(SECURITY_MODES)}; got {self.security!r}")
        if not 0 < self.port < 65536:
            raise ValueError(f"SMTP port must be between 1 and 65535; got {self.port}")

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig:
        """The SMTP_* settings of the environment."""
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,  # type: ignore[arg-type]  # checked in settings and __post_init__
            username=settings.smtp_username,
            password=settings.smtp_password,
        )

    def context(self) -> ssl.SSLContext:
        """The TLS context: the configured one, else ``ssl.create_default_context()``."""
        return self.ssl_context or ssl.create_default_context()


def _connect(config: SmtpConfig) -> smtplib.SMTP:
    """An open session, upgraded to TLS (starttls) or TLS from the start (tls), logged in when configured."""
    if config.security == "tls":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            config.host, config.port, timeout=config.timeout, context=config.context()
        )
    else:
        client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    try:
        client.ehlo()
        if config.security == "starttls":
            client.starttls(context=config.context())
            client.ehlo()
        if config.username:
            client.login(config.username, config.password)
    except BaseException:
        client.close()
        raise
    return client


def _failure(exc: Exception) -> DeliveryFailed:
    """The server's answer inside ``exc`` (refused recipients, sender, data, login), or the network error."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return _refused(exc.recipients)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return DeliveryFailed("login", exc.smtp_code, _text(exc.smtp_error))
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return DeliveryFailed("sender refused", exc.smtp_code, _text(exc.smtp_error))
    if isinstance(exc, smtplib.SMTPResponseException):
        return DeliveryFailed("server refused", exc.smtp_code, _text(exc.smtp_error))
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return DeliveryFailed("starttls", None, f"server does not offer STARTTLS: {exc}")
    return DeliveryFailed("connection", None, f"{type(exc).__name__}: {exc}")


def _refused(recipients: dict[str, tuple[int, bytes]]) -> DeliveryFailed:
    """Every refused recipient with its answer; the code is the first one's."""
    detail = "; ".join(f"{rcpt}: {code} {_text(text)}" for rcpt, (code, text) in recipients.items())
    return DeliveryFailed("recipients refused", next(iter(recipients.values()))[0], detail)


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


class SmtpSession:
    """One SMTP connection reused for several messages (a report batch), opened on the first ``send``.

    Before each later message a NOOP checks that the server still holds the connection (servers drop idle
    ones); if not, it reconnects. After any failure the connection is closed, so the next message starts on
    a clean one. Use it as a context manager: leaving it says QUIT.
    """

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self.connections = 0
        """How many connections were opened (1 for a batch on a healthy server)."""
        self._client: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` to its To/Cc/Bcc recipients (``smtplib.send_message``); raise ``DeliveryFailed``.

        A server that accepts some recipients and refuses others also raises, naming the refused ones, so a
        caller never records a partial delivery as done.
        """
        config = self.config
        try:
            refused = self._open().send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            failure = _failure(exc)
            log.warning("SMTP delivery to %s:%d failed: %s", config.host, config.port, failure)
            raise failure from exc
        if refused:
            self.close()
            raise _refused(refused)
        log.info("e-mail %s delivered through %s:%d", message.get("Message-ID", "?"), config.host, config.port)

    def close(self) -> None:
        """QUIT and close the connection, if one is open (a dead one is just closed)."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()

    def _open(self) -> smtplib.SMTP:
        """The open connection if the server still answers NOOP with 250, else a new one."""
        if self._client is not None:
            try:
                if self._client.noop()[0] == 250:
                    return self._client
            except (smtplib.SMTPException, OSError):
                pass
            self.close()
        self._client = _connect(self.config)
        self.connections += 1
        return self._client


def send_message(message: EmailMessage, config: SmtpConfig) -> None:
    """Deliver one message on its own connection (see ``SmtpSession.send``); raise ``DeliveryFailed``."""
    with SmtpSession(config) as session:
        session.send(message)
