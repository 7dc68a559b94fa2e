"""Which webhook URLs are accepted: http(s) to public addresses only, unless the operator allows
private networks; the same check again at delivery, against what DNS answers then."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any

import pytest

from perilune.api.errors import Unprocessable
from perilune.webhooks import MISSING_WEBHOOK_URL, WebhookUrlRefused, is_public, validate_webhook_url
from perilune.webhooks.addresses import AddressRefused, UnresolvableHost, pin

REFUSED_HOSTS = [
    "127.0.0.1",
    "127.8.9.10",
    "10.0.0.1",
    "10.255.1.2",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",
    "0.0.0.0",  # noqa: S104 (a URL host under test, not a bind address)
    "100.64.0.1",
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "[::1]",
    "[::]",
    "[fe80::1]",
    "[fc00::1]",
    "[ff02::1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:10.0.0.1]",
    "[2002:7f00:1::]",
    "localhost",
]
PUBLIC_ADDRESSES = ["93.184.216.34", "8.8.8.8", "2606:2800:220:1:248:1893:25c8:1946", "2001:4860:4860::8888"]

Resolver = Callable[..., list[Any]]


def fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[list[str]]]) -> None:
    """Answer ``getaddrinfo`` for the given names from a script (one list of addresses per
    lookup, the last one repeated), as a DNS server under someone else's control would."""
    real: Resolver = socket.getaddrinfo
    scripts = {name: list(lookups) for name, lookups in answers.items()}

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in scripts:
            return real(host, port, *args, **kwargs)
        lookups = scripts[host]
        addresses = lookups.pop(0) if len(lookups) > 1 else lookups[0]
        infos: list[Any] = []
        for address in addresses:
            if ipaddress.ip_address(address).version == 6:
                infos.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, int(port), 0, 0)))
            else:
                infos.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port))))
        return infos

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize("host", REFUSED_HOSTS)
async def test_private_and_special_addresses_are_refused(host: str) -> None:
    with pytest.raises(WebhookUrlRefused) as refused:
        await validate_webhook_url(f"https://{host}:8443/hook", allow_private_networks=False)
    message = refused.value.error
    assert "PERILUNE_WEBHOOK_ALLOW_PRIVATE_NETWORKS" in message
    assert "non-public address" in message


@pytest.mark.parametrize("host", REFUSED_HOSTS)
async def test_the_operator_may_allow_private_networks(host: str) -> None:
    target = await validate_webhook_url(f"http://{host}:8080/hook", allow_private_networks=True)
    assert target.url == f"http://{host}:8080/hook"


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
async def test_public_addresses_are_accepted(address: str) -> None:
    host = f"[{address}]" if ":" in address else address
    target = await validate_webhook_url(f"https://{host}/hooks?team=1", allow_private_networks=False)
    assert target.url == f"https://{host}/hooks?team=1"


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_is_public(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.1.1.1", "169.254.0.1", "::1", "fe80::1", "::ffff:192.168.0.1", "2001:db8::1"]
)
def test_is_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


async def test_a_name_resolving_to_loopback_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"hooks.example.com": [["127.0.0.1"]]})
    with pytest.raises(WebhookUrlRefused, match=r"hooks\.example\.com resolves to 127\.0\.0\.1"):
        await validate_webhook_url("https://hooks.example.com/in", allow_private_networks=False)


async def test_one_private_answer_among_public_ones_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"mixed.example.com": [["93.184.216.34", "10.0.0.7"]]})
    with pytest.raises(WebhookUrlRefused, match=r"10\.0\.0\.7"):
        await validate_webhook_url("https://mixed.example.com/in", allow_private_networks=False)


async def test_a_name_resolving_to_public_addresses_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"hooks.example.com": [["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]]})
    target = await validate_webhook_url("https://hooks.example.com/in", allow_private_networks=False)
    assert target.url == "https://hooks.example.com/in"


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("ftp://example.com/hook", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("example.com/hook", "http:// or https://"),
        ("https:///nohost", "no host"),
        ("https://example.com:port/", "not a valid URL"),
        ("http://example.com:99999/", "port 99999 is out of range"),
        ("https://example.com/" + "a" * 2100, "longer than 2048"),
    ],
)
async def test_malformed_urls_are_refused(url: str, fragment: str) -> None:
    with pytest.raises(WebhookUrlRefused, match=fragment):
        await validate_webhook_url(url, allow_private_networks=True)


@pytest.mark.parametrize("url", [None, "", "   "])
async def test_a_missing_url_gets_apollos_message(url: str | None) -> None:
    with pytest.raises(WebhookUrlRefused) as refused:
        await validate_webhook_url(url, allow_private_networks=True)
    assert refused.value.error == MISSING_WEBHOOK_URL


async def test_an_unresolvable_host_is_refused() -> None:
    # .invalid never resolves (RFC 6761), with or without a network.
    with pytest.raises(WebhookUrlRefused, match=r"no-such-host\.invalid could not be resolved"):
        await validate_webhook_url("https://no-such-host.invalid/hook", allow_private_networks=False)


async def test_the_refusal_is_apollos_422_shape() -> None:
    with pytest.raises(WebhookUrlRefused) as refused:
        await validate_webhook_url("http://10.0.0.1/", allow_private_networks=False)
    assert isinstance(refused.value, Unprocessable)
    response = refused.value.render()
    assert response.status_code == 422
    assert bytes(response.body).startswith(b'{"error":"webhook_url host 10.0.0.1 resolves to 10.0.0.1')


async def test_delivery_pins_the_checked_addresses_and_keeps_the_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_dns(monkeypatch, {"hooks.example.com": [["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]]})
    targets = await pin("https://hooks.example.com:8443/in?x=1", allow_private_networks=False)
    assert [str(target.url) for target in targets] == [
        "https://93.184.216.34:8443/in?x=1",
        "https://[2606:2800:220:1:248:1893:25c8:1946]:8443/in?x=1",
    ]
    assert {target.host_header for target in targets} == {"hooks.example.com:8443"}
    assert {target.sni_hostname for target in targets} == {"hooks.example.com"}


async def test_delivery_refuses_a_name_that_now_resolves_privately(monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: public when the request came in, loopback when the delivery is due."""
    fake_dns(monkeypatch, {"rebind.example.com": [["93.184.216.34"], ["127.0.0.1"]]})
    await validate_webhook_url("http://rebind.example.com/in", allow_private_networks=False)
    with pytest.raises(AddressRefused, match=r"127\.0\.0\.1"):
        await pin("http://rebind.example.com/in", allow_private_networks=False)


async def test_delivery_to_a_vanished_name_is_retryable() -> None:
    with pytest.raises(UnresolvableHost):
        await pin("http://gone.invalid/in", allow_private_networks=False)


async def test_ip_literals_are_not_rewritten() -> None:
    targets = await pin("http://[2606:2800:220:1:248:1893:25c8:1946]/in", allow_private_networks=False)
    assert [(str(t.url), t.host_header, t.sni_hostname) for t in targets] == [
        (
            "http://[2606:2800:220:1:248:1893:25c8:1946]/in",
            "[2606:2800:220:1:248:1893:25c8:1946]",
            None,
        )
    ]
