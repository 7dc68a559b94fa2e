"""Where a webhook may go. A ``webhook_url`` is checked when the request arrives (a clear 422 for
the caller) and again just before every delivery, because DNS may answer differently by then
(DNS rebinding): the delivery then connects to the address that was checked, never to a fresh
lookup of the name."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

import httpx

from perilune.api.errors import Unprocessable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
SCHEMES = ("http", "https")
MAX_URL_LENGTH = 2048
# A request waits for DNS no longer than this (a slow resolver must not hold the caller).
RESOLVE_TIMEOUT_SECONDS = 5.0
MISSING_WEBHOOK_URL = "Please add a valid 'webhook_url' parameter when using 'reveal_phone_number'"
PRIVATE_NETWORKS_SETTING = "PERILUNE_WEBHOOK_ALLOW_PRIVATE_NETWORKS"


class WebhookUrlRefused(Unprocessable):
    """422 ``{"error": ...}``: a webhook_url Perilune will not deliver to."""


class AddressRefused(Exception):
    """A host that resolves to an address webhooks may not reach (raised at delivery time)."""


class UnresolvableHost(Exception):
    """The host has no address (now): worth another try later."""


@dataclass(frozen=True)
class WebhookTarget:
    """A webhook_url that passed the checks. Only this type is accepted by schedule_delivery, so
    an unchecked URL cannot be stored."""

    url: str


@dataclass(frozen=True)
class PinnedUrl:
    """A URL rewritten to connect to one checked address, with the original name kept for the
    Host header and for TLS (SNI and certificate checks)."""

    url: httpx.URL
    host_header: str
    sni_hostname: str | None


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast only: private, loopback, link-local, multicast, reserved,
    unspecified and shared (CGNAT) ranges are not, nor IPv6 forms that embed such an IPv4
    address (mapped, 6to4, Teredo)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return is_public(embedded)
        if address.teredo is not None:
            return all(is_public(part) for part in address.teredo)
    return address.is_global and not address.is_multicast


def _host(url: httpx.URL) -> str:
    """The host as DNS knows it (IDNA-encoded; IPv6 literals without brackets)."""
    return url.raw_host.decode("ascii").strip("[]")


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (the literal itself for an IP address)."""
    literal = _literal(host)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, TimeoutError) as exc:
        raise UnresolvableHost(f"webhook_url host {host} could not be resolved") from exc
    addresses: list[IPAddress] = []
    for info in infos:
        # The scope (%eth0) of a link-local IPv6 answer is not part of the address.
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnresolvableHost(f"webhook_url host {host} could not be resolved")
    return addresses


def _parse(raw: str) -> httpx.URL:
    if len(raw) > MAX_URL_LENGTH:
        raise WebhookUrlRefused(f"webhook_url is longer than {MAX_URL_LENGTH} characters")
    try:
        url = httpx.URL(raw)
    except (httpx.InvalidURL, ValueError) as exc:
        raise WebhookUrlRefused(f"webhook_url is not a valid URL: {exc}") from exc
    if url.scheme not in SCHEMES:
        raise WebhookUrlRefused("webhook_url must be an http:// or https:// URL")
    if not url.raw_host:
        raise WebhookUrlRefused("webhook_url has no host")
    if url.port is not None and not 0 < url.port < 65536:
        raise WebhookUrlRefused(f"webhook_url is not a valid URL: port {url.port} is out of range")
    return url


def _port(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


def _refusal(host: str, address: IPAddress) -> str:
    return (
        f"webhook_url host {host} resolves to {address}, a private, loopback, link-local or "
        "otherwise non-public address; webhooks are delivered to public addresses only unless "
        f"the server's operator sets {PRIVATE_NETWORKS_SETTING}=1"
    )


def check_addresses(host: str, addresses: list[IPAddress], *, allow_private_networks: bool) -> None:
    """Every address must be public: a name with one private answer among public ones could be
    steered to it."""
    if allow_private_networks:
        return
    for address in addresses:
        if not is_public(address):
            raise AddressRefused(_refusal(host, address))


async def validate_webhook_url(raw: str | None, *, allow_private_networks: bool) -> WebhookTarget:
    """Check a caller's ``webhook_url`` when the request arrives; raises WebhookUrlRefused (422)
    with a message saying what is wrong."""
    raw = (raw or "").strip()
    if not raw:
        raise WebhookUrlRefused(MISSING_WEBHOOK_URL)
    url = _parse(raw)
    host = _host(url)
    try:
        addresses = await resolve(host, _port(url))
        check_addresses(host, addresses, allow_private_networks=allow_private_networks)
    except (UnresolvableHost, AddressRefused) as exc:
        raise WebhookUrlRefused(str(exc)) from exc
    return WebhookTarget(str(url))


async def pin(raw: str, *, allow_private_networks: bool) -> list[PinnedUrl]:
    """At delivery: resolve the stored URL again, check every address, and aim one request at
    each (in the resolver's order, for the caller to try in turn). Raises AddressRefused
    (permanent) or UnresolvableHost (retry later)."""
    url = httpx.URL(raw)
    host = _host(url)
    addresses = await resolve(host, _port(url))
    check_addresses(host, addresses, allow_private_networks=allow_private_networks)
    host_header = url.netloc.decode("ascii")
    if _literal(host) is not None:
        return [PinnedUrl(url, host_header, None)]
    sni_hostname = host if url.scheme == "https" else None
    return [PinnedUrl(url.copy_with(host=str(address)), host_header, sni_hostname) for address in addresses]
