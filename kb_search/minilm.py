"""all-MiniLM-L6-v2 in numpy: the sentence-transformers forward pass without torch.

A BERT encoder (embeddings, 6 layers of self-attention and feed-forward), mean pooling over the
real tokens and L2 normalisation, read from a sentence-transformers model folder: config.json,
sentence_bert_config.json, tokenizer.json and model.safetensors. Its vectors are
sentence-transformers' to float32 rounding (cosine 1 - 1e-12, tests/test_semantic.py); its
runtime is numpy, tokenizers and safetensors, not torch.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from safetensors.numpy import load_file
from tokenizers import Tokenizer

Floats = npt.NDArray[np.float32]
# Texts are sorted by length, so a batch pads little, and cut at BATCH_SIZE texts or BATCH_TOKENS
# padded tokens, whichever comes first: 64 texts of 256 tokens would take ~1 GB of activations,
# and 2048 tokens were as fast as 4096 (fewer padded tokens make up for smaller products).
BATCH_SIZE = 64
BATCH_TOKENS = 2048

# Abramowitz and Stegun 7.1.26: erf within 1.5e-7 of the exact value, in vectorised numpy
# (numpy has no erf; math.erf through np.frompyfunc measured 8 times slower). Its coefficients
# a5 to a1, in the order Horner's rule takes them, are stored times sqrt(1/2) (see `gelu`).
_ROOT_HALF = np.float32(np.sqrt(0.5))
_P = np.float32(0.3275911)
_ERFC = (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)
_A = [_ROOT_HALF * np.float32(a) for a in _ERFC]
GELU_ROWS = 128  # rows of 1536 done at once: the temporaries stay in cache (24 ms -> 14 ms)


class _Layer(NamedTuple):
    qkv: Floats  # (hidden, 3 * hidden): query (pre-scaled), key and value in one product
    qkv_bias: Floats
    out: Floats
    out_bias: Floats
    norm1: tuple[Floats, Floats]
    up: Floats
    up_bias: Floats
    down: Floats
    down_bias: Floats
    norm2: tuple[Floats, Floats]


def gelu(x: Floats) -> Floats:
    """BERT's exact GELU, x * Phi(x), overwriting x (the activations are not needed again).

    With z = |x| / sqrt(2) and erfc(z) = poly(t) * exp(-z^2), GELU(x) = max(x, 0) - |x|/2 *
    erfc(z) for either sign of x, and |x|/2 = z * sqrt(1/2): _A carries that factor.
    """
    for start in range(0, len(x), GELU_ROWS):
        chunk = x[start : start + GELU_ROWS]
        z = np.abs(chunk)
        z *= _ROOT_HALF
        t = z * _P
        t += 1
        np.reciprocal(t, out=t)
        poly = t * _A[0]
        for a in _A[1:]:
            poly += a
            poly *= t
        poly *= z
        np.square(z, out=z)
        np.negative(z, out=z)
        np.exp(z, out=z)
        poly *= z
        np.maximum(chunk, 0, out=chunk)
        chunk -= poly
    return x


def _batches(lengths: list[int]) -> Iterator[list[int]]:
    """Indexes of texts, shortest first, in batches of similar length (see BATCH_TOKENS)."""
    batch: list[int] = []
    for i in sorted(range(len(lengths)), key=lengths.__getitem__):
        if batch and (len(batch) == BATCH_SIZE or (len(batch) + 1) * lengths[i] > BATCH_TOKENS):
            yield batch
            batch = []
        batch.append(i)
    if batch:
        yield batch


def layer_norm(x: Floats, norm: tuple[Floats, Floats], eps: float) -> Floats:
    centred: Floats = x - x.mean(axis=-1, keepdims=True)
    scale = 1 / np.sqrt(np.square(centred).mean(axis=-1, keepdims=True) + np.float32(eps))
    centred *= scale
    centred *= norm[0]
    centred += norm[1]
    return centred


class MiniLM:
    """A BERT sentence encoder from a sentence-transformers folder, float32 on the CPU."""

    def __init__(self, folder: Path) -> None:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        sbert = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # tokenizer.json says 128 tokens, padded to 128; sentence-transformers truncates at
        # max_seq_length (256) and pads each batch to its longest text, as `encode` does.
        self.tokenizer.enable_truncation(int(sbert["max_seq_length"]))
        self.tokenizer.no_padding()
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        w = load_file(folder / "model.safetensors", backend="pread")  # mmap peaks at 2x RSS
        self.words = w["embeddings.word_embeddings.weight"]
        self.positions = w["embeddings.position_embeddings.weight"]
        self.token_types = w["embeddings.token_type_embeddings.weight"]
        self.norm = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.dimensions = self.words.shape[1]
        scale = np.float32(1 / np.sqrt(self.dimensions // self.heads))
        self.layers: list[_Layer] = []
        for n in range(int(config["num_hidden_layers"])):
            p = f"encoder.layer.{n}."
            a = p + "attention.self."
            self.layers.append(
                _Layer(
                    qkv=np.concatenate(
                        [w[a + "query.weight"] * scale, w[a + "key.weight"], w[a + "value.weight"]]
                    ).T,
                    qkv_bias=np.concatenate(
                        [w[a + "query.bias"] * scale, w[a + "key.bias"], w[a + "value.bias"]]
                    ),
                    out=w[p + "attention.output.dense.weight"].T,
                    out_bias=w[p + "attention.output.dense.bias"],
                    norm1=(
                        w[p + "attention.output.LayerNorm.weight"],
                        w[p + "attention.output.LayerNorm.bias"],
                    ),
                    up=w[p + "intermediate.dense.weight"].T,
                    up_bias=w[p + "intermediate.dense.bias"],
                    down=w[p + "output.dense.weight"].T,
                    down_bias=w[p + "output.dense.bias"],
                    norm2=(w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
                )
            )

    def encode(self, texts: Sequence[str]) -> Floats:
        """Unit vectors, one row per text, in the order given."""
        encodings = self.tokenizer.encode_batch(list(texts))
        vectors = np.zeros((len(encodings), self.dimensions), np.float32)
        for rows in _batches([len(e.ids) for e in encodings]):
            longest = len(encodings[rows[-1]].ids)
            ids = np.zeros((len(rows), longest), np.int64)
            types = np.zeros((len(rows), longest), np.int64)
            mask = np.zeros((len(rows), longest), np.float32)
            for row, i in enumerate(rows):
                size = len(encodings[i].ids)
                ids[row, :size] = encodings[i].ids
                types[row, :size] = encodings[i].type_ids
                mask[row, :size] = 1
            vectors[rows] = self._pooled(ids, types, mask)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), np.float32(1e-12))
        return vectors

    def _pooled(
        self, ids: npt.NDArray[np.int64], types: npt.NDArray[np.int64], mask: Floats
    ) -> Floats:
        """The mean of the last layer's states over each text's real tokens."""
        batch, length = ids.shape
        x = self.words[ids] + self.positions[:length] + self.token_types[types]
        x = layer_norm(x.reshape(batch * length, self.dimensions), self.norm, self.eps)
        # A padded key gets the lowest float as its score: exp of it is 0, so no real token
        # attends to padding, and a text's vector does not depend on the batch it is in.
        padding = (1 - mask[:, None, None, :]) * np.finfo(np.float32).min
        for layer in self.layers:
            x = self._layer(x, layer, padding, batch, length)
        states = x.reshape(batch, length, self.dimensions)
        summed: Floats = np.einsum("bld,bl->bd", states, mask)
        summed /= np.maximum(mask.sum(axis=1, keepdims=True), np.float32(1e-9))
        return summed

    def _layer(self, x: Floats, layer: _Layer, padding: Floats, batch: int, length: int) -> Floats:
        heads, width = self.heads, self.dimensions // self.heads
        qkv = x @ layer.qkv
        qkv += layer.qkv_bias
        q, k, v = qkv.reshape(batch, length, 3, heads, width).transpose(2, 0, 3, 1, 4)
        scores = q @ k.transpose(0, 1, 3, 2)
        scores += padding
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch * length, self.dimensions)
        attended = context @ layer.out
        attended += layer.out_bias
        attended += x
        x = layer_norm(attended, layer.norm1, self.eps)
        inner = x @ layer.up
        inner += layer.up_bias
        out = gelu(inner) @ layer.down
        out += layer.down_bias
        out += x
        return layer_norm(out, layer.norm2, self.eps)
