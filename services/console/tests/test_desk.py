"""The desk over the real services: the referral queue with its filters, a decision recorded under
the person's name, the account page and its actions, search, exports and the bulk limit import."""

from __future__ import annotations

import csv
import io
import uuid

from services.console.tests.conftest import csrf_of, order, register_buyer, set_limit, sign_in


async def test_referral_queue_decision_and_account_actions_are_recorded_under_the_persons_name(desk):
    run = uuid.uuid4().hex[:6]
    mine, other = f"B-{run}-1", f"B-{run}-2"
    await register_buyer(desk.scoring, mine, name="Müller Maschinenbau GmbH", owner="carla@desk.test", country="DE")
    await register_buyer(desk.scoring, other, name="Dupont Logistique SA", owner="sam@desk.test", country="FR")
    for buyer in (mine, other):
        await set_limit(desk.limits, buyer, "1000.00")
    referred = await order(desk.limits, mine, f"O-{run}-1", "1100.00")
    referred_other = await order(desk.limits, other, f"O-{run}-2", "1150.00")
    assert referred["decision"] == referred_other["decision"] == "referred"

    client = desk.client
    assert (await sign_in(client, "credit_manager")).status_code == 303
    queue = await client.get("/referrals")
    assert queue.status_code == 200
    for text in ("Müller Maschinenbau GmbH", "Dupont Logistique SA", f"O-{run}-1", "1,100.00 EUR", "(2 waiting)"):
        assert text in queue.text, text
    assert queue.text.index(f"O-{run}-1") < queue.text.index(f"O-{run}-2")  # oldest first
    assert (await client.get("/referrals?sort=-amount")).text.index(f"O-{run}-2") < (await client.get("/referrals?sort=-amount")).text.index(f"O-{run}-1")
    only_mine = await client.get("/referrals?mine=1")
    assert f"O-{run}-1" in only_mine.text and f"O-{run}-2" not in only_mine.text
    french = await client.get("/referrals?country=FR")
    assert f"O-{run}-2" in french.text and f"O-{run}-1" not in french.text
    assert "(0 waiting)" in (await client.get("/referrals?reason=overdue_days")).text
    assert "(2 waiting)" in (await client.get("/referrals?reason=limit_exceeded")).text
    paged = await client.get("/referrals?per_page=1&page=2")
    assert f"O-{run}-2" in paged.text and f"O-{run}-1" not in paged.text and "Page 2 of 2" in paged.text

    invalid = await client.get("/referrals?grade=eleven&country=Germany")
    assert invalid.status_code == 422 and "grade" in invalid.text and "country" in invalid.text

    exported = await client.get("/referrals.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["order_id"] for r in rows] == [f"O-{run}-1", f"O-{run}-2"] and rows[0]["buyer_name"] == "Müller Maschinenbau GmbH"

    # A decision needs a comment and the CSRF token; then the ERP sees it under the person's name.
    account = await client.get(f"/accounts/{mine}")
    assert account.status_code == 200, account.text[account.text.index("<main>") :]
    assert f"O-{run}-1" in account.text and "Orders waiting for a decision" in account.text
    token = csrf_of(account.text)
    forged = await client.post(f"/referrals/{referred['id']}/decision", data={"decision": "approved", "comment": "ok"})
    assert forged.status_code == 403
    no_comment = await client.post(
        f"/referrals/{referred['id']}/decision", data={"decision": "approved", "comment": " ", "csrf_token": token, "next": f"/accounts/{mine}"}
    )
    assert no_comment.status_code == 303 and "error=" in no_comment.headers["location"]
    decided = await client.post(
        f"/referrals/{referred['id']}/decision",
        data={"decision": "approved", "comment": "Long-standing customer, paid on time", "csrf_token": token, "next": f"/accounts/{mine}"},
    )
    assert decided.status_code == 303 and decided.headers["location"].startswith(f"/accounts/{mine}?notice=")
    polled = (await desk.limits.client.get(f"/v1/credit-checks/{referred['id']}", headers=desk.limits.auth("erp"))).json()
    assert (polled["decision"], polled["decided_by"], polled["decision_comment"]) == ("approved", "Carla Credit", "Long-standing customer, paid on time")
    again = await client.post(
        f"/referrals/{referred['id']}/decision",
        data={"decision": "rejected", "comment": "no", "csrf_token": token},
        headers={"Referer": "http://console.test/referrals"},
    )
    assert again.status_code == 303 and again.headers["location"].startswith("/referrals?error=")
    assert "(1 waiting)" in (await client.get("/referrals")).text

    # Limit, hold and release from the account page, audited under the person's name.
    assert (
        await client.post(
            f"/accounts/{mine}/limit", data={"amount": "5000", "currency": "EUR", "payment_terms_days": "45", "reason": "more business", "csrf_token": token}
        )
    ).status_code == 303
    assert (await client.post(f"/accounts/{mine}/status", data={"status": "on_hold", "reason": "check pending", "csrf_token": token})).status_code == 303
    assert (
        await client.post(
            f"/accounts/{mine}/temporary-increase",
            data={"amount": "750", "valid_from": "2026-01-01", "valid_until": "2099-12-31", "reason": "season", "csrf_token": token},
        )
    ).status_code == 303
    bad_dates = await client.post(
        f"/accounts/{mine}/temporary-increase",
        data={"amount": "750", "valid_from": "2026-13-01", "valid_until": "2099-12-31", "reason": "season", "csrf_token": token},
        headers={"Referer": f"http://console.test/accounts/{mine}"},
    )
    assert bad_dates.status_code == 303 and "not+a+date" in bad_dates.headers["location"]
    increases = (await desk.limits.client.get(f"/v1/buyers/{mine}/limit", headers=desk.limits.auth("sales"))).json()["temporary_increases"]
    assert [(i["amount"], i["created_by"]) for i in increases] == [("750.00", "Carla Credit")]
    audit = (await desk.limits.client.get(f"/v1/buyers/{mine}/limit/audit", headers=desk.limits.auth("credit_manager"))).json()
    assert {a["changed_by"] for a in audit if a["reason"] in ("more business", "check pending")} == {"Carla Credit"}
    page = await client.get(f"/accounts/{mine}")
    for text in ("5,000.00 EUR", "on hold", "Release", "Long-standing customer, paid on time", "Carla Credit", "Müller Maschinenbau GmbH"):
        assert text in page.text, text
    assert (await client.get("/accounts/B-nobody")).status_code == 404

    # Search by part of the name or the start of the id, and its export.
    found = await client.get("/search?q=maschinen")
    assert "Müller Maschinenbau GmbH" in found.text and "Dupont" not in found.text
    assert "Dupont Logistique SA" in (await client.get(f"/search?q={other.lower()}")).text
    partial = await client.get("/search?q=dupont", headers={"HX-Request": "true"})
    assert partial.text.lstrip().startswith('<div id="results">')
    assert "Dupont Logistique SA" in (await client.get("/search.csv?q=dupont")).text


async def test_bulk_limit_import_previews_then_applies(desk):
    run = uuid.uuid4().hex[:6]
    known, new = f"B-{run}-1", f"B-{run}-2"
    await set_limit(desk.limits, known, "1000.00")
    client = desk.client
    assert (await sign_in(client, "credit_manager")).status_code == 303
    token = csrf_of((await client.get("/imports/limits")).text)
    content = f"buyer_id,amount,currency,payment_terms_days,reason\n{known},2500.00,EUR,30,annual review\n{new},800,EUR,14,\nbad id!,x,EURO,400,\n"
    preview = await client.post("/imports/limits/preview", data={"csrf_token": token}, files={"file": ("limits.csv", content.encode(), "text/csv")})
    assert preview.status_code == 200
    assert (
        "2 lines to apply" in preview.text and "1 with errors" in preview.text and "1,000.00 EUR" in preview.text and "amount is not a number" in preview.text
    )
    # Nothing has changed yet.
    assert (await desk.limits.client.get(f"/v1/buyers/{known}/limit", headers=desk.limits.auth("sales"))).json()["amount"] == "1000.00"
    applied = await client.post("/imports/limits/apply", data={"csrf_token": token, "content": content})
    assert applied.status_code == 200 and "2 of 3 limits applied" in applied.text
    limits = {b: (await desk.limits.client.get(f"/v1/buyers/{b}/limit", headers=desk.limits.auth("sales"))).json() for b in (known, new)}
    assert (limits[known]["amount"], limits[new]["amount"], limits[new]["payment_terms_days"]) == ("2500.00", "800.00", 14)
    audit = (await desk.limits.client.get(f"/v1/buyers/{new}/limit/audit", headers=desk.limits.auth("sales"))).json()
    assert audit[-1]["changed_by"] == "Carla Credit" and audit[-1]["reason"] == "bulk import from the console"

    # Sales may not import, and the services refuse a sales person's limit change too.
    sales = desk.browser()
    assert (await sign_in(sales, "sales")).status_code == 303
    assert (await sales.get("/imports/limits")).status_code == 403
