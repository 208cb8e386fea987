"""Sales see the alerts and holds of their own accounts; roles limit what each person may do, in the
console and again in the services; the portfolio page draws the book."""

from __future__ import annotations

import uuid

from services.console.tests.conftest import csrf_of, order, register_buyer, set_limit, sign_in


async def _hold(limits, buyer_id: str) -> None:
    response = await limits.client.put(
        f"/v1/buyers/{buyer_id}/status", headers=limits.auth("credit_manager"), json={"status": "on_hold", "reason": "payment overdue"}
    )
    assert response.status_code == 200, response.text


async def test_sales_inbox_shows_only_own_accounts_and_acknowledges_under_their_name(desk_with_events, eventually):
    desk = desk_with_events
    run = uuid.uuid4().hex[:6]
    own, foreign = f"B-{run}-own", f"B-{run}-foreign"
    await register_buyer(desk.scoring, own, name="Sams Own Bakery", owner="sam@desk.test")
    await register_buyer(desk.scoring, foreign, name="Someone Elses Foundry", owner="carla@desk.test")
    for buyer in (own, foreign):
        await set_limit(desk.limits, buyer, "1000.00")

    async def profiles_known() -> None:
        for buyer in (own, foreign):
            profile = await desk.alerts.client.get(f"/v1/buyers/{buyer}/profile", headers=desk.alerts.auth("sales"))
            assert profile.status_code == 200 and profile.json()["account_owner"], profile.text

    await eventually(profiles_known)
    for buyer in (own, foreign):
        await _hold(desk.limits, buyer)

    async def held_alerts() -> None:
        page = (await desk.alerts.client.get("/v1/alerts", params={"rule_type": "account_on_hold"}, headers=desk.alerts.auth("sales"))).json()
        assert {a["buyer_id"] for a in page["items"]} == {own, foreign}
        held = (await desk.alerts.client.get("/v1/buyer-profiles", params={"account_status": "on_hold"}, headers=desk.alerts.auth("sales"))).json()
        assert held["total"] == 2

    await eventually(held_alerts)

    sales = desk.client
    signed_in = await sign_in(sales, "sales")
    assert signed_in.headers["location"] == "/inbox"
    inbox = await sales.get("/inbox")
    assert inbox.status_code == 200
    assert f'data-buyer-id="{own}"' in inbox.text and "Sams Own Bakery" in inbox.text
    assert foreign not in inbox.text and "Someone Elses Foundry" not in inbox.text
    assert "Accounts on hold (1)" in inbox.text and "Alerts (1 unresolved)" in inbox.text
    # Sales cannot widen the inbox to the whole book.
    assert foreign not in (await sales.get("/inbox?all=1")).text
    assert foreign not in (await sales.get("/inbox.csv")).text and own in (await sales.get("/inbox.csv")).text

    alert_id = inbox.text.split('data-alert-id="')[1].split('"')[0]
    acknowledged = await sales.post(f"/alerts/{alert_id}/ack", data={"csrf_token": csrf_of(inbox.text), "comment": "Called them", "next": "/inbox"})
    assert acknowledged.status_code == 303
    alert = (await desk.alerts.client.get(f"/v1/alerts/{alert_id}", headers=desk.alerts.auth("sales"))).json()
    assert (alert["status"], alert["acknowledged_by"], alert["acknowledge_comment"]) == ("acknowledged", "Sam Sales", "Called them")

    # A credit manager may see every account's alerts.
    manager = desk.browser()
    await sign_in(manager, "credit_manager")
    everyone = await manager.get("/inbox?all=1")
    assert own in everyone.text and foreign in everyone.text


async def test_roles_are_enforced_by_the_console_and_by_the_services(desk):
    run = uuid.uuid4().hex[:6]
    buyer = f"B-{run}"
    await register_buyer(desk.scoring, buyer, name="Role Test Ltd", owner="sam@desk.test", country="GB")
    await set_limit(desk.limits, buyer, "1000.00")
    referred = await order(desk.limits, buyer, f"O-{run}", "1100.00")

    # A buyer the ERP sent but scoring does not know yet is in the queue too, without a profile.
    ghost = await order(desk.limits, f"B-{run}-ghost", f"O-{run}-ghost", "90000.00")
    assert ghost["decision"] == "referred", ghost

    sales = desk.client
    await sign_in(sales, "sales")
    queue = await sales.get("/referrals")
    assert queue.status_code == 200 and f"O-{run}-ghost" in queue.text and "Role Test Ltd" in queue.text
    account = await sales.get(f"/accounts/{buyer}")
    assert account.status_code == 200 and "Role Test Ltd" in account.text
    assert "Approve" not in account.text and "Set limit" not in account.text  # no buttons a sales person may not use
    token = csrf_of(account.text)
    refused = await sales.post(f"/referrals/{referred['id']}/decision", data={"decision": "approved", "comment": "pls", "csrf_token": token})
    assert refused.status_code == 403

    # Behind the console, the services check the person's role too, and a console key alone does nothing.
    console_key = {"Authorization": f"Bearer {desk.limits.api_keys['console']}"}
    as_sales = console_key | {"X-Acting-User": "Sam%20Sales", "X-Acting-Role": "sales"}
    assert (
        await desk.limits.client.post(f"/v1/credit-checks/{referred['id']}/decision", headers=as_sales, json={"decision": "approved", "comment": "x"})
    ).status_code == 403
    assert (await desk.limits.client.get(f"/v1/buyers/{buyer}/limit", headers=console_key)).status_code == 403
    as_reader = console_key | {"X-Acting-User": "Rita%20Reader", "X-Acting-Role": "read_only"}
    assert (await desk.limits.client.get(f"/v1/buyers/{buyer}/limit", headers=as_reader)).status_code == 200
    assert (await desk.limits.client.put(f"/v1/buyers/{buyer}/status", headers=as_reader, json={"status": "on_hold", "reason": "x"})).status_code == 403
    as_manager = console_key | {"X-Acting-User": "Zo%C3%AB%20O%E2%80%99Brien", "X-Acting-Role": "credit_manager"}
    decided = await desk.limits.client.post(f"/v1/credit-checks/{referred['id']}/decision", headers=as_manager, json={"decision": "rejected", "comment": "x"})
    assert decided.status_code == 200 and decided.json()["decided_by"] == "Zoë O’Brien"

    reader = desk.browser()
    await sign_in(reader, "read_only")
    assert (await reader.get(f"/accounts/{buyer}")).status_code == 200
    assert (await reader.get("/imports/limits")).status_code == 403


async def test_portfolio_page_draws_the_book(desk):
    run = uuid.uuid4().hex[:6]
    for i, pd_owner in enumerate(("sam@desk.test", "carla@desk.test")):
        buyer = f"B-{run}-{i}"
        await register_buyer(desk.scoring, buyer, name=f"Portfolio Buyer {i}", owner=pd_owner, country=("DE", "FR")[i])
        await set_limit(desk.limits, buyer, "1000.00")
        await order(desk.limits, buyer, f"O-{run}-{i}", "400.00")
    refreshed = await desk.limits.client.post("/v1/portfolio/metrics/refresh", headers=desk.limits.auth("credit_manager"))
    assert refreshed.status_code in (200, 202, 204), refreshed.text
    manager = desk.client
    await sign_in(manager, "credit_manager")
    page = await manager.get("/portfolio")
    assert page.status_code == 200, page.text
    for text in (
        "Total exposure",
        "800.00",
        "Utilisation of limits",
        "Cash-in forecast",
        "Riskiest accounts",
        "Portfolio Buyer 0",
        'class="utilisation-chart"',
    ):
        assert text in page.text, text
    exported = await manager.get("/portfolio/riskiest.csv")
    assert exported.status_code == 200 and f"B-{run}-0" in exported.text
