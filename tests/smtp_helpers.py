"""A real SMTP server (aiosmtpd) on a loopback port that a test can stop, stall and start again."""
from __future__ import annotations

import socket
import threading
import time
from email import message_from_bytes, policy


def free_port() -> int:
    """A loopback port nothing listens on (until a test starts a server there)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpSink:
    """aiosmtpd handler keeping every accepted message; `stall()` makes it hold the next DATA until released."""

    def __init__(self):
        self.messages = []
        self.in_data = threading.Event()
        self._release = threading.Event()
        self._release.set()
        self._refuse_held = False

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.in_data.set()
        if not self._release.is_set():
            # aiosmtpd runs handlers on its event loop: wait in a thread so other sessions go on.
            import asyncio

            await asyncio.get_running_loop().run_in_executor(None, self._release.wait, 30)
            if self._refuse_held:
                return "451 4.3.0 try again later"
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def stall(self, refuse_when_released: bool = False) -> None:
        """Hold every DATA until release(); then refuse or accept what was held."""
        self.in_data.clear()
        self._refuse_held = refuse_when_released
        self._release.clear()

    def release(self) -> None:
        self._release.set()

    def wait_for(self, count: int, timeout: float = 15.0):
        """Wait until count messages have arrived; return them."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            assert time.monotonic() < deadline, f"expected {count} messages, got {len(self.messages)}"
            time.sleep(0.05)
        return list(self.messages)

    @staticmethod
    def text(message) -> str:
        """The plain-text body of a message."""
        return message.get_body(preferencelist=("plain",)).get_content()


class SmtpServer:
    """Start, stop and restart an aiosmtpd Controller on one fixed loopback port."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.sink = SmtpSink()
        self._controller = None

    def start(self) -> SmtpServer:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self.sink.release()
            self._controller.stop()
            self._controller = None


def point_mail_at(app, host: str, port: int) -> None:
    """Send real SMTP to host:port from now on (Flask-Mail reads its settings in init_app)."""
    from app.extensions import mail

    app.config.update(MAIL_SERVER=host, MAIL_PORT=port, MAIL_SUPPRESS_SEND=False, MAIL_USE_TLS=False,
                      MAIL_USE_SSL=False)
    mail.init_app(app)
