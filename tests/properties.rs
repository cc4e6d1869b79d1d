//! Property tests: the laws the metrics obey on random shapes and values.

mod common;

use common::{
    F32, F64, LARGE_LOGITS, ROTATED, ULPS, assert_all_close, assert_close, assert_relative,
};
use modality_gap::{
    Diagonal, Embeddings, Image, Modality, Text, UnitEmbeddings, align_loss, contrastive_loss, gap,
    mean_pairwise_cosine, uniform_loss,
};
use nalgebra::DMatrix;
use proptest::prelude::*;

/// n × d row-major values in [−1, 1] with no row of norm below 1e-3.
fn rows(
    n: std::ops::Range<usize>,
    d: std::ops::Range<usize>,
) -> impl Strategy<Value = (usize, usize, Vec<f64>)> {
    (n, d).prop_flat_map(|(n, d)| {
        proptest::collection::vec(-1.0f64..1.0, n * d)
            .prop_filter("no near-zero row", move |v| {
                v.chunks(d)
                    .all(|r| r.iter().map(|x| x * x).sum::<f64>() > 1e-6)
            })
            .prop_map(move |v| (n, d, v))
    })
}

/// Two sets with the same n and d.
fn paired_rows() -> impl Strategy<Value = (usize, usize, Vec<f64>, Vec<f64>)> {
    (2usize..24, 1usize..12).prop_flat_map(|(n, d)| {
        (rows(n..n + 1, d..d + 1), rows(n..n + 1, d..d + 1))
            .prop_map(|((n, d, a), (_, _, b))| (n, d, a, b))
    })
}

fn unit<T: modality_gap::Scalar, M: Modality>(
    n: usize,
    d: usize,
    v: &[f64],
) -> UnitEmbeddings<T, M> {
    let values = v.iter().map(|&x| T::from_f64(x)).collect();
    UnitEmbeddings::normalize(Embeddings::from_row_major_vec(n, d, values).unwrap()).unwrap()
}

/// The rows of a row-major buffer in the order `perm`.
fn permuted(d: usize, v: &[f64], perm: &[usize]) -> Vec<f64> {
    perm.iter()
        .flat_map(|&i| v[i * d..(i + 1) * d].to_vec())
        .collect()
}

/// A random orthogonal d × d matrix: the Q factor of a matrix with entries from `seed`.
fn orthogonal(d: usize, seed: &[f64]) -> DMatrix<f64> {
    DMatrix::from_fn(d, d, |i, j| {
        seed[(i * d + j) % seed.len()] + if i == j { 2.0 } else { 0.0 }
    })
    .qr()
    .q()
}

/// Each row x ↦ Q x.
fn rotated(d: usize, v: &[f64], q: &DMatrix<f64>) -> Vec<f64> {
    v.chunks(d)
        .flat_map(|r| {
            (q * nalgebra::DVector::from_column_slice(r))
                .as_slice()
                .to_vec()
        })
        .collect()
}

/// The O(n²) definition of the mean pairwise cosine.
fn cone_by_definition<M: Modality>(x: &UnitEmbeddings<f64, M>, diagonal: Diagonal) -> f64 {
    let (mut sum, mut count) = (0.0, 0.0);
    for (i, a) in x.rows().enumerate() {
        for (j, b) in x.rows().enumerate() {
            if i != j || diagonal == Diagonal::Included {
                sum += a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
                count += 1.0;
            }
        }
    }
    sum / count
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn gap_of_a_set_with_itself_is_zero((n, d, v) in rows(1..30, 1..16)) {
        let x = unit::<f64, Image>(n, d, &v);
        let g = gap(&x, &x).unwrap();
        prop_assert!(g.vector().iter().all(|&c| c == 0.0));
        prop_assert_eq!(g.distance(), 0.0);
        // The same rows in reverse order, summed in another order: zero up to rounding.
        let reversed: Vec<usize> = (0..n).rev().collect();
        let y = unit::<f64, Text>(n, d, &permuted(d, &v, &reversed));
        prop_assert!(gap(&x, &y).unwrap().distance() <= F64);
    }

    #[test]
    fn normalising_is_independent_of_magnitude((n, d, v) in rows(1..8, 1..16), exponent in -300i32..300) {
        let scaled: Vec<f64> = v.iter().map(|x| x * 10f64.powi(exponent)).collect();
        let (x, y) = (unit::<f64, Image>(n, d, &v), unit::<f64, Image>(n, d, &scaled));
        for (a, b) in x.rows().zip(y.rows()) {
            let norm = b.iter().map(|c| c * c).sum::<f64>().sqrt();
            prop_assert!((norm - 1.0).abs() <= ULPS, "norm {norm} at 1e{exponent}");
            for (p, q) in a.iter().zip(b) {
                prop_assert!((p - q).abs() <= ULPS, "{p} vs {q} at 1e{exponent}");
            }
        }
    }

    #[test]
    fn uniformity_of_a_tight_cluster_equals_its_definition(
        (n, d, noise) in rows(2..30, 2..16),
        spread in -7i32..-1,
        t in 0.5f64..4.0,
    ) {
        // Rows 10^spread apart around one direction: cancellation-prone for a naive Gram form.
        let centre: Vec<f64> = (0..d).map(|k| 1.0 + k as f64).collect();
        let v: Vec<f64> = noise.iter().enumerate()
            .map(|(k, e)| centre[k % d] + e * 10f64.powi(spread)).collect();
        let x = unit::<f64, Image>(n, d, &v);
        let exact = uniformity_by_definition(&x, t);
        assert_relative(uniform_loss(&x, t).unwrap(), exact, F64, "tight cluster");
    }

    #[test]
    fn gap_is_antisymmetric((n, d, a, b) in paired_rows()) {
        let (a, b) = (unit::<f64, Image>(n, d, &a), unit::<f64, Text>(n, d, &b));
        let (ab, ba) = (gap(&a, &b).unwrap(), gap(&b, &a).unwrap());
        let negated: Vec<f64> = ba.vector().iter().map(|c| -c).collect();
        prop_assert_eq!(ab.vector(), &negated[..]);
        prop_assert_eq!(ab.distance(), ba.distance());
    }

    #[test]
    fn metrics_are_invariant_under_row_permutation(
        (n, d, a, b) in paired_rows(),
        shuffle in any::<u64>(),
    ) {
        let mut perm: Vec<usize> = (0..n).collect();
        // A seeded Fisher–Yates shuffle.
        let mut state = shuffle | 1;
        for i in (1..n).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            perm.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let (pa, pb) = (permuted(d, &a, &perm), permuted(d, &b, &perm));
        let (a, b) = (unit::<f64, Image>(n, d, &a), unit::<f64, Text>(n, d, &b));
        let (pa, pb) = (unit::<f64, Image>(n, d, &pa), unit::<f64, Text>(n, d, &pb));
        check_same_metrics(&a, &b, &pa, &pb, F64);
    }

    #[test]
    fn metrics_are_invariant_under_one_rotation_of_both_sets(
        (n, d, a, b) in paired_rows(),
        seed in proptest::collection::vec(-1.0f64..1.0, 1..64),
    ) {
        let q = orthogonal(d, &seed);
        let (ra, rb) = (rotated(d, &a, &q), rotated(d, &b, &q));
        let (a, b) = (unit::<f64, Image>(n, d, &a), unit::<f64, Text>(n, d, &b));
        let (ra, rb) = (unit::<f64, Image>(n, d, &ra), unit::<f64, Text>(n, d, &rb));
        check_same_metrics(&a, &b, &ra, &rb, ROTATED);
    }

    #[test]
    fn cone_is_in_range_and_equals_the_quadratic_definition((n, d, v) in rows(2..40, 1..16)) {
        let x = unit::<f64, Image>(n, d, &v);
        for diagonal in [Diagonal::Excluded, Diagonal::Included] {
            let fast = mean_pairwise_cosine(&x, diagonal).unwrap();
            prop_assert!((-1.0..=1.0).contains(&fast), "{fast}");
            assert_close(fast, cone_by_definition(&x, diagonal), F64, "cone vs O(n²)");
        }
    }

    #[test]
    fn alignment_lies_in_its_range_and_equals_the_dot_product_form_at_alpha_2(
        (n, d, a, b) in paired_rows(),
        alpha in 0.05f64..4.0,
    ) {
        let (a, b) = (unit::<f64, Image>(n, d, &a), unit::<f64, Text>(n, d, &b));
        let value = align_loss(&a, &b, alpha).unwrap();
        prop_assert!(value >= 0.0 && value <= 2f64.powf(alpha) * (1.0 + ULPS), "{value}");
        let mean_dot = a.rows().zip(b.rows())
            .map(|(x, y)| x.iter().zip(y).map(|(p, q)| p * q).sum::<f64>())
            .sum::<f64>() / n as f64;
        assert_close(align_loss(&a, &b, 2.0).unwrap(), 2.0 - 2.0 * mean_dot, F64, "α = 2");
    }

    #[test]
    fn uniformity_lies_between_minus_4t_and_0((n, d, v) in rows(2..40, 1..16), t in 0.01f64..10.0) {
        let x = unit::<f64, Image>(n, d, &v);
        let u = uniform_loss(&x, t).unwrap();
        prop_assert!(u <= 0.0 && u >= -4.0 * t * (1.0 + ULPS), "{u} for t = {t}");
    }

    #[test]
    fn uniformity_of_identical_rows_is_zero((_, d, v) in rows(1..2, 1..16), n in 2usize..20, t in 0.01f64..10.0) {
        let x = unit::<f64, Image>(n, d, &v.repeat(n));
        prop_assert_eq!(uniform_loss(&x, t).unwrap(), 0.0);
    }

    #[test]
    /// Rows that `try_from_unit` accepts off the sphere (norms up to 3) and logit scales up to
    /// 2000: the loss still equals its definition (no term lost to a shift chosen for unit
    /// rows).
    #[test]
    fn contrastive_loss_equals_its_definition_off_the_sphere_and_at_any_scale(
        (n, d, a, b) in paired_rows(),
        scale in prop_oneof![Just(1.0), Just(100.0), Just(349.0), Just(351.0), Just(2000.0)],
    ) {
        let accept = |v: &[f64]| {
            let x = Embeddings::<f64, Image>::from_row_major_vec(n, d, v.to_vec()).unwrap();
            UnitEmbeddings::try_from_unit(x, 3.0).unwrap()
        };
        let (x, y) = (accept(&a), accept(&b).with_modality::<Text>());
        let loss = contrastive_loss(&x, &y, 1.0 / scale).unwrap();
        let logit = |i: usize, j: usize| {
            scale * x.row(i).iter().zip(y.row(j)).map(|(p, q)| p * q).sum::<f64>()
        };
        let lse = |z: Vec<f64>| {
            let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
        };
        let rows: f64 = (0..n).map(|i| lse((0..n).map(|j| logit(i, j)).collect()) - logit(i, i)).sum();
        let cols: f64 = (0..n).map(|j| lse((0..n).map(|i| logit(i, j)).collect()) - logit(j, j)).sum();
        assert_close(loss.image_to_text, rows / n as f64, LARGE_LOGITS, "rows");
        assert_close(loss.text_to_image, cols / n as f64, LARGE_LOGITS, "columns");
    }

    #[test]
    fn f32_input_agrees_with_f64_input((n, d, a, b) in paired_rows()) {
        let (a32, b32) = (unit::<f32, Image>(n, d, &a), unit::<f32, Text>(n, d, &b));
        let (a64, b64) = (unit::<f64, Image>(n, d, &a), unit::<f64, Text>(n, d, &b));
        check_same_metrics(&a32, &b32, &a64, &b64, F32);
    }
}

/// log((2/(n(n−1))) Σ_{i<j} exp(−t‖xᵢ − xⱼ‖²)) from explicit differences, with the mean taken
/// as 1 + mean(expm1(·)) so that a tight cluster keeps its relative precision.
fn uniformity_by_definition<M: Modality>(x: &UnitEmbeddings<f64, M>, t: f64) -> f64 {
    let rows: Vec<&[f64]> = x.rows().collect();
    let mut z = Vec::new();
    for (i, a) in rows.iter().enumerate() {
        for b in &rows[i + 1..] {
            z.push(-t * a.iter().zip(*b).map(|(p, q)| (p - q).powi(2)).sum::<f64>());
        }
    }
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let excess = z.iter().map(|v| (v - max).exp_m1()).sum::<f64>() / z.len() as f64;
    max + excess.ln_1p()
}

/// Every metric of (a, b) equals that of (a2, b2) within `tol` (abs or rel).
fn check_same_metrics<T: modality_gap::Scalar, U: modality_gap::Scalar>(
    a: &UnitEmbeddings<T, Image>,
    b: &UnitEmbeddings<T, Text>,
    a2: &UnitEmbeddings<U, Image>,
    b2: &UnitEmbeddings<U, Text>,
    tol: f64,
) {
    assert_close(
        gap(a, b).unwrap().distance(),
        gap(a2, b2).unwrap().distance(),
        tol,
        "gap",
    );
    for diagonal in [Diagonal::Excluded, Diagonal::Included] {
        let (x, y) = (
            mean_pairwise_cosine(a, diagonal),
            mean_pairwise_cosine(a2, diagonal),
        );
        assert_close(x.unwrap(), y.unwrap(), tol, "cone");
    }
    assert_close(
        align_loss(a, b, 2.0).unwrap(),
        align_loss(a2, b2, 2.0).unwrap(),
        tol,
        "align",
    );
    assert_close(
        uniform_loss(a, 2.0).unwrap(),
        uniform_loss(a2, 2.0).unwrap(),
        tol,
        "uniform",
    );
    let (l, l2) = (
        contrastive_loss(a, b, 0.1).unwrap(),
        contrastive_loss(a2, b2, 0.1).unwrap(),
    );
    assert_all_close(
        &[l.symmetric, l.image_to_text, l.text_to_image],
        &[l2.symmetric, l2.image_to_text, l2.text_to_image],
        tol,
        "contrastive",
    );
}
