"""Writes the .npz fixtures of tests/npz.rs: python3 tests/data/npz/make.py (numpy only)."""
import os

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(2022)
img = rng.standard_normal((5, 4)).astype(np.float16)
txt = rng.standard_normal((5, 4)).astype(np.float32)
pair = np.stack([img.astype(np.float64), txt.astype(np.float64)])
labels = np.array([3, 0, 2, 2, 1])
np.savez(os.path.join(here, "stored.npz"), img=img, txt=txt, pair=pair, labels=labels)
np.savez_compressed(os.path.join(here, "compressed.npz"), img=img, txt=txt, pair=pair, labels=labels)
# The same arrays as plain .npy files, to compare against.
np.save(os.path.join(here, "img.npy"), img)
np.save(os.path.join(here, "txt.npy"), txt)
