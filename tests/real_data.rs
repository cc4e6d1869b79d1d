//! Real features published with Liang et al. (2022) give the values numpy gives.
//!
//! `tests/data/real_features_expected.json` holds the oracle's float64 values for every file of
//! `../shared/data/modality-gap-features/`; `python3 tests/data/pin_real_values.py ../shared`
//! regenerates it. The embedded `data/features_clasp.npy` is checked on every machine, by every
//! `cargo test`. The test over all eight published files is `#[ignore]`d: it runs only when
//! asked for, with the folder named by the environment variable `MODALITY_GAP_FEATURES`,
//!
//! ```text
//! MODALITY_GAP_FEATURES=../shared/data/modality-gap-features cargo test --test integration -- --ignored real_data::
//! ```
//!
//! as `.ci/run` does, and it fails, naming the variable and the path, when the variable is unset
//! or the folder or one of its files is missing: it never passes without having checked them.

use crate::common;

use std::path::PathBuf;

use common::{
    ERANK_SINGULAR_VALUES, ERANK_VARIANCES, F32, F64, assert_close, assert_relative, data_json,
    temperature,
};
use modality_gap::{
    Captioned, Centring, Diagonal, HsicEstimator, Image, Scalar, Spectrum, Text, UnitEmbeddings,
    align_loss, cka, cknna, contrastive_loss, cross_modal_uniformity, effective_rank, gap,
    isoscore, mean_centred, mean_pairwise_cosine, modality_separability, mutual_knn, npy,
    relative_gap, retrieval_recall, svcca, uniform_loss,
};
use serde_json::Value;

static CLASP: &[u8] = include_bytes!("../data/features_clasp.npy");

/// The environment variable naming the folder of the published feature files.
const FEATURES: &str = "MODALITY_GAP_FEATURES";

fn expected(file: &str) -> Value {
    data_json("real_features_expected.json")[file].clone()
}

/// Every metric of one `[2, n, d]` file against the oracle: relative `tol` for the real-valued
/// metrics, exact hit counts for retrieval.
fn check<T: Scalar>(file: &str, bytes: &[u8], tol: f64) {
    let e = expected(file);
    let num = |key: &str| {
        e[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{file}: no {key}"))
    };
    let what = |key: &str| format!("{file} <{}> {key}", T::NAME);
    let (a, t) = npy::read_pair_from::<T, Image, Text, _>(bytes).unwrap();
    assert_eq!(
        (a.len() as f64, a.dim() as f64),
        (num("n"), num("d")),
        "{}",
        what("shape")
    );
    let (a, t) = (
        UnitEmbeddings::normalize(a).unwrap(),
        UnitEmbeddings::normalize(t).unwrap(),
    );

    let g = gap(&a, &t).unwrap();
    assert_relative(
        g.distance(),
        num("gap_distance"),
        tol,
        &what("gap distance"),
    );
    assert_close(
        g.vector()[0],
        num("gap_vector_0"),
        tol,
        &what("gap vector[0]"),
    );
    let cone = |x: f64, key| assert_relative(x, num(key), tol, &what(key));
    cone(
        mean_pairwise_cosine(&a, Diagonal::Excluded).unwrap(),
        "cone_first_excluded",
    );
    cone(
        mean_pairwise_cosine(&t, Diagonal::Excluded).unwrap(),
        "cone_second_excluded",
    );
    cone(
        mean_pairwise_cosine(&a, Diagonal::Included).unwrap(),
        "cone_first_included",
    );
    let rel = |x: f64, key: &str| assert_relative(x, num(key), tol, &what(key));
    rel(align_loss(&a, &t, 2.0).unwrap(), "align_alpha2");
    // The oracle's uniformity of a tight cone (|L| ~ 1e-4) carries a relative rounding error
    // of about 1e-16/|L| from log(mean) near 1: compare with it in the abs-or-rel form, and
    // relatively with the pinned full-precision value (log1p of the mean of expm1).
    for (value, key) in [
        (uniform_loss(&a, 2.0).unwrap(), "uniform_first_t2"),
        (uniform_loss(&t, 2.0).unwrap(), "uniform_second_t2"),
    ] {
        assert_close(value, num(key), tol, &what(key));
        rel(value, &format!("{key}_accurate"));
    }

    let loss = contrastive_loss(&a, &t, temperature(0.01)).unwrap();
    rel(loss.symmetric, "clip_symmetric_tau0.01");
    rel(loss.a_to_b, "clip_i2t_tau0.01");
    rel(loss.b_to_a, "clip_t2i_tau0.01");
    for k in [1, 5, 10] {
        let r = retrieval_recall(&a, &t, k).unwrap();
        let hits = |fraction: f64| (fraction * a.len() as f64).round();
        assert_eq!(
            hits(r.a_to_b),
            num(&format!("hits_i2t_at{k}")),
            "{}",
            what("R@k i2t")
        );
        assert_eq!(
            hits(r.b_to_a),
            num(&format!("hits_t2i_at{k}")),
            "{}",
            what("R@k t2i")
        );
    }
}

/// Every metric of the follow-up geometry (issue 11) of one `[2, n, d]` file against the
/// geometry oracle (`tests/data/geometry/real_features_expected.json`), in f64: relative `F64`
/// for real values (absolute where a value can be near 0), exact counts for neighbours,
/// retrieval and accuracies.
fn check_geometry(file: &str, bytes: &[u8]) {
    let e = &data_json("geometry/real_features_expected.json")[file];
    let at = |path: &[&str]| {
        let v = path.iter().fold(e, |v, key| &v[*key]);
        v.as_f64()
            .unwrap_or_else(|| panic!("{file}: no number at {path:?}"))
    };
    let what = |key: &str| format!("{file} geometry: {key}");
    let (raw_a, raw_t) = npy::read_pair_from::<f64, Image, Text, _>(bytes).unwrap();
    let (a, t) = (
        UnitEmbeddings::normalize(raw_a.clone()).unwrap(),
        UnitEmbeddings::normalize(raw_t.clone()).unwrap(),
    );
    let rel = |x: f64, path: &[&str]| assert_relative(x, at(path), F64, &what(&path.join(".")));
    let abs = |x: f64, path: &[&str]| assert_close(x, at(path), F64, &what(&path.join(".")));

    rel(align_loss(&a, &t, 1.0).unwrap(), &["mean_paired_distance"]);
    let rmg = relative_gap(&a, &t).unwrap();
    // (1 − c)/2 of a mean cosine c near 1 (a tight cone: 9.4e-6 on the random CLASP images)
    // keeps c's absolute error, not its relative one: RMG's terms are compared absolutely.
    abs(rmg.value, &["relative_gap", "value"]);
    abs(rmg.matched, &["relative_gap", "matched"]);
    abs(rmg.within_a, &["relative_gap", "within_a"]);
    abs(rmg.within_b, &["relative_gap", "within_b"]);
    let dims = gap(&a, &t).unwrap().by_dimension().unwrap();
    for (r, share) in dims.iter().take(10).enumerate() {
        let r = r.to_string();
        let listed = |key: &str| {
            e["gap_by_dimension"][key][r.parse::<usize>().unwrap()]
                .as_f64()
                .unwrap()
        };
        assert_eq!(
            share.dimension as f64,
            listed("dimension"),
            "{}",
            what("dimension order")
        );
        assert_close(
            share.difference,
            listed("difference"),
            F64,
            &what("Δ by dimension"),
        );
        assert_close(
            share.share,
            listed("share"),
            F64,
            &what("share by dimension"),
        );
    }
    for key in ["1.0", "2.0"] {
        let u = cross_modal_uniformity(&a, &t, key.parse().unwrap()).unwrap();
        rel(u, &["cross_modal_uniformity", key]);
    }
    for (estimator, name) in [
        (HsicEstimator::Biased, "biased"),
        (HsicEstimator::Unbiased, "unbiased"),
    ] {
        // The oracle lists both centrings; linear CKA does not depend on them.
        for how in ["none", "mean"] {
            rel(cka(&raw_a, &raw_t, estimator).unwrap(), &["cka", name, how]);
            rel(cka(&a, &t, estimator).unwrap(), &["cka_unit", name, how]);
        }
    }
    for k in ["1", "2", "5", "10"] {
        assert_eq!(
            mutual_knn(&a, &t, k.parse().unwrap()).unwrap(),
            at(&["mutual_knn", k]),
            "{}",
            what("mutual k-NN")
        );
    }
    for k in ["2", "5", "10"] {
        rel(cknna(&a, &t, k.parse().unwrap()).unwrap(), &["cknna", k]);
    }
    for (set, x) in [
        ("img", &raw_a),
        ("txt", &raw_t.clone().with_modality::<Image>()),
    ] {
        for (spectrum, name) in [
            (Spectrum::SingularValues, "singular_values"),
            (Spectrum::Variances, "variances"),
        ] {
            for (centring, how) in [(Centring::None, "none"), (Centring::Mean, "mean")] {
                let rank = effective_rank(x, spectrum, centring).unwrap();
                let tol = match spectrum {
                    Spectrum::SingularValues => ERANK_SINGULAR_VALUES,
                    Spectrum::Variances => ERANK_VARIANCES,
                };
                let path = ["effective_rank", set, name, how];
                assert_relative(rank.value, at(&path), tol, &what(&path.join(".")));
                assert_eq!(
                    rank.bound as f64,
                    at(&["effective_rank", set, "bound", how])
                );
            }
        }
        abs(isoscore(x).unwrap(), &["isoscore", set]);
    }
    for q in ["1", "2", "3", "4", "5", "10"] {
        rel(
            svcca(&raw_a, &raw_t, q.parse().unwrap()).unwrap(),
            &["svcca", q],
        );
    }
    let separable = modality_separability(&a, &t).unwrap();
    assert_eq!(
        separable.accuracy,
        at(&["separability", "accuracy"]),
        "{}",
        what("separability")
    );
    assert_eq!(
        separable.train_accuracy,
        at(&["separability", "train_accuracy"])
    );

    let (ca, ct) = (mean_centred(&a).unwrap(), mean_centred(&t).unwrap());
    abs(
        gap(&ca, &ct).unwrap().distance(),
        &["mean_centred_metrics", "gap_distance"],
    );
    rel(
        relative_gap(&ca, &ct).unwrap().value,
        &["mean_centred_metrics", "relative_gap"],
    );
    let r1 = retrieval_recall(&ca, &ct, 1).unwrap();
    assert_eq!(
        r1.a_to_b,
        e["mean_centred_metrics"]["recall_1"][0].as_f64().unwrap(),
        "{}",
        what("C3 R@1")
    );
    assert_eq!(
        r1.b_to_a,
        e["mean_centred_metrics"]["recall_1"][1].as_f64().unwrap(),
        "{}",
        what("C3 R@1")
    );

    // One caption per image: the COCO protocol reduces to the paired metrics.
    let coco = Captioned::new(a.clone(), t.clone(), (0..a.len()).collect()).unwrap();
    let loss = coco.contrastive_loss(temperature(0.07)).unwrap();
    rel(
        loss.symmetric,
        &["captioned", "contrastive_loss", "0.07", "symmetric"],
    );
    rel(
        coco.align_loss(2.0).unwrap(),
        &["captioned", "align_loss_2"],
    );
}

#[test]
fn embedded_clasp_pair_matches_numpy_in_f64() {
    check::<f64>("features_clasp.npy", CLASP, F64);
    check_geometry("features_clasp.npy", CLASP);
}

#[test]
fn embedded_clasp_pair_matches_numpy_with_f32_storage() {
    check::<f32>("features_clasp.npy", CLASP, F32);
}

#[test]
#[ignore = "needs the published feature files: set MODALITY_GAP_FEATURES=DIR and run cargo test --test integration -- --ignored real_data::"]
fn every_published_feature_file_matches_numpy() {
    let folder = PathBuf::from(std::env::var_os(FEATURES).unwrap_or_else(|| {
        panic!(
            "{FEATURES} is not set: set it to the folder of the published feature files \
             (../shared/data/modality-gap-features beside the repository)"
        )
    }));
    let entries = std::fs::read_dir(&folder).unwrap_or_else(|e| {
        panic!(
            "{FEATURES}={}: the folder cannot be read: {e}",
            folder.display()
        )
    });
    // Every file the oracle pinned, by name, so that a missing one is named.
    let pinned = data_json("real_features_expected.json");
    let names: Vec<&String> = pinned
        .as_object()
        .expect("an object of files")
        .keys()
        .collect();
    for name in &names {
        let path = folder.join(name);
        assert!(
            path.is_file(),
            "{FEATURES}={}: {} is missing",
            folder.display(),
            path.display()
        );
    }
    let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    files.retain(|p| p.extension().is_some_and(|x| x == "npy"));
    assert_eq!(files.len(), 8, "the published set has eight files");
    assert_eq!(names.len(), 8, "the oracle pinned eight files");
    for name in names {
        let bytes = std::fs::read(folder.join(name)).unwrap();
        check::<f64>(name, &bytes, F64);
        check::<f32>(name, &bytes, F32);
        check_geometry(name, &bytes);
    }
}
