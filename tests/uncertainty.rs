//! Standard errors: each metric's one-pass jackknife against the metric recomputed n times,
//! the coverage of its intervals by simulation, paired comparisons, and the errors.

use crate::common;

use common::{
    COVERAGE_95, JACKKNIFE, JACKKNIFE_F32_KERNEL_PER_T, assert_same_jackknife, random_unit,
};
use modality_gap::{
    Centring, Diagonal, Embeddings, Error, Image, Jackknife, Scalar, Spectrum, Temperature, Text,
    UnitEmbeddings, align_loss, gap, jackknife, mean_pairwise_cosine, relative_gap,
};

/// The one-pass jackknifes of the O(n·d) metrics against brute force, on a spread-out set and
/// on a narrow cone, in f64 and f32.
fn closed_forms_match_brute_force<T: Scalar>() {
    for (n, d, offset, seed) in [(5, 3, 0.0, 1), (23, 4, 0.0, 2), (40, 7, 6.0, 3)] {
        let a: UnitEmbeddings<T, Image> = random_unit(n, d, offset, seed);
        let b: UnitEmbeddings<T, Text> = random_unit(n, d, offset * 0.5, seed + 100);
        let what = |m: &str| format!("{m} ({} n = {n}, offset {offset})", T::NAME);
        assert_same_jackknife(
            &jackknife::align_loss(&a, &b, 2.0).unwrap(),
            &Jackknife::delete_one(n, |k| align_loss(&a.select(k)?, &b.select(k)?, 2.0)).unwrap(),
            JACKKNIFE,
            &what("align_loss"),
        );
        for diagonal in [Diagonal::Excluded, Diagonal::Included] {
            assert_same_jackknife(
                &jackknife::mean_pairwise_cosine(&a, diagonal).unwrap(),
                &Jackknife::delete_one(n, |k| mean_pairwise_cosine(&a.select(k)?, diagonal))
                    .unwrap(),
                JACKKNIFE,
                &what(&format!("mean_pairwise_cosine {diagonal:?}")),
            );
        }
        assert_same_jackknife(
            &jackknife::gap(&a, &b).unwrap(),
            &Jackknife::delete_one(n, |k| Ok(gap(&a.select(k)?, &b.select(k)?)?.distance()))
                .unwrap(),
            JACKKNIFE,
            &what("gap"),
        );
        assert_same_jackknife(
            &jackknife::relative_gap(&a, &b).unwrap(),
            &Jackknife::delete_one(n, |k| Ok(relative_gap(&a.select(k)?, &b.select(k)?)?.value))
                .unwrap(),
            JACKKNIFE,
            &what("relative_gap"),
        );
    }
}

#[test]
fn closed_form_jackknifes_equal_recomputing_the_metric_n_times() {
    closed_forms_match_brute_force::<f64>();
    closed_forms_match_brute_force::<f32>();
}

#[test]
fn jackknifes_need_enough_samples() {
    let a: UnitEmbeddings<f64, Image> = random_unit(2, 3, 0.0, 1);
    let b: UnitEmbeddings<f64, Text> = random_unit(2, 3, 0.0, 2);
    let too_few = |r: Result<Jackknife, Error>, required| {
        assert!(
            matches!(r, Err(Error::TooFewSamples { required: q, found: 2 }) if q == required),
            "{r:?}"
        )
    };
    too_few(jackknife::mean_pairwise_cosine(&a, Diagonal::Excluded), 3);
    too_few(jackknife::relative_gap(&a, &b), 3);
    too_few(jackknife::isoscore(&*a), 3);
    too_few(
        jackknife::effective_rank(&*a, Spectrum::Variances, Centring::None),
        3,
    );
    assert!(jackknife::mean_pairwise_cosine(&a, Diagonal::Included).is_ok());
    assert!(jackknife::gap(&a, &b).is_ok());
    // Three rows, two of them equal: leaving out the third leaves no variance.
    let twins = Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]).unwrap();
    assert!(matches!(
        jackknife::isoscore(&twins),
        Err(Error::ZeroVariance)
    ));
    assert!(matches!(
        jackknife::effective_rank(&twins, Spectrum::SingularValues, Centring::Mean),
        Err(Error::ZeroVariance)
    ));
    let c: UnitEmbeddings<f64, Text> = random_unit(3, 3, 0.0, 2);
    assert!(matches!(
        jackknife::gap(&a, &c),
        Err(Error::LengthMismatch {
            expected: 2,
            found: 3
        })
    ));
}

/// The kernel's per-sample sums against brute force: spread-out sets, a narrow cone (the
/// expm1 branch), and t = 300 on a spread-out set (every exponent may fall below −700: the
/// two-pass branch), in f64 and f32, within one set and between two; sizes that cross the
/// kernel's tile edges.
fn uniformity_matches_brute_force<T: Scalar>() {
    use modality_gap::{cross_modal_uniformity, uniform_loss};
    for (n, d, offset, t, seed) in [
        (3, 2, 0.0, 2.0, 4),
        (37, 5, 0.0, 2.0, 5),
        (50, 9, 40.0, 2.0, 6),
        (29, 3, 0.0, 300.0, 7),
    ] {
        let a: UnitEmbeddings<T, Image> = random_unit(n, d, offset, seed);
        let b: UnitEmbeddings<T, Text> = random_unit(n, d, offset, seed + 100);
        let what = |m: &str| format!("{m} ({} n = {n}, offset {offset}, t = {t})", T::NAME);
        let tol = if T::NAME == "f32" {
            JACKKNIFE_F32_KERNEL_PER_T * t
        } else {
            JACKKNIFE
        };
        let fast = jackknife::uniform_loss(&a, t).unwrap();
        assert_eq!(
            fast.value(),
            uniform_loss(&a, t).unwrap(),
            "{}",
            what("value")
        );
        assert_same_jackknife(
            &fast,
            &Jackknife::delete_one(n, |k| uniform_loss(&a.select(k)?, t)).unwrap(),
            tol,
            &what("uniform_loss"),
        );
        let fast = jackknife::cross_modal_uniformity(&a, &b, t).unwrap();
        assert_eq!(fast.value(), cross_modal_uniformity(&a, &b, t).unwrap());
        assert_same_jackknife(
            &fast,
            &Jackknife::delete_one(n, |k| {
                cross_modal_uniformity(&a.select(k)?, &b.select(k)?, t)
            })
            .unwrap(),
            tol,
            &what("cross_modal_uniformity"),
        );
    }
}

#[test]
fn uniformity_jackknifes_equal_recomputing_the_metric_n_times() {
    uniformity_matches_brute_force::<f64>();
    uniformity_matches_brute_force::<f32>();
}

#[path = "../examples/support/coverage.rs"]
mod coverage;

/// The 95 % jackknife intervals cover each true value 93–97 % of the time over 1000 seeded
/// replications of n = 100 pairs (the binomial standard deviation of a 95 % rate over 1000 is
/// 0.7 %, so the band is ±2.9 of it). `cargo run --release --example coverage` runs 10 000.
/// A degenerate U-statistic (uniformity on the uniform sphere) is covered more often: the
/// jackknife overestimates its O(1/n²) variance (Efron & Stein 1981), and its intervals are
/// conservative.
#[test]
fn jackknife_intervals_cover_the_true_values_at_their_level() {
    for c in coverage::coverage(1000, 100, 0.95, 13) {
        let rate = c.rate();
        if c.degenerate {
            assert!(
                rate >= 0.95,
                "{}: coverage {rate} of a degenerate case",
                c.metric
            );
            assert!(
                c.mean_standard_error > c.spread,
                "{}: conservative",
                c.metric
            );
            continue;
        }
        assert!(
            COVERAGE_95.contains(&rate),
            "{} on {}: coverage {rate} of {} (truth {})",
            c.metric,
            c.model,
            c.reps,
            c.truth
        );
        // The standard error estimates the spread of the values over replications.
        assert!(
            (c.mean_standard_error / c.spread - 1.0).abs() < 0.1,
            "{}: mean SE {} against spread {}",
            c.metric,
            c.mean_standard_error,
            c.spread
        );
    }
}

/// CKA's rank-one leave-one-out updates against the metric recomputed n times, both
/// estimators, sets of different dimensions, f64 and f32.
fn cka_matches_brute_force<T: Scalar>() {
    use modality_gap::{HsicEstimator, cka};
    for (n, da, db, seed) in [(5, 3, 2, 8), (31, 6, 4, 9), (64, 9, 12, 10)] {
        let a: UnitEmbeddings<T, Image> = random_unit(n, da, 1.0, seed);
        let b: UnitEmbeddings<T, Text> = random_unit(n, db, 0.5, seed + 100);
        for estimator in [HsicEstimator::Biased, HsicEstimator::Unbiased] {
            let fast = jackknife::cka(&a, &b, estimator).unwrap();
            assert_eq!(fast.value(), cka(&a, &b, estimator).unwrap());
            assert_same_jackknife(
                &fast,
                &Jackknife::delete_one(n, |k| cka(&*a.select(k)?, &*b.select(k)?, estimator))
                    .unwrap(),
                JACKKNIFE,
                &format!("cka {estimator:?} ({} n = {n})", T::NAME),
            );
        }
    }
}

#[test]
fn cka_jackknife_equals_recomputing_the_metric_n_times() {
    cka_matches_brute_force::<f64>();
    cka_matches_brute_force::<f32>();
}

/// The spectra's leave-one-out values (IsoScore's trace and Frobenius updates, the effective
/// rank's secular roots) against the metric recomputed n times: more rows than dimensions,
/// fewer (each left-out row takes a direction with it), a narrow cone, both spectra and
/// centrings, f64 and f32.
fn spectra_match_brute_force<T: Scalar>() {
    use modality_gap::{effective_rank, isoscore};
    for (n, d, offset, seed) in [
        (6, 4, 0.0, 11),
        (40, 7, 0.0, 12),
        (12, 20, 0.0, 13),
        (50, 8, 5.0, 14),
    ] {
        let x: UnitEmbeddings<T, Image> = random_unit(n, d, offset, seed);
        let what = |m: &str| format!("{m} ({} n = {n}, d = {d}, offset {offset})", T::NAME);
        assert_same_jackknife(
            &jackknife::isoscore(&x).unwrap(),
            &Jackknife::delete_one(n, |k| isoscore(&*x.select(k)?)).unwrap(),
            JACKKNIFE,
            &what("isoscore"),
        );
        for spectrum in [Spectrum::SingularValues, Spectrum::Variances] {
            for centring in [Centring::Mean, Centring::None] {
                let fast = jackknife::effective_rank(&x, spectrum, centring).unwrap();
                assert_eq!(
                    fast.value(),
                    effective_rank(&x, spectrum, centring).unwrap().value
                );
                assert_same_jackknife(
                    &fast,
                    &Jackknife::delete_one(n, |k| {
                        Ok(effective_rank(&*x.select(k)?, spectrum, centring)?.value)
                    })
                    .unwrap(),
                    JACKKNIFE,
                    &what(&format!("effective_rank {spectrum:?} {centring:?}")),
                );
            }
        }
    }
}

#[test]
fn spectrum_jackknifes_equal_recomputing_the_metric_n_times() {
    spectra_match_brute_force::<f64>();
    spectra_match_brute_force::<f32>();
}

/// Recall@K's jackknife (the hits and the flips of the second pass) against the metric
/// recomputed n times, for several K, with exact ties (duplicated rows, which the metric ranks
/// by index), f64 and f32: the deviations are the same fractions, to rounding.
fn recall_matches_brute_force<T: Scalar>() {
    use modality_gap::retrieval_recall;
    for (n, d, seed) in [(2, 2, 11), (9, 2, 12), (40, 3, 13), (70, 8, 14)] {
        let a: UnitEmbeddings<T, Image> = random_unit(n, d, 0.0, seed);
        let noisy: UnitEmbeddings<T, Text> = random_unit(n, d, 0.0, seed + 100);
        // Every third text a copy of its image or of the next text: exact ties.
        let rows: Vec<usize> = (0..n).collect();
        let b = UnitEmbeddings::<T, Text>::normalize(
            modality_gap::Embeddings::from_row_major_vec(
                n,
                d,
                rows.iter()
                    .flat_map(|&i| match i % 3 {
                        0 => a.row(i).to_vec(),
                        1 => noisy.row((i + 1) % n).to_vec(),
                        _ => noisy.row(i).to_vec(),
                    })
                    .collect(),
            )
            .unwrap(),
        )
        .unwrap();
        for k in [1, 2, 5] {
            let fast = jackknife::retrieval_recall(&a, &b, k).unwrap();
            let recall = |keep: &[usize]| retrieval_recall(&a.select(keep)?, &b.select(keep)?, k);
            let what = |dir: &str| format!("recall@{k} {dir} ({} n = {n})", T::NAME);
            assert_same_jackknife(
                &fast.a_to_b,
                &Jackknife::delete_one(n, |keep| Ok(recall(keep)?.a_to_b)).unwrap(),
                JACKKNIFE,
                &what("a → b"),
            );
            assert_same_jackknife(
                &fast.b_to_a,
                &Jackknife::delete_one(n, |keep| Ok(recall(keep)?.b_to_a)).unwrap(),
                JACKKNIFE,
                &what("b → a"),
            );
        }
    }
}

#[test]
fn recall_jackknife_equals_recomputing_the_metric_n_times() {
    recall_matches_brute_force::<f64>();
    recall_matches_brute_force::<f32>();
}

/// K = 0 is refused before the pass; K ≥ n keeps nothing and leaves recall 1 in every
/// leave-one-out set (deviations 0).
#[test]
fn recall_jackknife_checks_k_and_takes_any_large_k() {
    let a: UnitEmbeddings<f64, Image> = random_unit(9, 3, 0.0, 31);
    let b: UnitEmbeddings<f64, Text> = random_unit(9, 3, 0.0, 32);
    assert!(matches!(
        jackknife::retrieval_recall(&a, &b, 0),
        Err(Error::InvalidParameter { name: "k", .. })
    ));
    for k in [9, 50] {
        let jk = jackknife::retrieval_recall(&a, &b, k).unwrap();
        assert_eq!((jk.a_to_b.value(), jk.b_to_a.value()), (1.0, 1.0));
        assert!(
            jk.a_to_b
                .deviations()
                .iter()
                .chain(jk.b_to_a.deviations())
                .all(|&d| d == 0.0)
        );
    }
}

/// The COCO metrics' jackknife (one image and all its captions left out) against the metric
/// recomputed on each set without an image, with unequal caption groups, f64 and f32.
fn captioned_matches_brute_force<T: Scalar>() {
    use modality_gap::Captioned;
    for (n, d, seed) in [(3, 2, 15), (12, 4, 16), (30, 6, 17)] {
        let images: UnitEmbeddings<T, Image> = random_unit(n, d, 1.0, seed);
        // Image i has 1 + i mod 3 captions, each near it.
        let image_of: Vec<usize> = (0..n).flat_map(|i| vec![i; 1 + i % 3]).collect();
        let noise: UnitEmbeddings<T, Text> = random_unit(image_of.len(), d, 0.0, seed + 100);
        let values: Vec<T> = (image_of.iter().enumerate())
            .flat_map(|(j, &i)| {
                let (a, z) = (images.row(i), noise.row(j));
                (0..d)
                    .map(|k| T::from_f64(a[k].to_f64() + 0.5 * z[k].to_f64()))
                    .collect::<Vec<_>>()
            })
            .collect();
        let captions = UnitEmbeddings::<T, Text>::normalize(
            modality_gap::Embeddings::from_row_major_vec(image_of.len(), d, values).unwrap(),
        )
        .unwrap();
        let coco = Captioned::new(images.clone(), captions.clone(), image_of.clone()).unwrap();
        // The set of the kept images and their captions, image indices renumbered.
        let without = |keep: &[usize]| {
            let mut new_index = vec![usize::MAX; n];
            keep.iter().enumerate().for_each(|(k, &i)| new_index[i] = k);
            let kept: Vec<usize> = (0..image_of.len())
                .filter(|&j| new_index[image_of[j]] != usize::MAX)
                .collect();
            let of = kept.iter().map(|&j| new_index[image_of[j]]).collect();
            Captioned::new(images.select(keep)?, captions.select(&kept)?, of)
        };
        let what = |m: &str| format!("captioned {m} ({} n = {n})", T::NAME);
        assert_same_jackknife(
            &jackknife::captioned::align_loss(&coco, 2.0).unwrap(),
            &Jackknife::delete_one(n, |keep| without(keep)?.align_loss(2.0)).unwrap(),
            JACKKNIFE,
            &what("align_loss"),
        );
        assert_same_jackknife(
            &jackknife::captioned::relative_gap(&coco).unwrap(),
            &Jackknife::delete_one(n, |keep| Ok(without(keep)?.relative_gap()?.value)).unwrap(),
            JACKKNIFE,
            &what("relative_gap"),
        );
        // Captioned::select keeps each image with all its captions, as `without` does.
        let keep: Vec<usize> = (0..n).filter(|i| i % 3 != 1).collect();
        let (selected, by_hand) = (coco.select(&keep).unwrap(), without(&keep).unwrap());
        assert_eq!(selected.image_of(), by_hand.image_of());
        assert_eq!(
            selected.captions().as_slice(),
            by_hand.captions().as_slice()
        );
        // The grouped jackknifes of the COCO retrieval and loss: the metric without each
        // seeded group of images.
        let groups = n.min(4);
        let labels = Jackknife::seeded_groups(n, groups, 5).unwrap();
        let without_group = |h: usize| {
            let keep: Vec<usize> = (0..n).filter(|&i| labels[i] != h).collect();
            without(&keep).unwrap()
        };
        let recall = jackknife::captioned::retrieval_recall(&coco, 1, groups, 5).unwrap();
        let tau = Temperature::new(0.2).unwrap();
        let loss = jackknife::captioned::contrastive_loss(&coco, tau, groups, 5).unwrap();
        let full = (
            coco.retrieval_recall(1).unwrap(),
            coco.contrastive_loss(tau).unwrap(),
        );
        assert_eq!(
            (recall.a_to_b.value(), recall.b_to_a.value(), loss.value()),
            (full.0.a_to_b, full.0.b_to_a, full.1.symmetric)
        );
        for h in 0..groups {
            let part = without_group(h);
            let r = part.retrieval_recall(1).unwrap();
            let l = part.contrastive_loss(tau).unwrap().symmetric;
            assert_eq!(recall.a_to_b.deviations()[h], r.a_to_b - full.0.a_to_b);
            assert_eq!(recall.b_to_a.deviations()[h], r.b_to_a - full.0.b_to_a);
            assert!((loss.deviations()[h] - (l - full.1.symmetric)).abs() <= JACKKNIFE);
        }
        assert_eq!(
            loss.estimate().method,
            modality_gap::Method::GroupedJackknife
        );
    }
}

#[test]
fn captioned_select_checks_its_indices() {
    use modality_gap::Captioned;
    let images: UnitEmbeddings<f64, Image> = random_unit(3, 2, 0.0, 1);
    let captions: UnitEmbeddings<f64, Text> = random_unit(4, 2, 0.0, 2);
    let coco = Captioned::new(images, captions, vec![0, 1, 2, 0]).unwrap();
    // A repeated image brings its captions twice (a bootstrap sample).
    let twice = coco.select(&[0, 0]).unwrap();
    assert_eq!(twice.image_of(), &[0, 0, 1, 1]);
    assert_eq!(twice.captions().row(2), coco.captions().row(0));
    assert!(matches!(coco.select(&[]), Err(Error::Empty)));
    assert!(matches!(
        coco.select(&[1, 3]),
        Err(Error::InvalidParameter { name: "images", .. })
    ));
}

/// The held-out accuracy's standard error is the binomial one of its test outcomes:
/// √(p(1 − p)/(n_test − 1)).
#[test]
fn separability_standard_error_is_that_of_its_held_out_outcomes() {
    use modality_gap::modality_separability;
    // Two overlapping cones: some held-out samples fall on the wrong side.
    let a: UnitEmbeddings<f64, Image> = random_unit(200, 5, 1.0, 21);
    let b: UnitEmbeddings<f64, Text> = random_unit(150, 5, -1.0, 22);
    let metric = modality_separability(&a, &b).unwrap();
    let jk = jackknife::modality_separability(&a, &b).unwrap();
    let (p, m) = (metric.accuracy, metric.test_count as f64);
    assert!(p > 0.6 && p < 1.0, "accuracy {p}");
    assert_eq!((jk.value(), jk.len()), (p, metric.test_count));
    common::assert_relative(
        jk.standard_error(),
        (p * (1.0 - p) / (m - 1.0)).sqrt(),
        JACKKNIFE,
        "separability SE",
    );
}

#[test]
fn captioned_jackknifes_equal_recomputing_the_metric_without_each_image() {
    captioned_matches_brute_force::<f64>();
    captioned_matches_brute_force::<f32>();
}
