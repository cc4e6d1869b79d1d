#!/usr/bin/env python3
"""
Runs the reference repositories' own code (torch on CPU, sklearn) on the small geometry cases
and adds its outputs to each case's expected.json under "reference_code", with the commits,
the library versions and the differences from the exact oracle values.

Usage (from the repository root, after make_cases.py):
    python3 tests/data/geometry/pin_reference_code.py --mirrors DIR [--out tests/data/oracle]
                                                      [--data DIR_OF_FEATURES]

--mirrors DIR holds the reference repositories, either as working copies
``DIR/<owner>/<name>/`` or as bare git directories ``DIR/<owner>+<name>/repo`` (the layout of
the session's mirror); the files are read at the pinned commits below.  Nothing of theirs is
copied into this repository: the needed files are written to a temporary directory outside
it, imported (or, for functions inside scripts/classes with heavy imports, their function
definitions are extracted with ``ast`` and executed) and deleted afterwards.  Stubs: platonic-rep
metrics.py imports torchaudio (used only by ``edit_distance_knn``), replaced by an empty module;
contrastive-gap's evaluator reads ``wandb.config['seed']``, given as a stub dict.

With --data, it also pins platonic-rep's CKA and SVCCA on features_clip.npy (float32 and
float64), the issue's numbers, into tests/data/geometry/reference_code_clip.json.
"""
from __future__ import annotations

import argparse
import ast
import glob
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import reference as R  # noqa: E402
from make_cases import jsonable  # noqa: E402

COMMITS = {
    "minyoungg/platonic-rep": "dcd76ba3c950c1b197a2ae8b1c6713535c94ecf9",
    "lmb-freiburg/two-effects-one-trigger": "ed38130655aa2c69ef32ff8fb9991e78dd9963a5",
    "abrar-fahim/contrastive-gap": "8c1a17bff93a83db48163d604376c0f876c959e8",
    "bcbi-edu/p_eickhoff_isoscore": "1edad0b7f6d30099687a851ee150d3b02f50c217",
}


def source(mirrors, repo, path):
    owner, name = repo.split("/")
    wc = os.path.join(mirrors, owner, name, path)
    if os.path.isfile(wc):
        return open(wc).read()
    git_dir = os.path.join(mirrors, f"{owner}+{name}", "repo")
    return subprocess.run(["git", "--git-dir", git_dir, "show", f"{COMMITS[repo]}:{path}"],
                          check=True, capture_output=True, text=True).stdout


def extract_functions(src, names, class_name=None):
    """Source of the named top-level functions (or methods of ``class_name``), dedented."""
    tree = ast.parse(src)
    lines = src.splitlines()
    body = tree.body
    if class_name:
        body = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name).body
    out = []
    for node in body:
        if isinstance(node, ast.FunctionDef) and node.name in names:
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            out.append(textwrap.dedent("\n".join(lines[start - 1:node.end_lineno])))
    return "\n\n".join(out)


class References:
    def __init__(self, mirrors, tmp):
        import torch
        self.torch = torch
        # platonic-rep metrics.py, imported as a module from the temp dir
        with open(os.path.join(tmp, "platonic_metrics.py"), "w") as f:
            f.write(source(mirrors, "minyoungg/platonic-rep", "metrics.py"))
        if "torchaudio" not in sys.modules:
            ta = types.ModuleType("torchaudio")
            ta.functional = types.ModuleType("torchaudio.functional")
            sys.modules["torchaudio"], sys.modules["torchaudio.functional"] = ta, ta.functional
        sys.path.insert(0, tmp)
        import platonic_metrics
        self.pm = platonic_metrics
        # two-effects: the metric functions of gap_precompute.py (its module imports open_clip,
        # torchvision and local data loaders; only the functions are executed)
        src = source(mirrors, "lmb-freiburg/two-effects-one-trigger", "analysis/gap_precompute.py")
        ns = {"torch": torch, "math": __import__("math"), "List": list}
        exec(extract_functions(src, {"compute_l2m", "compute_l2i", "compute_rmg", "recall_at_k"}), ns)
        self.te = ns
        # two-effects gap_mean_differences.py: the statements of its loop body (lines 32-51)
        src = source(mirrors, "lmb-freiburg/two-effects-one-trigger", "analysis/gap_mean_differences.py")
        self.gmd_body = textwrap.dedent("\n".join(src.splitlines()[31:51]))
        # IsoScore.py, imported
        with open(os.path.join(tmp, "isoscore_ref.py"), "w") as f:
            f.write(source(mirrors, "bcbi-edu/p_eickhoff_isoscore", "IsoScore/IsoScore.py"))
        import isoscore_ref
        self.iso = isoscore_ref
        # contrastive-gap evaluator: two methods
        src = source(mirrors, "abrar-fahim/contrastive-gap", "src/evaluator.py")
        from sklearn.linear_model import LogisticRegression
        ns = {"torch": torch, "LogisticRegression": LogisticRegression,
              "wandb": types.SimpleNamespace(config={"seed": 0})}
        exec(extract_functions(src, {"get_mscoco_uniformity", "get_linear_seperability"}, "Evaluator"), ns)
        self.cg = ns

    def t(self, x, dtype=None):
        return self.torch.tensor(np.asarray(x), dtype=dtype or self.torch.float64)

    # -------------------------------------------------------------------------------------
    def platonic(self, img, txt, ks, cknna_ks, qs, seed=0):
        torch, AM = self.torch, self.pm.AlignmentMetrics
        ni, nt = R.l2_normalize(img), R.l2_normalize(txt)
        A, B = self.t(img), self.t(txt)
        nA, nB = self.t(ni), self.t(nt)
        out = {"dtype": "float64",
               "cka": {"biased": AM.cka(A, B), "unbiased": AM.unbiased_cka(A, B)},
               "mutual_knn": {str(k): AM.mutual_knn(nA, nB, topk=k) for k in ks},
               "cknna": {str(k): AM.cknna(nA, nB, topk=k) for k in cknna_ks}}
        try:
            AM.cknna(nA, nB)
            out["cknna_default_topk"] = "ran"
        except TypeError as e:
            out["cknna_default_topk"] = f"TypeError: {e}"
        sv = {}
        for q in qs:
            runs = []
            for s in range(5):
                torch.manual_seed(seed + s)
                np.random.seed(seed + s)
                runs.append(float(AM.svcca(A, B, cca_dim=q)))
            sv[str(q)] = {"seeds": list(range(seed, seed + 5)), "values": runs}
        out["svcca"] = sv
        return out

    def sklearn_cca_exact(self, img, txt, qs):
        """sklearn CCA on the exact top-q bases (what platonic-rep's svcca does after
        svd_lowrank), and np.corrcoef of the canonical variates, no noise."""
        from sklearn.cross_decomposition import CCA
        out = {}
        for q in qs:
            u1 = np.linalg.svd(R.zscore_columns(img), full_matrices=False)[0][:, :q]
            u2 = np.linalg.svd(R.zscore_columns(txt), full_matrices=False)[0][:, :q]
            cca = CCA(n_components=q, max_iter=5000, tol=1e-12).fit(u1, u2)
            c1, c2 = cca.transform(u1, u2)
            out[str(q)] = float(np.mean([np.corrcoef(c1[:, i], c2[:, i])[0, 1] for i in range(q)]))
        return out

    def two_effects(self, img, txt, image_of=None):
        torch = self.torch
        ni, nt = R.l2_normalize(img), R.l2_normalize(txt)
        I, T = self.t(ni), self.t(nt)
        n, m = len(ni), len(nt)
        out = {"compute_l2m": self.te["compute_l2m"](I, T) if image_of is None else None}
        if image_of is None:
            labels = torch.arange(n)
            out["compute_l2i_imagenet"] = self.te["compute_l2i"](I, T, "imagenet", labels=labels)
            out["compute_rmg_imagenet"] = self.te["compute_rmg"](I, T, "imagenet", labels=labels)
            image_of = np.arange(n)
        t2i = torch.tensor(np.asarray(image_of), dtype=torch.long)
        groups = [np.flatnonzero(np.asarray(image_of) == i) for i in range(n)]
        width = max(len(g) for g in groups)
        # rows padded by repeating the first caption: "any caption in the top K" is unchanged
        i2t = torch.tensor(np.array([np.concatenate([g, np.repeat(g[:1], width - len(g))]) for g in groups]),
                           dtype=torch.long)
        out["compute_l2i_coco"] = self.te["compute_l2i"](I, T, "coco", text_to_image_map=t2i)
        out["compute_rmg_coco"] = self.te["compute_rmg"](I, T, "coco", text_to_image_map=t2i,
                                                        image_to_text_map=[torch.tensor(g) for g in groups])
        ks = [k for k in (1, 5, 10) if k <= n]
        t2i_r, i2t_r = self.te["recall_at_k"](I, T, t2i, i2t, ks, "cpu")
        out["recall_at_k"] = {str(k): [i2t_r[j], t2i_r[j]] for j, k in enumerate(ks)}
        out["recall_at_k_note"] = "stored as [image->text, text->image]; image_to_text_map padded by repeating the first caption"
        return out

    def gap_mean_differences(self, img, txt):
        torch = self.torch
        ns = {"torch": torch, "txt_features": self.t(txt), "img_features": self.t(img),
              "dimensions_sorted": [], "diffs": [], "models": [], "dimensions_sorted_inset": [],
              "diffs_inset": [], "models_inset": [], "dataset": "coco", "model": "ViT-B-16__openai",
              "print": lambda *a, **k: None}
        exec(self.gmd_body, ns)
        return {"sorted_abs_difference": ns["diffs"], "top5_dimensions": ns["indices"].tolist()}

    def isoscore(self, x):
        try:
            return float(self.iso.IsoScore(np.asarray(x, np.float64).T))
        except Exception as e:  # PCA with n_components = d > n samples
            return f"{type(e).__name__}: {e}"

    def contrastive_gap(self, img, txt, seeds=range(5)):
        torch = self.torch
        self_ = types.SimpleNamespace(outputs_to_use=None, val_outputs=None)
        ni, nt = R.l2_normalize(img), R.l2_normalize(txt)
        u = self.cg["get_mscoco_uniformity"](self_, self.t(ni), self.t(nt))
        accs = []
        import contextlib, io
        for s in seeds:
            torch.manual_seed(s)
            with contextlib.redirect_stdout(io.StringIO()):
                accs.append(float(self.cg["get_linear_seperability"](self_, self.t(img), self.t(txt))))
        return {"cross_encoder_uniform_loss": float(u["cross_encoder_uniform_loss"]),
                "linear_seperability_accuracy": {"torch_seeds": list(seeds), "values": accs}}


def max_diff(a, b):
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


def pin_case(refs, case_dir):
    path = os.path.join(case_dir, "expected.json")
    meta = json.load(open(path))
    e = meta["expected"]
    load = lambda k: np.fromfile(os.path.join(case_dir, meta["inputs"][k]["file"]),
                                 dtype="<f8" if meta["inputs"][k]["dtype"] == "float64-le" else "<i8"
                                 ).reshape(meta["inputs"][k]["shape"])
    img, txt = load("img"), load("txt")
    image_of = load("image_of")
    rc = {"commits": COMMITS, "torch": refs.torch.__version__, "numpy": np.__version__,
          "sklearn": __import__("sklearn").__version__, "device": "cpu"}
    diffs = {}
    if "cka" in e:  # paired case
        n = len(img)
        ks = [int(k) for k in e["mutual_knn"]]
        cks = [int(k) for k in e["cknna"]]
        qs = [int(q) for q in e["svcca"]]
        p = refs.platonic(img, txt, ks, cks, qs)
        rc["platonic_rep_metrics"] = p
        rc["sklearn_cca_on_exact_subspaces"] = refs.sklearn_cca_exact(img, txt, qs)
        rc["two_effects"] = refs.two_effects(img, txt)
        rc["two_effects_gap_mean_differences"] = refs.gap_mean_differences(R.l2_normalize(img), R.l2_normalize(txt))
        rc["isoscore_py"] = {"img": refs.isoscore(img), "txt": refs.isoscore(txt)}
        rc["contrastive_gap"] = refs.contrastive_gap(img, txt)
        diffs["cka_biased"] = p["cka"]["biased"] - e["cka"]["biased"]["none"]
        diffs["cka_unbiased"] = p["cka"]["unbiased"] - e["cka"]["unbiased"]["none"]
        diffs["cka_unbiased_with_eps_1e-6_numpy"] = None
        diffs["mutual_knn"] = {k: p["mutual_knn"][k] - e["mutual_knn"][k] for k in e["mutual_knn"]}
        diffs["cknna"] = {k: p["cknna"][k] - e["cknna"][k] for k in e["cknna"]}
        diffs["svcca_randomised_max_abs"] = {q: max_diff(p["svcca"][q]["values"], e["svcca"][q]) for q in e["svcca"]}
        diffs["sklearn_cca_on_exact_subspaces"] = {q: rc["sklearn_cca_on_exact_subspaces"][q] - e["svcca"][q]
                                                  for q in e["svcca"]}
        te = rc["two_effects"]
        diffs["compute_l2i"] = te["compute_l2i_imagenet"] - e["mean_paired_distance"]
        diffs["compute_rmg"] = te["compute_rmg_imagenet"] - e["relative_gap"]["value"]
        diffs["compute_rmg_coco_identity"] = te["compute_rmg_coco"] - e["relative_gap"]["value"]
        diffs["compute_l2m"] = te["compute_l2m"] - e["mean_centred_metrics"]["before"]["gap_distance"]
        diffs["recall_at_k_equal"] = all(te["recall_at_k"][k] == e["captioned"]["recall"][k] for k in te["recall_at_k"])
        g = rc["two_effects_gap_mean_differences"]
        diffs["gap_mean_differences_sorted_abs"] = max_diff(g["sorted_abs_difference"],
                                                            np.abs(e["gap_by_dimension"]["difference"]))
        diffs["gap_mean_differences_top5_equal"] = g["top5_dimensions"] == e["gap_by_dimension"]["dimension"][:5]
        for s in ("img", "txt"):
            v = rc["isoscore_py"][s]
            diffs[f"isoscore_{s}"] = v - e["isoscore"][s] if isinstance(v, float) else v
        diffs["cross_modal_uniformity_t2"] = rc["contrastive_gap"]["cross_encoder_uniform_loss"] - e["cross_modal_uniformity"]["2.0"]
        # platonic-rep's +1e-6, applied to our exact HSICs: explains the CKA differences
        A, B = img, txt
        for est, h in (("biased", R.hsic_biased), ("unbiased", R.hsic_unbiased)):
            K, L = A @ A.T, B @ B.T
            eps_val = h(K, L) / (np.sqrt(h(K, K) * h(L, L)) + 1e-6)
            diffs[f"cka_{est}_exact_with_eps_1e-6_minus_reference"] = eps_val - p["cka"][est]
        del diffs["cka_unbiased_with_eps_1e-6_numpy"]
    else:  # captions case
        rc["two_effects"] = refs.two_effects(img, txt, image_of)
        te = rc["two_effects"]
        c = e["captioned"]
        diffs["compute_l2i_coco"] = te["compute_l2i_coco"] - c["mean_paired_distance"]
        diffs["compute_rmg_coco"] = te["compute_rmg_coco"] - c["relative_gap"]["value"]
        diffs["recall_at_k_equal"] = all(te["recall_at_k"][k] == c["recall"][k] for k in te["recall_at_k"])
        rc["isoscore_py"] = {"img": refs.isoscore(img), "txt": refs.isoscore(txt)}
        for s in ("img", "txt"):
            v = rc["isoscore_py"][s]
            diffs[f"isoscore_{s}"] = v - e["isoscore"][s] if isinstance(v, float) else v
    rc["differences_reference_minus_exact"] = diffs
    meta["reference_code"] = rc
    with open(path, "w") as f:
        json.dump(jsonable(meta), f, indent=1, allow_nan=False)
    return diffs


def pin_clip(refs, data, out_path):
    """platonic-rep CKA (biased/unbiased) and SVCCA (q = 1, 5, 10; 5 seeds) on each feature
    file, float32 (the dtype of the files, as platonic-rep would run) and float64."""
    torch = refs.torch
    AM = refs.pm.AlignmentMetrics
    out = {"commits": {"minyoungg/platonic-rep": COMMITS["minyoungg/platonic-rep"]},
           "torch": torch.__version__, "sklearn": __import__("sklearn").__version__}
    for path in sorted(glob.glob(os.path.join(data, "*.npy"))):
        pair = np.load(path)
        img, txt = pair[0].astype(np.float64), pair[1].astype(np.float64)
        r = {}
        for dt, name in ((torch.float32, "float32"), (torch.float64, "float64")):
            A, B = refs.t(img, dt), refs.t(txt, dt)
            nA, nB = refs.t(R.l2_normalize(img), dt), refs.t(R.l2_normalize(txt), dt)
            rr = {"cka_raw": {"biased": AM.cka(A, B), "unbiased": AM.unbiased_cka(A, B)},
                  "cka_unit": {"biased": AM.cka(nA, nB), "unbiased": AM.unbiased_cka(nA, nB)},
                  "mutual_knn_unit": {str(k): AM.mutual_knn(nA, nB, topk=k) for k in (1, 5, 10)},
                  "cknna_unit": {str(k): AM.cknna(nA, nB, topk=k) for k in (5, 10)}}
            sv = {}
            for q in (1, 5, 10):
                vals = []
                for s in range(5):
                    torch.manual_seed(s)
                    np.random.seed(s)
                    vals.append(float(AM.svcca(A, B, cca_dim=q)))
                sv[str(q)] = vals
            rr["svcca_raw_seeds_0_to_4"] = sv
            r[name] = rr
        out[os.path.basename(path)] = r
        print(os.path.basename(path), "pinned", flush=True)
    with open(out_path, "w") as f:
        json.dump(jsonable(out), f, indent=1, allow_nan=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mirrors", required=True)
    ap.add_argument("--out", default=os.path.join(HERE, "..", "oracle"))
    ap.add_argument("--data", default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        refs = References(args.mirrors, tmp)
        for d in sorted(glob.glob(os.path.join(args.out, "geometry_*"))):
            if os.path.basename(d) == "geometry_edge":
                continue
            diffs = pin_case(refs, d)
            print(os.path.basename(d), json.dumps(jsonable(diffs)))
        if args.data:
            pin_clip(refs, args.data, os.path.join(HERE, "reference_code_real_features.json"))


if __name__ == "__main__":
    main()
