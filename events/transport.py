"""One webhook POST: to the checked address, 10 s timeout, redirects not followed."""
import http.client
import socket
import ssl
from dataclasses import dataclass

from events.url_policy import Target

TIMEOUT_SECONDS = 10
USER_AGENT = "inventory-service-webhooks/1"


@dataclass(frozen=True)
class Answer:
    """What the receiver answered: a status code, or an error when there was no answer."""

    status: int | None
    error: str = ""


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to the address that was checked, with the host name for SNI and the certificate."""

    def __init__(self, target: Target, **kwargs):
        super().__init__(target.host, target.port, context=ssl.create_default_context(), **kwargs)
        self._address = target.address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, **kwargs):
        super().__init__(target.host, target.port, **kwargs)
        self._address = target.address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def post_json(target: Target, *, body: bytes, headers: dict[str, str], timeout: float | None = None) -> Answer:
    """POST `body` to `target`; any answer's status, or the reason there was none."""
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, timeout=timeout or TIMEOUT_SECONDS)
    try:
        connection.request("POST", target.path, body=body, headers={
            "Content-Type": "application/json", "User-Agent": USER_AGENT, **headers,
        })
        response = connection.getresponse()
        response.read(64 * 1024)  # enough to reuse nothing, but lets the receiver finish writing
        return Answer(response.status)
    except (OSError, http.client.HTTPException) as exc:
        return Answer(None, f"{type(exc).__name__}: {exc}"[:500])
    finally:
        connection.close()
