"""Engines, sessions, migrations, id generation and the dialect differences between SQLite and
PostgreSQL (which live here and in search/ only)."""
