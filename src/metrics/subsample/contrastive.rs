//! The contrastive loss from random rows: each sampled row's cross-entropy against all n
//! columns, exactly, and its mean.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::moments::{Moments, Summary};
use crate::kernel::{self, Sets};
use crate::metrics::contrastive::dot_bound;
use crate::{Estimate, Modality, Result, Scalar, Temperature, UnitEmbeddings, check};

/// The symmetric contrastive loss ([`crate::contrastive_loss`]) estimated from `rows` random
/// rows and `rows` random columns, each drawn uniformly with replacement and taken whole:
///
/// ```text
/// ℓᵢ = log Σⱼ exp(s aᵢ·bⱼ) − s aᵢ·bᵢ      (row i against all n columns)
/// ℓ′ⱼ = log Σᵢ exp(s aᵢ·bⱼ) − s aⱼ·bⱼ     (column j against all n rows)
/// L̂ = (1/B) Σ_k ½(ℓ_{i_k} + ℓ′_{j_k}),    SE = s_v / √B,   dof = B − 1
/// ```
///
/// (B = `rows`, s = 1/τ, v_k = ½(ℓ_{i_k} + ℓ′_{j_k})). Each sampled cross-entropy is the
/// exact one of the whole set (its log-sum-exp runs over all n), so v_k are independent draws
/// whose mean is unbiased for the loss, and the standard error is that of the estimate
/// against the exact loss on the given set, as for the other estimates of this module. (A
/// mini-batch loss, each row contrasted with a batch only, is a different number:
/// [`crate::batched_contrastive_loss`].) Cost: two passes of the kernel over B × n pairs,
/// O(B·n·d) — what makes a set too large for the O(n²·d) loss tractable is B ≪ n. The rows
/// come from one seeded stream; the passes are deterministic.
///
/// # Errors
///
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch),
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch),
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 2,
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) for fewer than 2 rows.
///
/// # Examples
///
/// ```
/// use modality_gap::{Image, Temperature, Text, UnitEmbeddings, contrastive_loss, npy, subsample};
///
/// static CLIP: &[u8] = include_bytes!("../../../data/features_clip.npy");
/// let (images, texts) = npy::read_pair_from::<f32, Image, Text, _>(CLIP)?;
/// let (images, texts) = (UnitEmbeddings::normalize(images)?, UnitEmbeddings::normalize(texts)?);
/// let exact = contrastive_loss(&images, &texts, Temperature::CLIP)?.symmetric;
/// let e = subsample::contrastive_loss(&images, &texts, Temperature::CLIP, 200, 3)?;
/// assert!((exact - 1.80089).abs() < 1e-5);
/// assert!(e.standard_error > 0.05 && e.standard_error < 0.3);
/// assert!(e.interval(0.999)?.contains(exact));
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
    rows: usize,
    seed: u64,
) -> Result<Estimate> {
    check::paired(a.shape(), b.shape())?;
    check::at_least(2, a.len())?;
    let rows = check::count_within("rows", rows, 2, usize::MAX, "at least 2")?;
    let (scale, bound, n) = (temperature.logit_scale(), dot_bound(a, b), a.len());
    let mut rng = StdRng::seed_from_u64(seed);
    let mut draw = || -> Vec<usize> { (0..rows).map(|_| rng.random_range(0..n)).collect() };
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
    let estimate = Moments::of(&mut values).mean_estimate();
    check::no_overflow("the contrastive loss", estimate.value)?;
    Ok(estimate)
}
