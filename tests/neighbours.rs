//! Mutual k-NN alignment, cross-modal uniformity and modality separability: laws on random
//! data, brute-force definitions, hand cases, errors, and the numpy oracle.

use crate::common;

use common::{F32, F64, assert_close, orthogonal, rotated, shaped_rows, unit};
use modality_gap::{
    Embeddings, Error, Image, Modality, Scalar, Text, UnitEmbeddings, cknna,
    cross_modal_uniformity, modality_separability, mutual_knn,
};
use proptest::prelude::*;

/// Two sets of n rows of one dimension d.
fn paired_sets() -> impl Strategy<Value = (usize, usize, Vec<f64>, Vec<f64>)> {
    (2usize..30, 1usize..10).prop_flat_map(|(n, d)| {
        (
            shaped_rows(n..n + 1, d..d + 1),
            shaped_rows(n..n + 1, d..d + 1),
        )
            .prop_map(|((n, d, a), (_, _, b))| (n, d, a, b))
    })
}

/// Two sets of n rows, of dimensions d and d′ (which may differ).
fn two_sets() -> impl Strategy<Value = (usize, usize, usize, Vec<f64>, Vec<f64>)> {
    (2usize..30, 1usize..10, 1usize..10).prop_flat_map(|(n, d, d2)| {
        (
            shaped_rows(n..n + 1, d..d + 1),
            shaped_rows(n..n + 1, d2..d2 + 1),
        )
            .prop_map(|((n, d, a), (_, d2, b))| (n, d, d2, a, b))
    })
}

fn embeddings<T: Scalar, M: Modality>(n: usize, d: usize, v: &[f64]) -> Embeddings<T, M> {
    Embeddings::from_row_major_vec(n, d, v.iter().map(|&x| T::from_f64(x)).collect()).unwrap()
}

/// N_k(i) by definition: the others sorted by inner product, descending, the larger index
/// first among ties, the first k.
fn neighbours_by_definition(n: usize, d: usize, v: &[f64], k: usize) -> Vec<Vec<usize>> {
    let dot = |i: usize, j: usize| -> f64 {
        v[i * d..][..d]
            .iter()
            .zip(&v[j * d..][..d])
            .map(|(x, y)| x * y)
            .sum()
    };
    (0..n)
        .map(|i| {
            let mut others: Vec<usize> = (0..n).filter(|&j| j != i).collect();
            others.sort_by(|&x, &y| dot(i, y).total_cmp(&dot(i, x)).then(y.cmp(&x)));
            others.truncate(k);
            others
        })
        .collect()
}

fn mutual_knn_by_definition(
    n: usize,
    (d, a): (usize, &[f64]),
    (d2, b): (usize, &[f64]),
    k: usize,
) -> f64 {
    let (na, nb) = (
        neighbours_by_definition(n, d, a, k),
        neighbours_by_definition(n, d2, b, k),
    );
    let shared: usize = na
        .iter()
        .zip(&nb)
        .map(|(x, y)| x.iter().filter(|j| y.contains(j)).count())
        .sum();
    shared as f64 / (n * k) as f64
}

/// platonic-rep's `hsic_unbiased` on explicit n × n matrices (row-major).
fn hsic_unbiased(n: usize, k: &[f64], l: &[f64]) -> f64 {
    let zero_diagonal = |m: &[f64]| -> Vec<f64> {
        (0..n * n)
            .map(|p| if p / n == p % n { 0.0 } else { m[p] })
            .collect()
    };
    let (k, l) = (zero_diagonal(k), zero_diagonal(l));
    let trace: f64 = (0..n)
        .flat_map(|i| (0..n).map(move |j| (i, j)))
        .map(|(i, j)| k[i * n + j] * l[j * n + i])
        .sum();
    let (sum_k, sum_l): (f64, f64) = (k.iter().sum(), l.iter().sum());
    let product: f64 = (0..n)
        .flat_map(|i| (0..n).map(move |j| (i, j)))
        .map(|(i, j)| (0..n).map(|m| k[i * n + m] * l[m * n + j]).sum::<f64>())
        .sum();
    let m = n as f64;
    (trace + sum_k * sum_l / ((m - 1.0) * (m - 2.0)) - 2.0 * product / (m - 2.0)) / (m * (m - 3.0))
}

/// platonic-rep's `cknna` (unbiased, not distance-agnostic) on explicit matrices, with the
/// masks of [`neighbours_by_definition`] and without the + 1e-6: (KL, KK, LL).
fn cknna_by_definition(
    n: usize,
    (d, a): (usize, &[f64]),
    (d2, b): (usize, &[f64]),
    k: usize,
) -> (f64, f64, f64) {
    let gram = |d: usize, v: &[f64]| -> Vec<f64> {
        (0..n * n)
            .map(|p| {
                let (i, j) = (p / n, p % n);
                (0..d).map(|c| v[i * d + c] * v[j * d + c]).sum()
            })
            .collect()
    };
    let mask = |d: usize, v: &[f64]| -> Vec<f64> {
        let mut m = vec![0.0; n * n];
        for (i, row) in neighbours_by_definition(n, d, v, k).into_iter().enumerate() {
            row.into_iter().for_each(|j| m[i * n + j] = 1.0);
        }
        m
    };
    let (ka, lb, ma, mb) = (gram(d, a), gram(d2, b), mask(d, a), mask(d2, b));
    let masked = |m1: &[f64], m2: &[f64], x: &[f64]| -> Vec<f64> {
        (0..n * n).map(|p| m1[p] * m2[p] * x[p]).collect()
    };
    (
        hsic_unbiased(n, &masked(&ma, &mb, &ka), &masked(&ma, &mb, &lb)),
        hsic_unbiased(n, &masked(&ma, &ma, &ka), &masked(&ma, &ma, &ka)),
        hsic_unbiased(n, &masked(&mb, &mb, &lb), &masked(&mb, &mb, &lb)),
    )
}

/// log((1/(n(n−1))) Σ_{i≠j} exp(−t‖aᵢ − bⱼ‖²)) from explicit differences in f64, the mean
/// taken as 1 + mean(expm1(· − max)) after the maximum.
fn cross_uniformity_by_definition<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    t: f64,
) -> f64 {
    let mut z = Vec::new();
    for (i, x) in a.rows().enumerate() {
        for (j, y) in b.rows().enumerate() {
            if i != j {
                let squared: f64 = x
                    .iter()
                    .zip(y)
                    .map(|(p, q)| (p.to_f64() - q.to_f64()).powi(2))
                    .sum();
                z.push(-t * squared);
            }
        }
    }
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let excess = z.iter().map(|v| (v - max).exp_m1()).sum::<f64>() / z.len() as f64;
    max + excess.ln_1p()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn mutual_knn_is_its_definition_and_a_fraction(
        (n, d, d2, a, b) in two_sets(), k_seed in 0usize..1000,
    ) {
        let k = 1 + k_seed % (n - 1);
        let got = mutual_knn(
            &embeddings::<f64, Image>(n, d, &a),
            &embeddings::<f64, Text>(n, d2, &b),
            k,
        ).unwrap();
        prop_assert!((0.0..=1.0).contains(&got));
        // An exact count over n·k: the same number, bit for bit.
        prop_assert_eq!(got, mutual_knn_by_definition(n, (d, &a), (d2, &b), k));
        let got32 = mutual_knn(
            &embeddings::<f32, Image>(n, d, &a),
            &embeddings::<f32, Text>(n, d2, &b),
            k,
        ).unwrap();
        prop_assert!((0.0..=1.0).contains(&got32));
    }

    #[test]
    fn cknna_is_its_definition(
        (n, d, d2, a, b) in two_sets().prop_filter("n ≥ 4", |s| s.0 >= 4), k_seed in 0usize..1000,
    ) {
        let k = 2 + k_seed % (n - 2);
        let (kl, kk, ll) = cknna_by_definition(n, (d, &a), (d2, &b), k);
        let got = cknna(
            &embeddings::<f64, Image>(n, d, &a),
            &embeddings::<f64, Text>(n, d2, &b),
            k,
        );
        // Both sides sum the same products of entries ≤ 1 (rows in [−1, 1]ᵈ, d < 10, so ≤ 10)
        // in other orders: each HSIC errs by a few ulps of its largest terms, ≲ 1e-15 after
        // the division by n(n−3). Divided by √(KK·LL) ≥ 1e-3 that stays below 1e-12 (F64). The
        // largest difference measured over 2000 cases is 7.1e-14 (√(KK·LL) = 0.015).
        if kk > 0.0 && ll > 0.0 && (kk * ll).sqrt() >= 1e-3 {
            assert_close(got.unwrap(), kl / (kk * ll).sqrt(), F64, "cknna");
        } else {
            // A degenerate (or nearly degenerate) mask: a typed error or a finite value.
            match got {
                Ok(value) => prop_assert!(value.is_finite()),
                Err(e) => prop_assert!(matches!(e, Error::ZeroVariance), "{e}"),
            }
        }
    }

    #[test]
    fn cknna_of_a_set_with_itself_is_one(
        (n, d, _, a, _) in two_sets().prop_filter("n ≥ 4", |s| s.0 >= 4), k_seed in 0usize..1000,
    ) {
        let k = 2 + k_seed % (n - 2);
        let x = embeddings::<f64, Image>(n, d, &a);
        match cknna(&x, &x.clone().with_modality::<Text>(), k) {
            Ok(v) => assert_close(v, 1.0, common::ULPS, "cknna(A, A)"),
            Err(e) => prop_assert!(matches!(e, Error::ZeroVariance)),
        }
    }

    #[test]
    fn mutual_knn_of_a_set_with_itself_is_one(
        (n, d, _, a, _) in two_sets(), k_seed in 0usize..1000,
    ) {
        let k = 1 + k_seed % (n - 1);
        let x = embeddings::<f64, Image>(n, d, &a);
        prop_assert_eq!(mutual_knn(&x, &x.clone().with_modality::<Text>(), k).unwrap(), 1.0);
        let x = embeddings::<f32, Image>(n, d, &a);
        prop_assert_eq!(mutual_knn(&x, &x.clone().with_modality::<Text>(), k).unwrap(), 1.0);
    }

    #[test]
    fn mutual_knn_is_invariant_under_orthogonal_maps(
        (n, d, d2, a, b) in two_sets(), k_seed in 0usize..1000,
    ) {
        // Each set turned by its own orthogonal map keeps its inner products (up to a few ulps,
        // which could reorder only neighbours tied to ~1e-15: random rows have none).
        let k = 1 + k_seed % (n - 1);
        let (qa, qb) = (orthogonal(d, &b), orthogonal(d2, &a));
        let before = mutual_knn(
            &embeddings::<f64, Image>(n, d, &a),
            &embeddings::<f64, Text>(n, d2, &b),
            k,
        ).unwrap();
        let after = mutual_knn(
            &embeddings::<f64, Image>(n, d, &rotated(d, &a, &qa)),
            &embeddings::<f64, Text>(n, d2, &rotated(d2, &b, &qb)),
            k,
        ).unwrap();
        prop_assert_eq!(before, after);
    }

    #[test]
    fn cross_modal_uniformity_is_its_definition(
        (n, d, a, b) in paired_sets(), t in 0.1f64..8.0,
    ) {
        let (a64, b64) = (unit::<f64, Image>(n, d, &a), unit::<f64, Text>(n, d, &b));
        let got = cross_modal_uniformity(&a64, &b64, t).unwrap();
        // Gram identity on centred rows against explicit differences: a few ε·t apart.
        assert_close(got, cross_uniformity_by_definition(&a64, &b64, t), F64, "f64");
        prop_assert!(got <= 0.0 && got >= -4.0 * t);
        // f32 rows (dot products in f32) against the definition on the same f32 values, as
        // the f32 uniformity loss is held to its f64 value (tests/properties.rs).
        let (a32, b32) = (unit::<f32, Image>(n, d, &a), unit::<f32, Text>(n, d, &b));
        let got = cross_modal_uniformity(&a32, &b32, t).unwrap();
        assert_close(got, cross_uniformity_by_definition(&a32, &b32, t), F32, "f32");
        prop_assert!(got <= 0.0);
    }
}

#[test]
fn cross_modal_uniformity_of_coinciding_sets_is_zero() {
    let x = unit::<f64, Image>(4, 2, &[1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 1.0, 2.0]);
    let y = x.clone().with_modality::<Text>();
    assert_eq!(cross_modal_uniformity(&x, &y, 2.0).unwrap(), 0.0);
}

#[test]
fn cross_modal_uniformity_leaves_the_matched_pairs_out() {
    // aᵢ = bᵢ, and the unmatched pairs are orthogonal: every term is exp(−2t).
    let a = unit::<f64, Image>(2, 2, &[1.0, 0.0, 0.0, 1.0]);
    let b = a.clone().with_modality::<Text>();
    assert_close(
        cross_modal_uniformity(&a, &b, 3.0).unwrap(),
        -6.0,
        F64,
        "orthogonal",
    );
}

#[test]
fn cross_modal_uniformity_errors() {
    let a = unit::<f64, Image>(3, 2, &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
    let b2 = unit::<f64, Text>(2, 2, &[1.0, 0.0, 0.0, 1.0]);
    let b3 = unit::<f64, Text>(1, 3, &[1.0, 0.0, 0.0]);
    let one = unit::<f64, Image>(1, 2, &[1.0, 0.0]);
    let one_b = one.clone().with_modality::<Text>();
    let a_b = a.clone().with_modality::<Text>();
    assert!(matches!(
        cross_modal_uniformity(&a, &b2, 2.0),
        Err(Error::LengthMismatch {
            expected: 3,
            found: 2
        })
    ));
    assert!(matches!(
        cross_modal_uniformity(&a, &b3, 2.0),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        cross_modal_uniformity(&one, &one_b, 2.0),
        Err(Error::TooFewSamples {
            required: 2,
            found: 1
        })
    ));
    for t in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            cross_modal_uniformity(&a, &a_b, t),
            Err(Error::InvalidParameter { name: "t", .. })
        ));
    }
}

#[test]
fn mutual_knn_errors() {
    let a = embeddings::<f64, Image>(3, 2, &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
    let b = embeddings::<f64, Text>(3, 1, &[1.0, 2.0, 3.0]);
    let short = embeddings::<f64, Text>(2, 1, &[1.0, 2.0]);
    let one = embeddings::<f64, Image>(1, 1, &[1.0]);
    let one_b = one.clone().with_modality::<Text>();
    for k in [0, 3, 4] {
        assert!(matches!(
            mutual_knn(&a, &b, k),
            Err(Error::InvalidParameter { name: "k", .. })
        ));
    }
    assert!(matches!(
        mutual_knn(&a, &short, 1),
        Err(Error::LengthMismatch {
            expected: 3,
            found: 2
        })
    ));
    assert!(matches!(
        mutual_knn(&one, &one_b, 1),
        Err(Error::TooFewSamples {
            required: 2,
            found: 1
        })
    ));
}

#[test]
fn mutual_knn_by_hand() {
    // Four points on a line, and the same order reversed in B's neighbourhoods of 0 and 3.
    let a = embeddings::<f64, Image>(4, 1, &[1.0, 2.0, 3.0, -1.0]);
    // In A: N₁(0) = {2}, N₁(1) = {2}, N₁(2) = {1}, N₁(3) = {0}.
    // In B: N₁(0) = {1}, N₁(1) = {2}, N₁(2) = {1}, N₁(3) = {0}: three of four agree.
    let b = embeddings::<f64, Text>(4, 1, &[1.0, 3.0, 2.0, -1.0]);
    assert_eq!(mutual_knn(&a, &b, 1).unwrap(), 0.75);
    // Ties: B's rows all equal, so every other row ties; the larger index ranks first.
    let tied = embeddings::<f64, Text>(4, 1, &[1.0; 4]);
    // N₁ in B: {3}, {3}, {3}, {2}; none agrees with A's {2}, {2}, {1}, {0}.
    assert_eq!(mutual_knn(&a, &tied, 1).unwrap(), 0.0);
}

/// Rows near ±e₁ with small noise in the other coordinates, as unit f64 embeddings.
fn clusters(n: usize, d: usize, sign: f64, seed: u64) -> Vec<f64> {
    (0..n * d)
        .map(|k| {
            let (i, c) = (k / d, k % d);
            let noise = (((i as u64 * 7919 + c as u64 * 104_729 + seed) % 1000) as f64) / 1000.0;
            if c == 0 { sign } else { 0.3 * (noise - 0.5) }
        })
        .collect()
}

#[test]
fn separability_of_separated_sets_is_one() {
    for (n, m, d) in [(5, 5, 2), (23, 17, 4), (200, 150, 16)] {
        let a = unit::<f64, Image>(n, d, &clusters(n, d, 1.0, 1));
        let b = unit::<f64, Text>(m, d, &clusters(m, d, -1.0, 2));
        let s = modality_separability(&a, &b).unwrap();
        assert_eq!((s.accuracy, s.train_accuracy), (1.0, 1.0), "{n} {m} {d}");
        assert_eq!(s.test_count, n / 5 + m / 5);
        let a = unit::<f32, Image>(n, d, &clusters(n, d, 1.0, 1));
        let b = unit::<f32, Text>(m, d, &clusters(m, d, -1.0, 2));
        assert_eq!(modality_separability(&a, &b).unwrap().accuracy, 1.0);
    }
}

#[test]
fn separability_of_identical_sets_is_a_coin() {
    // The two sets are the same rows: by symmetry the optimum is w = 0, β = 0 (the gradient
    // at 0 is exactly 0), every margin is 0, and 0 is not > 0: everything is called "b".
    let v = clusters(12, 3, 1.0, 5);
    let a = unit::<f64, Image>(12, 3, &v);
    let b = unit::<f64, Text>(12, 3, &v);
    let s = modality_separability(&a, &b).unwrap();
    assert_eq!((s.accuracy, s.train_accuracy, s.test_count), (0.5, 0.5, 4));
}

#[test]
fn separability_errors() {
    let four = unit::<f64, Image>(4, 2, &clusters(4, 2, 1.0, 1));
    let five = unit::<f64, Text>(5, 2, &clusters(5, 2, -1.0, 1));
    let five_3d = unit::<f64, Text>(5, 3, &clusters(5, 3, -1.0, 1));
    let five_a = five.clone().with_modality::<Image>();
    let four_b = four.clone().with_modality::<Text>();
    assert!(matches!(
        modality_separability(&four, &five),
        Err(Error::TooFewSamples {
            required: 5,
            found: 4
        })
    ));
    assert!(matches!(
        modality_separability(&five_a, &four_b),
        Err(Error::TooFewSamples {
            required: 5,
            found: 4
        })
    ));
    assert!(matches!(
        modality_separability(&five_a, &five_3d),
        Err(Error::DimensionMismatch { .. })
    ));
}

/// A masked HSIC that is exactly 0 in exact arithmetic (three copies of a point and one
/// other, k = n − 1: 6K² + 6K² − 12K²) is refused whatever sign its rounding takes; lists of
/// n·(k + 1) > 2^27 entries are refused before any pass.
#[test]
fn degenerate_masks_and_huge_lists_are_errors() {
    let a = embeddings::<f64, Image>(4, 2, &[0.1, 0.0, 0.1, 0.0, 0.1, 0.0, 0.0, 0.1]);
    let b = embeddings::<f64, Text>(4, 2, &[1.0, 0.2, -0.3, 0.8, 0.5, 0.5, -1.0, 0.1]);
    assert!(matches!(cknna(&a, &b, 3), Err(Error::ZeroVariance)));
    let n = 12_000; // n·(k + 1) = 1.44e8 > 2^27 at k = n − 1
    let line: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let (x, y) = (
        embeddings::<f64, Image>(n, 1, &line),
        embeddings::<f64, Text>(n, 1, &line),
    );
    assert!(matches!(
        mutual_knn(&x, &y, n - 1),
        Err(Error::Overflow { .. })
    ));
    assert!(matches!(cknna(&x, &y, n - 1), Err(Error::Overflow { .. })));
}

#[test]
fn cknna_errors() {
    let a = embeddings::<f64, Image>(4, 2, &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0, -1.0, 0.5]);
    let b = embeddings::<f64, Text>(4, 1, &[1.0, 2.0, 3.0, -1.0]);
    for k in [0, 1, 4] {
        assert!(matches!(
            cknna(&a, &b, k),
            Err(Error::InvalidParameter { name: "k", .. })
        ));
    }
    let three = embeddings::<f64, Text>(3, 1, &[1.0, 2.0, 3.0]);
    assert!(matches!(
        cknna(&a, &three, 2),
        Err(Error::LengthMismatch {
            expected: 4,
            found: 3
        })
    ));
    let three_a = three.clone().with_modality::<Image>();
    assert!(matches!(
        cknna(&three_a, &three, 2),
        Err(Error::TooFewSamples {
            required: 4,
            found: 3
        })
    ));
    // A zero kernel: no variance.
    let zeros = embeddings::<f64, Text>(4, 1, &[0.0; 4]);
    assert!(matches!(cknna(&a, &zeros, 2), Err(Error::ZeroVariance)));
}

/// The geometry oracle cases with paired img/txt rows (numpy, `tests/data/geometry/`).
const ORACLE_CASES: [&str; 3] = [
    "geometry_tiny_n9_d4",
    "geometry_ties_n12_d4",
    "geometry_medium_n200_d32",
];

/// The keys of the object at `expected.<key>` (k, t), in the file's order.
fn keys(case: &common::Case, key: &str) -> Vec<String> {
    case.expected(&[key])
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect()
}

#[test]
fn oracle_mutual_knn_and_cknna() {
    for name in ORACLE_CASES {
        let case = common::Case::load(name);
        let (img, txt) = case.unit_pair();
        for k in keys(&case, "mutual_knn") {
            // An exact count over n·k, divided once: the same f64 as numpy's hits / (n·k).
            // (The ties case has exact ties, broken the same way: the larger index first.)
            let got = mutual_knn(&img, &txt, k.parse().unwrap()).unwrap();
            assert_eq!(
                got,
                case.number(&["mutual_knn", &k]),
                "{name} mutual_knn k={k}"
            );
        }
        for k in keys(&case, "cknna") {
            let got = cknna(&img, &txt, k.parse().unwrap()).unwrap();
            assert_close(
                got,
                case.number(&["cknna", &k]),
                F64,
                &format!("{name} cknna k={k}"),
            );
        }
    }
}

#[test]
fn oracle_cross_modal_uniformity() {
    for name in ORACLE_CASES {
        let case = common::Case::load(name);
        let (img, txt) = case.unit_pair();
        let (img32, txt32) = (
            case.unit::<f32, Image>("img"),
            case.unit::<f32, Text>("txt"),
        );
        for t in keys(&case, "cross_modal_uniformity") {
            let expected = case.number(&["cross_modal_uniformity", &t]);
            let tv: f64 = t.parse().unwrap();
            let what = format!("{name} cross_modal_uniformity t={t}");
            assert_close(
                cross_modal_uniformity(&img, &txt, tv).unwrap(),
                expected,
                F64,
                &what,
            );
            assert_close(
                cross_modal_uniformity(&img32, &txt32, tv).unwrap(),
                expected,
                F32,
                &format!("{what} (f32)"),
            );
        }
    }
}

#[test]
fn oracle_separability() {
    // The accuracies are counts of signs of w·x + β at the optimum: exact as long as no sample
    // sits within the solvers' disagreement of the boundary. Both solve the same strictly
    // convex problem to ~1e-14 in the parameters (the oracle's Newton and sklearn's
    // newton-cholesky agree to 1e-14), and the smallest |w·x + β| over the samples is 3.5e-3
    // (oracle README), so the counts agree exactly.
    for name in ORACLE_CASES {
        let case = common::Case::load(name);
        let (img, txt) = case.unit_pair();
        let s = modality_separability(&img, &txt).unwrap();
        assert_eq!(
            (s.accuracy, s.train_accuracy, s.test_count as f64),
            (
                case.number(&["separability", "accuracy"]),
                case.number(&["separability", "train_accuracy"]),
                case.number(&["separability", "test_count"]),
            ),
            "{name} separability"
        );
        let (img32, txt32) = (
            case.unit::<f32, Image>("img"),
            case.unit::<f32, Text>("txt"),
        );
        let s32 = modality_separability(&img32, &txt32).unwrap();
        assert_eq!(s32, s, "{name} separability (f32)");
    }
}

#[test]
fn oracle_edge_cases() {
    let case = common::Case::load("geometry_edge");
    let ours = [
        "mutual_knn",
        "cknna",
        "cross_modal_uniformity",
        "separability",
    ];
    let set = |v: &serde_json::Value| -> Embeddings<f64, Image> { common::embeddings_from_json(v) };
    let unit_set = |v: &serde_json::Value| UnitEmbeddings::normalize(set(v)).unwrap();
    let mut checked = 0;
    for error in case.expected(&["errors"]).as_array().unwrap() {
        let function = error["function"].as_str().unwrap();
        if !ours.contains(&function) {
            continue;
        }
        let (a, b) = (&error["a"], &error["b"]);
        let b_text = |v| set(v).with_modality::<Text>();
        let k = || error["k"].as_u64().unwrap() as usize;
        let result = match function {
            "mutual_knn" => mutual_knn(&set(a), &b_text(b), k()),
            "cknna" => cknna(&set(a), &b_text(b), k()),
            "cross_modal_uniformity" => cross_modal_uniformity(
                &unit_set(a),
                &unit_set(b).with_modality::<Text>(),
                error["t"].as_f64().unwrap(),
            ),
            _ => modality_separability(&unit_set(a), &unit_set(b).with_modality::<Text>())
                .map(|s| s.accuracy),
        };
        let err = result.expect_err(function);
        let kind = format!("{err:?}");
        let expected = error["error"].as_str().unwrap();
        assert!(
            matches!(
                (expected, &err),
                ("InvalidParameter", Error::InvalidParameter { .. })
                    | ("LengthMismatch", Error::LengthMismatch { .. })
                    | ("TooFewSamples", Error::TooFewSamples { .. })
            ),
            "{function}: expected {expected}, got {kind}"
        );
        if let Some(required) = error.get("required").and_then(|r| r.as_u64()) {
            assert!(
                matches!(err, Error::TooFewSamples { required: r, .. } if r as u64 == required),
                "{function}: {kind}"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 8);
    for value in case.expected(&["values"]).as_array().unwrap() {
        if value["function"] == "mutual_knn" {
            let a = unit_set(&value["a"]);
            let b = unit_set(&value["b"]).with_modality::<Text>();
            let k = value["k"].as_u64().unwrap() as usize;
            assert_eq!(
                mutual_knn(&a, &b, k).unwrap(),
                common::number(&value["value"])
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 9);
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    // 600 rows of 64: every kernel pass above the parallel cut-off (n²·d > 4·10⁶), and more
    // rows than one reduction chunk of the separability's sums (n + m > 2048 there).
    let set = |n: usize, d: usize, phase: f64| -> Vec<f64> {
        (0..n * d)
            .map(|k| ((k as f64) * 0.7 + phase).sin() + 0.3)
            .collect()
    };
    let (a, b) = (
        unit::<f32, Image>(600, 64, &set(600, 64, 0.0)),
        unit::<f32, Text>(600, 64, &set(600, 64, 1.0)),
    );
    let (c, e) = (
        unit::<f64, Image>(2100, 8, &set(2100, 8, 0.0)),
        unit::<f64, Text>(1500, 8, &set(1500, 8, 1.0)),
    );
    let run = |threads: usize| -> Vec<f64> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let s = modality_separability(&c, &e).unwrap();
            vec![
                cross_modal_uniformity(&a, &b, 2.0).unwrap(),
                mutual_knn(&a, &b, 10).unwrap(),
                cknna(&a, &b, 10).unwrap(),
                s.accuracy,
                s.train_accuracy,
            ]
        })
    };
    let one = run(1);
    for threads in [2, 8] {
        let other = run(threads);
        assert!(
            one.iter()
                .zip(&other)
                .all(|(x, y)| x.to_bits() == y.to_bits()),
            "{threads} threads: {other:?} vs {one:?}"
        );
    }
}
