//! Real features published with Liang et al. (2022) give the values numpy gives.
//!
//! `tests/data/real_features_expected.json` holds the oracle's float64 values for every file of
//! `../shared/data/modality-gap-features/`; `python3 tests/data/pin_real_values.py ../shared`
//! regenerates it. The embedded `data/features_clasp.npy` is checked on every machine; the
//! other seven files wherever that folder sits beside the repository (as in CI).

mod common;

use std::path::PathBuf;

use common::{F32, F64, assert_close, assert_relative};
use modality_gap::{
    Diagonal, Image, Scalar, Text, UnitEmbeddings, align_loss, contrastive_loss, gap,
    mean_pairwise_cosine, npy, retrieval_recall, uniform_loss,
};
use serde_json::Value;

static CLASP: &[u8] = include_bytes!("../data/features_clasp.npy");

fn expected(file: &str) -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/real_features_expected.json"
    );
    let all: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    all[file].clone()
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
    let (a, t) = npy::pair_from_reader::<T, Image, Text, _>(bytes).unwrap();
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

    let loss = contrastive_loss(&a, &t, 0.01).unwrap();
    rel(loss.symmetric, "clip_symmetric_tau0.01");
    rel(loss.image_to_text, "clip_i2t_tau0.01");
    rel(loss.text_to_image, "clip_t2i_tau0.01");
    for k in [1, 5, 10] {
        let r = retrieval_recall(&a, &t, k).unwrap();
        let hits = |fraction: f64| (fraction * a.len() as f64).round();
        assert_eq!(
            hits(r.image_to_text),
            num(&format!("hits_i2t_at{k}")),
            "{}",
            what("R@k i2t")
        );
        assert_eq!(
            hits(r.text_to_image),
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
fn every_published_feature_file_matches_numpy() {
    let folder =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/modality-gap-features");
    let Ok(entries) = std::fs::read_dir(&folder) else {
        eprintln!("skipped: {} is not there (it is in CI)", folder.display());
        return;
    };
    let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    files.retain(|p| p.extension().is_some_and(|x| x == "npy"));
    assert_eq!(files.len(), 8, "the published set has eight files");
    for path in files {
        let name = path.file_name().unwrap().to_str().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        check::<f64>(name, &bytes, F64);
        check::<f32>(name, &bytes, F32);
    }
}
