"""The gunicorn worker of `pressroom serve`: gevent, with deadlines for slow clients.

A connection waiting on its client costs a greenlet, not a thread, so slow or idle clients
cannot take the server's capacity away from everyone else (up to `web.max_connections` at
once per worker). Each request's line and headers must arrive within `web.header_timeout`
seconds in all, however they trickle in; a body read or a reply write that makes no
progress for `web.socket_timeout` seconds ends the connection. The server's own error
replies (400 for a malformed request, ...) carry the app's security headers.
"""

from __future__ import annotations

import warnings
from typing import Any

import gevent  # type: ignore[import-untyped]
from gevent.monkey import MonkeyPatchWarning  # type: ignore[import-untyped]
from gunicorn.workers.base_async import AsyncWorker
from gunicorn.workers.ggevent import GeventWorker

from webapp.security import SECURITY_HEADERS


class PressroomWorker(GeventWorker):  # type: ignore[misc]
    """gunicorn's gevent worker with a header deadline, socket timeouts and safe error replies."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        web = self.app.settings.web
        self.header_timeout: float = web.header_timeout
        self.socket_timeout: float = web.socket_timeout
        if not self.cfg.keepalive:
            # gunicorn reads a request's headers under timeout_ctx() only in its keep-alive loop
            raise RuntimeError("PressroomWorker needs gunicorn's keepalive setting on")

    def patch(self) -> None:
        with warnings.catch_warnings():
            # the command line imported requests (for `pressroom crawl`), and with it ssl, before
            # this fork; a worker only serves and opens no TLS connection, so it is harmless
            warnings.filterwarnings("ignore", "Monkey-patching ssl after ssl", MonkeyPatchWarning)
            super().patch()

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        # GeventWorker.handle would make the socket blocking with no timeout at all
        client.settimeout(self.socket_timeout)
        AsyncWorker.handle(self, listener, client, addr)

    def timeout_ctx(self) -> HeaderDeadline:
        """Bound the reading of one request's line and headers (a kept-alive connection's wait
        for its next request included)."""
        return HeaderDeadline(self.header_timeout)

    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> Any:
        try:
            return super().handle_request(listener_name, req, sock, addr)
        except TimeoutError:
            self.log.debug("client stalled for %ss: closing", self.socket_timeout)
            raise StopIteration from None     # gunicorn's way to end a connection quietly

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        reply = _Reply()
        super().handle_error(req, reply, addr, exc)
        if not reply.data:
            return
        status_line, _, rest = reply.data.partition(b"\r\n")
        extra = "".join(f"{name}: {value}\r\n" for name, value in SECURITY_HEADERS)
        try:
            client.sendall(status_line + b"\r\n" + extra.encode("latin-1") + rest)
        except OSError:
            self.log.debug("failed to send an error reply")


class HeaderDeadline:
    """A deadline for one request's head: when it passes (or the client goes silent for the
    socket timeout), the connection closes without a reply, as gunicorn does on keep-alive."""

    def __init__(self, seconds: float) -> None:
        self.timeout = gevent.Timeout(seconds, False)

    def __enter__(self) -> None:
        self.timeout.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 traceback: Any) -> bool:
        self.timeout.close()
        return exc is self.timeout or isinstance(exc, TimeoutError)


class _Reply:
    """Stands in for the client socket while gunicorn writes an error reply, to amend it."""

    def __init__(self) -> None:
        self.data = b""

    def gettimeout(self) -> float | None:
        return None

    def setblocking(self, flag: bool) -> None:
        pass

    def sendall(self, data: bytes) -> None:
        self.data += data

    def close(self) -> None:
        pass
