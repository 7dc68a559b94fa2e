"""API keys, teams and scopes."""
