#!/usr/bin/env python3
"""numpy and torch beside the crate on its two pairwise passes, in one run.

Run through `benches/side_by_side.sh`, which makes the venv, builds the crate's `throughput`
example and runs this script with the BLAS tuning variables unset. Each cell of the table
(metric, precision, size) is measured back to back: the crate (the example, for this cell
alone: the FMA peak and the bare micro-kernel's rate before and after its runs, and their
median, as JSON), then numpy, torch and the bare sgemm, medians of the same number of runs;
so a host whose speed drifts (a shared virtual machine) moves the crate and its peers alike,
within a minute of each other. The peers use their best straightforward code:

- numpy uniformity: g = x @ x.T (OpenBLAS's syrk: half the flops), then in place
  g *= 2t; g -= 2t; np.exp(g, out=g) (on unit rows, -t||xi - xj||^2 = 2t(g - 1)), then
  (sum - trace) / 2 over the n(n-1)/2 pairs i < j, and the log of the mean;
- numpy contrastive: one GEMM for the logits and scipy's logsumexp over rows and columns;
- torch: x @ x.T with in-place ops, and F.cross_entropy on the logits and their transpose;
- align_uniform's literal torch.pdist(x).pow(2).mul(-t).exp().mean().log();
- the bare sgemm x @ y.T (y a different buffer, so no syrk) with no epilogue.

It prints the BLAS kernels threadpoolctl reports, the crate's JSON of each cell as it comes,
and one table of medians and ratios; a cell's percentage of the peak is against the larger of
the two peaks measured around the crate's runs of that cell, and its percentage of the bare
micro-kernel (the kernel's own tile fed from cache with no packing and no epilogue, the most
a pass can reach) against the larger of the two rates of that tile.
"""
import argparse
import json
import multiprocessing
import statistics
import subprocess
import time

import numpy as np
import scipy
import torch
import torch.nn.functional as F
from scipy.special import logsumexp
from threadpoolctl import threadpool_info

T = 2.0  # the uniformity's t
SCALE = 100.0  # CLIP's logit scale 1/τ


def numpy_uniform(x):
    n = x.shape[0]
    g = x @ x.T
    g *= 2.0 * T
    g -= 2.0 * T
    np.exp(g, out=g)
    total = (g.sum(dtype=np.float64) - np.trace(g, dtype=np.float64)) / 2.0
    return np.log(total / (n * (n - 1) / 2))


def numpy_contrastive(a, b):
    z = a @ b.T
    z *= SCALE
    target = np.diagonal(z)
    rows = (logsumexp(z, axis=1) - target).mean()
    cols = (logsumexp(z, axis=0) - target).mean()
    return 0.5 * (rows + cols)


def torch_uniform(x):
    n = x.shape[0]
    g = x @ x.T
    g.mul_(2.0 * T).sub_(2.0 * T).exp_()
    total = (g.sum(dtype=torch.float64) - g.diagonal().sum(dtype=torch.float64)) / 2.0
    return torch.log(total / (n * (n - 1) / 2))


def torch_contrastive(a, b):
    logits = (a @ b.T).mul_(SCALE)
    labels = torch.arange(a.shape[0])
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))


def torch_pdist(x):
    return torch.pdist(x).pow(2).mul(-T).exp().mean().log()


def unit(rng, n, d, dtype):
    x = rng.standard_normal((n, d)).astype(dtype)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def median_seconds(f, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def isolated_median_seconds(name, f, repeats):
    """median_seconds(f) in a forked child, so that the parent never starts a BLAS or OpenMP
    pool (whose idle threads could spin beside the crate's runs), and so that a peer that
    crashes (numpy's x @ x.T in f64 at n = 16384, d = 768 dies with a segmentation fault
    inside OpenBLAS's SkylakeX dsyrk, numpy 2.4.6, in the runs of 2026-11-30 and 2026-12-01)
    costs its cell of the table (nan), not the run. Every torch call runs in such a child:
    once the parent has run torch, its OpenMP pool is live, and a forked child that runs
    torch hangs on a lock of that pool (seen on 2026-12-02: the first torch cell after an
    in-process pdist never returned)."""
    receive, send = multiprocessing.get_context("fork").Pipe(duplex=False)

    def child():
        send.send(median_seconds(f, repeats))

    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    process.join()
    if process.exitcode != 0:
        print(f"  {name} crashed (exit code {process.exitcode}): nan in its cell", flush=True)
        return float("nan")
    return receive.recv()


def crate_cell(binary, metric, dtype, n, d, repeats):
    """The throughput example on one cell: its JSON (the limits before and after, the median)."""
    out = subprocess.run(
        [binary, "--sizes", f"{n}x{d}", "--dtypes", dtype, "--metrics", metric,
         "--repeats", str(repeats), "--json"],
        check=True, capture_output=True, text=True,
    ).stdout
    print(out.strip(), flush=True)
    return json.loads(out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--crate-bin", required=True, help="the throughput example's binary")
    # side_by_side.sh passes every option (its defaults are the only ones).
    p.add_argument("--sizes", required=True, help="NxD,...")
    p.add_argument("--dtypes", required=True, help="f32,f64")
    p.add_argument("--repeats", type=int, required=True)
    p.add_argument("--pdist-up-to", type=int, default=16384, help="largest n for pdist")
    p.add_argument("--threads", type=int, required=True)
    args = p.parse_args()
    threads = args.threads
    torch.set_num_threads(threads)
    print(f"numpy {np.__version__}, scipy {scipy.__version__}, torch {torch.__version__}")
    for pool in threadpool_info():
        print(
            "  {} {} ({}): {} threads, kernel {}".format(
                pool.get("user_api"),
                pool.get("internal_api"),
                pool.get("filepath", "").split("/")[-1],
                pool.get("num_threads"),
                pool.get("architecture"),
            )
        )
    print(f"  torch BLAS: {torch.backends.mkl.is_available() and 'MKL' or 'not MKL'}, "
          f"{torch.get_num_threads()} threads")
    rng = np.random.default_rng(0)
    rows = []
    dtypes = {"f32": np.float32, "f64": np.float64}
    for size in args.sizes.split(","):
        n, d = (int(v) for v in size.split("x"))
        for dtype_name in args.dtypes.split(","):
            dtype = dtypes[dtype_name]
            a, b = unit(rng, n, d, dtype), unit(rng, n, d, dtype)
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            for metric in ["uniform_loss", "contrastive_loss"]:
                crate = crate_cell(args.crate_bin, metric, dtype_name, n, d, args.repeats)
                pdist = float("nan")
                if metric == "uniform_loss":
                    numpy_s = isolated_median_seconds(
                        "numpy uniformity", lambda: numpy_uniform(a), args.repeats
                    )
                    torch_s = isolated_median_seconds(
                        "torch uniformity", lambda: torch_uniform(ta), args.repeats
                    )
                    # align_uniform's recipe is f32.
                    if n <= args.pdist_up_to and dtype == np.float32:
                        pdist = isolated_median_seconds(
                            "torch pdist", lambda: torch_pdist(ta), max(1, args.repeats // 2)
                        )
                else:
                    numpy_s = isolated_median_seconds(
                        "numpy contrastive", lambda: numpy_contrastive(a, b), args.repeats
                    )
                    torch_s = isolated_median_seconds(
                        "torch contrastive", lambda: torch_contrastive(ta, tb), args.repeats
                    )
                sgemm = isolated_median_seconds("sgemm", lambda: a @ b.T, args.repeats)
                rows.append((metric, dtype_name, n, d, crate, numpy_s, torch_s, pdist, sgemm))
    header = (
        f"{'metric':<12} {'dtype':<5} {'n':>6} {'d':>4} | {'peak':>6} {'crate s':>8} "
        f"{'% peak':>6} {'% tile':>6} | {'numpy s':>8} {'torch s':>8} {'pdist s':>8} "
        f"{'sgemm s':>8} | "
        f"{'numpy/crate':>11} {'torch/crate':>11} {'crate/sgemm':>11}"
    )
    print(f"{threads} threads; peak: the f32 FMA peak in GFLOP/s, the larger of the two "
          f"measured around the crate's runs of the cell (the f64 peak is half of it); tile: "
          f"the bare micro-kernel's rate, the larger of its two, likewise")
    print(header)
    print("-" * len(header))
    for metric, dtype_name, n, d, crate, numpy_s, torch_s, pdist, sgemm in rows:
        (t,) = crate["timings"]
        peak32 = max(crate["peak_f32"], crate["peak_f32_after"])
        tile32 = max(crate["tile_f32"], crate["tile_f32_after"])
        half = 2 if dtype_name == "f64" else 1
        peak, tile = peak32 / half, tile32 / half
        seconds = t["seconds"]
        rate = t["flops"] / seconds
        name = metric.removesuffix("_loss")
        print(
            f"{name:<12} {dtype_name:<5} {n:>6} {d:>4} | {peak32 / 1e9:>6.1f} {seconds:>8.4f} "
            f"{100 * rate / peak:>5.1f}% {100 * rate / tile:>5.1f}% | {numpy_s:>8.4f} "
            f"{torch_s:>8.4f} {pdist:>8.4f} {sgemm:>8.4f} | {numpy_s / seconds:>10.2f}x "
            f"{torch_s / seconds:>10.2f}x {seconds / sgemm:>11.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
