"""Write reference_vectors.npy: sentence-transformers' own vectors for reference_texts.txt.

The numpy encoder (kb_search/minilm.py) is tested against these. Run it once, in a venv that has
torch and sentence-transformers (they are not in the [semantic] extra), and again only when the
texts or the model change:

    pip install torch==2.13.0 sentence-transformers==6.2.0
    python -m tests.semantic.make_reference

The vectors are stored as float32 (300 KB): float16 rounding alone costs 1e-7 of cosine, too
close to the 2e-6 of a tanh-approximated GELU for the test to tell the two apart with a margin.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

HERE = Path(__file__).parent
TEXTS = HERE / "reference_texts.txt"
VECTORS = HERE / "reference_vectors.npy"


def reference_texts() -> list[str]:
    """One text a line; not splitlines(), which would also split at form feeds and the like."""
    return TEXTS.read_text(encoding="utf-8").split("\n")[:-1]


def main() -> None:
    from sentence_transformers import SentenceTransformer

    from kb_search.semantic import default_model_dir

    model = SentenceTransformer(default_model_dir(), device="cpu", local_files_only=True)
    exact: npt.NDArray[np.float32] = model.encode(
        reference_texts(), normalize_embeddings=True, convert_to_numpy=True, batch_size=1
    )
    np.save(VECTORS, exact.astype(np.float32))
    print(f"{len(exact)} vectors -> {VECTORS}")


if __name__ == "__main__":
    main()
