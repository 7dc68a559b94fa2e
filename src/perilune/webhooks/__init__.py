"""Outbound webhooks for asynchronous enrichment results (``reveal_phone_number``): a durable,
signed, retried delivery per request and the store behind ``GET /webhook_result/{request_id}``.

How an enrichment endpoint uses it (``settings`` is ``runtime.settings``)::

    from perilune import webhooks

    # 1. Before any work or charge: check the caller's webhook_url. Raises WebhookUrlRefused,
    #    a 422 {"error": ...}: missing URL (Apollo's text), not http(s), unresolvable host, or
    #    a private/loopback/link-local/... address (unless PERILUNE_WEBHOOK_ALLOW_PRIVATE_NETWORKS).
    target = await webhooks.validate_webhook_url(
        params.webhook_url, allow_private_networks=settings.webhook_allow_private_networks
    )

    # 2a. The result is known now: build Apollo's webhook body and schedule its delivery, in the
    #     request's write session (it commits with the enrichment, or vanishes with it).
    payload = webhooks.phone_reveal_result(
        [webhooks.RevealedPhones(person.id, phones)],
        total_requested_enrichments=1, missing_records=0, credits_consumed=8,
    )
    request_id = await webhooks.schedule_delivery(
        session, team_id=caller.team_id, target=target, payload=payload, now=now
    )

    # 2b. Or, to work the result out later (in a job of your own): open the request now (the
    #     poll answers result_pending) and publish the body when it is ready.
    request_id = await webhooks.open_request(session, team_id=caller.team_id, target=target, now=now)
    ...
    await webhooks.publish_result(
        session, team_id=team_id, request_id=request_id, payload=payload, now=now
    )

    # 3. Answer with Apollo's fields: top-level "request_id": request_id (an integer) and
    #    "phone_enrichment": webhooks.phone_enrichment_status(request_id).

The ``webhooks.deliver`` job (handlers from ``job_handlers(settings)``, merged in app.py) POSTs
the body as JSON, signed with ``X-Perilune-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>." +
body>`` under the team's secret (``team_signing_secret``), re-checking the host's addresses
first and connecting to the address checked. 2xx delivers; network errors, 408/425/429 and 5xx
retry with the queue's backoff up to PERILUNE_WEBHOOK_MAX_ATTEMPTS; anything else fails at once.
Results stay pollable for 30 days, then ``webhooks.expire`` drops them."""

from perilune.webhooks.addresses import (
    MISSING_WEBHOOK_URL,
    WebhookTarget,
    WebhookUrlRefused,
    is_public,
    validate_webhook_url,
)
from perilune.webhooks.jobs import job_handlers
from perilune.webhooks.payloads import RevealedPhones, phone_number_object, phone_reveal_result
from perilune.webhooks.service import (
    PHONE,
    RETENTION,
    UnknownWebhookRequest,
    open_request,
    phone_enrichment_status,
    publish_result,
    schedule_delivery,
)
from perilune.webhooks.signing import SIGNATURE_HEADER, team_signing_secret, verify_signature

__all__ = [
    "MISSING_WEBHOOK_URL",
    "PHONE",
    "RETENTION",
    "SIGNATURE_HEADER",
    "RevealedPhones",
    "UnknownWebhookRequest",
    "WebhookTarget",
    "WebhookUrlRefused",
    "is_public",
    "job_handlers",
    "open_request",
    "phone_enrichment_status",
    "phone_number_object",
    "phone_reveal_result",
    "publish_result",
    "schedule_delivery",
    "team_signing_secret",
    "validate_webhook_url",
    "verify_signature",
]
