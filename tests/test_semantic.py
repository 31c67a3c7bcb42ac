"""The semantic ranker (the [semantic] extra, which `make test` installs) and its fallback."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import pytest
from starlette.testclient import TestClient

from kb_search.app import create_app
from kb_search.articles import load
from kb_search.config import Settings
from kb_search.semantic import VECTORS, load_encoder
from kb_search.versions import LiveIndex, build
from tests.conftest import ROOT
from tests.semantic.make_reference import VECTORS as REFERENCE_VECTORS
from tests.semantic.make_reference import reference_texts


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


def test_numpy_gives_sentence_transformers_vectors_without_torch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # importing either now fails
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    encoder = load_encoder.__wrapped__()  # a fresh load, not the cached one
    assert encoder is not None
    texts = reference_texts()  # keywords, typos, Swedish, emoji, texts past 256 tokens
    expected = np.load(REFERENCE_VECTORS).astype(np.float64)
    batch = encoder.encode(texts)
    assert batch.dtype == np.float32 and batch.shape == (len(texts), 384) == expected.shape
    ours = batch.astype(np.float64)  # in float32 a unit norm alone is off by up to 1e-7
    cosines = (ours * expected).sum(axis=1) / np.linalg.norm(ours, axis=1)
    cosines /= np.linalg.norm(expected, axis=1)
    worst = int(cosines.argmin())
    # Measured: 1 - 1e-12. A tanh GELU in place of erf's costs 2e-6 and fails here.
    assert cosines[worst] >= 0.999999, f"{texts[worst][:60]!r}: cosine {cosines[worst]:.7f}"
    assert np.allclose(np.linalg.norm(batch, axis=1), 1, atol=1e-6)
    one_by_one = np.stack([encoder.encode([text])[0] for text in texts])
    assert np.abs(batch - one_by_one).max() < 1e-5  # a text's padding in a batch changes nothing
    assert encoder.encode([]).shape == (0, 384)


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


def test_hybrid_total_counts_only_answers(settings: Settings, hybrid_index: Path) -> None:
    hybrid = Settings.from_env({}, **{**vars(settings), "index_dir": hybrid_index})
    with TestClient(create_app(hybrid)) as client:
        body = client.get("/api/search", params={"q": "cancel my order"}).json()
    assert 1 <= body["total"] <= 5 and body["results"][0]["id"] == 105
