//! The similarity functions on the pairwise kernel: the explicit matrix, top-k, the cosine
//! histogram and its quantiles, cross-checked against each other and against brute force,
//! and their errors.

use crate::common;

use common::{F64, ULPS, assert_close, unit};
use modality_gap::{
    CosineHistogram, Error, Image, Modality, Text, UnitEmbeddings, cosine_quantiles_between,
    cosine_quantiles_within, pairwise_cosine, retrieval_ranks, retrieval_recall, top_k,
};
use proptest::prelude::*;

/// Two sets of unit rows, n × d and m × d, with no near-zero row.
fn two_sets() -> impl Strategy<Value = (usize, usize, usize, Vec<f64>, Vec<f64>)> {
    (1usize..40, 1usize..40, 1usize..20).prop_flat_map(|(n, m, d)| {
        let row = proptest::collection::vec(-1.0f64..1.0, d).prop_filter("no near-zero row", |r| {
            r.iter().map(|x| x * x).sum::<f64>() > 1e-6
        });
        (
            proptest::collection::vec(row.clone(), n),
            proptest::collection::vec(row, m),
        )
            .prop_map(move |(a, b)| (n, m, d, a.concat(), b.concat()))
    })
}

/// The cosine matrix row-major, as numpy's `a @ b.T` (nalgebra's is column-major).
fn matrix<A: Modality, B: Modality>(
    a: &UnitEmbeddings<f64, A>,
    b: &UnitEmbeddings<f64, B>,
) -> Vec<f64> {
    let s = pairwise_cosine(a, b).unwrap();
    assert_eq!(s.shape(), (a.len(), b.len()));
    s.transpose().as_slice().to_vec()
}

/// numpy's default (linear) quantile of sorted values.
fn linear_quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    sorted[below] + (position - below as f64) * (sorted[above] - sorted[below])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The matrix is aᵢ·bⱼ to the rounding of a d-term f64 sum of products of unit rows.
    #[test]
    fn the_matrix_holds_every_dot_product((n, m, d, a, b) in two_sets()) {
        let (x, y) = (unit::<f64, Image>(n, d, &a), unit::<f64, Text>(m, d, &b));
        let s = matrix(&x, &y);
        for i in 0..n {
            for j in 0..m {
                let exact: f64 = x.row(i).iter().zip(y.row(j)).map(|(p, q)| p * q).sum();
                assert_close(s[i * m + j], exact, F64, "matrix entry");
            }
        }
    }

    /// top_k is the first k of each row of the matrix sorted by (similarity, index) descending,
    /// and retrieval R@K agrees with it (ranks and top-k are two epilogues of one kernel).
    #[test]
    fn top_k_sorts_each_row_and_agrees_with_retrieval((n, m, d, a, b) in two_sets(), k in 1usize..8) {
        let (x, y) = (unit::<f64, Image>(n, d, &a), unit::<f64, Text>(m, d, &b));
        let s = matrix(&x, &y);
        let best = top_k(&x, &y, k).unwrap();
        prop_assert_eq!(best.len(), n);
        for i in 0..n {
            let mut order: Vec<usize> = (0..m).collect();
            order.sort_by(|&p, &q| s[i * m + q].total_cmp(&s[i * m + p]).then(q.cmp(&p)));
            order.truncate(k);
            prop_assert_eq!(best.indices(i), &order[..]);
            let sims: Vec<f64> = order.iter().map(|&j| s[i * m + j]).collect();
            prop_assert_eq!(best.similarities(i), &sims[..]);
        }
        if n == m {
            let hits = (0..n).filter(|&i| best.indices(i).contains(&i)).count();
            let recall = retrieval_recall(&x, &y, k).unwrap().a_to_b;
            prop_assert_eq!(recall, hits as f64 / n as f64);
            // One pass of ranks gives every K: the same recall, and ranks against the matrix.
            let ranks = retrieval_ranks(&x, &y).unwrap();
            prop_assert_eq!(ranks.recall(k).unwrap(), retrieval_recall(&x, &y, k).unwrap());
            for i in 0..n {
                let above = (0..n).filter(|&j| s[i * n + j] > s[i * n + i] || (s[i * n + j] == s[i * n + i] && j > i)).count();
                prop_assert_eq!(ranks.a_to_b()[i], above as u64);
                let above = (0..n).filter(|&r| s[r * n + i] > s[i * n + i] || (s[r * n + i] == s[i * n + i] && r > i)).count();
                prop_assert_eq!(ranks.b_to_a()[i], above as u64);
            }
        }
    }

    /// The exact quantiles are the order statistics of the matrix's entries, interpolated as
    /// numpy's default: within one ulp-scale rounding of the interpolation.
    #[test]
    fn exact_quantiles_are_the_sorted_similarities((n, m, d, a, b) in two_sets(), qs in prop::collection::vec(0.0f64..=1.0, 1..6)) {
        let (x, y) = (unit::<f64, Image>(n, d, &a), unit::<f64, Text>(m, d, &b));
        let mut between = matrix(&x, &y);
        between.sort_by(f64::total_cmp);
        let got = cosine_quantiles_between(&x, &y, &qs).unwrap();
        for (&q, &v) in qs.iter().zip(&got) {
            assert_close(v, linear_quantile(&between, q), ULPS, &format!("between q = {q}"));
        }
        prop_assert_eq!(cosine_quantiles_between(&x, &y, &[0.0, 1.0]).unwrap(), vec![between[0], between[n * m - 1]]);
        if n >= 2 {
            let s = matrix(&x, &x);
            let mut within: Vec<f64> = (0..n).flat_map(|i| (i + 1..n).map(move |j| (i, j))).map(|(i, j)| s[i * n + j]).collect();
            within.sort_by(f64::total_cmp);
            let got = cosine_quantiles_within(&x, &qs).unwrap();
            for (&q, &v) in qs.iter().zip(&got) {
                assert_close(v, linear_quantile(&within, q), ULPS, &format!("within q = {q}"));
            }
        }
    }

    /// Counts, moments and quantiles of the pairs i < j against brute force over the matrix.
    #[test]
    fn the_histogram_counts_every_pair_once((n, _, d, a, _) in two_sets(), bins in 1usize..300) {
        prop_assume!(n >= 2);
        let x = unit::<f64, Image>(n, d, &a);
        let s = matrix(&x, &x);
        let mut values: Vec<f64> = (0..n).flat_map(|i| (i + 1..n).map(move |j| (i, j))).map(|(i, j)| s[i * n + j]).collect();
        let h = CosineHistogram::within(&x, bins).unwrap();
        let mut expected = vec![0u64; bins];
        for &v in &values {
            let b = (((v + 1.0) * bins as f64 / 2.0).max(0.0) as usize).min(bins - 1);
            expected[b] += 1;
        }
        prop_assert_eq!(h.counts(), &expected[..]);
        prop_assert_eq!(h.pair_count() as usize, values.len());
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        assert_close(h.mean(), mean, F64, "mean");
        if values.len() > 1 {
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (values.len() - 1) as f64;
            assert_close(h.std().unwrap(), var.sqrt(), F64, "std");
        } else {
            prop_assert_eq!(h.std(), None);
        }
        values.sort_by(f64::total_cmp);
        prop_assert_eq!((h.min(), h.max()), (values[0], values[values.len() - 1]));
        let width = 2.0 / bins as f64;
        for q in [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0] {
            let exact = linear_quantile(&values, q);
            let (lo, hi) = h.quantile_bounds(q).unwrap();
            prop_assert!(lo <= exact && exact <= hi, "q {}: {} not in [{}, {}]", q, exact, lo, hi);
            let estimate = h.quantile(q).unwrap();
            prop_assert!((estimate - exact).abs() <= width, "q {}: {} vs {}", q, estimate, exact);
        }
        prop_assert_eq!(h.quantile(0.0).unwrap(), values[0]);
        prop_assert_eq!(h.quantile(1.0).unwrap(), values[values.len() - 1]);
    }

    /// Between two sets, every one of the n·m pairs is counted, with mean mean(a)·mean(b).
    #[test]
    fn the_histogram_between_two_sets_counts_all_pairs((n, m, d, a, b) in two_sets()) {
        let (x, y) = (unit::<f64, Image>(n, d, &a), unit::<f64, Text>(m, d, &b));
        let s = matrix(&x, &y);
        let h = CosineHistogram::between(&x, &y, 64).unwrap();
        prop_assert_eq!(h.pair_count() as usize, n * m);
        assert_close(h.mean(), s.iter().sum::<f64>() / s.len() as f64, F64, "mean");
        prop_assert_eq!(h.min(), s.iter().copied().fold(f64::INFINITY, f64::min));
        prop_assert_eq!(h.max(), s.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    }
}

#[test]
fn bad_arguments_are_errors() {
    let a = unit::<f64, Image>(2, 2, &[1.0, 0.0, 0.0, 1.0]);
    let b = unit::<f64, Text>(1, 3, &[1.0, 0.0, 0.0]);
    let one = unit::<f64, Image>(1, 2, &[1.0, 1.0]);
    assert!(matches!(
        pairwise_cosine(&a, &b),
        Err(Error::DimensionMismatch {
            expected: 2,
            found: 3
        })
    ));
    assert!(matches!(
        top_k(&a, &b, 1),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        top_k(&a, &a, 0),
        Err(Error::InvalidParameter { name: "k", .. })
    ));
    assert!(matches!(
        CosineHistogram::within(&one, 10),
        Err(Error::TooFewSamples {
            required: 2,
            found: 1
        })
    ));
    assert!(matches!(
        CosineHistogram::between(&a, &b, 10),
        Err(Error::DimensionMismatch { .. })
    ));
    for bins in [0, (1 << 24) + 1] {
        assert!(matches!(
            CosineHistogram::within(&a, bins),
            Err(Error::InvalidParameter { name: "bins", .. })
        ));
    }
    let h = CosineHistogram::within(&a, 10).unwrap();
    for q in [-0.1, 1.5, f64::NAN] {
        assert!(matches!(
            h.quantile(q),
            Err(Error::InvalidParameter { name: "q", .. })
        ));
        assert!(matches!(
            h.quantile_bounds(q),
            Err(Error::InvalidParameter { name: "q", .. })
        ));
    }
    for q in [-0.1, 1.5, f64::NAN] {
        assert!(matches!(
            cosine_quantiles_within(&a, &[0.5, q]),
            Err(Error::InvalidParameter { name: "q", .. })
        ));
    }
    assert!(matches!(
        cosine_quantiles_within(&one, &[0.5]),
        Err(Error::TooFewSamples {
            required: 2,
            found: 1
        })
    ));
    assert!(matches!(
        cosine_quantiles_between(&a, &b, &[0.5]),
        Err(Error::DimensionMismatch { .. })
    ));
}

#[test]
fn top_k_wider_than_the_keys_returns_every_key() {
    let a = unit::<f64, Image>(1, 2, &[1.0, 0.0]);
    let keys = unit::<f64, Text>(3, 2, &[0.0, 1.0, 1.0, 0.0, 1.0, 0.0]);
    let best = top_k(&a, &keys, 10).unwrap();
    // Keys 1 and 2 tie at similarity 1: the larger index ranks first.
    assert_eq!(best.indices(0), &[2, 1, 0]);
    assert_eq!(best.similarities(0), &[1.0, 1.0, 0.0]);
}

/// On the published CLIP pairs (embedded), the exact quantiles equal numpy's
/// `np.quantile(S[np.triu_indices(500, 1)], [0.1, 0.5, 0.9])` of the f64 rows and
/// `np.quantile(A @ T.T, 0.5)` (values printed by numpy 2, 17 digits): the order statistics
/// differ from numpy's only by the summation order of a 512-term dot product.
#[test]
fn exact_quantiles_of_the_clip_cosines_match_numpy() {
    static CLIP: &[u8] = include_bytes!("../data/features_clip.npy");
    let (a, t) = modality_gap::npy::read_pair_from::<f64, Image, Text, _>(CLIP).unwrap();
    let (a, t) = (
        UnitEmbeddings::normalize(a).unwrap(),
        UnitEmbeddings::normalize(t).unwrap(),
    );
    let within = cosine_quantiles_within(&a, &[0.1, 0.5, 0.9]).unwrap();
    for (got, numpy) in within.iter().zip(NUMPY_WITHIN) {
        assert_close(*got, numpy, F64, "CLIP image cosines");
    }
    let between = cosine_quantiles_between(&a, &t, &[0.5]).unwrap();
    assert_close(
        between[0],
        NUMPY_BETWEEN_MEDIAN,
        F64,
        "CLIP image-text median",
    );
    // The histogram's bounds contain the exact median.
    let (lo, hi) = CosineHistogram::within(&a, 2000)
        .unwrap()
        .quantile_bounds(0.5)
        .unwrap();
    assert!(lo <= within[1] && within[1] <= hi);
}

/// numpy 2.4 on `data/features_clip.npy` (f64 rows, renormalised): the 0.1, 0.5 and 0.9
/// quantiles of the image–image cosines i < j.
const NUMPY_WITHIN: [f64; 3] = [0.41934180377597663, 0.5234372159105023, 0.6545084087438602];
/// The median of the 500 × 500 image–text cosines.
const NUMPY_BETWEEN_MEDIAN: f64 = 0.15591240253883032;
