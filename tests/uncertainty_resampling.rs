//! The bootstrap, the permutation null and the grouped jackknife of the k-NN metrics
//! (issue 13): coverage by simulation, standard errors against closed forms, p-values under
//! independence and dependence, determinism across thread counts, and the typed errors.
//!
//! The coverage numbers of `docs/uncertainty.md` come from
//! `cargo test --test integration -- uncertainty_resampling:: --nocapture`.

use crate::common;

use common::{
    BOOTSTRAP_SE, COVERAGE_95, F64, GROUPED_JACKKNIFE_SE_RATIO, NULL_MEAN_STANDARD_ERRORS,
    NULL_REJECTION, SCIPY_BCA,
};
use modality_gap::stats::{Bootstrap, PermutationNull, bootstrap, permutation_null};
use modality_gap::{
    Embeddings, Error, HsicEstimator, Image, Jackknife, Method, Text, UnitEmbeddings, cka, cknna,
    cosine_quantiles_between, cosine_quantiles_within, jackknife, mutual_knn, svcca,
};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Gamma, StandardNormal};
use rayon::prelude::*;

/// The mean of the rows `rows` of `x`.
fn mean_of(x: &[f64], rows: &[usize]) -> f64 {
    rows.iter().map(|&i| x[i]).sum::<f64>() / rows.len() as f64
}

/// `f` in a rayon pool of `threads` threads.
fn in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

/// n × d standard normal rows from `seed`.
fn normal_rows(n: usize, d: usize, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n * d)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect()
}

/// A pair of sets of n samples: `a` standard normal in d dimensions, `b` = `a` plus normal
/// noise of standard deviation `noise` (independent of `a` when `noise` is infinite: then
/// `b` is fresh normal rows).
fn pair(
    n: usize,
    d: usize,
    noise: f64,
    seed: u64,
) -> (Embeddings<f64, Image>, Embeddings<f64, Text>) {
    let a = normal_rows(n, d, seed);
    let e = normal_rows(n, d, seed ^ 0x5eed);
    let b = if noise.is_finite() {
        a.iter().zip(&e).map(|(x, y)| x + noise * y).collect()
    } else {
        e
    };
    (
        Embeddings::from_row_major_vec(n, d, a).unwrap(),
        Embeddings::from_row_major_vec(n, d, b).unwrap(),
    )
}

/// The fraction of `hits`.
fn rate(hits: impl Iterator<Item = bool>) -> f64 {
    let (mut yes, mut all) = (0, 0);
    for hit in hits {
        yes += usize::from(hit);
        all += 1;
    }
    yes as f64 / all as f64
}

// ---------------------------------------------------------------------------------------
// The bootstrap
// ---------------------------------------------------------------------------------------

/// Sample size, replications and resamples of the coverage simulation. The data are Gamma
/// with shape 4 and mean 1 (skewness 1): skewed enough that the percentile interval's
/// first-order error shows and BCa has something to correct, at n = 200 where both are valid
/// (at n = 30 both cover about 92 %, at n = 100 about 94 %: measured in numpy, 3000
/// replications). 1000 resamples are Efron & Tibshirani's advice for 95 % ends.
const COVERAGE_N: usize = 200;
const COVERAGE_REPLICATIONS: u64 = 2000;
const COVERAGE_RESAMPLES: usize = 1000;

#[test]
fn bootstrap_intervals_of_a_skewed_mean_cover_95_percent() {
    let gamma = Gamma::new(4.0, 0.25).unwrap(); // mean shape·scale = 1
    let truth = 1.0;
    let covered: Vec<[bool; 3]> = (0..COVERAGE_REPLICATIONS)
        .into_par_iter()
        .map(|replication| {
            let mut rng = StdRng::seed_from_u64(replication);
            let x: Vec<f64> = (0..COVERAGE_N).map(|_| gamma.sample(&mut rng)).collect();
            let mean = |rows: &[usize]| Ok(mean_of(&x, rows));
            let boot = bootstrap(COVERAGE_N, COVERAGE_RESAMPLES, replication, mean).unwrap();
            let jk = Jackknife::of_mean(&x).unwrap();
            [
                boot.percentile(0.95).unwrap().contains(truth),
                boot.bca(0.95, &jk).unwrap().contains(truth),
                boot.estimate().interval(0.95).unwrap().contains(truth),
            ]
        })
        .collect();
    let names = ["percentile", "BCa", "t with the bootstrap SE"];
    for (k, name) in names.iter().enumerate() {
        let coverage = rate(covered.iter().map(|c| c[k]));
        println!("coverage of the {name} interval: {coverage:.4}");
        assert!(
            COVERAGE_95.contains(&coverage),
            "{name}: {coverage} outside {COVERAGE_95:?}"
        );
    }
}

/// BCa against scipy's `_bca_interval` (scipy 1.17.1) on the same replicates: the crate's
/// replicates of this seed written out, and scipy given the crate's θ (a sum in row order, one
/// ulp above numpy's pairwise `x.mean()`, which changes the ties with θ). The script:
///
/// ```text
/// from scipy.stats._resampling import _bca_interval
/// mean = lambda d, axis=-1: np.apply_along_axis(lambda r: sum(map(float, r)) / len(r), axis, d)
/// a1, a2 = _bca_interval((x,), mean, axis=-1, alpha=(1 - level) / 2, theta_hat_b=reps, batch=None, xp=np)[:2]
/// np.quantile(reps, [a1, a2])
/// ```
///
/// The percentile ends are numpy's `np.quantile(reps, [α, 1 − α])`. This pins the sign of the
/// acceleration: with u = δᵢ − δ̄ instead of δ̄ − δᵢ the upper ends fall by more than 0.2.
#[test]
fn bca_and_percentile_match_scipy_on_the_same_replicates() {
    let x = [0.1, 0.2, 0.2, 0.3, 0.4, 0.5, 0.7, 0.9, 1.4, 2.6, 4.0, 0.3];
    let mean = |rows: &[usize]| Ok(mean_of(&x, rows));
    let boot = bootstrap(x.len(), 4000, 11, mean).unwrap();
    let jk = Jackknife::delete_one(x.len(), mean).unwrap();
    let scipy = [
        (
            0.9,
            [0.475, 1.541_666_666_666_666_7],
            [0.558_333_333_333_333_3, 1.738_532_464_260_507_8],
        ),
        (0.95, [0.416_666_666_666_666_6, 1.675], [0.5, 1.95]),
    ];
    for (level, percentile, bca) in scipy {
        let (p, b) = (
            boot.percentile(level).unwrap(),
            boot.bca(level, &jk).unwrap(),
        );
        common::assert_all_close(&[p.lower, p.upper], &percentile, F64, "percentile");
        common::assert_all_close(&[b.lower, b.upper], &bca, SCIPY_BCA, "BCa");
    }
}

#[test]
fn bootstrap_standard_error_of_a_mean_is_the_plug_in_s_over_root_n() {
    let n = 50;
    let x = normal_rows(n, 1, 3);
    let m = x.iter().sum::<f64>() / n as f64;
    let plug_in = (x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n as f64).sqrt();
    let expected = plug_in / (n as f64).sqrt(); // the ideal bootstrap SE: σ̂/√n, σ̂ divisor n
    let boot = bootstrap(n, 20_000, 11, |rows| Ok(mean_of(&x, rows))).unwrap();
    let e = boot.estimate();
    assert!(
        (e.standard_error / expected - 1.0).abs() < BOOTSTRAP_SE,
        "{} vs {expected}",
        e.standard_error
    );
    assert_eq!(e.value, m);
    assert_eq!((e.dof, e.method), (n - 1, Method::Bootstrap));
    // The replicates' mean is the sample mean up to Monte Carlo error of SE/√B.
    let centre = boot.replicates().iter().sum::<f64>() / 20_000.0;
    assert!((centre - m).abs() < 5.0 * expected / 20_000f64.sqrt());
}

#[test]
fn resamples_are_sorted_draws_with_replacement() {
    let n = 7;
    let check = |rows: &[usize]| {
        assert_eq!(rows.len(), n);
        assert!(rows.windows(2).all(|w| w[0] <= w[1]) && rows.iter().all(|&i| i < n));
        Ok(rows.iter().filter(|&&i| i == 3).count() as f64)
    };
    let boot = bootstrap(n, 4000, 2, check).unwrap();
    assert_eq!(boot.value(), 1.0);
    // Each row is drawn Binomial(n, 1/n) times: mean 1, variance 1 − 1/n.
    let copies = boot.replicates();
    let mean = copies.iter().sum::<f64>() / 4000.0;
    assert!((mean - 1.0).abs() < 5.0 * (6.0_f64 / 7.0 / 4000.0).sqrt());
    assert!(copies.iter().any(|&c| c >= 2.0) && copies.contains(&0.0));
}

#[test]
fn bootstrap_of_a_constant_has_no_spread() {
    let boot = bootstrap(5, 100, 0, |_| Ok(2.5)).unwrap();
    assert_eq!(boot.estimate().standard_error, 0.0);
    let ci = boot.percentile(0.9).unwrap();
    assert_eq!((ci.lower, ci.upper, ci.level), (2.5, 2.5, 0.9));
    // Every replicate ties with the value: z₀ = Φ⁻¹(½) = 0, a = 0, the percentile interval.
    let jk = Jackknife::delete_one(5, |_| Ok(2.5)).unwrap();
    assert_eq!(boot.bca(0.9, &jk).unwrap(), ci);
}

#[test]
fn bca_without_bias_or_skew_is_the_percentile_interval() {
    // A symmetric sample and its mean: z₀ ≈ 0 and a = 0 (Σ uᵢ³ = 0 for symmetric values),
    // so BCa's orders stay within Monte Carlo noise of α and 1 − α.
    let x: Vec<f64> = (0..21).map(|i| i as f64 - 10.0).collect();
    let mean = |rows: &[usize]| Ok(mean_of(&x, rows));
    let boot = bootstrap(21, 4000, 5, mean).unwrap();
    let jk = Jackknife::delete_one(21, mean).unwrap();
    let (pct, bca) = (boot.percentile(0.95).unwrap(), boot.bca(0.95, &jk).unwrap());
    let se = boot.estimate().standard_error;
    assert!((bca.lower - pct.lower).abs() < 0.1 * se && (bca.upper - pct.upper).abs() < 0.1 * se);
}

#[test]
fn bootstrap_and_permutations_do_not_depend_on_the_thread_count() {
    let (a, b) = pair(40, 3, 1.0, 8);
    let cka_of = |rows: &[usize]| cka(&a.select(rows)?, &b.select(rows)?, HsicEstimator::Unbiased);
    let perm_of = |order: &[usize]| svcca(&a, &b.select(order)?, 2);
    let run = || -> (Bootstrap, PermutationNull, Jackknife) {
        (
            bootstrap(40, 300, 4, cka_of).unwrap(),
            permutation_null(40, 300, 4, perm_of).unwrap(),
            jackknife::mutual_knn(&a, &b, 3, 10, 4).unwrap(),
        )
    };
    let (one, two) = (in_pool(1, run), in_pool(2, run));
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(one.0.replicates()), bits(two.0.replicates()));
    assert_eq!(one.0.value().to_bits(), two.0.value().to_bits());
    assert_eq!(one.1, two.1);
    assert_eq!(one.1.null_mean.to_bits(), two.1.null_mean.to_bits());
    assert_eq!(bits(one.2.deviations()), bits(two.2.deviations()));
    // Another seed, other replicates.
    assert_ne!(
        bootstrap(40, 300, 5, cka_of).unwrap().replicates(),
        one.0.replicates()
    );
}

/// `run(n, count, value)`, a bootstrap or permutation null of the constant metric `value`
/// with `count` replicates, rejects n < 2, fewer than 2 replicates (the count named `name`)
/// and a non-finite value on all rows (row 0, column 1).
fn rejects_bad_counts<R: std::fmt::Debug>(
    name: &str,
    run: impl Fn(usize, usize, f64) -> modality_gap::Result<R>,
) {
    assert!(matches!(
        run(1, 10, 1.0),
        Err(Error::TooFewSamples {
            required: 2,
            found: 1
        })
    ));
    for count in [0, 1] {
        assert!(
            matches!(run(5, count, 1.0), Err(Error::InvalidParameter { name: found, .. }) if found == name)
        );
    }
    assert!(matches!(
        run(5, 10, f64::NAN),
        Err(Error::NonFinite { row: 0, column: 1 })
    ));
}

#[test]
fn bootstrap_reports_bad_input() {
    rejects_bad_counts("resamples", |n, b, value| bootstrap(n, b, 0, |_| Ok(value)));
    let boot = bootstrap(5, 10, 0, |rows| Ok(rows[0] as f64)).unwrap();
    for level in [0.0, 1.0, -0.5, f64::NAN] {
        assert!(matches!(
            boot.percentile(level),
            Err(Error::InvalidParameter { name: "level", .. })
        ));
    }
    // A non-finite replicate: resample b's at (b, 0), the first b.
    let first_b = (0..10)
        .position(|b| {
            let probe = bootstrap(5, b + 1, 0, |rows| Ok(rows[0] as f64));
            probe.is_ok_and(|p| p.replicates()[b] > 0.0)
        })
        .unwrap();
    let infinite_unless_row_0 = |rows: &[usize]| Ok(if rows[0] == 0 { 1.0 } else { f64::INFINITY });
    assert!(matches!(
        bootstrap(5, 10, 0, infinite_unless_row_0),
        Err(Error::NonFinite { row, column: 0 }) if row == first_b
    ));
    // The metric's own error passes through.
    let failing = |rows: &[usize]| {
        if rows[0] == 0 {
            Ok(0.0)
        } else {
            Err(Error::Empty)
        }
    };
    assert!(matches!(bootstrap(5, 10, 0, failing), Err(Error::Empty)));
}

#[test]
fn bca_reports_bad_input() {
    // The number of distinct rows: 20 on all rows, fewer in every resample but a permutation
    // (probability 20!/20²⁰ ≈ 2e-8 each), so the value lies above every replicate.
    let distinct = |rows: &[usize]| {
        let mut r = rows.to_vec();
        r.dedup();
        Ok(r.len() as f64)
    };
    let boot = bootstrap(20, 200, 1, distinct).unwrap();
    let jk = Jackknife::delete_one(20, distinct).unwrap();
    assert!(boot.replicates().iter().all(|&v| v < 20.0));
    assert!(matches!(
        boot.bca(0.95, &jk),
        Err(Error::InvalidParameter {
            name: "the fraction of replicates below the value",
            ..
        })
    ));
    // A jackknife of other samples (or of groups) does not fit.
    let x: Vec<f64> = (0..20).map(|i| (i * i) as f64).collect();
    let boot = bootstrap(20, 200, 1, |rows| Ok(mean_of(&x, rows))).unwrap();
    let short = Jackknife::of_mean(&x[..10]).unwrap();
    assert!(matches!(
        boot.bca(0.95, &short),
        Err(Error::LengthMismatch {
            expected: 20,
            found: 10
        })
    ));
    assert!(boot.bca(1.0, &Jackknife::of_mean(&x).unwrap()).is_err());
    // An acceleration too large for the formula: 1 − a(z₀ + z_α) ≤ 0. One huge leave-one-out
    // value gives a = −1/(6·√(n − 1)·…) close to its extreme; at a level near 1, z_α is far
    // enough out.
    let mut deviations = vec![-1.0; 20];
    deviations[0] = 19.0;
    let skewed = Jackknife::from_deviations(boot.value(), deviations, Method::Jackknife).unwrap();
    assert!(matches!(
        boot.bca(1.0 - 1e-12, &skewed),
        Err(Error::InvalidParameter {
            name: "1 − a·(z₀ + z_α)",
            ..
        })
    ));
}

// ---------------------------------------------------------------------------------------
// The permutation null
// ---------------------------------------------------------------------------------------

/// Replications and permutations of the null simulations: 400 × 99 keeps each metric's
/// simulation below a second; p-values of m = 99 permutations take the values j/100.
const NULL_REPLICATIONS: u64 = 400;
const NULL_PERMUTATIONS: usize = 99;

/// The permutation null of `metric(a, b reordered)` for one pair of independent sets.
fn null_of(
    seed: u64,
    metric: impl Fn(&Embeddings<f64, Image>, &Embeddings<f64, Text>) -> modality_gap::Result<f64> + Sync,
) -> PermutationNull {
    let (a, b) = pair(20, 3, f64::INFINITY, seed);
    permutation_null(20, NULL_PERMUTATIONS, seed, |order| {
        metric(&a, &b.select(order)?)
    })
    .unwrap()
}

#[test]
fn permutation_p_values_are_uniform_for_independent_sets() {
    type Metric = fn(&Embeddings<f64, Image>, &Embeddings<f64, Text>) -> modality_gap::Result<f64>;
    let metrics: [(&str, Metric, bool); 3] = [
        ("cka", |a, b| cka(a, b, HsicEstimator::Unbiased), true),
        ("svcca", |a, b| svcca(a, b, 2), true),
        // Discrete: ties count against rejection, so only the upper bound holds.
        ("mutual_knn", |a, b| mutual_knn(a, b, 3), false),
    ];
    for (name, metric, continuous) in metrics {
        let nulls: Vec<PermutationNull> = (0..NULL_REPLICATIONS)
            .into_par_iter()
            .map(|seed| null_of(seed, metric))
            .collect();
        let rejected = rate(nulls.iter().map(|n| n.p_value <= 0.05));
        let mean_p = nulls.iter().map(|n| n.p_value).sum::<f64>() / nulls.len() as f64;
        // E[observed − null mean] = 0 under independence: within a few of its standard errors.
        let calibrated: Vec<f64> = nulls.iter().map(PermutationNull::calibrated).collect();
        let c_mean = calibrated.iter().sum::<f64>() / calibrated.len() as f64;
        let c_sd = (calibrated.iter().map(|c| (c - c_mean).powi(2)).sum::<f64>()
            / (calibrated.len() - 1) as f64)
            .sqrt();
        println!(
            "{name}: P(p ≤ 0.05) = {rejected:.4}, mean p = {mean_p:.4}, mean calibrated = {c_mean:.2e} ± {c_sd:.2e}"
        );
        assert!(
            rejected <= NULL_REJECTION.end,
            "{name}: rejected {rejected}"
        );
        if continuous {
            assert!(
                NULL_REJECTION.contains(&rejected),
                "{name}: rejected {rejected}"
            );
            // p is uniform on {1/100, …, 1}: mean 101/200, standard deviation 0.29.
            assert!((mean_p - 0.505).abs() < 4.0 * 0.29 / (NULL_REPLICATIONS as f64).sqrt());
        }
        let standard_error = c_sd / (calibrated.len() as f64).sqrt();
        assert!(
            c_mean.abs() < NULL_MEAN_STANDARD_ERRORS * standard_error,
            "{name}"
        );
        for null in &nulls {
            assert!(null.p_value >= 0.01 && null.p_value <= 1.0 && null.null_sd > 0.0);
            assert_eq!(null.permutations, NULL_PERMUTATIONS);
        }
    }
}

#[test]
fn strongly_related_sets_have_the_smallest_p_value() {
    let (a, b) = pair(30, 4, 0.1, 21);
    let m = 199;
    let smallest = 1.0 / (m + 1) as f64;
    let cka_null =
        permutation_null(30, m, 1, |o| cka(&a, &b.select(o)?, HsicEstimator::Biased)).unwrap();
    let svcca_null = permutation_null(30, m, 1, |o| svcca(&a, &b.select(o)?, 3)).unwrap();
    let knn_null = permutation_null(30, m, 1, |o| mutual_knn(&a, &b.select(o)?, 4)).unwrap();
    for null in [cka_null, svcca_null, knn_null] {
        assert_eq!(null.p_value, smallest);
        assert!(null.calibrated() > 5.0 * null.null_sd, "{null:?}");
    }
    assert_eq!(
        cka_null.observed,
        cka(&a, &b, HsicEstimator::Biased).unwrap()
    );
    assert_eq!(knn_null.observed, mutual_knn(&a, &b, 4).unwrap());
}

#[test]
fn permutation_orders_are_permutations_and_ties_count_as_similar() {
    let n = 9;
    let is_permutation = |order: &[usize]| {
        let mut seen = order.to_vec();
        seen.sort_unstable();
        assert_eq!(seen, (0..n).collect::<Vec<_>>());
        Ok(order[0] as f64)
    };
    let null = permutation_null(n, 500, 3, is_permutation).unwrap();
    assert_eq!(null.observed, 0.0);
    // order[0] is uniform on 0 … 8: every permutation ties or beats the observed 0.
    assert_eq!(null.p_value, 1.0);
    assert!((null.null_mean - 4.0).abs() < 5.0 * (80.0_f64 / 12.0 / 500.0).sqrt());
    // A constant metric: every permutation ties, p = 1, no spread.
    let constant = permutation_null(n, 10, 3, |_| Ok(0.5)).unwrap();
    assert_eq!(
        (constant.p_value, constant.null_sd, constant.calibrated()),
        (1.0, 0.0, 0.0)
    );
}

#[test]
fn permutation_null_reports_bad_input() {
    rejects_bad_counts("permutations", |n, m, value| {
        permutation_null(n, m, 0, |_| Ok(value))
    });
    let nan_off_identity = |o: &[usize]| Ok(if o == [0, 1, 2, 3] { 1.0 } else { f64::NAN });
    assert!(matches!(
        permutation_null(4, 10, 0, nan_off_identity),
        Err(Error::NonFinite { column: 0, .. })
    ));
    // The metric's errors: b.select with a mismatched set.
    let (a, b) = pair(6, 2, 1.0, 0);
    let short = b.select(&[0, 1, 2]).unwrap();
    assert!(matches!(
        permutation_null(3, 10, 0, |o| cka(
            &a,
            &short.select(o)?,
            HsicEstimator::Biased
        )),
        Err(Error::LengthMismatch {
            expected: 6,
            found: 3
        })
    ));
}

// ---------------------------------------------------------------------------------------
// The grouped jackknife of the k-NN metrics
// ---------------------------------------------------------------------------------------

/// The deviations of the delete-a-group jackknife recomputed by hand: the metric on the rows
/// outside each group, minus its value on all rows.
fn by_hand(
    a: &Embeddings<f64, Image>,
    b: &Embeddings<f64, Text>,
    groups: usize,
    seed: u64,
    metric: impl Fn(&Embeddings<f64, Image>, &Embeddings<f64, Text>) -> f64,
) -> Vec<f64> {
    let labels = Jackknife::seeded_groups(a.len(), groups, seed).unwrap();
    let all = metric(a, b);
    (0..groups)
        .map(|h| {
            let keep: Vec<usize> = (0..a.len()).filter(|&i| labels[i] != h).collect();
            metric(&a.select(&keep).unwrap(), &b.select(&keep).unwrap()) - all
        })
        .collect()
}

#[test]
fn grouped_jackknife_of_knn_metrics_is_the_metric_without_each_group() {
    let (a, b) = pair(53, 5, 0.7, 2);
    for (groups, k) in [(2, 3), (7, 5), (10, 2), (53, 4)] {
        let jk = jackknife::mutual_knn(&a, &b, k, groups, 17).unwrap();
        assert_eq!(jk.value(), mutual_knn(&a, &b, k).unwrap());
        let expected = by_hand(&a, &b, groups, 17, |a, b| mutual_knn(a, b, k).unwrap());
        common::assert_all_close(jk.deviations(), &expected, F64, "mutual_knn deviations");
        let e = jk.estimate();
        assert_eq!((e.dof, e.method), (groups - 1, Method::GroupedJackknife));
        assert!(e.standard_error > 0.0);

        let jk = jackknife::cknna(&a, &b, k, groups, 17).unwrap();
        assert_eq!(jk.value(), cknna(&a, &b, k).unwrap());
        let expected = by_hand(&a, &b, groups, 17, |a, b| cknna(a, b, k).unwrap());
        common::assert_all_close(jk.deviations(), &expected, F64, "cknna deviations");
    }
    for (groups, q) in [(2, 2), (7, 3), (53, 1)] {
        let jk = jackknife::svcca(&a, &b, q, groups, 17).unwrap();
        assert_eq!(jk.value(), svcca(&a, &b, q).unwrap());
        let expected = by_hand(&a, &b, groups, 17, |a, b| svcca(a, b, q).unwrap());
        common::assert_all_close(jk.deviations(), &expected, F64, "svcca deviations");
    }
    // The quantiles of the cosines, within one set and between the two.
    let (ua, ub) = (
        UnitEmbeddings::normalize(a.clone()).unwrap(),
        UnitEmbeddings::normalize(b.clone()).unwrap(),
    );
    for (groups, q) in [(2, 0.5), (7, 0.1), (53, 0.9)] {
        let jk = jackknife::cosine_quantile_between(&ua, &ub, q, groups, 17).unwrap();
        assert_eq!(
            jk.value(),
            cosine_quantiles_between(&ua, &ub, &[q]).unwrap()[0]
        );
        let expected = by_hand(&a, &b, groups, 17, |a, b| {
            let (a, b) = (
                UnitEmbeddings::normalize(a.clone()),
                UnitEmbeddings::normalize(b.clone()),
            );
            cosine_quantiles_between(&a.unwrap(), &b.unwrap(), &[q]).unwrap()[0]
        });
        common::assert_all_close(jk.deviations(), &expected, F64, "quantile between");
        let jk = jackknife::cosine_quantile_within(&ua, q, groups, 17).unwrap();
        let expected = by_hand(&a, &b, groups, 17, |a, _| {
            cosine_quantiles_within(&UnitEmbeddings::normalize(a.clone()).unwrap(), &[q]).unwrap()
                [0]
        });
        common::assert_all_close(jk.deviations(), &expected, F64, "quantile within");
    }
    // The same seed, the same groups: two models on the same samples pair.
    let (_, c) = pair(53, 5, 1.5, 3);
    let this = jackknife::mutual_knn(&a, &b, 4, 10, 1).unwrap();
    let other = jackknife::mutual_knn(&a, &c, 4, 10, 1).unwrap();
    let d = this.difference(&other).unwrap();
    assert_eq!(d.value(), this.value() - other.value());
    assert_eq!(d.estimate().method, Method::GroupedJackknife);
}

/// Sample size, groups and replications of the grouped jackknife's simulation: related sets
/// (noise 0.7 on 4 dimensions, mutual 5-NN alignment about 0.3) of n = 100, in g = 20 groups
/// of 5.
const KNN_N: usize = 100;
const KNN_GROUPS: usize = 20;
const KNN_REPLICATIONS: u64 = 400;

#[test]
fn grouped_jackknife_standard_error_of_mutual_knn_matches_its_spread() {
    let runs: Vec<(f64, f64)> = (0..KNN_REPLICATIONS)
        .into_par_iter()
        .map(|seed| {
            let (a, b) = pair(KNN_N, 4, 0.7, 1000 + seed);
            let e = jackknife::mutual_knn(&a, &b, 5, KNN_GROUPS, seed)
                .unwrap()
                .estimate();
            (e.value, e.standard_error)
        })
        .collect();
    assert_standard_error_matches_spread(
        &format!("mutual_knn n = {KNN_N}, g = {KNN_GROUPS}"),
        &runs,
        KNN_GROUPS,
    );
}

/// The RMS of the grouped jackknife's standard errors over independent replications
/// (value, SE) against the spread of the values, within `GROUPED_JACKKNIFE_SE_RATIO`; prints
/// both and the coverage of E[θ] (estimated by the mean over the replications) by the t
/// interval of g − 1 degrees of freedom.
#[track_caller]
fn assert_standard_error_matches_spread(what: &str, runs: &[(f64, f64)], groups: usize) {
    let r = runs.len() as f64;
    let mean = runs.iter().map(|&(v, _)| v).sum::<f64>() / r;
    let spread = (runs.iter().map(|&(v, _)| (v - mean).powi(2)).sum::<f64>() / (r - 1.0)).sqrt();
    let rms_se = (runs.iter().map(|&(_, se)| se * se).sum::<f64>() / r).sqrt();
    let t = -modality_gap::stats::t_quantile(0.025, groups - 1).unwrap();
    let coverage = rate(runs.iter().map(|&(v, se)| (v - mean).abs() <= t * se));
    println!(
        "{what}: mean {mean:.4}, SD over samples {spread:.5}, RMS jackknife SE {rms_se:.5} (ratio {:.3}), coverage {coverage:.4}",
        rms_se / spread
    );
    assert!(
        GROUPED_JACKKNIFE_SE_RATIO.contains(&(rms_se / spread)),
        "{what}: ratio {}",
        rms_se / spread
    );
}

/// Sample size, groups and replications of the quantile's simulation: the median cosine
/// within one set of n = 200 rows of N(0, I₄) shifted by 1 along the first axis (a cone), in
/// g = 10 groups of 20 (d = 20 > √n, as Shao & Wu's condition asks).
const QUANTILE_N: usize = 200;
const QUANTILE_GROUPS: usize = 10;
const QUANTILE_REPLICATIONS: u64 = 400;

#[test]
fn grouped_jackknife_standard_error_of_a_cosine_quantile_matches_its_spread() {
    let runs: Vec<(f64, f64)> = (0..QUANTILE_REPLICATIONS)
        .into_par_iter()
        .map(|seed| {
            let (a, _) = pair(QUANTILE_N, 4, 0.0, 3000 + seed);
            let shifted: Vec<f64> = a
                .rows()
                .flat_map(|r| [r[0] + 1.0, r[1], r[2], r[3]])
                .collect();
            let x = UnitEmbeddings::normalize(
                Embeddings::<f64, Image>::from_row_major_vec(QUANTILE_N, 4, shifted).unwrap(),
            )
            .unwrap();
            let e = jackknife::cosine_quantile_within(&x, 0.5, QUANTILE_GROUPS, seed)
                .unwrap()
                .estimate();
            (e.value, e.standard_error)
        })
        .collect();
    assert_standard_error_matches_spread(
        &format!("median cosine n = {QUANTILE_N}, g = {QUANTILE_GROUPS}"),
        &runs,
        QUANTILE_GROUPS,
    );
}

#[test]
fn grouped_jackknife_reports_bad_input() {
    let (a, b) = pair(20, 3, 1.0, 5);
    for groups in [0, 1, 21] {
        assert!(matches!(
            jackknife::mutual_knn(&a, &b, 3, groups, 0),
            Err(Error::InvalidParameter { name: "g", .. })
        ));
    }
    let short = b.select(&(0..19).collect::<Vec<_>>()).unwrap();
    assert!(matches!(
        jackknife::mutual_knn(&a, &short, 3, 4, 0),
        Err(Error::LengthMismatch {
            expected: 20,
            found: 19
        })
    ));
    // k must leave each kept sample k neighbours: without a group of 10, 9 others at most.
    assert!(jackknife::mutual_knn(&a, &b, 9, 2, 0).is_ok());
    assert!(matches!(
        jackknife::mutual_knn(&a, &b, 10, 2, 0),
        Err(Error::InvalidParameter { name: "k", .. })
    ));
    assert!(matches!(
        jackknife::cknna(&a, &b, 1, 4, 0),
        Err(Error::InvalidParameter { name: "k", .. })
    ));
}
