"""A real SMTP server on loopback for the tests: aiosmtpd with a handler that keeps what it accepts.

``Inbox`` keeps each accepted message parsed, or refuses RCPT or DATA with a fixed answer; it can SIGKILL a
client process when message ``kill_at`` arrives, before answering, so that message is not accepted (a sender
killed mid-send). ``smtp_servers`` starts servers and stops them all at the end.
"""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


class Inbox:
    """An aiosmtpd handler: accepted messages in ``messages`` (parsed) and ``envelopes`` (raw)."""

    def __init__(self, refuse_rcpt: str | None = None, refuse_data: str | None = None) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Any] = []
        self.refuse_rcpt = refuse_rcpt
        self.refuse_data = refuse_data
        self.kill_at: int | None = None
        self.kill_pid: int | None = None
        self.arrived = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refuse_data:
            return self.refuse_data
        self.arrived += 1
        if self.arrived == self.kill_at and self.kill_pid:
            os.kill(self.kill_pid, signal.SIGKILL)
            return "451 sender gone"
        self.envelopes.append(envelope)
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 Message accepted for delivery"

    def by_subject(self) -> dict[str, EmailMessage]:
        return {m["Subject"]: m for m in self.messages}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_servers() -> Iterator[Callable[..., int]]:
    """Yields ``start(handler, port=None, **controller kwargs) -> port``; every server stops on exit."""
    controllers: list[Controller] = []

    def start(handler: Inbox, port: int | None = None, **kwargs: Any) -> int:
        controller = Controller(handler, hostname="127.0.0.1", port=port or free_port(), **kwargs)
        controller.start()
        controllers.append(controller)
        return controller.port

    try:
        yield start
    finally:
        for controller in controllers:
            controller.stop()
