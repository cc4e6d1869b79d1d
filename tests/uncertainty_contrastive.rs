//! The contrastive loss's two-pass jackknife against the loss recomputed without each pair.

mod common;

use common::{
    JACKKNIFE, JACKKNIFE_F32_CONTRASTIVE, assert_same_jackknife, random_unit, temperature,
};
use modality_gap::{
    Error, Image, Jackknife, Scalar, Text, UnitEmbeddings, contrastive_loss, jackknife,
};

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
            assert_eq!(
                fast.value(),
                contrastive_loss(&a, &b, t).unwrap().symmetric,
                "{what}: value"
            );
            let brute = Jackknife::delete_one(n, |k| {
                Ok(contrastive_loss(&a.select(k)?, &b.select(k)?, t)?.symmetric)
            })
            .unwrap();
            let tol = if T::NAME == "f32" {
                JACKKNIFE_F32_CONTRASTIVE
            } else {
                JACKKNIFE
            };
            assert_same_jackknife(&fast, &brute, tol, &what);
        }
    }
}

#[test]
fn the_two_pass_jackknife_equals_recomputing_the_loss_n_times() {
    matches_brute_force::<f64>();
    matches_brute_force::<f32>();
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
