"""The test clock: off by default, admin-only when enabled."""

from __future__ import annotations


async def test_clock_control_is_off_by_default(start_service, databases, broker):
    limits = await start_service("limits", database_url=await databases.create("limits"), bootstrap_servers=broker.bootstrap_servers, consumers_enabled=False)
    assert (await limits.client.get("/internal/clock", headers=limits.auth("admin"))).status_code == 404


async def test_clock_moves_when_enabled(start_service, databases, broker):
    alerts = await start_service(
        "alerts",
        database_url=await databases.create("alerts"),
        bootstrap_servers=broker.bootstrap_servers,
        consumers_enabled=False,
        clock_control_enabled=True,
    )
    assert (await alerts.client.put("/internal/clock", json={"now": "2027-01-01T00:00:00Z"}, headers=alerts.auth("credit_manager"))).status_code == 403
    reading = (await alerts.client.put("/internal/clock", json={"now": "2027-01-01T00:00:00Z"}, headers=alerts.auth("admin"))).json()
    assert reading["today"] == "2027-01-01"
    reading = (await alerts.client.put("/internal/clock", json={"advance_seconds": 86400 * 31}, headers=alerts.auth("admin"))).json()
    assert reading["today"] == "2027-02-01"
    assert alerts.clock.today().isoformat() == "2027-02-01"
    bad = await alerts.client.put("/internal/clock", json={}, headers=alerts.auth("admin"))
    assert bad.status_code == 422
