"""Poll Webhook Result (``GET /webhook_result/{request_id}``), and the signing-secret extension
(``GET /webhooks/signing_secret``, master key) a team's receivers verify deliveries with."""
