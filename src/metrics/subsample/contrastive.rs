//! The contrastive loss from random rows: each sampled row's cross-entropy against all n
//! columns, exactly, and its mean.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::Budget;
use super::moments::{Moments, Summary};
use crate::kernel::{self, Sets};
use crate::metrics::contrastive::dot_bound;
use crate::{Estimate, Modality, Result, Scalar, Temperature, UnitEmbeddings, check};

/// The symmetric contrastive loss ([`crate::contrastive_loss`]) estimated from B random
/// (row, column) draws, each drawn uniformly with replacement and taken whole:
///
/// ```text
/// ℓᵢ = log Σⱼ exp(s aᵢ·bⱼ) − s aᵢ·bᵢ      (row i against all n columns)
/// ℓ′ⱼ = log Σᵢ exp(s aᵢ·bⱼ) − s aⱼ·bⱼ     (column j against all n rows)
/// L̂ = (1/B) Σ_k ½(ℓ_{i_k} + ℓ′_{j_k}),    SE = s_v / √B,   dof = B − 1
/// ```
///
/// (s = 1/τ, v_k = ½(ℓ_{i_k} + ℓ′_{j_k})). Each sampled cross-entropy is the exact one of the
/// whole set (its log-sum-exp runs over all n), so v_k are independent draws whose mean is
/// unbiased for the loss, and the standard error is that of the estimate against the exact
/// loss on the given set, as for the other estimates of this module. (A mini-batch loss, each
/// row contrasted with a batch only, is a different number:
/// [`crate::batched_contrastive_loss`].) Cost: two passes of the kernel over B × n pairs,
/// O(B·n·d) — what makes a set too large for the O(n²·d) loss tractable is B ≪ n.
///
/// The budget counts draws: [`Budget::Pairs`]`(B)` takes B of them;
/// [`Budget::StandardError`]`(ε)` draws rounds of [`Budget::ROUND_ROWS`] until SE ≤ ε, or until n
/// draws (2n² pairs, twice the exact loss's: past that, compute it exactly). Draws come from
/// one seeded stream, round by round, so a target that stops after k rounds gives bitwise the
/// result of `Pairs(k · ROUND_ROWS)` with the same seed; the passes are deterministic.
///
/// # Errors
///
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch),
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch),
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 2,
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) for a budget of fewer than 2
/// draws or a target standard error that is not finite and > 0.
///
/// # Examples
///
/// ```
/// use modality_gap::{Image, Temperature, Text, UnitEmbeddings, contrastive_loss, npy};
/// use modality_gap::subsample::{self, Budget};
///
/// static CLIP: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/features_clip.npy"));
/// let (images, texts) = npy::read_pair_from::<f32, Image, Text, _>(CLIP)?;
/// let (images, texts) = (UnitEmbeddings::normalize(images)?, UnitEmbeddings::normalize(texts)?);
/// let exact = contrastive_loss(&images, &texts, Temperature::CLIP)?.symmetric;
/// let e = subsample::contrastive_loss(&images, &texts, Temperature::CLIP, Budget::Pairs(200), 3)?;
/// assert!((exact - 1.80089).abs() < 1e-5);
/// assert!(e.standard_error > 0.05 && e.standard_error < 0.3);
/// assert!(e.interval(0.999)?.contains(exact));
/// // Rounds of 64 draws until the standard error is at most 0.1.
/// let e = subsample::contrastive_loss(&images, &texts, Temperature::CLIP, Budget::StandardError(0.1), 3)?;
/// assert!(e.standard_error <= 0.1 && (e.dof as u64 + 1).is_multiple_of(Budget::ROUND_ROWS));
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Radford et al., "Learning Transferable Visual Models From Natural Language Supervision",
/// ICML 2021 (the loss); Blom 1976 and Lee 1990 (sampling the terms of a mean).
pub fn contrastive_loss<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    temperature: Temperature,
    budget: Budget,
    seed: u64,
) -> Result<Estimate> {
    check::paired(a.shape(), b.shape())?;
    check::at_least(2, a.len())?;
    let (scale, bound, n) = (temperature.logit_scale(), dot_bound(a, b), a.len());
    let (limit, target) = match budget {
        Budget::Pairs(draws) => (check::pair_budget(draws)?, None),
        Budget::StandardError(se) => (n as u64, Some(check::target_standard_error(se)?)),
    };
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut drawn, mut total) = (0, Moments::EMPTY);
    loop {
        let round = Budget::ROUND_ROWS.min(limit - drawn);
        let mut draw = || -> Vec<usize> { (0..round).map(|_| rng.random_range(0..n)).collect() };
        let (picked_rows, picked_cols) = (draw(), draw());
        let (a_rows, b_cols) = (a.select(&picked_rows)?, b.select(&picked_cols)?);
        let by_row = kernel::row_cross_entropies(
            Sets::new(a_rows.as_slice(), b.as_slice(), a.dim()),
            scale,
            bound,
            &picked_rows,
        );
        let by_col = kernel::row_cross_entropies(
            Sets::new(b_cols.as_slice(), a.as_slice(), a.dim()),
            scale,
            bound,
            &picked_cols,
        );
        let mut values: Vec<f64> = by_row
            .iter()
            .zip(&by_col)
            .map(|(r, c)| 0.5 * (r + c))
            .collect();
        total.merge(Moments::of(&mut values));
        drawn += round;
        let estimate = total.mean_estimate();
        check::no_overflow("the contrastive loss", estimate.value)?;
        if drawn == limit || target.is_some_and(|se| estimate.standard_error <= se) {
            return Ok(estimate);
        }
    }
}
