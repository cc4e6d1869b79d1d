//! The contrastive loss's two-pass jackknife against the loss recomputed without each pair,
//! and its one-pass grouped jackknife against the loss recomputed without each run of pairs.

mod common;

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

#[test]
fn the_grouped_jackknife_needs_two_to_n_groups() {
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
