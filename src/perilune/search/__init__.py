"""Repository search: people and organizations in a tantivy index derived from the database.

Modules: ``schema`` (the index's fields), ``documents`` (rows -> documents, pure),
``filters`` (typed filter objects and the clauses they compile to), ``backend`` (the
``SearchBackend`` interface and its in-memory twin), ``index`` (the tantivy index: generations,
rebuild, search, status), ``follower`` (applying the repository change log; the server's index
service), ``source`` (every SQL statement the index runs).
"""
