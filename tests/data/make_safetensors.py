"""Writes embeddings.safetensors and embeddings_expected.txt for tests/safetensors.rs with
Hugging Face's own writer (pip install safetensors torch numpy): one 5 × 4 Gaussian set stored
as F32, F64, F16 and BF16, and an I64 tensor the reader must refuse. The expected file lists
each stored value widened to float64 (repr: exact)."""
import numpy as np
import torch
from safetensors.torch import save_file

rng = np.random.default_rng(14)
x = torch.from_numpy(rng.standard_normal((5, 4)))
tensors = {
    "image_embeds_f32": x.to(torch.float32),
    "image_embeds_f64": x.to(torch.float64),
    "image_embeds_f16": x.to(torch.float16),
    "image_embeds_bf16": x.to(torch.bfloat16),
    "labels": torch.arange(5, dtype=torch.int64),
}
save_file(tensors, "embeddings.safetensors", metadata={"source": "tests/data/make_safetensors.py"})
with open("embeddings_expected.txt", "w") as f:
    for name, t in tensors.items():
        if t.dtype.is_floating_point:
            values = t.to(torch.float64).flatten().tolist()
            f.write(name + " " + " ".join(repr(v) for v in values) + "\n")
