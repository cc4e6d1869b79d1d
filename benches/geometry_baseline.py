#!/usr/bin/env python3
"""What users run today for the geometry metrics of issue 11: the reference repositories' own
functions (torch on CPU, sklearn), and numpy the best straightforward way, timed on one input.

Run through `benches/geometry_baseline.sh`, which makes a venv with numpy, scipy,
scikit-learn and torch (CPU), writes the reference files into `--refs DIR` from the mirrors
and sets 2 threads. Not part of `cargo test`; for the python column of docs/benchmarks.md.

Input: two sets of n standard-normal rows of dimension d, l2-normalised, float32, from
`numpy.random.default_rng(--seed)` (the distribution and shapes of benches/metrics.rs, not its
numbers: that uses Rust's StdRng), or `--input FILE.npy` of shape [2, n, d]. Captions case:
`--captions NxC` images with C captions each, text j belongs to image j // C (as the Rust
bench). Every metric gets these unit rows.

Reference code is imported at run time from `--refs DIR` and never copied into this
repository:

  DIR/platonic-rep/metrics.py              imported (torchaudio, used only by
                                           edit_distance_knn, stubbed): AlignmentMetrics.cka,
                                           unbiased_cka, mutual_knn, cknna, svcca
  DIR/two-effects-one-trigger/analysis/gap_precompute.py
                                           compute_l2i, compute_rmg, recall_at_k: the module
                                           imports open_clip and the repository's data
                                           loaders, so the function definitions are taken
                                           from the file with `ast` and executed as they are
  DIR/contrastive-gap/src/evaluator.py     Evaluator.get_mscoco_uniformity and
                                           get_linear_seperability, the same way (the module
                                           imports wandb, HF CLIP, dataset processors); the
                                           `self` they read is a stub, `wandb.config` = {seed: 0}
  DIR/p_eickhoff_isoscore/IsoScore/IsoScore.py
                                           imported: IsoScore

"ref" rows run those functions as published; "transcribed" marks a computation with no
runnable reference function (RankMe: Garrido et al. 2023, p = σ/Σσ + 1e-7 with
torch.linalg.svdvals). "numpy" rows are the best straightforward numpy (and scipy.sparse for
CKNNA) a user would write.

Columns: median wall time of `--repeats` runs (fewer when one run takes longer than
`--max-seconds`: `runs` says how many), peak extra resident memory during the runs (RSS
sampled every 2 ms from /proc/self/statm, minus the RSS before; it sees torch too), the value
(a sanity check that the implementations agree), and a note. A row is skipped, with the
reason, when its estimated n × n (or n × m) working set exceeds `--max-gb`.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import datetime
import gc
import io
import os
import platform
import statistics
import subprocess
import sys
import textwrap
import threading
import time
import types
import warnings

import numpy as np


# ----------------------------------------------------------------------------------------------
# measurement


def fixed_mmap_threshold():
    """Large blocks always by mmap (glibc's threshold otherwise grows after the first free of a
    large block, and later n x n matrices come from a heap that is not returned), so that the
    RSS falls back after each row and the next row's peak is its own."""
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD = 1 MiB
        libc.mallopt(-1, 1 << 20)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass


class PeakRss:
    """Samples the resident set size every 2 ms on a thread; peak minus the size at start."""

    def __init__(self):
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.stop = threading.Event()

    def rss(self):
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * self.page

    def __enter__(self):
        self.start = self.rss()
        self.peak = self.start
        self.stop.clear()

        def sample():
            while not self.stop.wait(0.002):
                self.peak = max(self.peak, self.rss())

        self.thread = threading.Thread(target=sample, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.peak = max(self.peak, self.rss())

    @property
    def extra_mib(self):
        return (self.peak - self.start) / 2**20


def run(f, repeats, max_seconds):
    """Median seconds over up to `repeats` runs (stops after a run longer than max_seconds),
    the number of runs, the peak extra MiB and the last value."""
    times = []
    with PeakRss() as mem:
        for _ in range(repeats):
            start = time.perf_counter()
            value = f()
            times.append(time.perf_counter() - start)
            if times[-1] > max_seconds:
                break
    return statistics.median(times), len(times), mem.extra_mib, value


# ----------------------------------------------------------------------------------------------
# the reference code, from --refs


def extract(path, names, class_name=None):
    """Source of the named top-level functions (or methods of class_name) of a file, dedented."""
    src = open(path).read()
    tree = ast.parse(src)
    lines = src.splitlines()
    body = tree.body
    if class_name:
        body = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name).body
    found, out = set(), []
    for node in body:
        if isinstance(node, ast.FunctionDef) and node.name in names:
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            out.append(textwrap.dedent("\n".join(lines[start - 1:node.end_lineno])))
            found.add(node.name)
    missing = set(names) - found
    if missing:
        raise SystemExit(f"{path}: no {sorted(missing)}")
    return "\n\n".join(out)


def load_module(name, path):
    """Imports the file at path as a module called name."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class References:
    def __init__(self, refs):
        import torch

        def path(*parts):
            p = os.path.join(refs, *parts)
            if not os.path.isfile(p):
                raise SystemExit(f"missing {p}: run benches/geometry_baseline.sh, or fill --refs")
            return p

        # platonic-rep metrics.py: imported as a module
        if "torchaudio" not in sys.modules:
            ta = types.ModuleType("torchaudio")
            ta.functional = types.ModuleType("torchaudio.functional")
            sys.modules["torchaudio"], sys.modules["torchaudio.functional"] = ta, ta.functional
        with contextlib.redirect_stdout(io.StringIO()):  # "Please install pymp ..."
            platonic = load_module("platonic_rep_metrics", path("platonic-rep", "metrics.py"))
        self.platonic = platonic.AlignmentMetrics
        # two-effects-one-trigger: the metric functions of gap_precompute.py, executed
        ns = {"torch": torch, "math": __import__("math"), "List": list}
        exec(extract(path("two-effects-one-trigger", "analysis", "gap_precompute.py"),
                     {"compute_l2i", "compute_rmg", "recall_at_k"}), ns)
        self.two_effects = ns
        # contrastive-gap: two methods of Evaluator, executed
        from sklearn.linear_model import LogisticRegression
        ns = {"torch": torch, "LogisticRegression": LogisticRegression,
              "wandb": types.SimpleNamespace(config={"seed": 0})}
        exec(extract(path("contrastive-gap", "src", "evaluator.py"),
                     {"get_mscoco_uniformity", "get_linear_seperability"}, "Evaluator"), ns)
        self.contrastive_gap = ns
        self.evaluator_self = types.SimpleNamespace(outputs_to_use=None, val_outputs=None)
        # IsoScore.py: imported
        isoscore = load_module("isoscore_reference", path("p_eickhoff_isoscore", "IsoScore", "IsoScore.py"))
        self.isoscore = isoscore.IsoScore

    def uniformity(self, a, b):
        # the whole function, as published: it also computes both sets' own uniformity (pdist)
        u = self.contrastive_gap["get_mscoco_uniformity"](self.evaluator_self, a, b)
        return float(u["cross_encoder_uniform_loss"])

    def separability(self, a, b):
        import torch
        torch.manual_seed(0)
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # lbfgs ConvergenceWarning at max_iter = 100
            return float(self.contrastive_gap["get_linear_seperability"](self.evaluator_self, a, b))

    def svcca(self, a, b, q):
        import torch
        torch.manual_seed(0)
        np.random.seed(0)
        return float(self.platonic.svcca(a, b, cca_dim=q))


def rankme_transcribed(x):
    """RankMe (Garrido et al. 2023): exp(-sum p log p), p = sigma / sum(sigma) + 1e-7."""
    import torch
    s = torch.linalg.svdvals(x)
    p = s / s.sum() + 1e-7
    return float(torch.exp(-(p * torch.log(p)).sum()))


# ----------------------------------------------------------------------------------------------
# numpy, the best straightforward way (f32 products where they are O(n^2 d), f64 otherwise)


def np_l2i(a, b):
    d = a - b
    return float(np.sqrt(np.einsum("ij,ij->i", d, d, dtype=np.float64)).mean())


def _within(x):
    """1 - (mean off-diagonal cosine + 1)/2 of unit rows, from the sum vector: O(n d)."""
    n = len(x)
    s = x.sum(axis=0, dtype=np.float64)
    cos = (s @ s - np.einsum("ij,ij->", x, x, dtype=np.float64)) / (n * (n - 1))
    return 1 - (cos + 1) / 2


def np_rmg(a, b, image_of=None):
    """compute_rmg's value; image_of given = the COCO convention (texts vs their images,
    within-image term over the unique images)."""
    ai = a if image_of is None else a[image_of]
    matched = 1 - (np.einsum("ij,ij->i", ai, b, dtype=np.float64).mean() + 1) / 2
    matched = matched if matched > 0 else 1e-3
    return float(matched / (matched + (_within(a) + _within(b)) / 2))


def np_uniformity(a, b, t=2.0):
    """log mean_{i != j} exp(-t ||a_i - b_j||^2) (unit rows), the n x n product in place."""
    n = len(a)
    z = a @ b.T
    z -= 1.0
    z *= 2.0 * t
    np.minimum(z, 0.0, out=z)
    np.fill_diagonal(z, -np.inf)
    m = z.max()
    z -= m
    np.exp(z, out=z)
    return float(m + np.log(z.sum(dtype=np.float64) / (n * (n - 1))))


def np_cka_dxd(a, b, unbiased):
    """Exact linear CKA from d x d cross products, O(n d^2), f64. Biased: centred features
    (tr(KHLH) = ||Ac^T Bc||_F^2). Unbiased: Song et al.'s HSIC through the identities of the
    issue, on the raw kernels (platonic-rep's convention)."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    n = len(a)
    if not unbiased:
        a, b = a - a.mean(0), b - b.mean(0)
        ab, aa, bb = a.T @ b, a.T @ a, b.T @ b
        return float((ab * ab).sum() / np.sqrt((aa * aa).sum() * (bb * bb).sum()))
    na, nb = np.einsum("ij,ij->i", a, a), np.einsum("ij,ij->i", b, b)
    sa, sb = a.sum(0), b.sum(0)
    ra, rb = a @ sa - na, b @ sb - nb  # rows of K~ 1, L~ 1

    def hsic(x, y, nx, ny, sx, sy, rx, ry):
        c = x.T @ y
        tr = (c * c).sum() - (nx * ny).sum()
        one_k, one_l = sx @ sx - nx.sum(), sy @ sy - ny.sum()
        return (tr + one_k * one_l / ((n - 1) * (n - 2)) - 2 * (rx @ ry) / (n - 2)) / (n * (n - 3))

    kl = hsic(a, b, na, nb, sa, sb, ra, rb)
    kk = hsic(a, a, na, na, sa, sa, ra, ra)
    ll = hsic(b, b, nb, nb, sb, sb, rb, rb)
    return float(kl / np.sqrt(kk * ll))


def np_cka_nxn(a, b, unbiased):
    """Linear CKA from the n x n Gram matrices (f32 products, f64 sums), O(n^2 d)."""
    n = len(a)
    k, l = a @ a.T, b @ b.T
    if not unbiased:
        def centre(g):
            r = g.mean(1, dtype=np.float64).astype(g.dtype)
            g -= r[:, None]
            g -= r[None, :]
            g += r.mean(dtype=np.float64)
            return g
        k, l = centre(k), centre(l)
        kl = np.einsum("ij,ij->", k, l, dtype=np.float64)
        kk = np.einsum("ij,ij->", k, k, dtype=np.float64)
        ll = np.einsum("ij,ij->", l, l, dtype=np.float64)
        return float(kl / np.sqrt(kk * ll))
    np.fill_diagonal(k, 0)
    np.fill_diagonal(l, 0)
    rk, rl = k.sum(1, dtype=np.float64), l.sum(1, dtype=np.float64)

    def hsic(x, y, rx, ry):
        tr = np.einsum("ij,ij->", x, y, dtype=np.float64)
        return (tr + rx.sum() * ry.sum() / ((n - 1) * (n - 2)) - 2 * (rx @ ry) / (n - 2)) / (n * (n - 3))

    return float(hsic(k, l, rk, rl) / np.sqrt(hsic(k, k, rk, rk) * hsic(l, l, rl, rl)))


def knn_blocked(x, k, block=2048):
    """Indices of the k largest inner products of each row with the others (self excluded),
    by argpartition over row blocks of the Gram matrix: block x n memory, not n x n."""
    n = len(x)
    out = np.empty((n, k), np.int64)
    for s in range(0, n, block):
        g = x[s:s + block] @ x.T
        g[np.arange(len(g)), np.arange(s, s + len(g))] = -np.inf
        out[s:s + block] = np.argpartition(g, n - k, axis=1)[:, n - k:]
    return out


def np_mutual_knn(a, b, k):
    na, nb = knn_blocked(a, k), knn_blocked(b, k)
    return float((na[:, :, None] == nb[:, None, :]).any(2).sum() / (len(a) * k))


def np_cknna(a, b, k):
    """platonic-rep's cknna (unbiased, with its +1e-6) on sparse masked kernels: the k
    neighbours by blocked argpartition, the masked K and L as scipy.sparse (n k entries)."""
    import scipy.sparse as sp
    n = len(a)
    na, nb = knn_blocked(a, k), knn_blocked(b, k)
    rows = np.repeat(np.arange(n), k)

    def masked(x, cols, keep):
        r, c = rows[keep], cols.ravel()[keep]
        v = np.einsum("ij,ij->i", x[r], x[c], dtype=np.float64)
        return sp.csr_matrix((v, (r, c)), shape=(n, n))

    def hsic(kt, lt):
        tr = kt.multiply(lt.T).sum()
        u = np.asarray(kt.sum(0)).ravel() @ np.asarray(lt.sum(1)).ravel()
        return (tr + kt.sum() * lt.sum() / ((n - 1) * (n - 2)) - 2 * u / (n - 2)) / (n * (n - 3))

    both = (na[:, :, None] == nb[:, None, :]).any(2).ravel()
    alla = np.ones(n * k, bool)
    kl = hsic(masked(a, na, both), masked(b, na, both))
    ka, lb = masked(a, na, alla), masked(b, nb, alla)
    return float(kl / (np.sqrt(hsic(ka, ka) * hsic(lb, lb)) + 1e-6))


def _zscore(x):
    x = x.astype(np.float64)
    x = x - x.mean(0)
    s = x.std(0, ddof=1)
    return x / np.where(s > 0, s, 1.0)


def _top_left_singular(x, q):
    import scipy.linalg
    g = x.T @ x
    w, v = scipy.linalg.eigh(g, subset_by_index=[len(g) - q, len(g) - 1])
    return (x @ v) / np.sqrt(w)


def np_svcca(a, b, q):
    """Exact SVCCA: z-scored columns, exact top-q left singular vectors from the d x d Gram,
    the mean singular value of U1^T U2 (the canonical correlations)."""
    u1, u2 = _top_left_singular(_zscore(a), q), _top_left_singular(_zscore(b), q)
    return float(np.linalg.svd(u1.T @ u2, compute_uv=False).mean())


def np_effective_rank(x):
    """exp(entropy) of p = sigma / sum(sigma), sigma from the d x d Gram in f64 (no epsilon)."""
    x = x.astype(np.float64)
    s = np.sqrt(np.clip(np.linalg.eigvalsh(x.T @ x), 0, None))
    p = s / s.sum()
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


def np_isoscore(x):
    """IsoScore from the covariance eigenvalues (f64): the PCA variances of IsoScore.py."""
    x = x.astype(np.float64)
    x = x - x.mean(0)
    v = np.clip(np.linalg.eigvalsh(x.T @ x / (len(x) - 1)), 0, None)
    d = len(v)
    v = v * np.sqrt(d) / np.linalg.norm(v)
    defect = np.linalg.norm(v - 1) / np.sqrt(2 * (d - np.sqrt(d)))
    return float(((d - defect**2 * (d - np.sqrt(d))) ** 2 - d) / (d * (d - 1)))


def np_separability(a, b):
    """sklearn's default logistic objective (C = 1, intercept unpenalised) by Newton (IRLS) on
    d + 1 parameters in f64; test iff i % 5 == 4 (the crate's split). Held-out accuracy."""
    n, d = a.shape
    test = np.arange(n) % 5 == 4

    def design(mask):
        x = np.vstack([a[mask], b[mask]]).astype(np.float64)
        return np.hstack([x, np.ones((len(x), 1))]), np.r_[np.ones(mask.sum()), np.zeros(mask.sum())]

    x, y = design(~test)
    w = np.zeros(d + 1)
    penalty = np.ones(d + 1)
    penalty[-1] = 0
    for _ in range(100):
        p = 1 / (1 + np.exp(-(x @ w)))
        grad = x.T @ (p - y) + penalty * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    xt, yt = design(test)
    return float(((xt @ w > 0) == (yt == 1)).mean())


def np_recall(img, txt, image_of, ks=(1, 5, 10)):
    """COCO protocol from the m x n scores: text -> image hit iff fewer than k images score
    above its own; image -> text hit iff fewer than k texts score above its best caption."""
    s = txt @ img.T
    m, n = s.shape
    own = s[np.arange(m), image_of]
    rank_t = (s > own[:, None]).sum(1)
    best = np.full(n, -np.inf, s.dtype)
    np.maximum.at(best, image_of, own)
    rank_i = (s > best[None, :]).sum(0)
    return [(float((rank_t < k).mean()), float((rank_i < k).mean())) for k in ks]


# ----------------------------------------------------------------------------------------------


def unit(rng, n, d):
    x = rng.standard_normal((n, d), dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def header(args, refs_commits):
    import scipy
    import sklearn
    import torch
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = next((l.split(":", 1)[1].strip() for l in lscpu.splitlines() if l.startswith("Model name")), "?")
    except OSError:
        model = platform.processor() or "?"
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    env = " ".join(f"{k}={os.environ.get(k, '-')}" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"))
    print(f"# geometry baseline, {now}")
    print(f"# machine: {model}; {os.cpu_count()} hardware threads; torch threads {torch.get_num_threads()}; {env}")
    print(f"# python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
          f"scikit-learn {sklearn.__version__}, torch {torch.__version__} (device cpu)")
    try:
        from threadpoolctl import threadpool_info
        print("# BLAS: " + "; ".join(f"{i.get('internal_api')} {i.get('version')} {i.get('architecture', '')} "
                                     f"{i.get('num_threads')} threads ({os.path.basename(i.get('filepath', ''))})"
                                     for i in threadpool_info()))
    except ImportError:
        pass
    for line in refs_commits:
        print(f"# reference: {line}")
    print(f"# input: {args.input or f'default_rng(seed + 1, + 2; captions + 3, + 4), seed {args.seed}, standard normal'}, l2-normalised float32; "
          f"repeats {args.repeats}, max-seconds {args.max_seconds}, max-gb {args.max_gb}")


ROW = "{:<22} {:<28} {:>7} {:>5} {:>10} {:>4} {:>9} {:>12}  {}"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--refs", required=True, help="directory with the reference files (see the module docstring)")
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--d", type=int, default=512)
    p.add_argument("--captions", default="1000x5", help="images x captions per image; 0 to skip")
    p.add_argument("--input", default=None, help="FILE.npy of shape [2, n, d] instead of the seeded rows")
    p.add_argument("--seed", type=int, default=0, help="offset of the per-set seeds 1, 2 (captions 3, 4)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--max-seconds", type=float, default=120.0,
                   help="no more repeats after a run longer than this")
    p.add_argument("--max-gb", type=float, default=8.0)
    p.add_argument("--k", type=int, default=10, help="k of mutual k-NN and CKNNA")
    p.add_argument("--q", type=int, default=10, help="q of SVCCA")
    p.add_argument("--only", default=None, help="comma-separated metric names to run")
    args = p.parse_args()

    fixed_mmap_threshold()
    import torch
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    commits_file = os.path.join(args.refs, "COMMITS")
    commits = open(commits_file).read().splitlines() if os.path.isfile(commits_file) else []
    header(args, commits)
    refs = References(args.refs)

    if args.input:
        pair = np.load(args.input).astype(np.float32)
        a, b = (x / np.linalg.norm(x, axis=1, keepdims=True) for x in pair)
    else:
        # one generator per set, seeds 1 and 2 (captions: 3 and 4) as benches/metrics.rs numbers them
        a = unit(np.random.default_rng(args.seed + 1), args.n, args.d)
        b = unit(np.random.default_rng(args.seed + 2), args.n, args.d)
    n, d = a.shape
    knn_block = 12.0 * min(n, 2048) * n  # f32 scores + int64 argpartition of one row block
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    k, q = args.k, args.q
    nn = float(n) * n
    labels = torch.arange(n)
    pm, te = refs.platonic, refs.two_effects

    # (metric, implementation, rows, estimated bytes of the n x n working set, function, note)
    rows = [
        ("l2i", "ref two-effects compute_l2i", n, 0,
         lambda: te["compute_l2i"](ta, tb, "imagenet", labels=labels), "extracted; imagenet branch, labels = arange(n)"),
        ("l2i", "numpy", n, 0, lambda: np_l2i(a, b), ""),
        ("relative_gap", "ref two-effects compute_rmg", n, 12 * nn,
         lambda: te["compute_rmg"](ta, tb, "imagenet", labels=labels), "extracted; imagenet branch; n x n bool + 2 Gram"),
        ("relative_gap", "numpy sum-vector", n, 0, lambda: np_rmg(a, b), "O(n d)"),
        ("cross_uniformity", "ref contrastive-gap", n, 40 * nn,
         lambda: refs.uniformity(ta, tb), "extracted get_mscoco_uniformity, whole (also both pdist), t = 2"),
        ("cross_uniformity", "numpy n x n", n, 5 * nn, lambda: np_uniformity(a, b), "t = 2"),
        ("cka_biased", "ref platonic-rep cka", n, 24 * nn,
         lambda: pm.cka(ta, tb), "imported; tr(K H L H): n^3 products; +1e-6"),
        ("cka_biased", "numpy d x d", n, 0, lambda: np_cka_dxd(a, b, False), "exact, f64"),
        ("cka_biased", "numpy n x n Gram", n, 12 * nn, lambda: np_cka_nxn(a, b, False), "exact"),
        ("cka_unbiased", "ref platonic-rep unbiased_cka", n, 24 * nn,
         lambda: pm.unbiased_cka(ta, tb), "imported; torch.mm(K~, L~): n^3; +1e-6"),
        ("cka_unbiased", "numpy d x d", n, 0, lambda: np_cka_dxd(a, b, True), "exact, f64"),
        ("cka_unbiased", "numpy n x n Gram", n, 8 * nn, lambda: np_cka_nxn(a, b, True), "exact"),
        ("mutual_knn", "ref platonic-rep mutual_knn", n, 32 * nn,
         lambda: pm.mutual_knn(ta, tb, topk=k), f"imported; k = {k}; full argsort"),
        ("mutual_knn", "numpy argpartition", n, knn_block, lambda: np_mutual_knn(a, b, k), f"k = {k}; 2048-row blocks"),
        ("cknna", "ref platonic-rep cknna", n, 52 * nn,
         lambda: pm.cknna(ta, tb, topk=k), f"imported; k = {k}; hsic_unbiased n^3"),
        ("cknna", "numpy + scipy.sparse", n, knn_block, lambda: np_cknna(a, b, k), f"k = {k}; with the reference's +1e-6"),
        ("svcca", "ref platonic-rep svcca", n, 0,
         lambda: refs.svcca(ta, tb, q), f"imported; q = {q}; svd_lowrank (randomised) + sklearn CCA"),
        ("svcca", "numpy exact", n, 0, lambda: np_svcca(a, b, q), f"q = {q}; d x d eigh, top q only"),
        ("effective_rank", "transcribed RankMe", n, 0,
         lambda: rankme_transcribed(ta), "torch.linalg.svdvals, p + 1e-7 (image set)"),
        ("effective_rank", "numpy d x d", n, 0, lambda: np_effective_rank(a), "f64 eigvalsh (image set)"),
        ("isoscore", "ref IsoScore.py", n, 0,
         lambda: float(refs.isoscore(a.T)), "imported; sklearn PCA (image set)"),
        ("isoscore", "numpy d x d", n, 0, lambda: np_isoscore(a), "f64 eigvalsh (image set)"),
        ("separability", "ref contrastive-gap", n, 0,
         lambda: refs.separability(ta, tb), "extracted get_linear_seperability; lbfgs; torch seed 0"),
        ("separability", "numpy Newton", n, 0, lambda: np_separability(a, b), "IRLS f64; i % 5 == 4 test"),
    ]

    if args.captions != "0":
        ni, per = map(int, args.captions.lower().split("x"))
        img = unit(np.random.default_rng(args.seed + 3), ni, d)
        txt = unit(np.random.default_rng(args.seed + 4), ni * per, d)
        m = len(txt)
        image_of = np.arange(m) // per
        ti, tt = torch.from_numpy(img), torch.from_numpy(txt)
        t2i = torch.from_numpy(image_of)
        i2t = torch.arange(m).view(ni, per)
        i2t_list = list(i2t)
        nm = float(ni) * m
        size = f"{ni}x{per}"
        rows += [
            ("captions_l2i", "ref two-effects compute_l2i", size, 0,
             lambda: te["compute_l2i"](ti, tt, "coco", text_to_image_map=t2i), "extracted; coco branch"),
            ("captions_l2i", "numpy", size, 0, lambda: np_l2i(img[image_of], txt), ""),
            ("captions_rmg", "ref two-effects compute_rmg", size, 9.0 * m * m + 4.0 * ni * ni,
             lambda: te["compute_rmg"](ti, tt, "coco", text_to_image_map=t2i, image_to_text_map=i2t_list),
             "extracted; coco branch (python loop over caption pairs)"),
            ("captions_rmg", "numpy sum-vector", size, 0, lambda: np_rmg(img, txt, image_of), "O(m d)"),
            ("captions_recall", "ref two-effects recall_at_k", size, 24 * nm,
             lambda: tuple(te["recall_at_k"](ti, tt, t2i, i2t, [1, 5, 10], "cpu")[1]),
             "extracted; R@1,5,10 both ways; value = image->text"),
            ("captions_recall", "numpy m x n", size, 6 * nm,
             lambda: tuple(r[1] for r in np_recall(img, txt, image_of)), "counts above the true score"),
        ]

    only = set(args.only.split(",")) if args.only else None
    print(ROW.format("metric", "implementation", "n", "d", "median_s", "runs", "peak_MiB", "value", "note"))
    limit = args.max_gb * 2**30
    for metric, impl, size, need, f, note in rows:
        if only and metric not in only:
            continue
        if need > limit:
            print(ROW.format(metric, impl, size, d, "-", 0, "-", "-",
                             f"skipped: needs ~{need / 2**30:.3g} GiB of n x n (or n x m) matrices > --max-gb {args.max_gb:g}"))
            continue
        gc.collect()
        try:
            with torch.no_grad():
                t, runs, mib, value = run(f, args.repeats, args.max_seconds)
        except Exception as e:  # e.g. IsoScore.py's PCA needs n >= d
            print(ROW.format(metric, impl, size, d, "-", 0, "-", "-", f"failed: {type(e).__name__}: {e}"), flush=True)
            continue
        if isinstance(value, tuple):
            value = value[0]
        print(ROW.format(metric, impl, size, d, f"{t:.4f}", runs, f"{mib:.0f}", f"{value:.6g}", note), flush=True)


if __name__ == "__main__":
    main()
