"""The insights dashboard through the real app: its figures against a hand count of what
customers did over simulated days (the clock moved with time-machine), before and after
retention; its gap marks; its CSV."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from starlette.testclient import TestClient

from kb_search import reports
from kb_search.app import create_app
from kb_search.config import Settings
from kb_search.querylog.gaps import normalise

DAY_ONE = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)
NOTHING = normalise("zanzibarian quux")  # the group of the searches that find nothing
TOKEN = "test-admin-token"  # tests/conftest.py's settings


def sign_in(client: TestClient, token: str = TOKEN, target: str = "/admin/") -> Any:
    form = client.get("/admin/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf, form.text
    return client.post(
        "/admin/sign-in",
        data={"csrf": csrf.group(1), "token": token, "next": target},
        follow_redirects=False,
    )


def session_csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    return found.group(1)


def table(client: TestClient, name: str, **params: str) -> list[dict[str, str]]:
    answer = client.get(f"/admin/export/{name}.csv", params=params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(answer.text)))


class Visit:
    """One customer's visit: its searches, clicks and contact views, through the API."""

    def __init__(self, client: TestClient, session: str) -> None:
        self.client, self.session = client, session

    def search(self, query: str, found: bool) -> dict[str, Any]:
        answer = self.client.get("/api/search", params={"q": query, "session": self.session})
        body: dict[str, Any] = answer.json()
        assert bool(body["results"]) is found, (query, body["total"])
        return body

    def open(self, searched: dict[str, Any], position: int) -> None:
        article = searched["results"][position - 1]["id"]
        body = {"search_id": searched["search_id"], "article_id": article, "position": position}
        assert self.client.post("/api/click", json=body).json() == {"ok": True}

    def contact(self) -> None:
        answer = self.client.post("/api/contact", json={"session": self.session})
        assert answer.json() == {"ok": True}


def customers_on_day_one(client: TestClient) -> None:
    a = Visit(client, "visit-a-0000000001")
    a.open(a.search("return label", found=True), 1)  # found it: self-served
    b = Visit(client, "visit-b-0000000002")
    b.search("zanzibarian quux", found=False)
    b.open(b.search("gift card balance", found=True), 2)
    b.contact()  # opened an article, then wrote to us: not self-served
    c = Visit(client, "visit-c-0000000003")
    c.search("klarna invoice", found=True)  # opened nothing
    c.contact()  # never clicked: was never self-served
    vote = {"article_id": "101", "helpful": False, "missing": "the sizes of quuxes"}
    assert client.post("/api/feedback", json=vote).json() == {"ok": True}


def customers_on_day_two(client: TestClient) -> None:
    d = Visit(client, "visit-d-0000000004")
    first = d.search("return label", found=True)
    d.open(first, 3)
    d.open(first, 1)  # a second click of one search: one clicked search, two clicks
    d.search("zanzibarian quux", found=False)
    e = Visit(client, "visit-e-0000000005")
    e.search("zanzibarian quuxes", found=False)
    e.contact()
    e.open(e.search("return label", found=True), 1)  # a click after the contact: self-served
    vote = {"article_id": "101", "helpful": True}
    assert client.post("/api/feedback", json=vote).json() == {"ok": True}


# By hand, from the two days above.
EXPECTED_DAYS = {
    "2026-09-01": {"searches": 4, "zero_results": 1, "clicked_searches": 2, "clicks": 2,
                   "helpful": 0, "not_helpful": 1, "visits": 3, "self_served": 1},
    "2026-09-02": {"searches": 4, "zero_results": 2, "clicked_searches": 2, "clicks": 3,
                   "helpful": 1, "not_helpful": 0, "visits": 2, "self_served": 2},
}  # fmt: skip


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with time_machine.travel(DAY_ONE, tick=False), TestClient(create_app(settings)) as client:
        yield client


def flush(client: TestClient) -> None:
    service: Any = client.app.state.service  # type: ignore[attr-defined]
    assert service.log.flush(timeout=10)


def test_the_figures_are_a_hand_count_and_outlive_retention(
    client: TestClient, settings: Settings
) -> None:
    customers_on_day_one(client)
    with time_machine.travel(DAY_ONE + timedelta(days=1), tick=False):
        customers_on_day_two(client)
    flush(client)
    period = {"period": "custom", "from": "2026-09-01", "to": "2026-09-02"}

    def figures() -> dict[str, dict[str, int]]:
        return {
            row["day"]: {name: int(row[name]) for name in EXPECTED_DAYS["2026-09-01"]}
            for row in table(client, "days", **period)
        }

    with time_machine.travel(DAY_ONE + timedelta(days=2), tick=False):
        assert sign_in(client).status_code == 303
        assert figures() == EXPECTED_DAYS
        days = {row["day"]: row for row in table(client, "days", **period)}
        assert float(days["2026-09-01"]["average_click_position"]) == 1.5  # positions 1 and 2
        assert float(days["2026-09-02"]["average_click_position"]) == pytest.approx(5 / 3)
        assert float(days["2026-09-02"]["self_service_share"]) == 1.0
        zero = table(client, "zero-results", **period)
        assert [(r["example"], r["count"]) for r in zero] == [("zanzibarian quuxes", "3")]

        # 100 days on, the raw log is gone with retention; the figures are not.
        later = DAY_ONE + timedelta(days=100)
        with time_machine.travel(later, tick=False):
            service: Any = client.app.state.service  # type: ignore[attr-defined]
            assert service.log.purge() > 0
            with sqlite3.connect(settings.log_db) as conn:
                kept = [conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                        for t in ("searches", "clicks", "feedback", "visits", "forms")]  # fmt: skip
            conn.close()
            assert kept == [0, 0, 0, 0, 0]
            assert sign_in(client).status_code == 303
            assert figures() == EXPECTED_DAYS
            zero = table(client, "zero-results", **period)
            # The count stays; the customers' words went with retention.
            assert [(r["example"], r["count"]) for r in zero] == [("(words past retention)", "3")]
            raw = b"".join(p.read_bytes() for p in Path(settings.log_db).parent.glob("query*"))
            assert b"zanzibarian" not in raw


def test_a_period_is_compared_with_the_one_before(client: TestClient) -> None:
    customers_on_day_one(client)
    with time_machine.travel(DAY_ONE + timedelta(days=7), tick=False):
        customers_on_day_two(client)
        customers_on_day_two(client)
        flush(client)
        assert sign_in(client).status_code == 303
        searches = table(client, "searches", period="7")
        label = next(r for r in searches if r["example"] == "return label")
        # 4 searches this week (day two, twice), 1 in the week before (day one).
        assert (label["count"], label["previous_period"]) == ("4", "1")
        page = client.get("/admin/", params={"period": "7"}).text
        assert "compared with the 7 days before" in page
        card = re.search(r"Searches</span>\s*<strong>(\d+)</strong>\s*<span[^>]*>([^<]+)</span>"
                         r"\s*<span[^>]*>before: (\d+)", page)  # fmt: skip
        assert card and card.groups() == ("8", "+100%", "4")


def test_a_gap_marked_answered_shows_its_rates_before_and_since(client: TestClient) -> None:
    customers_on_day_one(client)
    flush(client)
    with time_machine.travel(DAY_ONE + timedelta(days=1), tick=False):
        assert sign_in(client).status_code == 303
        gap = client.get("/admin/gap", params={"lang": "en", "key": NOTHING})
        assert gap.status_code == 200
        mark = {"csrf": session_csrf(gap.text), "lang": "en", "key": NOTHING,
                "action": "answered", "article": "101"}  # fmt: skip
        answer = client.post("/admin/gap", data=mark, follow_redirects=False)
        assert answer.status_code == 303
        customers_on_day_two(client)  # the day it was answered: 2 of 2 still found nothing
    with time_machine.travel(DAY_ONE + timedelta(days=3), tick=False):
        flush(client)
        assert sign_in(client).status_code == 303
        gaps = table(client, "gaps", period="7")
        towel = next(r for r in gaps if r["example"].startswith("zanzibarian quux"))
        assert (towel["state"], towel["article"], towel["marked"]) == (
            "answered",
            "101",
            "2026-09-02",
        )
        assert towel["window_days"] == "2"  # two days since, two days before
        assert (towel["zero_result_rate_before"], towel["zero_result_rate_after"]) == ("1.0", "1.0")
        report = client.get("/api/gaps", headers={"Authorization": f"Bearer {TOKEN}"}).json()
        marked = next(g for g in report["unanswered"] if g["key"] == NOTHING)
        assert marked["mark"]["state"] == "answered" and marked["mark"]["article_id"] == "101"
        [line] = [x for x in reports.table(report).splitlines() if NOTHING + ":" in x]
        assert line.endswith(" [answered by article 101 on 2026-09-02]")  # in `kb gaps` too

        page = client.get("/admin/gap", params={"lang": "en", "key": NOTHING}).text
        reopen = {**mark, "csrf": session_csrf(page), "action": "reopen"}
        assert client.post("/admin/gap", data=reopen, follow_redirects=False).status_code == 303
        report = client.get("/api/gaps", headers={"Authorization": f"Bearer {TOKEN}"}).json()
        assert next(g for g in report["unanswered"] if g["key"] == NOTHING)["mark"] is None


def test_a_gap_dismissed_as_noise_leaves_the_gap_tables(client: TestClient) -> None:
    customers_on_day_one(client)
    flush(client)
    assert sign_in(client).status_code == 303
    page = client.get("/admin/gap", params={"lang": "en", "key": NOTHING}).text
    dismiss = {"csrf": session_csrf(page), "lang": "en", "key": NOTHING,
               "action": "dismissed", "article": ""}  # fmt: skip
    assert client.post("/admin/gap", data=dismiss, follow_redirects=False).status_code == 303
    assert table(client, "zero-results") == []
    assert [r["state"] for r in table(client, "gaps")] == ["dismissed"]
    assert table(client, "days")[-1]["zero_results"] == "1"  # the totals keep it


def test_a_spreadsheet_never_runs_a_customers_formula(client: TestClient) -> None:
    Visit(client, "visit-f-0000000006").search("=HYPERLINK(zanzibarian)", found=False)
    flush(client)
    assert sign_in(client).status_code == 303
    rows = table(client, "zero-results")
    assert rows[0]["example"].startswith("'=")


def test_odd_filters_and_keys_are_a_4xx_never_a_500(client: TestClient) -> None:
    Visit(client, "visit-g-0000000007").search("zanzibarian quux", found=False)
    flush(client)
    assert sign_in(client).status_code == 303
    odd = ("\N{SUPERSCRIPT TWO}", "007", "\N{FULLWIDTH DIGIT SEVEN}")
    for params in [{"period": p} for p in odd] + [
        {"period": "custom", "from": "0001-01-01", "to": "0001-01-02"}
    ]:
        assert client.get("/admin/", params=params).status_code == 400, params
        assert client.get("/admin/export/days.csv", params=params).status_code == 400, params
    for key in ("#\N{SUPERSCRIPT TWO}", "#99999999999999999999999", "#424242"):
        assert client.get("/admin/gap", params={"key": key}).status_code == 404, key
        page = client.get("/admin/gap", params={"key": NOTHING}).text
        mark = {"csrf": session_csrf(page), "lang": "en", "key": key, "action": "dismissed"}
        answer = client.post("/admin/gap", data=mark, follow_redirects=False)
        assert answer.status_code == 400, key  # a number no figures have: nothing to mark
        assert "int()" not in answer.text
