//! The permutation null of a similarity between two paired sets: how similar they look when
//! the pairing is broken.

use rand::seq::SliceRandom;

use super::resample::replicate;
use crate::Result;

/// A metric's observed value and its distribution under random re-pairings, from
/// [`permutation_null`].
///
/// ```text
/// p_value    = (1 + #{r: θ_r ≥ θ}) / (m + 1)       (one-sided: larger is more similar)
/// null_mean  = (1/m) Σ_r θ_r,   null_sd = √( Σ_r (θ_r − null_mean)² / (m − 1) )
/// calibrated = θ − null_mean
/// ```
///
/// # Examples
///
/// ```
/// use modality_gap::stats::PermutationNull;
///
/// let null = PermutationNull { observed: 0.6, null_mean: 0.1, null_sd: 0.05, p_value: 0.01, permutations: 99 };
/// assert!((null.calibrated() - 0.5).abs() < 1e-15);
/// ```
///
/// # References
///
/// B. Phipson, G. K. Smyth, "Permutation P-values Should Never Be Zero", Statistical
/// Applications in Genetics and Molecular Biology 9 (2010).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PermutationNull {
    /// θ, the metric on the pairs as given.
    pub observed: f64,
    /// The mean of the m null values θ_r.
    pub null_mean: f64,
    /// Their standard deviation (divisor m − 1).
    pub null_sd: f64,
    /// (1 + #{θ_r ≥ θ}) / (m + 1), in [1/(m + 1), 1].
    pub p_value: f64,
    /// m, the number of random permutations.
    pub permutations: usize,
}

impl PermutationNull {
    /// θ − null_mean: the similarity beyond what unpaired sets of the same rows show (the
    /// biased CKA of two independent sets is well above 0 for small n; this is near 0).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::stats::PermutationNull;
    ///
    /// let null = PermutationNull { observed: 0.3, null_mean: 0.3, null_sd: 0.02, p_value: 0.5, permutations: 9 };
    /// assert_eq!(null.calibrated(), 0.0);
    /// ```
    pub fn calibrated(&self) -> f64 {
        self.observed - self.null_mean
    }
}

/// The permutation null of a similarity between two paired sets of n samples:
/// `metric(order)` once with the identity order (the observed value) and once with each of
/// m random permutations of 0 … n − 1, in parallel. `order` is to be applied to the second
/// set's rows (`b.select(order)`: row i of `a` is paired with row `order[i]` of `b`).
///
/// ```text
/// θ   = metric(0, 1, …, n − 1)
/// θ_r = metric(π_r),   π_r uniform over the permutations of 0 … n − 1,   r = 1 … m
/// p   = (1 + #{r: θ_r ≥ θ}) / (m + 1)
/// ```
///
/// The p-value is one-sided, for a metric where larger is more similar (CKA, SVCCA, mutual
/// k-NN, a recall); negate a distance or a loss. Ties with θ count as at least as similar, so
/// a discrete metric keeps the test valid: under the null hypothesis that the pairing carries
/// nothing (the rows of `b` exchangeable given `a`), P(p ≤ j/(m + 1)) ≤ j/(m + 1) for every j
/// (Phipson & Smyth), exactly for a continuous metric. The smallest p is 1/(m + 1). Every
/// metric may be tested so, k-NN metrics included: a permutation repeats no row.
///
/// Permutation r is drawn from its own generator, seeded from (`seed`, r), and the values are
/// kept in the order of r: the same seed gives the same result for any number of threads.
///
/// # Errors
///
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 2,
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) for fewer than 2 permutations,
/// the metric's errors (on the identity first, then that of the first permutation that
/// failed), [`Error::NonFinite`](crate::Error::NonFinite) for a non-finite value (the
/// observed one at row 0, column 1; permutation r's at row r, column 0) and
/// [`Error::Overflow`](crate::Error::Overflow) when the null values' spread exceeds
/// `f64::MAX`.
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, HsicEstimator, Image, Text, cka, mutual_knn, stats::permutation_null};
///
/// let rows: Vec<[f64; 2]> = (0..16).map(|i| { let t = i as f64; [t.sin(), (1.7 * t).cos()] }).collect();
/// let a = Embeddings::<f64, Image>::from_rows(&rows)?;
/// // b: the same samples turned by 90° and moved a little.
/// let turned: Vec<[f64; 2]> = rows.iter().enumerate().map(|(i, r)| [-r[1] + 0.05 * (i % 3) as f64, r[0]]).collect();
/// let b = Embeddings::<f64, Text>::from_rows(&turned)?;
///
/// let cka_of = |order: &[usize]| cka(&a, &b.select(order)?, HsicEstimator::Biased);
/// let null = permutation_null(a.len(), 99, 7, cka_of)?;
/// assert_eq!(null.p_value, 0.01); // no re-pairing is as similar: p = 1/(m + 1)
/// assert!(null.observed > 0.95 && null.null_mean < 0.3);
///
/// let knn_of = |order: &[usize]| mutual_knn(&a, &b.select(order)?, 3);
/// assert_eq!(permutation_null(a.len(), 99, 7, knn_of)?.p_value, 0.01);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// B. Phipson, G. K. Smyth, "Permutation P-values Should Never Be Zero", Statistical
/// Applications in Genetics and Molecular Biology 9 (2010); A. Gretton et al., "A Kernel
/// Statistical Test of Independence", NeurIPS 2007 (the permutation null of HSIC).
pub fn permutation_null(
    n: usize,
    permutations: usize,
    seed: u64,
    metric: impl Fn(&[usize]) -> Result<f64> + Sync,
) -> Result<PermutationNull> {
    let shuffle = |rng: &mut _| {
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(rng);
        order
    };
    let run = replicate(n, ("permutations", permutations), seed, shuffle, metric)?;
    let as_similar = run.replicates.iter().filter(|&&v| v >= run.value).count();
    Ok(PermutationNull {
        observed: run.value,
        null_mean: run.mean,
        null_sd: run.sd,
        p_value: (1 + as_similar) as f64 / (permutations + 1) as f64,
        permutations,
    })
}
