"""Who may see the dashboard: the sign-in form, its signed session cookie, CSRF on every form,
and the limit on wrong tokens, through the real app."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import time_machine
from starlette.testclient import TestClient

from kb_search.app import create_app
from kb_search.config import Settings
from tests.test_dashboard import TOKEN, session_csrf, sign_in


def test_without_a_session_every_page_goes_to_the_sign_in_form(client: TestClient) -> None:
    for path in ("/admin/", "/admin/?period=7", "/admin/export/days.csv", "/admin/gap?key=x"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/admin/sign-in?next=%2Fadmin%2F")
    assert client.get("/admin", follow_redirects=False).headers["location"] == "/admin/"


def test_the_pages_are_not_indexed_cached_or_scripted(client: TestClient) -> None:
    page = client.get("/admin/sign-in")
    assert page.headers["x-robots-tag"] == "noindex, nofollow"
    assert page.headers["cache-control"] == "no-store"
    assert '<meta name="robots" content="noindex, nofollow">' in page.text
    assert "script-src 'none'" in page.headers["content-security-policy"]
    assert "<script" not in page.text


def test_the_right_token_signs_in_with_a_strict_cookie(client: TestClient) -> None:
    answer = sign_in(client, target="/admin/?period=90")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/?period=90"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("kb_admin="))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "samesite", "path", "max-age"} <= attributes
    assert "samesite=strict" in cookie.lower() and "path=/admin" in cookie.lower()
    assert "secure" not in attributes  # plain HTTP on this machine
    assert client.get("/admin/").status_code == 200


def test_over_https_the_cookie_is_secure(settings: Settings) -> None:
    with TestClient(create_app(settings), base_url="https://help.example") as client:
        answer = sign_in(client)
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("kb_admin="))
    assert "secure" in cookie.lower()


def test_after_signing_in_it_goes_nowhere_but_the_dashboard(client: TestClient) -> None:
    for target in ("https://evil.example/", "//evil.example/admin/", "/admin/\\evil", "/api/x"):
        assert sign_in(client, target=target).headers["location"] == "/admin/", target


def test_wrong_tokens_are_refused_then_limited(client: TestClient) -> None:
    with time_machine.travel(datetime(2026, 11, 2, 9, tzinfo=UTC), tick=False):
        for _ in range(5):
            answer = sign_in(client, token="guess")
            assert answer.status_code == 401
            assert "That is not the admin token." in answer.text
            assert "kb_admin=" not in answer.headers.get("set-cookie", "").replace(
                "kb_admin_sign_in=", ""
            )
        limited = sign_in(client)  # even the right one, until the minute is over
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["ok"] is False
    with time_machine.travel(datetime(2026, 11, 2, 9, 2, tzinfo=UTC), tick=False):
        assert sign_in(client).status_code == 303


def test_a_form_without_its_csrf_value_is_refused(client: TestClient) -> None:
    posted = client.post("/admin/sign-in", data={"token": TOKEN, "csrf": "made-up"})
    assert posted.status_code == 403
    assert sign_in(client).status_code == 303
    page = client.get("/admin/gap", params={"key": "anything"})
    mark = {"lang": "en", "key": "anything", "action": "dismissed"}
    for csrf in ("", "made-up"):
        answer = client.post("/admin/gap", data={**mark, "csrf": csrf}, follow_redirects=False)
        assert answer.status_code == 403, csrf
    # The session's own value, but posted by a page of another site.
    csrf = session_csrf(client.get("/admin/").text)
    foreign = client.post(
        "/admin/gap", data={**mark, "csrf": csrf}, headers={"Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403
    assert page.status_code == 404  # a group the log does not have


def test_a_forged_or_stale_cookie_is_no_session(client: TestClient, settings: Settings) -> None:
    assert sign_in(client).status_code == 303
    good = client.cookies["kb_admin"]
    client.cookies.clear()
    client.cookies.set("kb_admin", good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
                       path="/admin")  # fmt: skip
    assert client.get("/admin/", follow_redirects=False).status_code == 303
    # A new admin token signs everyone out.
    with TestClient(create_app(replace(settings, admin_token="a-new-token"))) as other:
        other.cookies.set("kb_admin", good, path="/admin")
        assert other.get("/admin/", follow_redirects=False).status_code == 303
    # And a session lasts a working day.
    client.cookies.clear()
    client.cookies.set("kb_admin", good, path="/admin")
    assert client.get("/admin/", follow_redirects=False).status_code == 200
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=9)):
        assert client.get("/admin/", follow_redirects=False).status_code == 303


def test_signing_out_ends_the_session(client: TestClient) -> None:
    assert sign_in(client).status_code == 303
    csrf = session_csrf(client.get("/admin/").text)
    out = client.post("/admin/sign-out", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/admin/", follow_redirects=False).status_code == 303


def test_the_bearer_token_still_serves_the_api_and_no_token_turns_the_dashboard_off(
    client: TestClient, settings: Settings
) -> None:
    gaps = client.get("/api/gaps", headers={"Authorization": f"Bearer {TOKEN}"})
    assert gaps.status_code == 200
    with TestClient(create_app(replace(settings, admin_token=""))) as off:
        answer = off.get("/admin/", follow_redirects=False)
        assert answer.status_code == 404
        assert "KB_ADMIN_TOKEN" in answer.json()["error"]
