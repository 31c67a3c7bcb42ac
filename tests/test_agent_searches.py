"""Support agents search through the real search (typos, synonyms), never into the customers'
query log: a real app, a real SQLite log."""

from __future__ import annotations

import sqlite3

import pytest
from starlette.testclient import TestClient


def _rows(client: TestClient) -> list[tuple[str]]:
    service = client.app.state.service  # type: ignore[attr-defined]
    service.log.flush()
    with sqlite3.connect(service.settings.log_db) as db:
        return db.execute("SELECT query FROM searches ORDER BY rowid").fetchall()


def test_an_agents_search_is_answered_and_never_logged(client: TestClient) -> None:
    response = client.get("/api/search", params={"q": "retrun", "source": "agents"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["corrected"] == "return" and body["search_id"] is None
    assert "Return policy" in [r["title"] for r in body["results"]]
    # A customer's search in the same log is there: the agent's was left out, not lost.
    customer = client.get("/api/search", params={"q": "fogot pasword", "source": "customer"})
    assert customer.json()["search_id"]
    assert _rows(client) == [("fogot pasword",)]
    client.app.state.service.log.flush()  # type: ignore[attr-defined]
    report = client.get("/api/gaps", headers={"Authorization": "Bearer test-admin-token"}).json()
    examples = [e for key in ("unanswered", "no_click") for g in report[key] for e in g["examples"]]
    assert "retrun" not in examples


@pytest.mark.parametrize("value", ["agent", "AGENTS", "staff", "0"])
def test_source_is_customer_or_agents(client: TestClient, value: str) -> None:
    response = client.get("/api/search", params={"q": "return", "source": value})
    assert response.status_code == 400
    assert response.json() == {
        "ok": False,
        "error": "source must be one of: customer, agents",
        "status": 400,
    }


def test_source_is_in_the_openapi_document(client: TestClient) -> None:
    document = client.get("/api/openapi.json").json()
    names = [p["name"] for p in document["paths"]["/api/search"]["get"]["parameters"]]
    assert "source" in names
    assert document["components"]["schemas"]["Source"]["enum"] == ["customer", "agents"]
