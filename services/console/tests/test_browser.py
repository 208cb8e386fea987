"""The console in a real headless Chromium (Debian's package, launched by path: nothing is
downloaded): a credit manager approves a referred order from its account page and the ERP's poll
shows the decision under their name; a sales person sees only their own accounts' alerts; a form
without its CSRF token is refused; five wrong passwords lock an account.

Screenshots of the four pages go to the test's directory, and to CREDITGUARD_SCREENSHOTS_DIR when
it is set (docs/console/ holds the committed ones)."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn

from creditguard_local.stack import free_port
from services.console.tests.conftest import PASSWORD, PEOPLE, order, register_buyer, set_limit

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (make test installs it)")


async def _serve(app) -> tuple[uvicorn.Server, asyncio.Task, str]:
    port = free_port()
    # The desk fixture already runs the app's lifespan.
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None, access_log=False))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn's Server sets a flag, it has no event to wait on
        await asyncio.sleep(0.02)
    return server, task, f"http://127.0.0.1:{port}"


async def _seed(desk, run: str, eventually) -> dict:
    buyers = {
        "mine": (f"B-{run}-1", "Müller Maschinenbau GmbH", "carla@desk.test", "DE"),
        "other": (f"B-{run}-2", "Dupont Logistique SA", "carla@desk.test", "FR"),
        "sams": (f"B-{run}-3", "Sams Own Bakery Ltd", "sam@desk.test", "GB"),
        "elses": (f"B-{run}-4", "Someone Elses Foundry", "carla@desk.test", "IT"),
    }
    for buyer_id, name, owner, country in buyers.values():
        await register_buyer(desk.scoring, buyer_id, name=name, owner=owner, country=country)
        await set_limit(desk.limits, buyer_id, "10000.00")
    # Days overdue, posted as it is issued would be: an invoice posted long after its due date
    # waits for its payments before alerts acts on it.
    today = datetime.now(UTC).date()
    invoice = await desk.limits.client.post(
        "/v1/invoices",
        headers=desk.limits.auth("erp"),
        json={
            "invoice_id": f"I-{run}-1",
            "buyer_id": buyers["mine"][0],
            "amount": "6200.00",
            "currency": "EUR",
            "issued_on": (today - timedelta(days=45)).isoformat(),
            "due_on": (today - timedelta(days=6)).isoformat(),
        },
    )
    assert invoice.status_code in (200, 201), invoice.text
    referred = await order(desk.limits, buyers["mine"][0], f"O-{run}-1", "4800.00")
    await order(desk.limits, buyers["other"][0], f"O-{run}-2", "10900.00")
    assert referred["decision"] == "referred", referred

    async def profiles_known() -> None:
        for buyer_id, *_ in buyers.values():
            response = await desk.alerts.client.get(f"/v1/buyers/{buyer_id}/profile", headers=desk.alerts.auth("sales"))
            assert response.status_code == 200 and response.json()["account_owner"], response.text

    await eventually(profiles_known)
    for key in ("sams", "elses"):
        held = await desk.limits.client.put(
            f"/v1/buyers/{buyers[key][0]}/status", headers=desk.limits.auth("credit_manager"), json={"status": "on_hold", "reason": "payment 30 days late"}
        )
        assert held.status_code == 200, held.text

    async def alerts_raised() -> None:
        page = (await desk.alerts.client.get("/v1/alerts", params={"rule_type": "account_on_hold"}, headers=desk.alerts.auth("sales"))).json()
        assert {a["buyer_id"] for a in page["items"]} == {buyers["sams"][0], buyers["elses"][0]}

    await eventually(alerts_raised)
    return {"buyers": buyers, "referred": referred}


async def _sign_in(page, base: str, role: str, *, password: str = PASSWORD) -> None:
    await page.goto(f"{base}/login")
    await page.fill("input[name=email]", PEOPLE[role][1])
    await page.fill("input[name=password]", password)
    # Wait for the navigation the post causes, not just the current page's load state.
    async with page.expect_navigation():
        await page.click("button[type=submit]")


@pytest.mark.parametrize("database_backend", ["sqlite"])
async def test_the_desk_in_a_browser(desk_with_events, eventually, tmp_path: Path):
    desk = desk_with_events
    from playwright.async_api import async_playwright

    run = uuid.uuid4().hex[:6]
    seeded = await _seed(desk, run, eventually)
    mine, _, _, _ = seeded["buyers"]["mine"]
    shots = [tmp_path]
    if os.environ.get("CREDITGUARD_SCREENSHOTS_DIR"):
        shots.append(Path(os.environ["CREDITGUARD_SCREENSHOTS_DIR"]))

    async def screenshot(page, name: str) -> None:
        for directory in shots:
            directory.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(directory / f"{name}.png"), full_page=True)

    server, task, base = await _serve(desk.console)
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless=new"])
            try:
                # A credit manager finds the referred order, opens its account and approves it.
                context = await browser.new_context(viewport={"width": 1400, "height": 900})
                page = await context.new_page()
                await _sign_in(page, base, "credit_manager")
                assert page.url == f"{base}/referrals"
                row = page.locator(f"tr[data-order-id='O-{run}-1']")
                await row.wait_for()
                assert "Müller Maschinenbau GmbH" in await row.inner_text()
                await screenshot(page, "referrals")
                await row.get_by_role("link", name="Müller Maschinenbau GmbH").click()
                await page.wait_for_url(f"{base}/accounts/{mine}")
                assert "Orders waiting for a decision" in await page.content()
                assert await page.locator("svg.reasons-chart rect").count() >= 1
                await screenshot(page, "account")
                pending = page.locator(f"table.pending tr[data-order-id='O-{run}-1']")
                await pending.locator("input[name=comment]").fill("Long-standing customer, pays on time")
                async with page.expect_navigation():
                    await pending.get_by_role("button", name="Approve").click()
                assert "approved by Carla Credit" in await page.locator(".notice").inner_text()
                assert "Long-standing customer, pays on time" in await page.locator("main").inner_text()

                # The ERP polls the check as it always has and sees the person's name.
                polled = (await desk.limits.client.get(f"/v1/credit-checks/{seeded['referred']['id']}", headers=desk.limits.auth("erp"))).json()
                assert (polled["decision"], polled["decided_by"], polled["decision_comment"]) == (
                    "approved",
                    "Carla Credit",
                    "Long-standing customer, pays on time",
                )

                # A promise to pay on the collection case, and the overdue alert acknowledged, under her name.
                case_form = page.locator("form[action*='/promise']")
                await case_form.locator("input[name=promised_on]").fill("2027-01-15")
                await case_form.locator("input[name=promised_amount]").fill("6200")
                await case_form.locator("input[name=comment]").fill("Pays after the holidays")
                async with page.expect_navigation():
                    await case_form.get_by_role("button", name="Record promise").click()
                assert "Promise to pay recorded" in await page.locator(".notice").inner_text()
                action = await page.locator("form[action*='/promise']").get_attribute("action")
                assert action is not None
                case_id = action.split("/cases/")[1].split("/")[0]
                case = (await desk.alerts.client.get(f"/v1/collections/cases/{case_id}", headers=desk.alerts.auth("sales"))).json()
                promise = [a for a in case["actions"] if a["kind"] == "promise_to_pay"]
                assert [(a["actor"], a["comment"]) for a in promise] == [("Carla Credit", "Pays after the holidays")] and case["promised_until"] == "2027-01-15"
                alert_row = page.locator("table.alerts tr[data-alert-id]").first
                alert_id = await alert_row.get_attribute("data-alert-id")
                async with page.expect_navigation():
                    await alert_row.get_by_role("button", name="Acknowledge").click()
                alert = (await desk.alerts.client.get(f"/v1/alerts/{alert_id}", headers=desk.alerts.auth("sales"))).json()
                assert (alert["status"], alert["acknowledged_by"]) == ("acknowledged", "Carla Credit")

                await page.goto(f"{base}/portfolio")
                assert await page.locator("svg.forecast-chart").count() == 1
                await screenshot(page, "portfolio")

                # A form whose CSRF token was removed is refused, and nothing changes.
                await page.goto(f"{base}/accounts/{mine}")
                form = page.locator(f"form[action='/accounts/{mine}/status']")
                await form.locator("input[name=reason]").fill("forged")
                await form.evaluate("f => f.querySelector('input[name=csrf_token]').remove()")
                async with page.expect_navigation():
                    await form.get_by_role("button").click()
                assert "CSRF" in await page.locator(".error").inner_text()
                limit = (await desk.limits.client.get(f"/v1/buyers/{mine}/limit", headers=desk.limits.auth("sales"))).json()
                assert limit["status"] == "active"
                await page.goto(base)
                await page.get_by_role("button", name="Sign out").click()
                await page.wait_for_url(f"{base}/login*")
                await context.close()

                # A sales person sees the alerts of their own accounts only.
                context = await browser.new_context(viewport={"width": 1400, "height": 900})
                page = await context.new_page()
                await _sign_in(page, base, "sales")
                assert page.url == f"{base}/inbox"
                alerts = page.locator("table.alerts tbody tr")
                assert await alerts.count() == 1
                assert seeded["buyers"]["sams"][0] in await alerts.first.inner_text()
                assert seeded["buyers"]["elses"][0] not in await page.content()
                await screenshot(page, "inbox")
                await context.close()

                # Five wrong passwords lock the account; then the right one is refused as well.
                context = await browser.new_context()
                page = await context.new_page()
                for attempt in range(5):
                    await _sign_in(page, base, "admin", password=f"not it {attempt}")
                assert "locked" in await page.locator(".error").inner_text()
                await _sign_in(page, base, "admin")
                assert page.url.startswith(f"{base}/login") and "locked" in await page.locator(".error").inner_text()
                await context.close()
            finally:
                await browser.close()
    finally:
        server.should_exit = True
        await task
