"""Metrics, structured logs and request ids."""
