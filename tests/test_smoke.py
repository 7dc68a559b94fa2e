from __future__ import annotations

import httpx

from tests.conftest import Tenant


async def test_health_with_key_in_query(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.get("/v1/auth/health", params={"api_key": tenant.master_key})
    assert response.status_code == 200
    assert response.content == b'{"is_logged_in":true}'
    assert response.headers["x-rate-limit-minute"] == "200"
