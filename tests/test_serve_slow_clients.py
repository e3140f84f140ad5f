"""`pressroom serve` under slow and idle clients, and the server's own error replies.

A slowloris holds connections open by sending a request's headers one byte at a time; idle
clients connect and send nothing. Neither may stop the server answering everyone else, and a
client gets `web.header_timeout` seconds for its whole header block, however it trickles.
"""

from __future__ import annotations

import http.client
import selectors
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.conftest import PressroomServer
from tests.webapp_fixtures import build_archive

HEADER_TIMEOUT = 2.0
SLOW, IDLE = 24, 200
# the headers the Flask app adds to every response (webapp/security.py)
SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy",
                    "X-Frame-Options", "Cross-Origin-Opener-Policy")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, module_database: str) -> Iterator[PressroomServer]:
    data = tmp_path_factory.mktemp("slow-clients") / "data"
    build_archive(data)
    served = PressroomServer(data, env={"PRESSROOM_WEB_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
                                        "PRESSROOM_WEB_SEARCH_BURST": "1000"})
    try:
        yield served
    finally:
        served.stop()


class Slowloris:
    """Keep `slow` connections sending one header byte every `interval` seconds, and `idle`
    connections that send nothing; reconnect whatever the server closes."""

    def __init__(self, port: int, slow: int, idle: int, interval: float = 0.5) -> None:
        self.port = port
        self.interval = interval
        self.wanted = {"slow": slow, "idle": idle}
        self.selector = selectors.DefaultSelector()
        self.opened: dict[socket.socket, tuple[str, float]] = {}
        self.lifetimes: dict[str, list[float]] = {"slow": [], "idle": []}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Slowloris:
        for kind, count in self.wanted.items():
            for _ in range(count):
                self._open(kind)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)
        for sock in list(self.opened):
            self.selector.unregister(sock)
            sock.close()
        self.selector.close()

    def _open(self, kind: str) -> None:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        if kind == "slow":
            sock.sendall(b"GET /api/search?q=migrants HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        sock.setblocking(False)
        self.opened[sock] = (kind, time.monotonic())
        self.selector.register(sock, selectors.EVENT_READ)

    def _closed(self, sock: socket.socket) -> None:
        kind, since = self.opened.pop(sock)
        self.lifetimes[kind].append(time.monotonic() - since)
        self.selector.unregister(sock)
        sock.close()
        if not self.stopping.is_set():
            self._open(kind)

    def _run(self) -> None:
        next_byte = time.monotonic()
        while not self.stopping.is_set():
            for key, _ in self.selector.select(timeout=0.05):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    sock.recv(4096)      # a reply or the end: the server let go of it either way
                except BlockingIOError:
                    continue
                except OSError:
                    pass
                self._closed(sock)
            if time.monotonic() >= next_byte:
                next_byte += self.interval
                for sock, (kind, _) in list(self.opened.items()):
                    if kind == "slow":
                        try:
                            sock.send(b"a")
                        except BlockingIOError:
                            pass
                        except OSError:
                            self._closed(sock)


def timed_search(port: int, timeout: float) -> tuple[int | None, float]:
    """One search on a fresh connection: (status or None on a timeout or error, seconds)."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/api/search?q=migrants", headers={"Connection": "close"})
        response = conn.getresponse()
        response.read()
        return response.status, time.monotonic() - started
    except OSError:
        return None, time.monotonic() - started
    finally:
        conn.close()


def port_of(server: PressroomServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


def test_searches_are_answered_while_slow_and_idle_clients_hold_connections(
        server: PressroomServer) -> None:
    port = port_of(server)
    with Slowloris(port, slow=SLOW, idle=IDLE) as attack:
        time.sleep(0.5)                      # every attacking connection is in
        answers = []
        for _ in range(20):                  # spread over more than one header_timeout
            answers.append(timed_search(port, timeout=5.0))
            if sum(status != 200 for status, _ in answers) >= 3:
                break                        # starved: no need to wait out the rest
            time.sleep(0.2)
        time.sleep(HEADER_TIMEOUT)           # the slow ones opened last have run out too
    failed = [(status, round(took, 2)) for status, took in answers if status != 200 or took > 3.0]
    assert not failed, f"searches not answered promptly under a slowloris: {failed}"
    slow = attack.lifetimes["slow"]
    assert len(slow) >= SLOW, "the server never cut off a slow-header client"
    # the deadline is for the whole header block, not each read: a byte every 0.5 s is no help
    assert all(HEADER_TIMEOUT * 0.75 <= took <= HEADER_TIMEOUT + 2.5 for took in slow), sorted(slow)
    assert attack.lifetimes["idle"], "idle connections are held forever"


def raw_exchange(port: int, data: bytes) -> tuple[str, dict[str, str]]:
    """Send raw bytes; return the reply's status line and headers."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    head = reply.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in head[1:] if ": " in line)
    return head[0], headers


def test_malformed_request_gets_a_400_with_the_security_headers(server: PressroomServer) -> None:
    port = port_of(server)
    _, normal = raw_exchange(port, b"GET /api/openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                   b"Connection: close\r\n\r\n")
    status, headers = raw_exchange(port, b"GET /\x00bad\x01 HTTP/1.1 extra\r\n\r\n")
    assert status.startswith("HTTP/1.1 400"), status
    assert headers.get("X-Content-Type-Options") == "nosniff"
    for name in SECURITY_HEADERS:
        assert headers.get(name) == normal[name], name


def test_searches_still_work_on_a_kept_alive_connection(server: PressroomServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port_of(server), timeout=5)
    try:
        for _ in range(3):
            conn.request("GET", "/api/search?q=migrants")
            response = conn.getresponse()
            assert response.status == 200 and b'"total"' in response.read()
    finally:
        conn.close()
