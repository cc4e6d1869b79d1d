//! Procrustes alignment and the 2-D projections against the oracle, plus the laws they obey.
//!
//! The projection values in `tests/data/projection_expected.json` come from the oracle itself
//! (`../shared/oracle/reference.py`, numpy 2.4.6). For each of `tiny_n7_d3` and
//! `cones_gap_n300_d32`, with `img` and `txt` read from `tests/data/oracle/<case>/*.f64`:
//!
//! ```text
//! x = np.concatenate([R.l2_normalize(img), R.l2_normalize(txt)])   # images first
//! svd_2d_uncentered = R.svd_2d_uncentered(x, 2)   # (projection, all singular values)
//! pca = R.pca(x, 2)                               # dict of five arrays
//! ```
//!
//! written with `json.dump(..., allow_nan=False)` (floats round-trip exactly); the file's
//! `note` field repeats this.

use crate::common;

use common::{
    Case, F64, GRAM, ULPS, assert_all_close, assert_close, data_json, json_matrix, numbers,
    orthogonal, rows, unit,
};
use modality_gap::Centring;
use modality_gap::experiments::{Projection, procrustes, project};
use modality_gap::{Embeddings, Error, Image, Text, UnitEmbeddings, gap};
use nalgebra::DMatrix;
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// Procrustes
// ---------------------------------------------------------------------------------------------

#[test]
fn procrustes_matches_the_oracle_rotation_of_the_tiny_case() {
    let case = Case::load("tiny_n7_d3");
    let (img, txt) = case.unit_pair();
    let w = procrustes(&img, &txt).unwrap();
    let expected = json_matrix(case.expected(&["procrustes_W"]));
    let actual: Vec<f64> = w.rotation().transpose().as_slice().to_vec(); // row-major
    assert_all_close(&actual, &expected, F64, "procrustes_W");
}

#[test]
fn the_gap_after_procrustes_matches_the_oracle() {
    for name in ["tiny_n7_d3", "medium_n257_d64", "cones_gap_n300_d32"] {
        let case = Case::load(name);
        let (img, txt) = case.unit_pair();
        let aligned = procrustes(&img, &txt).unwrap().rotate(&txt).unwrap();
        assert_close(
            gap(&img, &aligned).unwrap().distance(),
            case.number(&["procrustes_gap_distance_after"]),
            F64,
            name,
        );
    }
}

#[test]
fn procrustes_reports_unpaired_sets() {
    let img = UnitEmbeddings::normalize(
        Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]]).unwrap(),
    )
    .unwrap();
    let short =
        UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0]]).unwrap())
            .unwrap();
    let wide = UnitEmbeddings::normalize(
        Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]).unwrap(),
    )
    .unwrap();
    assert!(matches!(
        procrustes(&img, &short),
        Err(Error::LengthMismatch {
            expected: 2,
            found: 1
        })
    ));
    assert!(matches!(
        procrustes(&img, &wide),
        Err(Error::DimensionMismatch {
            expected: 2,
            found: 3
        })
    ));
    let w = procrustes(&img, &img.clone().with_modality::<Text>()).unwrap();
    assert!(matches!(
        w.rotate(&wide),
        Err(Error::DimensionMismatch {
            expected: 2,
            found: 3
        })
    ));
}

/// With fewer samples than dimensions W is not unique, but what is returned is still an
/// orthogonal minimiser: it maps every text onto its image when the texts are rotated images.
#[test]
fn procrustes_with_fewer_samples_than_dimensions_is_still_orthogonal() {
    let (n, d) = (3, 8);
    let a: Vec<f64> = (0..n * d).map(|k| ((k * 37 % 17) as f64) - 8.0).collect();
    let img = unit::<f64, Image>(n, d, &a);
    let q = orthogonal(d, &a);
    let txt = rotated(&img, &q);
    let w = procrustes(&img, &txt).unwrap();
    assert_orthogonal(w.rotation());
    let back = w.rotate(&txt).unwrap();
    assert_all_close(back.as_slice(), img.as_slice(), GRAM, "W bᵢ = aᵢ");
}

// ---------------------------------------------------------------------------------------------
// Projections
// ---------------------------------------------------------------------------------------------

/// A nalgebra matrix as row-major values.
fn row_major(m: &DMatrix<f64>) -> Vec<f64> {
    m.transpose().as_slice().to_vec()
}

/// The oracle's input: the row-normalised images and texts, as plain embeddings.
fn concatenated_input(name: &str) -> (Embeddings<f64, Image>, Embeddings<f64, Text>) {
    let case = Case::load(name);
    let (img, txt) = case.unit_pair();
    (img.into_inner(), txt.into_inner())
}

#[test]
fn the_uncentred_projection_matches_the_oracle_up_to_column_signs() {
    let all = data_json("projection_expected.json");
    for name in ["tiny_n7_d3", "cones_gap_n300_d32"] {
        let expected = &all[name]["svd_2d_uncentered"];
        let (img, txt) = concatenated_input(name);
        let p = project(&img, &txt, 2, Centring::None).unwrap();
        let singular = numbers(&expected["singular_values"]);
        assert_all_close(p.singular_values(), &singular[..2], F64, name);
        let oracle = json_matrix(&expected["projection"]);
        for j in 0..2 {
            let column: Vec<f64> = p.coordinates().column(j).iter().copied().collect();
            let theirs: Vec<f64> = oracle.iter().skip(j).step_by(2).copied().collect();
            let sign = if column[0] * theirs[0] < 0.0 {
                -1.0
            } else {
                1.0
            };
            let flipped: Vec<f64> = column.iter().map(|c| sign * c).collect();
            assert_all_close(&flipped, &theirs, F64, &format!("{name} column {j}"));
        }
        let total: f64 = singular.iter().map(|s| s * s).sum();
        let ratios: Vec<f64> = singular[..2].iter().map(|s| s * s / total).collect();
        assert_all_close(p.explained_variance_ratio(), &ratios, F64, name);
    }
}

#[test]
fn the_centred_projection_matches_the_oracle_pca_with_its_signs() {
    let all = data_json("projection_expected.json");
    for name in ["tiny_n7_d3", "cones_gap_n300_d32"] {
        let expected = &all[name]["pca"];
        let (img, txt) = concatenated_input(name);
        let p = project(&img, &txt, 2, Centring::Mean).unwrap();
        let what = |field: &str| format!("{name} {field}");
        assert_all_close(
            &row_major(p.components()),
            &json_matrix(&expected["components"]),
            F64,
            &what("components"),
        );
        assert_all_close(
            &row_major(p.coordinates()),
            &json_matrix(&expected["projection"]),
            F64,
            &what("projection"),
        );
        for (field, actual) in [
            ("singular_values", p.singular_values()),
            ("explained_variance", p.explained_variance()),
            ("explained_variance_ratio", p.explained_variance_ratio()),
        ] {
            assert_all_close(actual, &numbers(&expected[field]), F64, &what(field));
        }
    }
}

#[test]
fn projection_parameters_are_checked() {
    let img = Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]]).unwrap();
    let txt = Embeddings::<f64, Text>::from_rows(&[[1.0, 1.0]]).unwrap();
    let wide = Embeddings::<f64, Text>::from_rows(&[[1.0, 1.0, 0.0]]).unwrap();
    assert!(matches!(
        project(&img, &txt, 0, Centring::Mean),
        Err(Error::InvalidParameter { name: "k", .. })
    ));
    assert!(matches!(
        project(&img, &txt, 3, Centring::None),
        Err(Error::InvalidParameter { name: "k", value, .. }) if value == 3.0
    ));
    assert!(matches!(
        project(&img, &wide, 1, Centring::Mean),
        Err(Error::DimensionMismatch {
            expected: 2,
            found: 3
        })
    ));
    // One point, twice: no variance about the mean. All zeros: none about the origin.
    let same = Embeddings::<f64, Text>::from_rows(&[[0.5, -2.0]]).unwrap();
    let also = Embeddings::<f64, Image>::from_rows(&[[0.5, -2.0]]).unwrap();
    assert!(matches!(
        project(&also, &same, 1, Centring::Mean),
        Err(Error::ZeroVariance)
    ));
    let zero = Embeddings::<f64, Image>::from_rows(&[[0.0, 0.0]]).unwrap();
    let zero_text = Embeddings::<f64, Text>::from_rows(&[[0.0, 0.0]]).unwrap();
    assert!(matches!(
        project(&zero, &zero_text, 1, Centring::None),
        Err(Error::ZeroVariance)
    ));
    // The same single point about the origin is fine: one direction carries everything.
    let p = project(&also, &same, 2, Centring::None).unwrap();
    assert_close(p.explained_variance_ratio()[0], 1.0, ULPS, "one direction");
    assert_eq!(p.explained_variance_ratio()[1], 0.0);
    // Equal rows whose computed mean is inexact (found by review): still no variance, not a
    // component made of rounding noise.
    for scale in [1e-5, 0.1, 123.456] {
        let row = [scale, 2.0 * scale, -scale];
        let img = Embeddings::<f64, Image>::from_rows(&[row; 7]).unwrap();
        let txt = Embeddings::<f64, Text>::from_rows(&[row; 3]).unwrap();
        assert!(
            matches!(
                project(&img, &txt, 1, Centring::Mean),
                Err(Error::ZeroVariance)
            ),
            "scale {scale}"
        );
    }
    // Three rows in two dimensions have rank 3 at most: k = 3 > min(n, d) is refused even in
    // three dimensions.
    let three = Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0, 0.0]]).unwrap();
    let two = Embeddings::<f64, Image>::from_rows(&[[0.0, 1.0, 0.0]]).unwrap();
    assert!(matches!(
        project(&two, &three, 3, Centring::None),
        Err(Error::InvalidParameter { name: "k", value, .. }) if value == 3.0
    ));
    // Rows near f64::MAX square beyond its range: an error, not NaN coordinates.
    let huge = Embeddings::<f64, Image>::from_rows(&[[1e200, 0.0], [0.0, 1e200]]).unwrap();
    let huge_text = Embeddings::<f64, Text>::from_rows(&[[1e200, 1e200]]).unwrap();
    for centring in [Centring::None, Centring::Mean] {
        assert!(matches!(
            project(&huge, &huge_text, 1, centring),
            Err(Error::Overflow { .. })
        ));
    }
}

/// The cross products run in a fixed tree of row ranges: the result is the same bits for
/// one thread and for four.
#[test]
fn procrustes_and_projections_do_not_depend_on_the_thread_count() {
    let (n, d) = (5000, 24);
    let a: Vec<f64> = (0..n * d).map(|k| ((k as f64) * 0.618).sin()).collect();
    let b: Vec<f64> = (0..n * d).map(|k| ((k as f64) * 0.391).cos()).collect();
    let (img, txt) = (unit::<f64, Image>(n, d, &a), unit::<f64, Text>(n, d, &b));
    let run = |threads| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let w = procrustes(&img, &txt).unwrap();
            let p = project(&img, &txt, 3, Centring::Mean).unwrap();
            (w, p)
        })
    };
    let (one, four): ((_, Projection), (_, Projection)) = (run(1), run(4));
    assert_eq!(one, four);
}

// ---------------------------------------------------------------------------------------------
// Laws
// ---------------------------------------------------------------------------------------------

/// Q aᵢ for every row (B = A Qᵀ).
fn rotated(x: &UnitEmbeddings<f64, Image>, q: &DMatrix<f64>) -> UnitEmbeddings<f64, Text> {
    let b = x.to_sample_rows() * q.transpose();
    UnitEmbeddings::normalize(Embeddings::from_sample_rows(&b).unwrap()).unwrap()
}

#[track_caller]
fn assert_orthogonal(w: &DMatrix<f64>) {
    let d = w.nrows();
    let error = (w.transpose() * w - DMatrix::<f64>::identity(d, d)).amax();
    assert!(error <= GRAM, "‖WᵀW − I‖_max = {error:e}");
}

/// Σᵢ ‖aᵢ − bᵢ‖².
fn squared_distance(a: &UnitEmbeddings<f64, Image>, b: &UnitEmbeddings<f64, Text>) -> f64 {
    a.as_slice()
        .iter()
        .zip(b.as_slice())
        .map(|(x, y)| (x - y).powi(2))
        .sum()
}

/// Two paired sets with n ≥ 2d, so that Aᵀ B has full rank (almost surely) and W is unique.
fn paired() -> impl Strategy<Value = (usize, usize, Vec<f64>, Vec<f64>)> {
    (1usize..8, 0usize..10).prop_flat_map(|(d, extra)| {
        let n = 2 * d + extra;
        (rows(n, d), rows(n, d)).prop_map(move |(a, b)| (n, d, a, b))
    })
}

proptest! {
    /// W is orthogonal, and no worse than the identity (one of the candidates).
    #[test]
    fn procrustes_is_orthogonal_and_beats_the_identity((n, d, a, b) in paired()) {
        let (img, txt) = (unit::<f64, Image>(n, d, &a), unit::<f64, Text>(n, d, &b));
        let w = procrustes(&img, &txt).unwrap();
        assert_orthogonal(w.rotation());
        let aligned = w.rotate(&txt).unwrap();
        let (after, before) = (squared_distance(&img, &aligned), squared_distance(&img, &txt));
        prop_assert!(after <= before + GRAM * n as f64, "{after} > {before}");
    }

    /// Texts that are the images turned by Q (B = A Qᵀ) give W = Qᵀ, and W undoes Q.
    #[test]
    fn procrustes_recovers_a_known_rotation((n, d, a, seed) in paired()) {
        let img = unit::<f64, Image>(n, d, &a);
        let q = orthogonal(d, &seed);
        let txt = rotated(&img, &q);
        let w = procrustes(&img, &txt).unwrap();
        assert_all_close(&row_major(w.rotation()), &row_major(&q.transpose()), GRAM, "W = Qᵀ");
        let back = w.rotate(&txt).unwrap();
        assert_all_close(back.as_slice(), img.as_slice(), GRAM, "W bᵢ = aᵢ");
    }

    /// Orthogonal coordinate columns, zero column means when centred, ratios in [0, 1] and
    /// non-increasing, and orthonormal components.
    #[test]
    fn projections_obey_their_laws((n, d, a, b) in paired(), k in 1usize..8, centred: bool) {
        let k = k.min(d);
        let centring = if centred { Centring::Mean } else { Centring::None };
        let img = Embeddings::<f64, Image>::from_row_major_slice(n, d, &a).unwrap();
        let txt = Embeddings::<f64, Text>::from_row_major_slice(n, d, &b).unwrap();
        let p = project(&img, &txt, k, centring).unwrap();
        let c = p.coordinates();
        let gram = c.transpose() * c;
        let scale = gram.amax().max(1.0);
        for i in 0..k {
            // Column i has squared norm S_i², and is orthogonal to the others.
            assert_close(gram[(i, i)], p.singular_values()[i].powi(2), GRAM, "‖column‖²");
            for j in 0..i {
                prop_assert!(gram[(i, j)].abs() <= GRAM * scale, "columns {i}, {j}: {}", gram[(i, j)]);
            }
            if centred {
                let mean = c.column(i).sum() / (2 * n) as f64;
                prop_assert!(mean.abs() <= GRAM, "column {i} mean {mean}");
            }
        }
        let v = p.components();
        let identity = DMatrix::<f64>::identity(k, k);
        prop_assert!((v * v.transpose() - identity).amax() <= GRAM);
        let ratios = p.explained_variance_ratio();
        prop_assert!(ratios.iter().all(|r| (0.0..=1.0).contains(r)));
        prop_assert!(ratios.windows(2).all(|w| w[0] >= w[1]));
        prop_assert!(ratios.iter().sum::<f64>() <= 1.0 + GRAM);
    }

    /// With k = d the projection is a rotation of the centred rows: X = coordinates · V + μ,
    /// and the ratios sum to 1.
    #[test]
    fn all_components_reconstruct_the_rows((n, d, a, b) in paired(), centred: bool) {
        let centring = if centred { Centring::Mean } else { Centring::None };
        let img = Embeddings::<f64, Image>::from_row_major_slice(n, d, &a).unwrap();
        let txt = Embeddings::<f64, Text>::from_row_major_slice(n, d, &b).unwrap();
        let p = project(&img, &txt, d, centring).unwrap();
        let back = p.coordinates() * p.components();
        let original: Vec<f64> = a.iter().chain(&b).copied().collect();
        let rebuilt: Vec<f64> = row_major(&back)
            .chunks(d)
            .flat_map(|row| row.iter().zip(p.centre()).map(|(x, m)| x + m).collect::<Vec<_>>())
            .collect();
        assert_all_close(&rebuilt, &original, GRAM, "X");
        assert_close(p.explained_variance_ratio().iter().sum(), 1.0, GRAM, "Σ ratio");
    }
}
