"""People sign in with a password, every form carries the session's CSRF token, five wrong
passwords lock the account."""

from __future__ import annotations

from services.console.tests.conftest import PASSWORD, csrf_of, sign_in


async def test_sign_in_sign_out_and_csrf(console):
    client = console.client
    assert (await client.get("/referrals")).headers["location"] == "/login?next=/referrals"
    form = await client.get("/login")
    assert 'name="email"' in form.text and 'name="password"' in form.text and 'name="csrf_token"' in form.text

    # The login form without its token, or with another one, is refused.
    refused = await client.post("/login", data={"email": "carla@desk.test", "password": PASSWORD})
    assert refused.status_code == 403 and "CSRF" in refused.text
    refused = await client.post("/login", data={"email": "carla@desk.test", "password": PASSWORD, "csrf_token": "forged"})
    assert refused.status_code == 403

    signed_in = await sign_in(client, "credit_manager")
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/referrals"
    cookie = signed_in.headers["set-cookie"]
    assert "cg_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert (await client.get("/")).headers["location"] == "/referrals"  # signed in: home, not the sign-in form
    # No service behind this console: the page says so, signed in, with the sign-out form.
    page = await client.get("/referrals")
    assert page.status_code == 503 and "Carla Credit" in page.text and "did not answer" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]

    # A signed-in form post without the session's token is refused and changes nothing.
    assert (await client.post("/logout", data={})).status_code == 403
    assert (await client.post("/logout", data={"csrf_token": "x" * 43})).status_code == 403
    assert (await client.get("/")).headers["location"] == "/referrals"
    out = await client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert out.status_code == 303
    assert (await client.get("/")).headers["location"] == "/login?next=/"

    # The sign-in cookie of the closed session opens nothing, even if replayed.
    replay = console.browser()
    replay.cookies.set("cg_session", cookie.split("cg_session=")[1].split(";")[0], domain="console.test")
    assert (await replay.get("/")).headers["location"] == "/login?next=/"


async def test_five_wrong_passwords_lock_the_account(console):
    client = console.client
    for attempt in range(4):
        wrong = await sign_in(client, "sales", password=f"wrong {attempt}")
        assert wrong.status_code == 401 and "wrong" in wrong.text
    locked = await sign_in(client, "sales", password="wrong 5")
    assert locked.status_code == 423 and "locked" in locked.text
    # Locked: the right password no longer opens it.
    still = await sign_in(client, "sales")
    assert still.status_code == 423 and "locked" in still.text
    # Others are not affected, and an unknown e-mail says nothing about which part was wrong.
    assert (await sign_in(console.browser(), "credit_manager")).status_code == 303

    # Once the lock has run out, the right password works and resets the count.
    context = console.console.state.console
    async with context.session_factory() as session:
        from creditguard_console.people.repository import PeopleRepository

        person = await PeopleRepository(session).by_email("sam@desk.test")
        assert person.failed_sign_ins == 0 and person.locked_until is not None
        person.locked_until = context.clock.now()
        await session.commit()
    assert (await sign_in(client, "sales")).status_code == 303

    metrics = (await client.get("/metrics")).text
    assert 'creditguard_console_sign_ins_total{outcome="refused",service="console"} 4.0' in metrics
    assert 'creditguard_console_sign_ins_total{outcome="locked_out",service="console"} 2.0' in metrics
    assert 'creditguard_console_sign_ins_total{outcome="signed_in",service="console"} 2.0' in metrics


async def test_an_admin_adds_people_and_lifts_a_lock_out(console):
    admin = console.client
    assert (await sign_in(admin, "admin")).status_code == 303
    page = await admin.get("/people")
    assert page.status_code == 200 and "carla@desk.test" in page.text
    token = csrf_of(page.text)
    assert (await admin.post("/people", data={"name": "Nina New", "email": "Nina@Desk.test", "role": "sales", "password": "long enough pw"})).status_code == 403
    added = await admin.post(
        "/people", data={"name": "Nina New", "email": "Nina@Desk.test", "role": "sales", "password": "long enough pw", "csrf_token": token}
    )
    assert added.status_code == 303 and "notice=" in added.headers["location"]
    short = await admin.post(
        "/people",
        data={"name": "Short", "email": "s@desk.test", "role": "sales", "password": "short", "csrf_token": token},
        headers={"Referer": "http://console.test/people"},
    )
    assert short.status_code == 303 and "12+characters" in short.headers["location"]
    twice = await admin.post(
        "/people",
        data={"name": "Nina", "email": "nina@desk.test", "role": "sales", "password": "long enough pw", "csrf_token": token},
        headers={"Referer": "http://console.test/people"},
    )
    assert "already+has+an+account" in twice.headers["location"]

    nina = console.browser()
    form = await nina.get("/login")
    signed_in = await nina.post("/login", data={"email": "nina@desk.test", "password": "long enough pw", "csrf_token": csrf_of(form.text)})
    assert signed_in.headers["location"] == "/inbox"
    assert (await nina.get("/people")).status_code == 403  # sales may not manage people

    for attempt in range(5):
        await sign_in(console.browser(), "read_only", password=f"nope {attempt}")
    assert (await sign_in(console.browser(), "read_only")).status_code == 423
    page = await admin.get("/people")
    assert 'data-email="rita@desk.test"' in page.text and "Unlock" in page.text
    person_id = page.text.split('action="/people/')[1].split("/unlock")[0]
    assert (await admin.post(f"/people/{person_id}/unlock", data={"csrf_token": token})).status_code == 303
    assert (await sign_in(console.browser(), "read_only")).status_code == 303


async def test_a_nul_in_a_form_is_refused_not_a_server_error(console):
    # PostgreSQL cannot store or compare a NUL: the sign-in lookup answered it with a 500.
    form = await console.client.get("/login")
    response = await console.client.post("/login", data={"email": "carla\u0000@desk.test", "password": PASSWORD, "csrf_token": csrf_of(form.text)})
    # Back to the form with the message, as for any refused form.
    assert response.status_code == 303 and "which+cannot+be+stored" in response.headers["location"], response.headers
    assert "cg_session=" not in response.headers.get("set-cookie", "")
