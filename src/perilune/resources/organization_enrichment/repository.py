"""The SQL of organization enrichment beyond matching (which ``perilune.matching`` does)."""

from __future__ import annotations

from perilune.resources.mixed_companies.repository import organizations_by_ids
from perilune.resources.organizations.repository import get_organization

__all__ = ["get_organization", "organizations_by_ids"]
