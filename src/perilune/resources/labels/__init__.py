"""Lists (Apollo calls them labels): ``GET``/``POST /labels``, ``PATCH /labels/{id}`` and adding
and removing records by list name (``/labels/add_entity_ids_to_label_names``,
``/labels/remove_entity_ids_from_label_names``, also as a background job with ``async``)."""
