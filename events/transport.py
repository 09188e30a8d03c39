"""Webhook POSTs: to the checked address, 10 s timeout, redirects not followed.

Connections are kept alive and reused per worker process (`ConnectionPool`): a drain of
thousands of deliveries to one receiver opens a handful of sockets, not one per event.
"""

import http.client
import socket
import ssl
import threading
from dataclasses import dataclass

from events.url_policy import Target

TIMEOUT_SECONDS = 10
USER_AGENT = "inventory-service-webhooks/1"
MAX_ANSWER_BYTES = 64 * 1024  # read this much of an answer; a longer one closes its connection
IDLE_PER_TARGET = 8


@dataclass(frozen=True)
class Answer:
    """What the receiver answered: a status code, or an error when there was no answer."""

    status: int | None
    error: str = ""


def _open(address: str, port: int, timeout: float | None) -> socket.socket:
    sock = socket.create_connection((address, port), timeout)
    # Headers and body may leave in two segments: without this, Nagle's algorithm holds the
    # second until the receiver's delayed ACK (40 ms), on every request of a kept-alive socket.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to the address that was checked, with the host name for SNI and the certificate."""

    def __init__(self, target: Target, **kwargs):
        super().__init__(target.host, target.port, context=ssl.create_default_context(), **kwargs)
        self._address = target.address

    def connect(self):
        sock = _open(self._address, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]  # http.client's own


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, **kwargs):
        super().__init__(target.host, target.port, **kwargs)
        self._address = target.address

    def connect(self):
        self.sock = _open(self._address, self.port, self.timeout)


def _key(target: Target) -> tuple:
    # The checked address is part of the key: a name that now resolves elsewhere gets a new socket.
    return (target.scheme, target.host, target.port, target.address)


class ConnectionPool:
    """Idle keep-alive connections per target, shared by the threads of one process."""

    def __init__(self, idle_per_target: int = IDLE_PER_TARGET):
        self._idle: dict[tuple, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self.idle_per_target = idle_per_target

    def take(self, target: Target, timeout: float) -> tuple[http.client.HTTPConnection, bool]:
        """An idle connection to `target` (reused=True) or a new one."""
        with self._lock:
            idle = self._idle.get(_key(target))
            connection = idle.pop() if idle else None
        if connection is not None:
            connection.timeout = timeout
            if connection.sock is not None:
                connection.sock.settimeout(timeout)
            return connection, True
        connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
        return connection_class(target, timeout=timeout), False

    def give_back(self, target: Target, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(_key(target), [])
            if len(idle) < self.idle_per_target:
                idle.append(connection)
                return
        connection.close()

    def clear(self) -> None:
        """Close every idle connection (after a fork, or in tests)."""
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()


POOL = ConnectionPool()

# A kept-alive socket the receiver closed meanwhile fails before any answer: try once on a new one.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, http.client.CannotSendRequest)


def _post_once(target: Target, body: bytes, headers: dict[str, str], timeout: float) -> tuple[Answer, bool]:
    connection, reused = POOL.take(target, timeout)
    try:
        connection.request(
            "POST",
            target.path,
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                **headers,
            },
        )
        response = connection.getresponse()
        rest = response.read(MAX_ANSWER_BYTES)
        if response.will_close or not response.isclosed() or len(rest) >= MAX_ANSWER_BYTES:
            connection.close()
        else:
            POOL.give_back(target, connection)
        return Answer(response.status), False
    except _STALE as exc:
        connection.close()
        return Answer(None, f"{type(exc).__name__}: {exc}"[:500]), reused
    except (OSError, http.client.HTTPException) as exc:
        connection.close()
        return Answer(None, f"{type(exc).__name__}: {exc}"[:500]), False


def post_json(target: Target, *, body: bytes, headers: dict[str, str], timeout: float | None = None) -> Answer:
    """POST `body` to `target`; any answer's status, or the reason there was none."""
    timeout = timeout or TIMEOUT_SECONDS
    answer, stale = _post_once(target, body, headers, timeout)
    if stale:
        answer, _ = _post_once(target, body, headers, timeout)
    return answer
