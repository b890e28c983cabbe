"""E-mail delivery: SMTP sending, the report e-mail, and signed unsubscribe tokens.

Nothing here touches the database or Reflex; the jobs and services that decide what to send call it.
"""

from investment_app.mail.report_email import compose_report_email, report_message_id, summary_figures
from investment_app.mail.smtp import DeliveryFailed, SmtpConfig, SmtpSession, send_message
from investment_app.mail.tokens import InvalidToken, make_unsubscribe_token, read_unsubscribe_token

__all__ = [
    "DeliveryFailed",
    "InvalidToken",
    "SmtpConfig",
    "SmtpSession",
    "compose_report_email",
    "make_unsubscribe_token",
    "read_unsubscribe_token",
    "report_message_id",
    "send_message",
    "summary_figures",
]
