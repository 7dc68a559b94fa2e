"""Perilune: a self-hosted server that speaks the Apollo.io REST API."""

__version__ = "0.1.0"
