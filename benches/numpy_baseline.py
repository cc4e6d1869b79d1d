#!/usr/bin/env python3
"""What users run today: numpy (X·Xᵀ, then the epilogue) for the crate's pairwise metrics.

Run through `benches/numpy_baseline.sh`, which makes a venv with numpy from PyPI. Prints one
line per (metric, n, d, dtype): the median wall time of `--repeats` runs and the peak extra
memory the n × n matrix needs. Thread count: OPENBLAS_NUM_THREADS / OMP_NUM_THREADS (the
shell script sets 2, this machine's cores). Not part of `cargo test`.
"""
import argparse
import statistics
import time

import numpy as np


def uniform(x, t=2.0):
    """log mean_{i<j} exp(-t ||xi - xj||^2) for unit rows, via the Gram matrix (numpy's ssyrk),
    in place: z = 2t(G - 1) = -t(2 - 2G), clamped at 0, over all i != j (the mean over the
    ordered pairs equals the mean over i < j), without the diagonal's terms."""
    n = x.shape[0]
    z = x @ x.T
    z -= 1.0
    z *= 2.0 * t
    np.minimum(z, 0.0, out=z)
    diagonal = z.diagonal().copy()
    m = z.max()
    z -= m
    np.exp(z, out=z)
    total = z.sum(dtype=np.float64) - np.exp(diagonal - m).sum(dtype=np.float64)
    return m + np.log(total / (n * (n - 1)))


def contrastive(a, b, tau=0.01):
    """(CE over rows + CE over columns) / 2 with the diagonal as target, stable log-sum-exp."""
    z = (a @ b.T) / tau
    d = np.diag(z)
    mr = z.max(axis=1, keepdims=True)
    rows = (mr[:, 0] + np.log(np.exp(z - mr).sum(axis=1))) - d
    mc = z.max(axis=0, keepdims=True)
    cols = (mc[0] + np.log(np.exp(z - mc).sum(axis=0))) - d
    return 0.5 * (rows.mean() + cols.mean())


def unit(rng, n, d, dtype):
    x = rng.standard_normal((n, d)).astype(dtype)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def median_time(f, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="1024x512,4096x512,8192x512,16384x768")
    p.add_argument("--dtypes", default="float32,float64")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    rng = np.random.default_rng(0)
    print(f"numpy {np.__version__}")
    print("metric       n      d  dtype    median_s  matrix_MiB")
    for size in args.sizes.split(","):
        n, d = map(int, size.split("x"))
        for dtype in args.dtypes.split(","):
            a, b = unit(rng, n, d, dtype), unit(rng, n, d, dtype)
            matrix_mib = n * n * np.dtype(dtype).itemsize / 2**20
            for name, f in (("uniform", lambda: uniform(a)), ("contrastive", lambda: contrastive(a, b))):
                t = median_time(f, args.repeats)
                print(f"{name:<11} {n:>6} {d:>6}  {dtype:<7} {t:>9.4f}  {matrix_mib:>10.0f}")


if __name__ == "__main__":
    main()
