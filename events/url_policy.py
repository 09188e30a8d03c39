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


# Special-purpose ranges of the IANA IPv4 and IPv6 registries that are not globally reachable
# but that the standard library's `is_global` (Python 3.11) still counts as global.
_NOT_GLOBAL = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",
        "100.64.0.0/10",
        "192.0.0.0/24",
        "192.88.99.0/24",
        "198.18.0.0/15",
        "240.0.0.0/4",
        "224.0.0.0/4",
        "255.255.255.255/32",
        "::/96",
        "64:ff9b:1::/48",
        "100::/64",
        "100:0:0:1::/64",
        "2001::/23",
        "2001:db8::/32",
        "3fff::/20",
        "5f00::/16",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64), where the traffic really goes."""
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Globally reachable: `is_global`, minus the special-purpose ranges it misses, and an
    IPv6 address that embeds an IPv4 one only when that one is public."""
    if isinstance(address, ipaddress.IPv6Address) and (embedded := _embedded_ipv4(address)) is not None:
        return _is_public(embedded)
    return address.is_global and not any(
        address in network for network in _NOT_GLOBAL if network.version == address.version
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
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not settings.WEBHOOK_ALLOW_PRIVATE_URLS:
        refused = [a for a in addresses if not _is_public(a)]
        if refused:
            raise UnsafeWebhookURL(
                f"the host resolves to {refused[0]}, an address that is not publicly reachable (loopback, private, "
                "link-local, shared, multicast or another special-purpose range)."
            )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, str(addresses[0]), path)
