//! The contrastive loss over fixed-size batches: the validation loss of a training loop.

use std::ops::Range;

use rayon::prelude::*;

use super::contrastive::{dot_bound, loss_from};
use crate::kernel::{self, Sets, Targets};
use crate::{
    ContrastiveLoss, Modality, Result, Scalar, Temperature, UnitEmbeddings, check, progress,
};

/// The contrastive loss averaged over consecutive batches of `batch_size` pairs: the loss a
/// training or validation loop reports, each batch's samples contrasted only with each other.
///
/// ```text
/// L_batched = (1/B) Σ_b L(batch b),   batch b = pairs b·size .. (b+1)·size,   B = ⌊n / size⌋
/// ```
///
/// each field of [`ContrastiveLoss`] averaged alike. The last n mod size pairs are left out
/// (a data loader's `drop_last`). With one batch of all n pairs it is [`contrastive_loss`](crate::contrastive_loss);
/// smaller batches give smaller values (fewer negatives), so the two are different numbers:
/// on the 500 published CLIP pairs at τ = 0.01, 1.80 over the whole set and 0.57 over batches
/// of 50.
///
/// # Errors
///
/// As [`contrastive_loss`](crate::contrastive_loss), and [`Error::InvalidParameter`](crate::Error::InvalidParameter)
/// for a batch size of 0, [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n below
/// one batch.
///
/// # Examples
///
/// ```
/// use modality_gap::Temperature;
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, batched_contrastive_loss, contrastive_loss};
///
/// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])?)?;
/// let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0, 0.1], [0.1, 1.0], [1.0, 0.0]])?)?;
/// let whole = contrastive_loss(&a, &b, Temperature::new(0.1)?)?;
/// assert_eq!(batched_contrastive_loss(&a, &b, Temperature::new(0.1)?, 3)?, whole);
/// // Batches of one pair have no negatives: every cross-entropy is log 1 = 0.
/// assert!(batched_contrastive_loss(&a, &b, Temperature::new(0.1)?, 1)?.symmetric.abs() < 1e-14);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Fig. 3b–d: the validation loss of
/// `plot_optimization_exp.ipynb` (Weixin-Liang/Modality-Gap), batches of 50.
pub fn batched_contrastive_loss<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    temperature: Temperature,
    batch_size: usize,
) -> Result<ContrastiveLoss> {
    check::paired(a.shape(), b.shape())?;
    let size = check::at_least_one("batch_size", batch_size)?;
    check::at_least(size, a.len())?;
    let count = a.len() / size;
    let batches = Batches::new(a, b, temperature.logit_scale(), size, count);
    // A bounded number of batches' cross-entropies at a time.
    let groups = (0..count).step_by(BATCHES_AT_A_TIME);
    let halves = groups
        .flat_map(|first| batches.cross_entropies(first..count.min(first + BATCHES_AT_A_TIME)));
    mean_over_batches(halves, (A::NAME, B::NAME))
}

/// How many batches' cross-entropies [`batched_contrastive_loss`] holds at a time (16 bytes
/// each).
const BATCHES_AT_A_TIME: usize = 4096;

/// The pairs of a batch from which the kernel spreads it over every core by itself.
const SPREAD_PAIRS: u64 = 1 << 22;

/// Batches of `size` consecutive pairs of two paired sets at logit scale s, with the
/// [`dot_bound`] of the whole sets (so that a batch's value does not depend on the batches
/// run beside it), and the progress of those that one call visits.
pub(crate) struct Batches<'a, T: Scalar, A: Modality, B: Modality> {
    sets: (&'a UnitEmbeddings<T, A>, &'a UnitEmbeddings<T, B>),
    /// The logit scale and the bound on every |aᵢ·bⱼ|.
    bounds: (f64, f64),
    size: usize,
    /// For small batches, run in parallel, one observed pass of them all.
    progress: Option<progress::Pass>,
}

impl<'a, T: Scalar, A: Modality, B: Modality> Batches<'a, T, A, B> {
    /// The batches of `size` pairs (1 ≤ size ≤ n) of `a` and `b` at logit scale `scale`, of
    /// which `count` are to be visited.
    pub(crate) fn new(
        a: &'a UnitEmbeddings<T, A>,
        b: &'a UnitEmbeddings<T, B>,
        scale: f64,
        size: usize,
        count: usize,
    ) -> Self {
        let pairs = Self::pairs_of(size);
        let progress = if pairs < SPREAD_PAIRS {
            progress::pass((count as u64).saturating_mul(pairs))
        } else {
            None
        };
        Self {
            sets: (a, b),
            bounds: (scale, dot_bound(a, b)),
            size,
            progress,
        }
    }

    /// The pairs of a batch of `size`.
    fn pairs_of(size: usize) -> u64 {
        (size as u64).saturating_mul(size as u64)
    }

    /// The two cross-entropies (over rows, over columns) of each batch in `batches`, in batch
    /// order. A batch is one pass of the kernel, whatever runs beside it, so the values do
    /// not depend on the threads. Small batches run in parallel and report together; large
    /// ones run one after another, each a pass that the kernel spreads over the cores and
    /// reports itself.
    pub(crate) fn cross_entropies(&self, batches: Range<usize>) -> Vec<(f64, f64)> {
        let ((a, b), (scale, dot_bound), size) = (self.sets, self.bounds, self.size);
        let d = a.dim();
        let batch = |k: usize| {
            let range = k * size * d..(k + 1) * size * d;
            let batch = Sets::new(&a.as_slice()[range.clone()], &b.as_slice()[range], d);
            kernel::cross_entropies(batch, scale, dot_bound, Targets::Diagonal)
        };
        if Self::pairs_of(size) >= SPREAD_PAIRS {
            return batches.map(batch).collect();
        }
        let progress = self.progress.as_ref();
        batches
            .into_par_iter()
            .map(|k| {
                // Once stopped, the rest are skipped (`progress::observe` then gives
                // `Cancelled`, whatever they hold).
                if progress.is_some_and(|p| p.cancelled()) {
                    return (f64::NAN, f64::NAN);
                }
                let halves = batch(k);
                if let Some(progress) = progress {
                    progress.advance(Self::pairs_of(size));
                }
                halves
            })
            .collect()
    }
}

/// The mean over batches of each field of [`ContrastiveLoss`], from each batch's two
/// cross-entropies in batch order: each batch's loss, summed batch after batch, over the
/// number of batches; [`Error::Overflow`](crate::Error::Overflow) for a loss or mean that is
/// not finite.
pub(crate) fn mean_over_batches(
    halves: impl IntoIterator<Item = (f64, f64)>,
    modalities: (&'static str, &'static str),
) -> Result<ContrastiveLoss> {
    let mut total = ContrastiveLoss {
        symmetric: 0.0,
        a_to_b: 0.0,
        b_to_a: 0.0,
        modalities,
    };
    let mut batches = 0usize;
    for halves in halves {
        let loss = loss_from(halves, modalities)?;
        total.symmetric += loss.symmetric;
        total.a_to_b += loss.a_to_b;
        total.b_to_a += loss.b_to_a;
        batches += 1;
    }
    let mean = |sum: f64| check::no_overflow("the batched contrastive loss", sum / batches as f64);
    Ok(ContrastiveLoss {
        symmetric: mean(total.symmetric)?,
        a_to_b: mean(total.a_to_b)?,
        b_to_a: mean(total.b_to_a)?,
        modalities,
    })
}
