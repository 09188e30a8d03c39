"""Which webhook URLs may receive traffic: scheme and the addresses the host resolves to.

Checked when a subscription is saved and again before each delivery (the name may
resolve elsewhere by then); the delivery then connects to the address that was checked.
Refusing never sends the URL any traffic (a DNS look-up is all it costs).
"""
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from events.exceptions import UnsafeWebhookURL


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect and what to ask for."""

    scheme: str
    host: str
    port: int
    address: str
    path: str


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return not (
        address.is_private or address.is_loopback or address.is_link_local or address.is_multicast
        or address.is_reserved or address.is_unspecified
    )


def webhook_target(url: str) -> Target:
    """Check a webhook URL and resolve it; raise `UnsafeWebhookURL` when it may not be used."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeWebhookURL(f"not a valid URL ({exc}).") from exc
    allowed = ("https", "http") if settings.WEBHOOK_ALLOW_HTTP else ("https",)
    if parts.scheme not in allowed:
        raise UnsafeWebhookURL("must use https." if parts.scheme == "http" else "must be an https URL.")
    if not parts.hostname:
        raise UnsafeWebhookURL("has no host.")
    if parts.username or parts.password:
        raise UnsafeWebhookURL("must not carry a user name or password.")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeWebhookURL(f"the host {parts.hostname} does not resolve.") from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not settings.WEBHOOK_ALLOW_PRIVATE_URLS:
        refused = [a for a in addresses if not _is_public(a)]
        if refused:
            raise UnsafeWebhookURL(
                f"the host resolves to {refused[0]}, a loopback, private, link-local or multicast address."
            )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, str(addresses[0]), path)
