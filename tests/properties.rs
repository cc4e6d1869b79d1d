//! Property tests: the laws the metrics obey on random shapes and values.

use crate::common;

use common::{
    F32, F64, LARGE_LOGITS, ROTATED, ULPS, UNIFORMITY_BEYOND_BOUND, assert_all_close, assert_close,
    assert_relative, orthogonal, rotated, shaped_rows, temperature, unit,
};
use modality_gap::{
    Diagonal, Embeddings, Error, Image, Modality, Scalar, Text, UnitEmbeddings, align_loss,
    batched_contrastive_loss, centroid, contrastive_loss, contrastive_loss_with_targets, gap,
    mean_pairwise_cosine, raw, uniform_loss,
};
use proptest::prelude::*;

/// Two sets with the same n and d.
fn paired_rows() -> impl Strategy<Value = (usize, usize, Vec<f64>, Vec<f64>)> {
    (2usize..24, 1usize..12).prop_flat_map(|(n, d)| {
        (
            shaped_rows(n..n + 1, d..d + 1),
            shaped_rows(n..n + 1, d..d + 1),
        )
            .prop_map(|((n, d, a), (_, _, b))| (n, d, a, b))
    })
}

/// The rows of a row-major buffer in the order `perm`.
fn permuted(d: usize, v: &[f64], perm: &[usize]) -> Vec<f64> {
    perm.iter()
        .flat_map(|&i| v[i * d..(i + 1) * d].to_vec())
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
    fn gap_of_a_set_with_itself_is_zero((n, d, v) in shaped_rows(1..30, 1..16)) {
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
    fn normalising_is_independent_of_magnitude((n, d, v) in shaped_rows(1..8, 1..16), exponent in -300i32..300) {
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
        (n, d, noise) in shaped_rows(2..30, 2..16),
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
    fn cone_is_in_range_and_equals_the_quadratic_definition((n, d, v) in shaped_rows(2..40, 1..16)) {
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
    fn raw_uniformity_lies_within_its_rounding_bound_or_is_unresolved(
        (n, d, v) in shaped_rows(2..30, 1..16),
        outlier in 0.0f64..12.0,
        t in 0.01f64..10.0,
    ) {
        // Row 0 pushed out to about 10^outlier: the close pairs' squared distances become
        // differences of large squared norms, in f32 and in f64.
        let mut v = v;
        v[..d].iter_mut().for_each(|e| *e = (*e + 2.0) * 10f64.powf(outlier));
        check_raw_uniformity(&Embeddings::<f64, Image>::from_row_major_slice(n, d, &v).unwrap(), t);
        let v32: Vec<f32> = v.iter().map(|&e| e as f32).collect();
        check_raw_uniformity(&Embeddings::<f32, Image>::from_row_major_slice(n, d, &v32).unwrap(), t);
    }

    #[test]
    fn uniformity_lies_between_minus_4t_and_0((n, d, v) in shaped_rows(2..40, 1..16), t in 0.01f64..10.0) {
        let x = unit::<f64, Image>(n, d, &v);
        let u = uniform_loss(&x, t).unwrap();
        prop_assert!(u <= 0.0 && u >= -4.0 * t * (1.0 + ULPS), "{u} for t = {t}");
    }

    #[test]
    fn uniformity_of_identical_rows_is_zero((_, d, v) in shaped_rows(1..2, 1..16), n in 2usize..20, t in 0.01f64..10.0) {
        let x = unit::<f64, Image>(n, d, &v.repeat(n));
        prop_assert_eq!(uniform_loss(&x, t).unwrap(), 0.0);
    }

    #[test]
    /// Rows that `verify_unit` accepts off the sphere (norms up to 3) and logit scales up to
    /// 2000: the loss still equals its definition (no term lost to a shift chosen for unit
    /// rows).
    #[test]
    fn contrastive_loss_equals_its_definition_off_the_sphere_and_at_any_scale(
        (n, d, a, b) in paired_rows(),
        scale in prop_oneof![Just(1.0), Just(100.0), Just(349.0), Just(351.0), Just(2000.0)],
    ) {
        let accept = |v: &[f64]| {
            let x = Embeddings::<f64, Image>::from_row_major_vec(n, d, v.to_vec()).unwrap();
            UnitEmbeddings::verify_unit(x, 3.0).unwrap()
        };
        let (x, y) = (accept(&a), accept(&b).with_modality::<Text>());
        let loss = contrastive_loss(&x, &y, temperature(1.0 / scale)).unwrap();
        let logit = |i: usize, j: usize| {
            scale * x.row(i).iter().zip(y.row(j)).map(|(p, q)| p * q).sum::<f64>()
        };
        let lse = |z: Vec<f64>| {
            let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
        };
        let rows: f64 = (0..n).map(|i| lse((0..n).map(|j| logit(i, j)).collect()) - logit(i, i)).sum();
        let cols: f64 = (0..n).map(|j| lse((0..n).map(|i| logit(i, j)).collect()) - logit(j, j)).sum();
        assert_close(loss.a_to_b, rows / n as f64, LARGE_LOGITS, "rows");
        assert_close(loss.b_to_a, cols / n as f64, LARGE_LOGITS, "columns");
    }

    #[test]
    fn the_loss_with_identity_targets_is_the_loss((n, d, a, b) in paired_rows(), tau in 0.01f64..2.0) {
        let (x, y) = (unit::<f64, Image>(n, d, &a), unit::<f64, Text>(n, d, &b));
        let identity: Vec<usize> = (0..n).collect();
        prop_assert_eq!(
            contrastive_loss_with_targets(&x, &y, temperature(tau), &identity).unwrap(),
            contrastive_loss(&x, &y, temperature(tau)).unwrap()
        );
    }

    #[test]
    fn the_loss_with_targets_equals_its_definition(
        (n, d, a, b) in paired_rows(),
        tau in 0.05f64..2.0,
        seed in any::<u64>(),
    ) {
        let (x, y) = (unit::<f64, Image>(n, d, &a), unit::<f64, Text>(n, d, &b));
        let targets: Vec<usize> = (0..n).map(|i| (seed as usize).wrapping_mul(i + 7) % n).collect();
        let got = contrastive_loss_with_targets(&x, &y, temperature(tau), &targets).unwrap();
        let z = |i: usize, j: usize| x.row(i).iter().zip(y.row(j)).map(|(p, q)| p * q).sum::<f64>() / tau;
        let lse = |v: Vec<f64>| {
            let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            m + v.iter().map(|t| (t - m).exp()).sum::<f64>().ln()
        };
        let rows = (0..n).map(|i| lse((0..n).map(|j| z(i, j)).collect()) - z(i, targets[i])).sum::<f64>() / n as f64;
        let cols = (0..n).map(|j| lse((0..n).map(|i| z(i, j)).collect()) - z(targets[j], j)).sum::<f64>() / n as f64;
        assert_close(got.a_to_b, rows, LARGE_LOGITS, "rows");
        assert_close(got.b_to_a, cols, LARGE_LOGITS, "columns");
    }

    #[test]
    fn the_batched_loss_is_the_mean_of_the_batches_losses(
        (n, d, a, b) in paired_rows(),
        size in 1usize..8,
        tau in 0.05f64..2.0,
    ) {
        prop_assume!(size <= n);
        let (x, y) = (unit::<f64, Image>(n, d, &a), unit::<f64, Text>(n, d, &b));
        let batched = batched_contrastive_loss(&x, &y, temperature(tau), size).unwrap();
        let batches = n / size;
        let mut mean = 0.0;
        for k in 0..batches {
            let slice = |v: &[f64]| v[k * size * d..(k + 1) * size * d].to_vec();
            let xs = unit::<f64, Image>(size, d, &slice(x.as_slice()));
            let ys = unit::<f64, Text>(size, d, &slice(y.as_slice()));
            mean += contrastive_loss(&xs, &ys, temperature(tau)).unwrap().symmetric / batches as f64;
        }
        assert_close(batched.symmetric, mean, F64, "batched mean");
        prop_assert_eq!(batched_contrastive_loss(&x, &y, temperature(tau), n).unwrap(), contrastive_loss(&x, &y, temperature(tau)).unwrap());
    }

    #[test]
    fn the_gap_is_the_difference_of_the_centroids((n, d, a, b) in paired_rows()) {
        let (x, y) = (unit::<f64, Image>(n, d, &a), unit::<f64, Text>(n, d, &b));
        let difference: Vec<f64> = centroid(&x).iter().zip(centroid(&y)).map(|(p, q)| p - q).collect();
        let g = gap(&x, &y).unwrap();
        prop_assert_eq!(g.vector(), &difference[..]);
        let plain: Vec<f64> = (0..d).map(|k| x.rows().map(|r| r[k]).sum::<f64>() / n as f64).collect();
        assert_all_close(&centroid(&x), &plain, F64, "centroid");
    }

    #[test]
    fn normalising_returns_the_norms_it_divided_by((n, d, v) in shaped_rows(1..12, 1..16)) {
        let x = Embeddings::<f64, Image>::from_row_major_vec(n, d, v.clone()).unwrap();
        let (unit_rows, norms) = UnitEmbeddings::normalize_and_get(x.clone()).unwrap();
        prop_assert_eq!(&unit_rows, &UnitEmbeddings::normalize(x).unwrap());
        for (row, &norm) in v.chunks(d).zip(&norms) {
            assert_relative(norm, row.iter().map(|c| c * c).sum::<f64>().sqrt(), ULPS, "norm");
        }
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
fn uniformity_by_definition<T: Scalar, M: Modality>(x: &Embeddings<T, M>, t: f64) -> f64 {
    let rows: Vec<&[T]> = x.rows().collect();
    let mut z = Vec::new();
    for (i, a) in rows.iter().enumerate() {
        for b in &rows[i + 1..] {
            let difference = |(p, q): (&T, &T)| (p.to_f64() - q.to_f64()).powi(2);
            z.push(-t * a.iter().zip(*b).map(difference).sum::<f64>());
        }
    }
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let excess = z.iter().map(|v| (v - max).exp_m1()).sum::<f64>() / z.len() as f64;
    max + excess.ln_1p()
}

/// `raw::uniform_loss(x, t)` is within the crate's bound t·5(d + 8)·u·max‖xᵢ − x̄‖² on the Gram
/// identity's rounding (and [`UNIFORMITY_BEYOND_BOUND`]) of its definition, or, exactly when
/// that bound passes 1, `Unresolved` with it.
fn check_raw_uniformity<T: Scalar, M: Modality>(x: &Embeddings<T, M>, t: f64) {
    let (n, d) = x.shape();
    let rows: Vec<&[T]> = x.rows().collect();
    let mean: Vec<f64> = (0..d)
        .map(|k| rows.iter().map(|r| r[k].to_f64()).sum::<f64>() / n as f64)
        .collect();
    let farthest = rows
        .iter()
        .map(|r| {
            r.iter()
                .zip(&mean)
                .map(|(e, m)| (e.to_f64() - m).powi(2))
                .sum::<f64>()
        })
        .fold(0.0, f64::max);
    let u = common::unit_roundoff::<T>();
    let bound = 5.0 * (d as f64 + 8.0) * u * farthest * t;
    match raw::uniform_loss(x, t) {
        Ok(value) => {
            // The bound computed here and the crate's differ only in how the squares are summed.
            assert!(bound <= 1.0 + 1e-9, "{bound}");
            let exact = uniformity_by_definition(x, t);
            let off = (value - exact).abs();
            assert!(
                off <= bound + UNIFORMITY_BEYOND_BOUND,
                "{value} vs {exact}: {off:e} > {bound:e}"
            );
        }
        Err(Error::Unresolved { bound: given, .. }) => {
            assert!(given > 1.0 && bound >= 1.0 - 1e-9, "{given} {bound}");
            assert_relative(given, bound, F64, "bound");
        }
        Err(other) => panic!("{other}"),
    }
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
        contrastive_loss(a, b, temperature(0.1)).unwrap(),
        contrastive_loss(a2, b2, temperature(0.1)).unwrap(),
    );
    assert_all_close(
        &[l.symmetric, l.a_to_b, l.b_to_a],
        &[l2.symmetric, l2.a_to_b, l2.b_to_a],
        tol,
        "contrastive",
    );
}
