"""The search service through its real app: a real index, a real SQLite log, TestClient."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from kb_search.app import create_app
from kb_search.articles import load
from kb_search.config import Settings
from kb_search.versions import LiveIndex, build
from tests.conftest import ROOT, copy_project


def search(client: TestClient, q: str, **params: str) -> dict:  # type: ignore[type-arg]
    response = client.get("/api/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def top_titles(client: TestClient, q: str, k: int = 1) -> list[str]:
    return [r["title"] for r in search(client, q)["results"][:k]]


def logged(client: TestClient, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    service = client.app.state.service  # type: ignore[attr-defined]
    service.log.flush()
    with sqlite3.connect(service.settings.log_db) as db:
        return db.execute(sql).fetchall()


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("wheres my parcel", "Track your order"),
        ("where is my order", "Track your order"),
        ("fogot pasword", "Reset your password"),
        ("trak order", "Track your order"),
        ("retrun policy", "Return policy"),
        ("Retúrn POLICY", "Return policy"),
        ("how much is shipping", "Shipping costs"),
    ],
)
def test_customers_words_find_the_right_article_first(
    client: TestClient, query: str, title: str
) -> None:
    assert top_titles(client, query) == [title]


def test_a_result_has_everything_the_page_shows(client: TestClient) -> None:
    body = search(client, "print a return label", limit="3")
    assert body["ok"] is True
    assert body["total"] >= 1
    assert re.fullmatch(r"[0-9a-f]{32}", body["search_id"])
    first = body["results"][0]
    assert set(first) == {
        "id",
        "title",
        "url",
        "anchor",
        "summary",
        "snippet",
        "category",
        "category_title",
        "score",
    }
    assert not first["url"].startswith("/") and first["url"].endswith("/")
    assert "<mark>" in first["snippet"]
    assert len(body["results"]) <= 3


def test_a_match_in_a_section_links_to_that_sections_anchor(
    client: TestClient, built_site: Path
) -> None:
    first = search(client, "tracking has stopped moving")["results"][0]
    assert first["anchor"], first
    page = (built_site / first["url"] / "index.html").read_text(encoding="utf-8")
    assert f'id="{first["anchor"]}"' in page


def test_typos_are_corrected_and_said(client: TestClient) -> None:
    body = search(client, "fogot pasword")
    assert body["corrected"] == "forgot password"
    assert search(client, "forgot password")["corrected"] is None


def test_whoosh_syntax_is_plain_text(client: TestClient) -> None:
    plain = [r["id"] for r in search(client, "return label")["results"][:3]]
    for hostile in [
        "title:return label",
        "return* label?",
        "return AND NOT label",
        '(return) "label"',
        "return~ label^",
        "return OR label",
        "[return TO label]",
    ]:
        body = search(client, hostile)
        assert [r["id"] for r in body["results"][:3]] == plain, hostile


def test_nonsense_finds_nothing(client: TestClient) -> None:
    body = search(client, "xqzvy blorft")
    assert body["total"] == 0 and body["results"] == []


def test_category_filter_keeps_to_that_category(client: TestClient) -> None:
    body = search(client, "refund", category="payments")
    assert body["results"] and {r["category"] for r in body["results"]} == {"payments"}


def test_writers_synonyms_apply_at_query_time(settings: Settings, tmp_path: Path) -> None:
    # "rebate" is in no article, only in synonyms.yml's refund group.
    docs = copy_project(tmp_path / "p") / "docs"
    with_synonyms, without = tmp_path / "with", tmp_path / "without"
    build(load(docs), with_synonyms)
    (docs / "synonyms.yml").write_text("[]\n")
    build(load(docs), without)
    for root, expected in ((with_synonyms, "refunds"), (without, None)):
        app = create_app(Settings.from_env({}, **{**vars(settings), "index_dir": root}))
        with TestClient(app) as client:
            results = search(client, "rebate")["results"]
        assert (results[0]["category"] if results else None) == expected


def test_suggestions_for_first_keystrokes(client: TestClient) -> None:
    body = client.get("/api/suggest", params={"q": "retu"}).json()
    titles = [s["title"] for s in body["suggestions"]]
    assert "Return policy" in titles and len(titles) <= 6


def test_a_corrected_search_is_logged_redacted_too(client: TestClient) -> None:
    body = search(client, "retrun label anna.svensson@example.com +46 70 123 45 67")
    assert body["corrected"] == "return label anna.svensson@example.com +46 70 123 45 67"
    rows = logged(client, "SELECT * FROM searches")
    text = " ".join(str(v) for row in rows for v in row)
    assert "svensson" not in text and "123 45 67" not in text
    assert "return label <email> <phone>" in text


def test_every_search_is_logged_redacted(client: TestClient) -> None:
    body = search(client, "order EB-4471923 from anna.berg@example.com never came")
    rows = logged(client, "SELECT * FROM searches")
    text = " ".join(str(v) for row in rows for v in row)
    assert body["search_id"] in text
    assert "anna.berg" not in text and "4471923" not in text
    assert "<email>" in text


def test_clicks_and_feedback_are_logged(client: TestClient) -> None:
    body = search(client, "wheres my parcel")
    article = body["results"][0]["id"]
    assert client.post(
        "/api/click", json={"search_id": body["search_id"], "article_id": article}
    ).json() == {"ok": True}
    reply = client.post(
        "/api/feedback",
        json={"article_id": article, "helpful": False, "missing": "call me on +46 70 123 45 67"},
    )
    assert reply.json() == {"ok": True}
    assert logged(client, "SELECT search_id, article_id FROM clicks") == [
        (body["search_id"], str(article))
    ]
    feedback = " ".join(str(v) for row in logged(client, "SELECT * FROM feedback") for v in row)
    assert "<phone>" in feedback and "123 45 67" not in feedback


def test_not_helpful_feedback_says_why_from_a_short_list(client: TestClient) -> None:
    ok = {"article_id": 103, "helpful": False, "reason": "outdated"}
    assert client.post("/api/feedback", json=ok).json() == {"ok": True}
    for wrong in ({**ok, "reason": r} for r in ("boring", 3, {}, [], ["outdated"])):
        reply = client.post("/api/feedback", json=wrong)
        assert reply.status_code == 400, wrong
        assert (
            reply.json()["error"] == "reason must be one of outdated, unclear, not_answered, other"
        )
    assert client.post("/api/feedback", json={**ok, "helpful": True}).status_code == 200
    rows = logged(client, "SELECT article_id, helpful, reason FROM feedback ORDER BY at")
    assert rows == [("103", 0, "outdated"), ("103", 1, None)]
    gaps = client.get("/api/gaps", headers={"Authorization": "Bearer test-admin-token"})
    assert gaps.json()["not_helpful"][0]["reasons"] == {"outdated": 1}


def test_gaps_need_the_admin_token(client: TestClient) -> None:
    assert search(client, "xqzvy blorft 4111 1111 1111 1111")["total"] == 0
    assert client.get("/api/gaps").status_code == 401
    wrong = client.get("/api/gaps", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["ok"] is False
    client.app.state.service.log.flush()  # type: ignore[attr-defined]
    report = client.get("/api/gaps", headers={"Authorization": "Bearer test-admin-token"}).json()
    examples = [e for group in report["unanswered"] for e in group["examples"]]
    assert any("xqzvy" in e and "<card-number>" in e for e in examples), examples


def test_healthz_says_which_index_and_ranker(client: TestClient) -> None:
    body = client.get("/healthz").json()
    assert body["ok"] is True and body["ranker"] == "lexical"
    assert body["articles"] == len(load(ROOT / "docs").published)


def test_openapi_describes_the_public_api(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    assert {
        "/api/search",
        "/api/suggest",
        "/api/click",
        "/api/feedback",
        "/healthz",
        "/api/gaps",
    } <= set(paths)


def test_search_answers_when_the_log_cannot_be_written(
    settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the log's folder should be")
    broken = Settings.from_env({}, **{**vars(settings), "log_db": blocked / "log.sqlite3"})
    with TestClient(create_app(broken)) as client:
        for _ in range(3):
            assert top_titles(client, "wheres my parcel") == ["Track your order"]
        query_log = client.app.state.service.log  # type: ignore[attr-defined]
        assert not query_log.flush(timeout=1)  # waiting for a store that may come back
        health = client.get("/healthz").json()
        assert health["ok"] is True and health["status"] == "degraded"
        assert any("query log is busy" in p for p in health["problems"])
        query_log.writer.close_seconds = 0.5
    assert any("retrying" in r.getMessage() for r in caplog.records)


def test_a_new_index_is_picked_up_without_a_restart(settings: Settings, tmp_path: Path) -> None:
    root = tmp_path / "index"
    center = load(ROOT / "docs")
    first = build(center, root).name
    with TestClient(
        create_app(Settings.from_env({}, **{**vars(settings), "index_dir": root}))
    ) as client:
        assert client.get("/healthz").json()["index"] == first
        second = build(center, root).name
        assert second != first
        deadline = time.monotonic() + LiveIndex.CHECK_SECONDS + 5
        while client.get("/healthz").json()["index"] != second:
            assert time.monotonic() < deadline, "the new index was not picked up"
            time.sleep(0.1)
        assert top_titles(client, "wheres my parcel") == ["Track your order"]


def test_the_site_is_served_with_caching_and_security_headers(client: TestClient) -> None:
    home = client.get("/")
    assert home.status_code == 200 and "How can we help?" in home.text
    assert home.headers["cache-control"] == "no-cache"
    policy = home.headers["content-security-policy"]
    script_src = next(p for p in policy.split("; ") if p.startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'sha256-" in script_src
    assert home.headers["x-content-type-options"] == "nosniff"
    css = re.search(r'href="(assets/stylesheets/main\.[0-9a-f]{8}\.min\.css)"', home.text)
    assert css is not None
    assert "immutable" in client.get("/" + css.group(1)).headers["cache-control"]
    api = client.get("/healthz")
    assert api.headers["content-security-policy"].startswith("default-src 'none'")
    assert client.get("/a/103/").status_code == 200


def test_cors_only_for_configured_origins(settings: Settings) -> None:
    allowed = "https://shop.example"
    app = create_app(Settings.from_env({}, **{**vars(settings), "cors_origins": (allowed,)}))
    with TestClient(app) as client:
        ok = client.get("/healthz", headers={"Origin": allowed})
        assert ok.headers["access-control-allow-origin"] == allowed
        other = client.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
    with TestClient(create_app(settings)) as client:
        plain = client.get("/healthz", headers={"Origin": allowed})
        assert "access-control-allow-origin" not in plain.headers


def test_feedback_and_clicks_are_rate_limited_per_client(settings: Settings) -> None:
    app = create_app(Settings.from_env({}, **{**vars(settings), "rate_limit": 3}))
    with TestClient(app) as client:
        replies = [
            client.post("/api/feedback", json={"article_id": 103, "helpful": True})
            for _ in range(4)
        ]
    assert [r.status_code for r in replies] == [200, 200, 200, 429]
    assert replies[-1].json()["error"].startswith("too many requests")
    assert int(replies[-1].headers["retry-after"]) > 0


def test_searches_while_typing_are_answered_but_not_logged(client: TestClient) -> None:
    typing = search(client, "wheres my", typing="1")
    assert typing["results"] and typing["search_id"] is None
    settled = search(client, "wheres my parcel")
    rows = logged(client, "SELECT search_id FROM searches")
    assert rows == [(settled["search_id"],)]


def test_only_relevant_articles_are_counted(client: TestClient) -> None:
    body = search(client, "cancel my order")
    assert 1 <= body["total"] <= 10
    assert body["results"][0]["title"] == "Cancel an order"
