//! The contrastive loss's two-pass jackknife against the loss recomputed without each pair,
//! and its one-pass grouped jackknife against the loss recomputed without each run of pairs.

use crate::common;

use common::{
    JACKKNIFE, JACKKNIFE_F32_CONTRASTIVE, assert_same_jackknife, random_unit, temperature,
};
use modality_gap::{
    Error, Image, Jackknife, Method, Result, Scalar, Temperature, Text, UnitEmbeddings,
    contrastive_loss, jackknife,
};

/// The symmetric loss of the pairs `keep`.
fn loss_on<'s, T: Scalar>(
    a: &'s UnitEmbeddings<T, Image>,
    b: &'s UnitEmbeddings<T, Text>,
    t: Temperature,
) -> impl Fn(&[usize]) -> Result<f64> + Sync + 's {
    move |keep| Ok(contrastive_loss(&a.select(keep)?, &b.select(keep)?, t)?.symmetric)
}

/// A jackknife against the brute-force one: the same value (the metric's, to the bit, since
/// brute force evaluates the metric on all pairs), and leave-out values and standard errors
/// at the tolerance of `T`.
fn assert_agrees<T: Scalar>(fast: &Jackknife, brute: &Jackknife, what: &str) {
    assert_eq!(fast.value(), brute.value(), "{what}: value");
    let tol = if T::NAME == "f32" {
        JACKKNIFE_F32_CONTRASTIVE
    } else {
        JACKKNIFE
    };
    assert_same_jackknife(fast, brute, tol, what);
}

/// Spread-out pairs and pairs in a cone (large shares off the diagonal), at CLIP's τ and a
/// warmer one, in sizes on both sides of the kernel's tiles.
fn matches_brute_force<T: Scalar>() {
    for (n, d, offset, seed) in [
        (3, 2, 0.0, 1),
        (17, 5, 0.0, 2),
        (40, 8, 0.0, 3),
        (40, 3, 3.0, 4),
    ] {
        let a: UnitEmbeddings<T, Image> = random_unit(n, d, offset, seed);
        let b: UnitEmbeddings<T, Text> = random_unit(n, d, offset, seed + 100);
        for tau in [0.07, 0.01] {
            let t = temperature(tau);
            let what = format!("{} n = {n}, d = {d}, offset {offset}, τ = {tau}", T::NAME);
            let fast = jackknife::contrastive_loss(&a, &b, t).unwrap();
            let brute = Jackknife::delete_one(n, loss_on(&a, &b, t)).unwrap();
            assert_agrees::<T>(&fast, &brute, &what);
        }
    }
}

#[test]
fn the_two_pass_jackknife_equals_recomputing_the_loss_n_times() {
    matches_brute_force::<f64>();
    matches_brute_force::<f32>();
}

/// The runs of `jackknife::contrastive_loss_grouped`: sample i in run ⌊((i + 1)·g − 1)/n⌋.
fn runs(n: usize, g: usize) -> Vec<usize> {
    (0..n).map(|i| ((i + 1) * g - 1) / n).collect()
}

/// Runs of one pair and of many, boundaries inside the kernel's row groups and column blocks,
/// (n = 1100) several tasks, whose column parts merge across tasks, and at τ = 0.002 logits
/// spread too far for one shift.
fn grouped_matches_brute_force<T: Scalar>() {
    for (n, d, offset, seed, groups) in [
        (3, 2, 0.0, 1, vec![2, 3]),
        (17, 5, 0.0, 2, vec![2, 5, 17]),
        (40, 3, 3.0, 4, vec![7, 13]),
        (1100, 6, 1.0, 5, vec![10, 33]),
    ] {
        let a: UnitEmbeddings<T, Image> = random_unit(n, d, offset, seed);
        let b: UnitEmbeddings<T, Text> = random_unit(n, d, offset, seed + 100);
        for tau in [0.07, 0.01, 0.002] {
            let t = temperature(tau);
            for &g in &groups {
                let what = format!(
                    "{} n = {n}, d = {d}, offset {offset}, τ = {tau}, g = {g}",
                    T::NAME
                );
                let fast = jackknife::contrastive_loss_grouped(&a, &b, t, g).unwrap();
                assert_eq!(fast.estimate().method, Method::GroupedJackknife, "{what}");
                let brute = Jackknife::delete_groups(&runs(n, g), g, loss_on(&a, &b, t)).unwrap();
                assert_agrees::<T>(&fast, &brute, &what);
            }
        }
    }
}

#[test]
fn the_one_pass_grouped_jackknife_equals_recomputing_the_loss_without_each_run() {
    grouped_matches_brute_force::<f64>();
    grouped_matches_brute_force::<f32>();
}

/// Logits spread by 2·10⁴ (τ = 10⁻⁴): each image's best caption is across the circle, in
/// another run, and holds all of its row but e^(−2900) (the captions turned unevenly, so that
/// the runs differ); the rest of the row, its own run's
/// caption included, lies far below the block's maximum, where the pass shifts each run's
/// part by its own maximum (else it would underflow to 0 and its log be −∞).
#[test]
fn a_run_holding_all_of_a_row_leaves_a_finite_rest() {
    let n = 40;
    let circle = |k: usize, turn: f64| {
        let angle = std::f64::consts::TAU * (k as f64 + turn) / n as f64;
        [angle.cos(), angle.sin()]
    };
    let a: Vec<f64> = (0..n).flat_map(|k| circle(k, 0.0)).collect();
    let turn = |k: usize| 0.3 + 0.25 * (1.3 * k as f64).sin();
    let b: Vec<f64> = (0..n).flat_map(|k| circle(k + n / 2, turn(k))).collect();
    let a: UnitEmbeddings<f64, Image> = common::unit(n, 2, &a);
    let b: UnitEmbeddings<f64, Text> = common::unit(n, 2, &b);
    let t = temperature(1e-4);
    let fast = jackknife::contrastive_loss_grouped(&a, &b, t, 4).unwrap();
    let brute = Jackknife::delete_groups(&runs(n, 4), 4, loss_on(&a, &b, t)).unwrap();
    assert!(fast.value() > 1e4, "{}", fast.value());
    assert_agrees::<f64>(&fast, &brute, "a dominant run");
}

#[test]
fn the_grouped_jackknife_needs_three_pairs_two_to_n_groups_and_a_bounded_memory() {
    let t = temperature(0.01);
    let a: UnitEmbeddings<f64, Image> = random_unit(5, 4, 0.0, 1);
    let b: UnitEmbeddings<f64, Text> = random_unit(5, 4, 0.0, 2);
    for g in [0, 1, 6] {
        assert!(
            matches!(
                jackknife::contrastive_loss_grouped(&a, &b, t, g),
                Err(Error::InvalidParameter { name: "groups", .. })
            ),
            "g = {g}"
        );
    }
    let c: UnitEmbeddings<f64, Text> = random_unit(6, 4, 0.0, 2);
    assert!(matches!(
        jackknife::contrastive_loss_grouped(&a, &c, t, 2),
        Err(Error::LengthMismatch { .. })
    ));
    let (a2, b2): (UnitEmbeddings<f64, Image>, UnitEmbeddings<f64, Text>) =
        (random_unit(2, 4, 0.0, 1), random_unit(2, 4, 0.0, 2));
    assert!(matches!(
        jackknife::contrastive_loss_grouped(&a2, &b2, t, 2),
        Err(Error::TooFewSamples { .. })
    ));
    // g·n beyond 2²⁷ parts: refused before the pass allocates them.
    let (big_a, big_b): (UnitEmbeddings<f32, Image>, UnitEmbeddings<f32, Text>) =
        (random_unit(12000, 1, 0.0, 1), random_unit(12000, 1, 0.0, 2));
    assert!(matches!(
        jackknife::contrastive_loss_grouped(&big_a, &big_b, t, 12000),
        Err(Error::Overflow { .. })
    ));
}

#[test]
fn the_jackknife_needs_three_pairs_and_the_metrics_shapes() {
    let t = temperature(0.01);
    for n in [1, 2] {
        let a: UnitEmbeddings<f64, Image> = random_unit(n, 4, 0.0, 1);
        let b: UnitEmbeddings<f64, Text> = random_unit(n, 4, 0.0, 2);
        assert!(
            matches!(
                jackknife::contrastive_loss(&a, &b, t),
                Err(Error::TooFewSamples { .. })
            ),
            "n = {n}"
        );
    }
    let a: UnitEmbeddings<f64, Image> = random_unit(5, 4, 0.0, 1);
    let b: UnitEmbeddings<f64, Text> = random_unit(6, 4, 0.0, 2);
    let c: UnitEmbeddings<f64, Text> = random_unit(5, 3, 0.0, 2);
    assert!(matches!(
        jackknife::contrastive_loss(&a, &b, t),
        Err(Error::LengthMismatch { .. })
    ));
    assert!(matches!(
        jackknife::contrastive_loss(&a, &c, t),
        Err(Error::DimensionMismatch { .. })
    ));
}
