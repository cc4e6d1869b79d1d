//! Real features published with Liang et al. (2022) give the values numpy gives.
//!
//! `tests/data/real_features_expected.json` holds the oracle's float64 values for every file of
//! `../shared/data/modality-gap-features/`; `python3 tests/data/pin_real_values.py ../shared`
//! regenerates it. The embedded `data/features_clasp.npy` is checked on every machine, by every
//! `cargo test`. The test over all eight published files is `#[ignore]`d: it runs only when
//! asked for, with the folder named by the environment variable `MODALITY_GAP_FEATURES`,
//!
//! ```text
//! MODALITY_GAP_FEATURES=../shared/data/modality-gap-features cargo test --test real_data -- --ignored
//! ```
//!
//! as `.ci/run` does, and it fails, naming the variable and the path, when the variable is unset
//! or the folder or one of its files is missing: it never passes without having checked them.

mod common;

use std::path::PathBuf;

use common::{F32, F64, assert_close, assert_relative, data_json, temperature};
use modality_gap::{
    Diagonal, Image, Scalar, Text, UnitEmbeddings, align_loss, contrastive_loss, gap,
    mean_pairwise_cosine, npy, retrieval_recall, uniform_loss,
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

#[test]
fn embedded_clasp_pair_matches_numpy_in_f64() {
    check::<f64>("features_clasp.npy", CLASP, F64);
}

#[test]
fn embedded_clasp_pair_matches_numpy_with_f32_storage() {
    check::<f32>("features_clasp.npy", CLASP, F32);
}

#[test]
#[ignore = "needs the published feature files: set MODALITY_GAP_FEATURES=DIR and run cargo test --test real_data -- --ignored"]
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
    }
}
