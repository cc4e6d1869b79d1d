//! CKA, SVCCA, effective rank and IsoScore: closed forms, laws on random data, errors, the
//! thread count, and the numpy oracle (`tests/data/oracle/geometry_*`).

use crate::common;

use common::{Case, F32, F64, SPECTRAL, ULPS, assert_close, orthogonal, shaped_rows};
use modality_gap::{
    Centring, Embeddings, Error, HsicEstimator, Image, Scalar, Spectrum, Text, cka, effective_rank,
    isoscore, svcca,
};
use nalgebra::DMatrix;
use proptest::prelude::*;
use serde_json::Value;

const ESTIMATORS: [HsicEstimator; 2] = [HsicEstimator::Biased, HsicEstimator::Unbiased];
const CENTRINGS: [Centring; 2] = [Centring::None, Centring::Mean];
const SPECTRA: [Spectrum; 2] = [Spectrum::SingularValues, Spectrum::Variances];

fn set<M: modality_gap::Modality>(n: usize, d: usize, v: &[f64]) -> Embeddings<f64, M> {
    Embeddings::from_row_major_slice(n, d, v).unwrap()
}

fn rows<M: modality_gap::Modality>(rows: &[&[f64]]) -> Embeddings<f64, M> {
    Embeddings::from_rows(rows).unwrap()
}

/// Each row x ↦ xᵀM (n × d times d × k), row-major.
fn times(n: usize, d: usize, v: &[f64], m: &DMatrix<f64>) -> Vec<f64> {
    let product = DMatrix::from_row_slice(n, d, v) * m;
    (0..n)
        .flat_map(|i| product.row(i).iter().copied().collect::<Vec<_>>())
        .collect()
}

/// The n × n definition of the CKA (minyoungg/platonic-rep `hsic_biased`, `hsic_unbiased`,
/// without its + 1e-6), on rows centred first (both estimators are translation-invariant;
/// centred, the n × n sums do not cancel).
fn cka_by_definition(n: usize, a: &[f64], b: &[f64], estimator: HsicEstimator) -> f64 {
    let centred = |v: &[f64]| {
        let x = DMatrix::from_row_slice(n, v.len() / n, v);
        let mean = x.row_mean();
        DMatrix::from_fn(n, x.ncols(), |i, j| x[(i, j)] - mean[j])
    };
    let (a, b) = (centred(a), centred(b));
    let (k, l) = (&a * a.transpose(), &b * b.transpose());
    let hsic = |k: &DMatrix<f64>, l: &DMatrix<f64>| match estimator {
        HsicEstimator::Biased => {
            let h = DMatrix::from_fn(n, n, |i, j| f64::from(i == j) - 1.0 / n as f64);
            (k * &h * l * &h).trace()
        }
        HsicEstimator::Unbiased => {
            let zero_diagonal = |m: &DMatrix<f64>| {
                DMatrix::from_fn(n, n, |i, j| if i == j { 0.0 } else { m[(i, j)] })
            };
            let (kt, lt) = (zero_diagonal(k), zero_diagonal(l));
            let nf = n as f64;
            (kt.component_mul(&lt.transpose()).sum()
                + kt.sum() * lt.sum() / ((nf - 1.0) * (nf - 2.0))
                - 2.0 * (&kt * &lt).sum() / (nf - 2.0))
                / (nf * (nf - 3.0))
        }
    };
    hsic(&k, &l) / (hsic(&k, &k) * hsic(&l, &l)).sqrt()
}

// ---------------------------------------------------------------------------------------------
// Closed forms
// ---------------------------------------------------------------------------------------------

/// One-dimensional sets: the biased CKA is the squared Pearson correlation r², and the SVCCA
/// at q = 1 is |r|. a = (1, 2, 3, 4), b = (1, 3, 2, 4): centred (−1.5, −0.5, 0.5, 1.5) and
/// (−1.5, 0.5, −0.5, 1.5), Σab = 4, Σa² = Σb² = 5, r = 0.8.
#[test]
fn one_dimensional_sets_give_the_correlation() {
    let a = set::<Image>(4, 1, &[1.0, 2.0, 3.0, 4.0]);
    let b = set::<Text>(4, 1, &[1.0, 3.0, 2.0, 4.0]);
    let biased = cka(&a, &b, HsicEstimator::Biased).unwrap();
    assert_close(biased, 0.64, ULPS, "biased CKA = r²");
    assert_close(svcca(&a, &b, 1).unwrap(), 0.8, ULPS, "SVCCA = |r|");
    let flipped = set::<Text>(4, 1, &[-1.0, -3.0, -2.0, -4.0]);
    assert_close(svcca(&a, &flipped, 1).unwrap(), 0.8, ULPS, "SVCCA = |r|");
}

/// n = 4, the smallest set the unbiased estimator takes: against the n × n formula, and 1
/// for a set with itself.
#[test]
fn unbiased_cka_of_four_points_matches_the_n_by_n_formula() {
    let a = [0.0, 1.0, 2.0, 4.0];
    let b = [0.0, 2.0, 1.0, 4.0];
    let (x, y) = (set::<Image>(4, 1, &a), set::<Text>(4, 1, &b));
    for estimator in ESTIMATORS {
        let expected = cka_by_definition(4, &a, &b, estimator);
        assert_close(cka(&x, &y, estimator).unwrap(), expected, F64, "CKA");
        assert_close(cka(&x, &x, estimator).unwrap(), 1.0, ULPS, "CKA(A, A)");
    }
}

/// Rows 2e₁, 2e₂, 2e₃: three equal singular values, erank 3 = the bound; centred, two rows
/// have one direction.
#[test]
fn effective_rank_of_flat_and_single_spectra() {
    let x = rows::<Image>(&[&[2.0, 0.0, 0.0], &[0.0, 2.0, 0.0], &[0.0, 0.0, 2.0]]);
    for spectrum in SPECTRA {
        let erank = effective_rank(&x, spectrum, Centring::None).unwrap();
        assert_close(erank.value, 3.0, ULPS, "flat spectrum");
        assert_eq!(erank.bound, 3);
        let line = rows::<Image>(&[&[1.0, 2.0, 3.0], &[-1.0, 0.0, 1.0]]);
        let erank = effective_rank(&line, spectrum, Centring::Mean).unwrap();
        assert_eq!((erank.value, erank.bound), (1.0, 1));
    }
    // Orthogonal rows with σ = (3, 1): p = (3/4, 1/4) from σ, (9/10, 1/10) from σ².
    let x = rows::<Image>(&[&[3.0, 0.0], &[0.0, 1.0]]);
    let entropy = |p: &[f64]| (-p.iter().map(|p| p * p.ln()).sum::<f64>()).exp();
    let sigma = effective_rank(&x, Spectrum::SingularValues, Centring::None).unwrap();
    let variance = effective_rank(&x, Spectrum::Variances, Centring::None).unwrap();
    assert_close(sigma.value, entropy(&[0.75, 0.25]), ULPS, "σ");
    assert_close(variance.value, entropy(&[0.9, 0.1]), ULPS, "σ²");
    assert_close(sigma.normalised(), sigma.value / 2.0, 0.0, "normalised");
}

/// ±c·eᵢ: the same variance along every axis, exactly 1; points on a line: 0 up to rounding;
/// ±2e₁, ±e₂: variances 4 : 1, participation ratio 25/17, IsoScore (25/17 − 1)/(2 − 1) = 8/17.
#[test]
fn isoscore_at_its_extremes_and_in_between() {
    for d in [2, 3, 7, 16] {
        for c in [1.0, 0.1, 3.7e5] {
            let v: Vec<f64> = (0..2 * d)
                .flat_map(|i| {
                    (0..d).map(move |k| {
                        if k == i / 2 {
                            c * if i % 2 == 0 { 1.0 } else { -1.0 }
                        } else {
                            0.0
                        }
                    })
                })
                .collect();
            assert_eq!(
                isoscore(&set::<Image>(2 * d, d, &v)).unwrap(),
                1.0,
                "d = {d}, c = {c}"
            );
        }
        let line: Vec<f64> = (0..10)
            .flat_map(|i| (0..d).map(move |k| (i as f64 - 3.3) * (k as f64 + 0.5)))
            .collect();
        let score = isoscore(&set::<Image>(10, d, &line)).unwrap();
        assert!(score <= 10.0 * f64::EPSILON, "line in {d}-D: {score}");
    }
    let x = rows::<Image>(&[&[2.0, 0.0], &[-2.0, 0.0], &[0.0, 1.0], &[0.0, -1.0]]);
    assert_close(isoscore(&x).unwrap(), 8.0 / 17.0, ULPS, "4 : 1");
}

/// The columns of A reordered, rescaled (signs included) and shifted span the same z-scored
/// subspaces for every q.
#[test]
fn svcca_of_rescaled_columns_is_one() {
    let (n, d) = (30, 5);
    let a: Vec<f64> = (0..n * d).map(|k| ((k * k) as f64 * 0.37).sin()).collect();
    let perm = [3, 0, 4, 1, 2];
    let scale = [2.0, -0.5, 7.0, 1e-3, -3.0];
    let source = &a;
    let b: Vec<f64> = (0..n)
        .flat_map(|i| (0..d).map(move |j| source[i * d + perm[j]] * scale[j] + j as f64))
        .collect();
    let (x, y) = (set::<Image>(n, d, &a), set::<Text>(n, d, &b));
    for q in 1..=d {
        assert_close(svcca(&x, &y, q).unwrap(), 1.0, SPECTRAL, "SVCCA");
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

#[test]
fn cka_errors() {
    let a = rows::<Image>(&[&[1.0, 0.0], &[0.0, 1.0], &[1.0, 1.0], &[2.0, -1.0]]);
    let b3 = rows::<Text>(&[&[1.0], &[0.0], &[2.0]]);
    let b4 = rows::<Text>(&[&[1.0], &[0.0], &[2.0], &[5.0]]);
    assert!(matches!(
        cka(&a, &b3, HsicEstimator::Biased),
        Err(Error::LengthMismatch {
            expected: 4,
            found: 3
        })
    ));
    let a3 = rows::<Image>(&[&[1.0, 0.0], &[0.0, 1.0], &[1.0, 1.0]]);
    assert!(matches!(
        cka(&a3, &b3, HsicEstimator::Unbiased),
        Err(Error::TooFewSamples {
            required: 4,
            found: 3
        })
    ));
    assert!(cka(&a3, &b3, HsicEstimator::Biased).is_ok());
    let one = rows::<Image>(&[&[1.0, 0.0]]);
    assert!(matches!(
        cka(&one, &rows::<Text>(&[&[2.0]]), HsicEstimator::Biased),
        Err(Error::TooFewSamples {
            required: 2,
            found: 1
        })
    ));
    let equal = rows::<Text>(&[&[0.3], &[0.3], &[0.3], &[0.3]]);
    // The corners of a simplex, and all rows but one equal: every split into two pairs has
    // orthogonal differences, so the unbiased HSIC of the set with itself is exactly 0.
    let simplex = rows::<Text>(&[
        &[0.0, 0.0, 0.0],
        &[1.0, 0.0, 0.0],
        &[0.0, 1.0, 0.0],
        &[0.0, 0.0, 1.0],
    ]);
    let outlier = rows::<Text>(&[&[0.5, 0.5], &[0.5, 0.5], &[3.0, -1.0], &[0.5, 0.5]]);
    for estimator in ESTIMATORS {
        assert!(matches!(
            cka(&a, &equal, estimator),
            Err(Error::ZeroVariance)
        ));
        assert!(matches!(
            cka(&equal.clone().with_modality::<Image>(), &b4, estimator),
            Err(Error::ZeroVariance)
        ));
    }
    for degenerate in [&simplex, &outlier] {
        assert!(matches!(
            cka(&a, degenerate, HsicEstimator::Unbiased),
            Err(Error::ZeroVariance)
        ));
        let biased = cka(&a, degenerate, HsicEstimator::Biased).unwrap();
        assert!((0.0..=1.0).contains(&biased));
    }
    let huge = rows::<Text>(&[&[1e160], &[0.0], &[2.0], &[5.0]]);
    assert!(matches!(
        cka(&a, &huge, HsicEstimator::Biased),
        Err(Error::Overflow { .. })
    ));
}

#[test]
fn spectrum_errors() {
    let one = rows::<Image>(&[&[1.0, 2.0]]);
    for spectrum in SPECTRA {
        assert!(matches!(
            effective_rank(&one, spectrum, Centring::Mean),
            Err(Error::TooFewSamples {
                required: 2,
                found: 1
            })
        ));
        assert_eq!(
            effective_rank(&one, spectrum, Centring::None)
                .unwrap()
                .value,
            1.0
        );
        let zero = rows::<Image>(&[&[0.0, 0.0], &[0.0, 0.0]]);
        let equal = rows::<Image>(&[&[1.0, 0.5], &[1.0, 0.5], &[1.0, 0.5]]);
        assert!(matches!(
            effective_rank(&zero, spectrum, Centring::None),
            Err(Error::ZeroVariance)
        ));
        assert!(matches!(
            effective_rank(&equal, spectrum, Centring::Mean),
            Err(Error::ZeroVariance)
        ));
        assert!(effective_rank(&equal, spectrum, Centring::None).is_ok());
        let huge = rows::<Image>(&[&[1e160, 0.0], &[0.0, 1.0]]);
        assert!(matches!(
            effective_rank(&huge, spectrum, Centring::None),
            Err(Error::Overflow { .. })
        ));
    }
    assert!(matches!(
        isoscore(&one),
        Err(Error::TooFewSamples {
            required: 2,
            found: 1
        })
    ));
    assert!(matches!(
        isoscore(&rows::<Image>(&[&[1.0], &[2.0], &[4.0]])),
        Err(Error::InvalidParameter { name: "d", .. })
    ));
    assert!(matches!(
        isoscore(&rows::<Image>(&[&[1.0, 0.5], &[1.0, 0.5], &[1.0, 0.5]])),
        Err(Error::ZeroVariance)
    ));
}

#[test]
fn svcca_errors() {
    let a = rows::<Image>(&[
        &[1.0, 0.0],
        &[0.0, 1.0],
        &[1.0, 1.0],
        &[2.0, -1.0],
        &[-1.0, 3.0],
    ]);
    let b = rows::<Text>(&[
        &[1.0, 0.0, 0.0],
        &[0.0, 1.0, 2.0],
        &[1.0, 1.0, 0.0],
        &[2.0, -1.0, 1.0],
        &[-1.0, 3.0, 1.0],
    ]);
    assert!(svcca(&a, &b, 2).is_ok());
    for q in [0, 3] {
        assert!(matches!(
            svcca(&a, &b, q),
            Err(Error::InvalidParameter { name: "q", .. })
        ));
    }
    let two = rows::<Text>(&[&[1.0, 0.0, 1.0], &[0.0, 1.0, 2.0]]);
    assert!(matches!(
        svcca(&a, &two, 1),
        Err(Error::LengthMismatch {
            expected: 5,
            found: 2
        })
    ));
    let one = rows::<Image>(&[&[1.0, 2.0]]);
    assert!(matches!(
        svcca(&one, &one, 1),
        Err(Error::TooFewSamples {
            required: 2,
            found: 1
        })
    ));
    // n − 1 = 1 bounds the rank of two centred rows.
    let pair = rows::<Image>(&[&[1.0, 0.0], &[0.0, 1.0]]);
    assert!(matches!(
        svcca(&pair, &pair, 2),
        Err(Error::InvalidParameter { name: "q", .. })
    ));
    assert_close(svcca(&pair, &pair, 1).unwrap(), 1.0, ULPS, "two rows");
    // A repeated column leaves rank 2 < q = 3; a constant column is 0 after z-scoring.
    let repeated = rows::<Text>(&[
        &[1.0, 0.0, 1.0],
        &[0.0, 1.0, 0.0],
        &[1.0, 1.0, 1.0],
        &[2.0, -1.0, 2.0],
        &[-1.0, 3.0, -1.0],
    ]);
    assert!(matches!(
        svcca(&b, &repeated, 3),
        Err(Error::InvalidParameter { name: "q", .. })
    ));
    let constant_column = rows::<Text>(&[
        &[1.0, 0.7],
        &[0.0, 0.7],
        &[1.0, 0.7],
        &[2.0, 0.7],
        &[-1.0, 0.7],
    ]);
    assert!(matches!(
        svcca(&a, &constant_column, 2),
        Err(Error::InvalidParameter { name: "q", .. })
    ));
    assert!(svcca(&a, &constant_column, 1).is_ok());
    let constant = rows::<Text>(&[&[0.7], &[0.7], &[0.7], &[0.7], &[0.7]]);
    assert!(matches!(svcca(&a, &constant, 1), Err(Error::ZeroVariance)));
}

// ---------------------------------------------------------------------------------------------
// Thread count
// ---------------------------------------------------------------------------------------------

/// The cross products run in a fixed tree of row ranges and the row sums in fixed chunks:
/// the same bits for one thread and for four.
#[test]
fn results_do_not_depend_on_the_thread_count() {
    let n = 5000;
    // sin(c·k²) is far from low rank (sin(c·k) rows would span two directions).
    let a: Vec<f64> = (0..n * 24)
        .map(|k| ((k * k) as f64 * 0.618).sin())
        .collect();
    let b: Vec<f64> = (0..n * 7).map(|k| ((k * k) as f64 * 0.391).cos()).collect();
    let (x, y) = (set::<Image>(n, 24, &a), set::<Text>(n, 7, &b));
    let run = |threads| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let mut values: Vec<f64> = ESTIMATORS
                .iter()
                .map(|&e| cka(&x, &y, e).unwrap())
                .collect();
            values.extend(
                SPECTRA
                    .iter()
                    .map(|&s| effective_rank(&x, s, Centring::Mean).unwrap().value),
            );
            values.push(isoscore(&y).unwrap());
            values.push(svcca(&x, &y, 5).unwrap());
            values
        })
    };
    let (one, four) = (run(1), run(4));
    assert_eq!(
        one.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        four.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
}

// ---------------------------------------------------------------------------------------------
// Laws
// ---------------------------------------------------------------------------------------------

/// Two sets of n paired rows with their own dimensions.
fn paired_sets() -> impl Strategy<Value = (usize, usize, usize, Vec<f64>, Vec<f64>)> {
    (4usize..24, 1usize..8, 1usize..8).prop_flat_map(|(n, da, db)| {
        (
            shaped_rows(n..n + 1, da..da + 1),
            shaped_rows(n..n + 1, db..db + 1),
        )
            .prop_map(move |((_, _, a), (_, _, b))| (n, da, db, a, b))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn cka_equals_its_n_by_n_definition_and_obeys_its_laws(
        (n, da, db, a, b) in paired_sets(),
        seed in proptest::collection::vec(-1.0f64..1.0, 1..64),
        scale in -3.0f64..3.0,
        shift in -5.0f64..5.0,
    ) {
        let (x, y) = (set::<Image>(n, da, &a), set::<Text>(n, db, &b));
        // B ↦ s·B·Q + t: orthogonal map, isotropic scaling, translation.
        let moved: Vec<f64> = times(n, db, &b, &orthogonal(db, &seed))
            .iter()
            .map(|v| v * 10f64.powf(scale) + shift)
            .collect();
        let z = set::<Text>(n, db, &moved);
        for estimator in ESTIMATORS {
            let value = match cka(&x, &y, estimator) {
                Ok(value) => value,
                // A random unbiased estimate can fall to rounding: then not the other either.
                Err(Error::ZeroVariance) => continue,
                Err(e) => panic!("{e}"),
            };
            prop_assert_eq!(value, cka(&x, &y, estimator).unwrap());
            let expected = cka_by_definition(n, &a, &b, estimator);
            assert_close(value, expected, SPECTRAL, "CKA against the n × n formula");
            assert_close(cka(&x, &z, estimator).unwrap(), value, SPECTRAL, "moved");
            assert_close(cka(&x, &x, estimator).unwrap(), 1.0, ULPS, "CKA(A, A)");
            match estimator {
                HsicEstimator::Biased => prop_assert!((0.0..=1.0).contains(&value)),
                HsicEstimator::Unbiased => prop_assert!((-1.0..=1.0).contains(&value)),
            }
        }
    }

    #[test]
    fn effective_rank_lies_between_one_and_its_bound((n, d, v) in shaped_rows(1..24, 1..10)) {
        let x = set::<Image>(n, d, &v);
        for spectrum in SPECTRA {
            for centring in CENTRINGS {
                let erank = match effective_rank(&x, spectrum, centring) {
                    Ok(erank) => erank,
                    Err(Error::TooFewSamples { .. }) => { prop_assert_eq!(n, 1); continue }
                    Err(e) => panic!("{e}"),
                };
                let bound = match centring { Centring::None => n.min(d), Centring::Mean => (n - 1).min(d) };
                prop_assert_eq!(erank.bound, bound);
                prop_assert!((1.0..=bound as f64).contains(&erank.value), "{erank:?}");
                // The definition through an SVD of the (centred) n × d matrix itself.
                let mut m = DMatrix::from_row_slice(n, d, &v);
                if centring == Centring::Mean {
                    let mean = m.row_mean();
                    for mut row in m.row_iter_mut() {
                        row -= &mean;
                    }
                }
                let weights: Vec<f64> = m.singular_values().iter().map(|&s| match spectrum {
                    Spectrum::SingularValues => s,
                    Spectrum::Variances => s * s,
                }).collect();
                let total: f64 = weights.iter().sum();
                let entropy: f64 = weights.iter().filter(|&&w| w > 0.0).map(|&w| -(w / total) * (w / total).ln()).sum();
                assert_close(erank.value, entropy.exp(), SPECTRAL, "effective rank against an SVD");
                prop_assert!(erank.normalised() > 0.0 && erank.normalised() <= 1.0);
            }
        }
    }

    #[test]
    fn isoscore_lies_in_the_unit_interval((n, d, v) in shaped_rows(2..24, 2..10), scale in -3.0f64..3.0) {
        let x = set::<Image>(n, d, &v);
        let score = isoscore(&x).unwrap();
        prop_assert!((0.0..=1.0).contains(&score));
        let scaled: Vec<f64> = v.iter().map(|x| x * 10f64.powf(scale) - 1.0).collect();
        assert_close(isoscore(&set::<Text>(n, d, &scaled)).unwrap(), score, SPECTRAL, "scaled");
    }

    #[test]
    fn svcca_is_one_for_the_same_subspace_and_lies_in_the_unit_interval(
        (n, da, db, a, b) in paired_sets(),
        seed in proptest::collection::vec(-1.0f64..1.0, 1..64),
        q in 1usize..8,
    ) {
        prop_assume!(n > da && n > db);
        let (x, y) = (set::<Image>(n, da, &a), set::<Text>(n, db, &b));
        let q = q.min(da).min(db);
        if let Ok(value) = svcca(&x, &y, q) {
            prop_assert!((0.0..=1.0).contains(&value));
        }
        // A·Q spans the column space of A: with q = rank, the subspaces coincide.
        let turned = set::<Text>(n, da, &times(n, da, &a, &orthogonal(da, &seed)));
        assert_close(svcca(&x, &turned, da).unwrap(), 1.0, SPECTRAL, "SVCCA(A, A·Q)");
        assert_close(svcca(&x, &x, q.min(da)).unwrap(), 1.0, SPECTRAL, "SVCCA(A, A)");
    }
}

// ---------------------------------------------------------------------------------------------
// Oracle
// ---------------------------------------------------------------------------------------------

/// The geometry cases of the numpy oracle (tests/data/geometry/make_cases.py).
const CASES: [&str; 5] = [
    "geometry_tiny_n9_d4",
    "geometry_ties_n12_d4",
    "geometry_medium_n200_d32",
    "geometry_captions_n40_m198_d16",
    "geometry_captions_ties_n6_m12_d4",
];

fn centring_key(centring: Centring) -> &'static str {
    match centring {
        Centring::None => "none",
        Centring::Mean => "mean",
    }
}

#[test]
fn cka_and_svcca_match_the_oracle() {
    cka_and_svcca_match_the_oracle_in::<f64>(F64);
    cka_and_svcca_match_the_oracle_in::<f32>(F32);
}

#[test]
fn effective_rank_and_isoscore_match_the_oracle() {
    effective_rank_and_isoscore_match_the_oracle_in::<f64>(F64);
    effective_rank_and_isoscore_match_the_oracle_in::<f32>(F32);
}

/// CKA and SVCCA of the paired cases, on the inputs rounded to `T`.
fn cka_and_svcca_match_the_oracle_in<T: Scalar>(tol: f64) {
    for name in CASES {
        let case = Case::load(name);
        let (a, b) = (
            case.embeddings::<T, Image>("img"),
            case.embeddings::<T, Text>("txt"),
        );
        if a.len() != b.len() {
            continue; // caption cases: CKA and SVCCA need paired sets
        }
        for (estimator, key) in [
            (HsicEstimator::Biased, "biased"),
            (HsicEstimator::Unbiased, "unbiased"),
        ] {
            for centring in CENTRINGS {
                let expected = case.number(&["cka", key, centring_key(centring)]);
                let got = cka(&a, &b, estimator).unwrap();
                assert_close(
                    got,
                    expected,
                    tol,
                    &format!("{name} {} cka {key} {centring:?}", T::NAME),
                );
            }
        }
        for (q, expected) in case.expected(&["svcca"]).as_object().unwrap() {
            let got = svcca(&a, &b, q.parse().unwrap()).unwrap();
            assert_close(
                got,
                common::number(expected),
                tol,
                &format!("{name} svcca q = {q}"),
            );
        }
    }
}

/// Effective rank and IsoScore of every case's sets, on the inputs rounded to `T`.
fn effective_rank_and_isoscore_match_the_oracle_in<T: Scalar>(tol: f64) {
    for name in CASES {
        let case = Case::load(name);
        for set_name in ["img", "txt"] {
            let x = case.embeddings::<T, Image>(set_name);
            for (spectrum, key) in [
                (Spectrum::SingularValues, "singular_values"),
                (Spectrum::Variances, "variances"),
            ] {
                for centring in CENTRINGS {
                    let c = centring_key(centring);
                    let erank = effective_rank(&x, spectrum, centring).unwrap();
                    let expected = case.number(&["effective_rank", set_name, key, c]);
                    assert_close(
                        erank.value,
                        expected,
                        tol,
                        &format!("{name} {set_name} erank {key} {c}"),
                    );
                    let bound = case.number(&["effective_rank", set_name, "bound", c]);
                    assert_eq!(erank.bound as f64, bound, "{name} {set_name} bound {c}");
                }
            }
            let expected = case.number(&["isoscore", set_name]);
            assert_close(
                isoscore(&x).unwrap(),
                expected,
                tol,
                &format!("{name} {set_name} isoscore"),
            );
        }
    }
}

/// The oracle's error cases (geometry_edge `errors`) for the four functions here.
#[test]
fn the_oracle_error_cases_give_their_errors() {
    let case = Case::load("geometry_edge");
    let matrix = |v: &Value| -> Vec<Vec<f64>> {
        v.as_array().unwrap().iter().map(common::numbers).collect()
    };
    let mut checked = 0;
    for error in case.expected(&["errors"]).as_array().unwrap() {
        let function = error["function"].as_str().unwrap();
        let centring = match error["centring"].as_str() {
            Some("mean") => Centring::Mean,
            _ => Centring::None,
        };
        let result = match function {
            "cka" => {
                let estimator = match error["estimator"].as_str().unwrap() {
                    "biased" => HsicEstimator::Biased,
                    _ => HsicEstimator::Unbiased,
                };
                let a = Embeddings::<f64, Image>::from_rows(&matrix(&error["a"])).unwrap();
                let b = Embeddings::<f64, Text>::from_rows(&matrix(&error["b"])).unwrap();
                cka(&a, &b, estimator).map(drop)
            }
            "svcca" => {
                let a = Embeddings::<f64, Image>::from_rows(&matrix(&error["a"])).unwrap();
                let b = Embeddings::<f64, Text>::from_rows(&matrix(&error["b"])).unwrap();
                svcca(&a, &b, error["q"].as_u64().unwrap() as usize).map(drop)
            }
            "effective_rank" => {
                let x = Embeddings::<f64, Image>::from_rows(&matrix(&error["x"])).unwrap();
                SPECTRA
                    .iter()
                    .map(|&s| effective_rank(&x, s, centring).map(drop))
                    .find(Result::is_err)
                    .unwrap_or(Ok(()))
            }
            "isoscore" => {
                let x = Embeddings::<f64, Image>::from_rows(&matrix(&error["x"])).unwrap();
                isoscore(&x).map(drop)
            }
            _ => continue,
        };
        let kind = error["error"].as_str().unwrap();
        let matches = match (&result, kind) {
            (Err(Error::TooFewSamples { required, .. }), "TooFewSamples") => {
                *required as u64 == error["required"].as_u64().unwrap()
            }
            (Err(Error::LengthMismatch { .. }), "LengthMismatch")
            | (Err(Error::ZeroVariance), "ZeroVariance")
            | (Err(Error::InvalidParameter { .. }), "InvalidParameter") => true,
            _ => false,
        };
        assert!(
            matches,
            "{function}: {} gave {result:?}, expected {kind}",
            error["reason"]
        );
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} error cases");
}

/// The two embedded published feature files (raw rows, widened to f64) against the oracle's
/// exact values (tests/data/geometry/real_features_expected.json).
#[test]
fn embedded_feature_files_match_the_oracle() {
    static CLASP: &[u8] = include_bytes!("../data/features_clasp.npy");
    static CLIP: &[u8] = include_bytes!("../data/features_clip.npy");
    let pinned = common::data_json("geometry/real_features_expected.json");
    for (file, bytes) in [("features_clasp.npy", CLASP), ("features_clip.npy", CLIP)] {
        let expected = &pinned[file];
        let number = |path: &[&str]| common::number(path.iter().fold(expected, |v, k| &v[*k]));
        let (a, b) = modality_gap::npy::read_pair_from::<f64, Image, Text, _>(bytes).unwrap();
        for (estimator, key) in [
            (HsicEstimator::Biased, "biased"),
            (HsicEstimator::Unbiased, "unbiased"),
        ] {
            for centring in CENTRINGS {
                let c = centring_key(centring);
                let got = cka(&a, &b, estimator).unwrap();
                assert_close(
                    got,
                    number(&["cka", key, c]),
                    F64,
                    &format!("{file} cka {key} {c}"),
                );
            }
        }
        for (q, value) in expected["svcca"].as_object().unwrap() {
            let got = svcca(&a, &b, q.parse().unwrap()).unwrap();
            assert_close(
                got,
                common::number(value),
                F64,
                &format!("{file} svcca {q}"),
            );
        }
        for (name, x) in [
            ("img", a.clone()),
            ("txt", b.clone().with_modality::<Image>()),
        ] {
            for (spectrum, key) in [
                (Spectrum::SingularValues, "singular_values"),
                (Spectrum::Variances, "variances"),
            ] {
                for centring in CENTRINGS {
                    let c = centring_key(centring);
                    let erank = effective_rank(&x, spectrum, centring).unwrap();
                    let what = format!("{file} {name} erank {key} {c}");
                    assert_close(
                        erank.value,
                        number(&["effective_rank", name, key, c]),
                        F64,
                        &what,
                    );
                    assert_eq!(
                        erank.bound as f64,
                        number(&["effective_rank", name, "bound", c]),
                        "{what}"
                    );
                }
            }
            let what = format!("{file} {name} isoscore");
            assert_close(
                isoscore(&x).unwrap(),
                number(&["isoscore", name]),
                F64,
                &what,
            );
        }
    }
}

/// The oracle's closed-form cases (geometry_edge `values`) for the four functions here: each
/// against its exact value where the case gives one (rounding: ULPS), else numpy's (F64).
#[test]
fn the_oracle_closed_form_cases_give_their_values() {
    let case = Case::load("geometry_edge");
    let matrix = |v: &Value| -> Vec<Vec<f64>> {
        v.as_array().unwrap().iter().map(common::numbers).collect()
    };
    let centring = |v: &Value| match v["centring"].as_str() {
        Some("mean") => Centring::Mean,
        _ => Centring::None,
    };
    let mut checked = 0;
    for value in case.expected(&["values"]).as_array().unwrap() {
        let got = match value["function"].as_str().unwrap() {
            "cka" => {
                let estimator = match value["estimator"].as_str().unwrap() {
                    "biased" => HsicEstimator::Biased,
                    _ => HsicEstimator::Unbiased,
                };
                let a = Embeddings::<f64, Image>::from_rows(&matrix(&value["a"])).unwrap();
                let b = Embeddings::<f64, Text>::from_rows(&matrix(&value["b"])).unwrap();
                cka(&a, &b, estimator).unwrap()
            }
            "effective_rank" => {
                let spectrum = match value["spectrum"].as_str().unwrap() {
                    "singular_values" => Spectrum::SingularValues,
                    _ => Spectrum::Variances,
                };
                let x = Embeddings::<f64, Image>::from_rows(&matrix(&value["x"])).unwrap();
                effective_rank(&x, spectrum, centring(value)).unwrap().value
            }
            "isoscore" => {
                let x = Embeddings::<f64, Image>::from_rows(&matrix(&value["x"])).unwrap();
                isoscore(&x).unwrap()
            }
            _ => continue,
        };
        let what = value["reason"].as_str().unwrap();
        match value.get("exact") {
            Some(exact) => assert_close(got, common::number(exact), ULPS, what),
            None => assert_close(got, common::number(&value["value"]), F64, what),
        }
        checked += 1;
    }
    assert!(checked >= 7, "only {checked} closed-form cases");
}

/// Rows too small for their squares (or fourth powers) to stay normal: a typed error, not NaN.
#[test]
fn underflowing_rows_are_an_error_not_nan() {
    let tiny = rows::<Image>(&[
        &[1e-170, 0.0],
        &[0.0, 2e-170],
        &[3e-170, 1e-170],
        &[0.0, 0.0],
    ]);
    let b = rows::<Text>(&[&[1.0], &[0.0], &[2.0], &[5.0]]);
    for estimator in ESTIMATORS {
        assert!(matches!(
            cka(&tiny, &b, estimator),
            Err(Error::ZeroVariance)
        ));
    }
    for spectrum in SPECTRA {
        assert!(matches!(
            effective_rank(&tiny, spectrum, Centring::None),
            Err(Error::ZeroVariance)
        ));
    }
    assert!(matches!(isoscore(&tiny), Err(Error::ZeroVariance)));
    // Squares below the normal range leave no column to correlate (not "q above the rank").
    assert!(matches!(svcca(&tiny, &b, 1), Err(Error::ZeroVariance)));
    // Large but representable rows: the unbiased terms are normalised, so no overflow, and
    // CKA does not see the scale.
    let huge = rows::<Image>(&[&[6e76, 0.0], &[-6e76, 0.0], &[0.0, 6e76], &[0.0, -6e76]]);
    let unit = rows::<Image>(&[&[1.0, 0.0], &[-1.0, 0.0], &[0.0, 1.0], &[0.0, -1.0]]);
    for estimator in ESTIMATORS {
        let (big, plain) = (
            cka(&huge, &b, estimator).unwrap(),
            cka(&unit, &b, estimator).unwrap(),
        );
        assert_close(big, plain, SPECTRAL, "CKA of rows scaled by 6e76");
    }
    let small = rows::<Image>(&[&[1e-80, 0.0], &[0.0, 2e-80], &[3e-80, 1e-80], &[0.0, 0.0]]);
    for estimator in ESTIMATORS {
        match cka(&small, &b, estimator) {
            Ok(value) => assert!(value.is_finite()),
            Err(e) => assert!(matches!(e, Error::ZeroVariance)),
        }
    }
}
