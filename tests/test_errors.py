"""Every error the service returns has one JSON shape, and hostile input is never a 5xx."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from kb_search.app import create_app
from kb_search.config import Settings

SHAPE = {"ok", "error", "status"}


def assert_error(response: object, status: int) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == SHAPE and body["ok"] is False and body["status"] == status
    assert isinstance(body["error"], str) and body["error"]


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "status", "message"),
    [
        ("GET", "/api/search", {}, 400, "q is required"),
        ("GET", "/api/search?q=%20%20", {}, 400, "q is required"),
        ("GET", "/api/search?q=" + "a" * 201, {}, 400, "query is too long (max 200 characters)"),
        ("GET", "/api/search?q=a%00b", {}, 400, "query contains control characters"),
        ("GET", "/api/search?q=%ff%fe", {}, 400, "not valid UTF-8"),
        ("GET", "/api/search?q=hat&colour=red", {}, 400, "unknown parameter 'colour'"),
        ("GET", "/api/search?q=hat&q=cap", {}, 400, "given twice"),
        ("GET", "/api/search?q=hat&limit=0", {}, 400, "limit must be a whole number"),
        ("GET", "/api/search?q=hat&limit=x", {}, 400, "limit must be a whole number"),
        ("GET", "/api/search?q=hat&limit=%C2%B2", {}, 400, "limit must be a whole number"),
        ("GET", "/api/search?q=hat&category=nope", {}, 400, "unknown category 'nope'"),
        ("POST", "/api/search?q=hat", {}, 405, "method not allowed"),
        ("DELETE", "/api/feedback", {}, 405, "method not allowed"),
        ("GET", "/api/nothing-here", {}, 404, "no such API endpoint"),
        ("POST", "/api/feedback", {"content": b"{}"}, 415, "Content-Type: application/json"),
        ("POST", "/api/feedback", {"json": {"article_id": 103}}, 400, "helpful must be"),
        (
            "POST",
            "/api/feedback",
            {"json": {"article_id": 9999, "helpful": True}},
            400,
            "not a published article",
        ),
        (
            "POST",
            "/api/feedback",
            {"json": {"article_id": 103, "helpful": True, "x": 1}},
            400,
            "unknown field 'x'",
        ),
        ("POST", "/api/feedback", {"json": [1, 2]}, 400, "must be a JSON object"),
        (
            "POST",
            "/api/feedback",
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            400,
            "not valid JSON",
        ),
        (
            "POST",
            "/api/feedback",
            {"json": {"article_id": 103, "helpful": False, "missing": "x" * 501}},
            400,
            "too long",
        ),
        (
            "POST",
            "/api/feedback",
            {"content": b"{" + b" " * 5000 + b"}", "headers": {"content-type": "application/json"}},
            413,
            "too large",
        ),
        (
            "POST",
            "/api/feedback",
            {"content": b"[" * 1900 + b"]" * 1900, "headers": {"content-type": "application/json"}},
            400,
            "not valid JSON",
        ),
        (
            "POST",
            "/api/click",
            {"json": {"search_id": "nope", "article_id": 103}},
            400,
            "search_id must be",
        ),
        ("GET", "/api/gaps", {}, 401, "admin token"),
    ],
)
def test_one_error_shape_with_a_clear_message(
    client: TestClient,
    method: str,
    url: str,
    kwargs: dict,
    status: int,
    message: str,  # type: ignore[type-arg]
) -> None:
    response = client.request(method, url, **kwargs)
    assert_error(response, status)
    assert message in response.json()["error"]


@pytest.fixture
def fuzz_client(settings: Settings) -> Iterator[TestClient]:
    """The real app with the rate limit out of the way, so every body reaches validation."""
    app = create_app(Settings.from_env({}, **{**vars(settings), "rate_limit": 10**9}))
    with TestClient(app) as test_client:
        yield test_client


text = st.text(alphabet=st.characters(codec="utf-8"), max_size=260)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)


@settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(q=text, limit=st.one_of(st.none(), text), raw=st.binary(max_size=60))
def test_generated_queries_never_cause_a_server_error(
    fuzz_client: TestClient, q: str, limit: str | None, raw: bytes
) -> None:
    params = {"q": q} if limit is None else {"q": q, "limit": limit}
    assert fuzz_client.get("/api/search", params=params).status_code < 500
    assert fuzz_client.get("/api/suggest", params={"q": q}).status_code < 500
    encoded = "".join(f"%{byte:02x}" for byte in raw)
    assert fuzz_client.get("/api/search?q=" + encoded).status_code < 500


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    body=st.one_of(
        json_values,
        st.fixed_dictionaries(
            {"article_id": json_values, "helpful": json_values},
            optional={"missing": json_values, "search_id": json_values},
        ),
    )
)
def test_generated_bodies_never_cause_a_server_error(fuzz_client: TestClient, body: object) -> None:
    for path in ("/api/feedback", "/api/click"):
        assert fuzz_client.post(path, json=body).status_code < 500


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(raw=st.binary(max_size=5000))
def test_generated_raw_bodies_never_cause_a_server_error(
    fuzz_client: TestClient, raw: bytes
) -> None:
    response = fuzz_client.post(
        "/api/feedback", content=raw, headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500 and response.status_code != 429


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Content-Type": "text/plain; x=json"}, 415),  # a form any web page can send unasked
        ({"Content-Type": "text/notjson"}, 415),
        (
            {
                "Content-Type": "application/json",
                "Origin": "https://evil.example",
                "Sec-Fetch-Site": "cross-site",
            },
            403,
        ),
        ({"Content-Type": "application/json", "Sec-Fetch-Site": "same-origin"}, 200),
        ({"Content-Type": "application/json", "Origin": "https://help.example"}, 200),
        ({"Content-Type": "application/json; charset=utf-8"}, 200),
    ],
)
def test_feedback_comes_only_as_json_from_our_own_pages(
    client: TestClient, headers: dict[str, str], status: int
) -> None:
    body = json.dumps({"article_id": 103, "helpful": False, "missing": "cross-site"})
    response = client.post("/api/feedback", content=body, headers=headers)
    assert response.status_code == status, response.text


@pytest.mark.parametrize(
    "path", ["/api/search?q=a&limit=", "/api/gaps?limit=", "/api/search?q=a&typing="]
)
def test_an_enormous_number_is_a_400_not_a_500(client: TestClient, path: str) -> None:
    response = client.get(path + "9" * 5000, headers={"Authorization": "bearer test-admin-token"})
    assert response.status_code == 400, response.text
