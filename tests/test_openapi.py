"""The OpenAPI document is true: schemathesis, with every check, against the live service.

`GET /api/openapi.json` is what API users (and their generated clients) read. Schemathesis reads
it too, sends requests that follow it and requests that break it, and checks every answer: the
status is documented, the body has the documented shape, what breaks the document is refused
and what follows it is accepted, a method an endpoint does not have gets a 405 with `Allow`.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from kb_search.app import create_app
from kb_search.config import Settings
from tests.conftest import ROOT, live_uvicorn

TOKEN = "openapi-admin-token"
EXAMPLES_PER_OPERATION = 50


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory, index_root: Path) -> Iterator[str]:
    """The real app on a live uvicorn at 127.0.0.1 (a free port), without its rate limits."""
    settings = Settings.from_env(
        {},
        docs_dir=ROOT / "docs",
        index_dir=index_root,
        log_db=tmp_path_factory.mktemp("openapi") / "querylog.sqlite3",
        admin_token=TOKEN,
        rate_limit=10**9,
        log_searches_per_minute=10**9,
    )
    with live_uvicorn(create_app(settings)) as url:
        yield url


def test_the_service_does_what_its_openapi_document_says(live_api: str, tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{live_api}/api/openapi.json",
        "--checks=all",
        f"--max-examples={EXAMPLES_PER_OPERATION}",
        "--continue-on-failure",  # every failure of an operation, not only its first
        f"--header=Authorization: Bearer {TOKEN}",
        "--generation-database=none",
        "--request-timeout=10",
        "--no-color",
    ]
    # In an empty folder: no schemathesis.toml of anyone's is read and nothing is left behind.
    run = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=180, check=False
    )
    report = run.stdout + run.stderr
    print(report[-3000:])  # the summary (with the seed, to replay a run), shown with -rA
    assert run.returncode == 0, report


@pytest.fixture
def api(settings: Settings) -> Iterator[TestClient]:
    app = create_app(Settings.from_env({}, **{**vars(settings), "rate_limit": 10**9}))
    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/api/click", "POST"),
        ("PUT", "/api/feedback", "POST"),
        ("OPTIONS", "/api/click", "POST"),
        ("POST", "/api/search", "GET, HEAD"),
        ("DELETE", "/api/gaps", "GET, HEAD"),
        ("POST", "/healthz", "GET, HEAD"),
        ("PATCH", "/api/openapi.json", "GET, HEAD"),
    ],
)
def test_a_method_an_endpoint_lacks_is_the_apis_405(
    api: TestClient, method: str, path: str, allow: str
) -> None:
    response = api.request(method, path)
    assert response.status_code == 405, response.text
    assert set(response.headers["allow"].split(", ")) == set(allow.split(", "))  # in any order
    assert response.json() == {"ok": False, "error": "method not allowed", "status": 405}


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_an_unknown_api_path_is_a_json_404_for_every_method(api: TestClient, method: str) -> None:
    for path in ("/api/nothing", "/api/search/", "/api/a/b"):
        response = api.request(method, path)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["error"] == f"no such API endpoint: {path}"


def test_suggest_needs_q_like_search(api: TestClient) -> None:
    for query in ("", "?q=", "?q=%20"):
        response = api.get("/api/suggest" + query)
        assert response.status_code == 400 and "q is required" in response.json()["error"]


def test_an_empty_optional_parameter_is_its_default(api: TestClient) -> None:
    """allowEmptyValue in the document: `limit=` is what a form with an empty field sends."""
    response = api.get("/api/search?q=return&limit=&category=&typing=")
    assert response.status_code == 200 and len(response.json()["results"]) == 10
    assert api.get("/api/search?q=return&session=").status_code == 400  # not for session


def test_the_default_limit_is_within_the_maximum(settings: Settings) -> None:
    app = create_app(Settings.from_env({}, **{**vars(settings), "max_results": 3}))
    with TestClient(app) as client:
        assert len(client.get("/api/search", params={"q": "return"}).json()["results"]) == 3
        limit = client.get("/api/openapi.json").json()["components"]["schemas"]["Limit"]
        assert limit["default"] == limit["maximum"] == 3


def test_the_limit_is_on_the_text_as_sent(api: TestClient) -> None:
    """maxLength 200 in the document: 201 characters are refused, spaces or not."""
    assert api.get("/api/search", params={"q": "hat" + " " * 198}).status_code == 400
    assert api.get("/api/search", params={"q": "hat" + " " * 197}).status_code == 200


def test_feedback_may_have_line_breaks(api: TestClient) -> None:
    """What was missing comes from a <textarea>: its line breaks are white space, not control."""
    body = {"article_id": 103, "helpful": False, "missing": "the size chart\r\nfor shoes\tplease"}
    assert api.post("/api/feedback", json=body).json() == {"ok": True}
    body["missing"] = "a bell \x07"
    assert api.post("/api/feedback", json=body).status_code == 400


def test_the_document_is_valid_openapi_3_0(api: TestClient) -> None:
    """The meta-schema that schemathesis carries: a YAML slip in a docstring shows here."""
    from schemathesis.specs.openapi.definitions import OPENAPI_30_VALIDATOR

    document = api.get("/api/openapi.json").json()
    assert [str(error) for error in OPENAPI_30_VALIDATOR.iter_errors(document)] == []


def test_the_document_has_the_releases_ids_and_the_settings_limits(api: TestClient) -> None:
    document = api.get("/api/openapi.json").json()
    components = document["components"]
    assert components["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    assert document["paths"]["/api/gaps"]["get"]["security"] == [{"bearer": []}]
    schemas = components["schemas"]
    assert schemas["Query"]["maxLength"] == 200 and schemas["Limit"]["maximum"] == 20
    assert "103" in schemas["ArticleId"]["oneOf"][1]["enum"]
    assert 103 in schemas["ArticleId"]["oneOf"][0]["enum"]
    assert "payments" in schemas["Category"]["enum"]
    assert schemas["Error"]["required"] == ["ok", "error", "status"]
