"""Signed event webhooks (a Perilune extension; Apollo has none): a team's subscriptions to the
CRM's change events (``POST``/``GET /event_webhooks``, ``GET``/``PATCH``/``DELETE
/event_webhooks/{id}``, master key only). Deliveries are perilune.crm.events'; docs/crm.md
describes them."""
