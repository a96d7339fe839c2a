"""A NumPy forward pass for BERT-style sentence-transformers models (MiniLM, BGE, E5 ...).

Why not torch: the default model must load fast (cold start) and install small on a CPU-only
machine; torch + sentence-transformers is ~1.6 GB and several seconds to import. The maths is
the standard BERT encoder; tests compare its output with reference vectors produced by
sentence-transformers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from safetensors.numpy import load_file
from tokenizers import Tokenizer

Array = npt.NDArray[np.float32]


def _gelu(x: Array) -> Array:
    """Exact (erf) GELU, in place on ``x``. erf from Abramowitz & Stegun 7.1.26 (|error| <
    1.5e-7, enough for float32), written with in-place ufuncs: this is the hot spot."""
    z = x * np.float32(1.0 / np.sqrt(2.0))
    a = np.abs(z)
    t = a * np.float32(0.3275911)
    t += 1.0
    np.reciprocal(t, out=t)
    poly = t * np.float32(1.061405429)
    for coef in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        poly += np.float32(coef)
        poly *= t
    np.square(a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    poly *= a  # 1 - erf(|z|)
    np.copysign(poly, z, out=poly)
    # 0.5 * x * (1 + erf(z)) with erf(z) = sign(z) * (1 - poly_abs)
    np.subtract(np.sign(z, out=z), poly, out=z)
    z += 1.0
    x *= z
    x *= np.float32(0.5)
    return x


def _layer_norm(x: Array, weight: Array, bias: Array, eps: float) -> Array:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    out: Array = ((x - mean) / np.sqrt(var + eps) * weight + bias).astype(np.float32)
    return out


class BertSentenceEncoder:
    """Tokenize, run the encoder, pool and normalize, as the model's sentence-transformers
    config says (mean or CLS pooling; optional L2 normalization)."""

    def __init__(self, folder: Path, *, max_length: int | None = None) -> None:
        config = json.loads((folder / "config.json").read_text())
        if config.get("model_type") not in {"bert", None}:
            raise ValueError(
                f"{folder}: only BERT-style encoders are supported, not {config.get('model_type')}"
            )
        self.folder = folder
        self.heads: int = config["num_attention_heads"]
        self.layers: int = config["num_hidden_layers"]
        self.eps: float = config.get("layer_norm_eps", 1e-12)
        self.dim: int = config["hidden_size"]
        st_config = _read_json(folder / "sentence_bert_config.json")
        limit = st_config.get("max_seq_length", config.get("max_position_embeddings", 512))
        self.max_length = min(max_length or limit, limit)
        pooling = _read_json(folder / "1_Pooling" / "config.json")
        self.cls_pooling = bool(pooling.get("pooling_mode_cls_token", False))
        modules = _read_json(folder / "modules.json", default=[])
        self.normalize = any("Normalize" in m.get("type", "") for m in modules) if modules else True
        raw = load_file(str(folder / "model.safetensors"))
        self.w: dict[str, Array] = {
            k.removeprefix("bert."): v.astype(np.float32, copy=False)
            for k, v in raw.items()
            if v.dtype.kind == "f"
        }
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_length)

    def count_tokens(self, text: str) -> int:
        """Word-pieces the model sees for ``text`` (before truncation, with special tokens)."""
        self.tokenizer.no_truncation()
        try:
            return len(self.tokenizer.encode(text).ids)
        finally:
            self.tokenizer.enable_truncation(self.max_length)

    def encode(self, texts: list[str], *, batch_size: int = 32) -> Array:
        """Embed ``texts``; rows follow the input order. Batches group similar lengths."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            width = max(len(encodings[i].ids) for i in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.float32)
            for row, i in enumerate(idx):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1.0
            out[idx] = self._forward(ids, mask)
        return out

    def _forward(self, ids: npt.NDArray[np.int64], mask: Array) -> Array:
        w = self.w
        batch, width = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][np.arange(width)][None]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        head = self.dim // self.heads
        scale = np.float32(1.0 / np.sqrt(head))
        for n in range(self.layers):
            p = f"encoder.layer.{n}."

            def lin(t: Array, name: str, prefix: str = p) -> Array:
                return t @ w[prefix + name + ".weight"].T + w[prefix + name + ".bias"]

            def split(t: Array) -> Array:
                return t.reshape(batch, width, self.heads, head).transpose(0, 2, 1, 3)

            q = split(lin(x, "attention.self.query"))
            k = split(lin(x, "attention.self.key"))
            v = split(lin(x, "attention.self.value"))
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores -= scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, width, self.dim)
            x = _layer_norm(
                lin(ctx, "attention.output.dense") + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                self.eps,
            )
            hidden = _gelu(lin(x, "intermediate.dense"))
            x = _layer_norm(
                lin(hidden, "output.dense") + x,
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
                self.eps,
            )
        if self.cls_pooling:
            pooled = x[:, 0]
        else:
            pooled = (x * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        if self.normalize:
            pooled = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled.astype(np.float32)


def _read_json(path: Path, default: Any = None) -> Any:
    if not path.is_file():
        return {} if default is None else default
    return json.loads(path.read_text())
