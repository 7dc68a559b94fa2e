"""One delivery attempt: POST the body to the checked address and say what happened. Network
errors, timeouts, 408, 429 and 5xx are worth retrying; any other answer is final (a receiver that
refuses, or redirects, will do so again). Redirects are never followed: a redirect could point
anywhere, including at an address the checks would refuse."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from perilune import __version__
from perilune.webhooks.addresses import AddressRefused, PinnedUrl, UnresolvableHost, pin

USER_AGENT = f"Perilune-Webhooks/{__version__}"
RETRYABLE_STATUSES = frozenset({408, 425, 429})
CONNECT_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    retryable: bool
    failure_reason: str | None = None


DELIVERED = Outcome(delivered=True, retryable=False)


def _judge(status_code: int) -> Outcome:
    if 200 <= status_code < 300:
        return DELIVERED
    reason = f"the webhook URL answered HTTP {status_code}"
    if 300 <= status_code < 400:
        return Outcome(False, False, f"{reason} (redirects are not followed)")
    return Outcome(False, status_code in RETRYABLE_STATUSES or status_code >= 500, reason)


def _timeout(seconds: float) -> httpx.Timeout:
    return httpx.Timeout(seconds, connect=min(seconds, CONNECT_TIMEOUT_SECONDS))


async def post(
    url: str, body: bytes, headers: dict[str, str], *, allow_private_networks: bool, timeout_seconds: float
) -> Outcome:
    """Resolve and check the URL's host again, then POST ``body`` to an address checked (the name
    still goes in the Host header and, for https, in SNI and the certificate check). Addresses
    are tried in turn while they refuse the connection."""
    try:
        targets = await pin(url, allow_private_networks=allow_private_networks)
    except AddressRefused as exc:
        return Outcome(False, False, str(exc))
    except UnresolvableHost as exc:
        return Outcome(False, True, str(exc))
    # trust_env=False: no proxy from the environment, which would connect elsewhere than checked.
    async with httpx.AsyncClient(
        timeout=_timeout(timeout_seconds), follow_redirects=False, trust_env=False
    ) as http:
        for position, target in enumerate(targets, start=1):
            try:
                return await _send(http, target, body, headers)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if position == len(targets):
                    return _unreachable(exc, timeout_seconds)
            except httpx.TransportError as exc:
                return _unreachable(exc, timeout_seconds)
    raise AssertionError("pin() returns at least one address")


def _unreachable(exc: httpx.TransportError, timeout_seconds: float) -> Outcome:
    if isinstance(exc, httpx.TimeoutException):
        return Outcome(False, True, f"no answer from the webhook URL within {timeout_seconds:g} s")
    return Outcome(False, True, f"could not reach the webhook URL ({type(exc).__name__})")


async def _send(http: httpx.AsyncClient, target: PinnedUrl, body: bytes, headers: dict[str, str]) -> Outcome:
    sent = {
        **headers,
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }
    extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
    request = http.build_request("POST", target.url, content=body, headers=sent, extensions=extensions)
    # The answer's status is all that matters: its body is never read.
    response = await http.send(request, stream=True)
    await response.aclose()
    return _judge(response.status_code)
