"""The semantic ranker (the [semantic] extra, which `make test` installs) and its fallback."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from kb_search.app import create_app
from kb_search.articles import load
from kb_search.config import Settings
from kb_search.semantic import VECTORS, load_encoder
from kb_search.versions import LiveIndex, build
from tests.conftest import ROOT, kb_eval


@pytest.fixture(scope="session")
def hybrid_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    encoder = load_encoder()
    assert encoder is not None, "the [semantic] extra must be installed for the tests"
    root = tmp_path_factory.mktemp("hybrid-index")
    build(load(ROOT / "docs"), root, encoder=encoder)
    return root


def first_ids(client: TestClient, query: str) -> list[int]:
    body = client.get("/api/search", params={"q": query}).json()
    return [r["id"] for r in body["results"][:3]]


def test_vectors_are_stored_beside_the_index(hybrid_index: Path) -> None:
    live = LiveIndex(hybrid_index)
    index = live.current()
    assert (index.folder / VECTORS).exists()
    assert index.vectors is not None and len(index.vectors.ids) == len(index.records)
    live.close()


def test_hybrid_finds_what_words_alone_miss(settings: Settings, hybrid_index: Path) -> None:
    with TestClient(create_app(settings)) as lexical:
        assert lexical.get("/healthz").json()["ranker"] == "lexical"  # no vectors in that index
        assert first_ids(lexical, "what did i buy before")[0] != 107
    hybrid = Settings.from_env({}, **{**vars(settings), "index_dir": hybrid_index})
    with TestClient(create_app(hybrid)) as client:
        assert client.get("/healthz").json()["ranker"] == "hybrid"
        assert first_ids(client, "what did i buy before")[0] == 107  # Find your past orders
        assert client.get("/api/search", params={"q": "xqzvy blorft"}).json()["total"] == 0
        assert first_ids(client, "wheres my parcel")[0] == 103


def test_a_query_is_compared_by_its_own_meaning_asked_once_or_again() -> None:
    encoder = load_encoder()
    assert encoder is not None
    texts = ["where is my parcel", "i want my money back", "where is my parcel"]
    direct = encoder.encode(texts[:2])
    asked = [encoder.encode_query(text) for text in texts]  # the third comes from the cache
    assert float(asked[0] @ direct[0]) > 0.999 and float(asked[1] @ direct[1]) > 0.999
    assert float(asked[2] @ direct[0]) > 0.999
    assert float(asked[0] @ asked[1]) < 0.8  # different questions are not mixed up


def test_without_a_usable_model_search_stays_lexical_and_says_why(
    settings: Settings, hybrid_index: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = Settings.from_env(
        {},
        **{**vars(settings), "index_dir": hybrid_index, "model_dir": str(ROOT / "no-such-model")},
    )
    with caplog.at_level(logging.WARNING), TestClient(create_app(broken)) as client:
        assert client.get("/healthz").json()["ranker"] == "lexical"
        assert first_ids(client, "wheres my parcel")[0] == 103
    assert any("semantic ranker off" in r.getMessage() for r in caplog.records)


def test_weight_zero_turns_the_ranker_off(settings: Settings, hybrid_index: Path) -> None:
    off = Settings.from_env(
        {}, **{**vars(settings), "index_dir": hybrid_index, "semantic_weight": 0.0}
    )
    with TestClient(create_app(off)) as client:
        assert client.get("/healthz").json()["ranker"] == "lexical"


def test_kb_eval_reports_lexical_hybrid_and_built_in() -> None:
    figures = kb_eval("dev.csv")
    assert figures["hybrid"]["recall_at_3"] >= 0.97  # measured 0.973
    assert figures["hybrid"]["mrr"] >= 0.87  # measured 0.879 (target 0.90: not met)
    assert figures["hybrid"]["recall_at_3"] > figures["recall_at_3"]
    assert figures["baseline"]["recall_at_3"] < figures["recall_at_3"]


def test_hybrid_total_counts_only_answers(settings: Settings, hybrid_index: Path) -> None:
    hybrid = Settings.from_env({}, **{**vars(settings), "index_dir": hybrid_index})
    with TestClient(create_app(hybrid)) as client:
        body = client.get("/api/search", params={"q": "cancel my order"}).json()
    assert 1 <= body["total"] <= 5 and body["results"][0]["id"] == 105
