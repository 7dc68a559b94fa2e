"""Fields: ``GET /fields`` (the system fields of contacts, accounts and deals, and the team's
custom fields), ``POST``/``PATCH /fields`` (custom field definitions) and the older
``GET /typed_custom_fields``. Values of custom fields are checked by perilune.crm.custom_fields."""
