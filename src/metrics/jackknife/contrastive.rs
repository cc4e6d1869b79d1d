//! The contrastive loss: a mean of log-sum-exps, each of which loses one term when a sample
//! leaves; the terms lost come from a second pass of the kernel, given the first's sums.

use crate::kernel::{self, LeftOut, Runs, Sets};
use crate::metrics::contrastive::{dot_bound, loss_from};
use crate::{Jackknife, Method, Modality, Result, Scalar, Temperature, UnitEmbeddings, check};

/// The jackknife of the symmetric [`contrastive_loss`](crate::contrastive_loss), exact, from
/// two passes of the pairwise kernel. Leaving pair i out removes row i and column i of the
/// logits zₖⱼ = aₖ·bⱼ/τ: row i's cross-entropy leaves the mean, and every other row k loses
/// the term of column i from its log-sum-exp. With ℓₖ = lseₖ − zₖₖ the cross-entropy of row
/// k, L_r their mean, pₖᵢ = exp(zₖᵢ − lseₖ) the share of column i in row k, and likewise
/// ℓ′ⱼ, L_c and qₖⱼ = exp(zₖⱼ − lse′ⱼ) over columns,
///
/// ```text
/// L_r,₋ᵢ − L_r = (L_r − ℓᵢ + Cᵢ)/(n − 1),   Cᵢ = Σ_{k≠i} log(1 − pₖᵢ)
/// L_c,₋ᵢ − L_c = (L_c − ℓ′ᵢ + Rᵢ)/(n − 1),  Rᵢ = Σ_{j≠i} log(1 − qᵢⱼ)
/// θ₋ᵢ − θ = ½ (L_r,₋ᵢ − L_r + L_c,₋ᵢ − L_c)
/// ```
///
/// The first pass is the metric's own (the value is the metric's, to the bit) and keeps every
/// row's and column's log-sum-exp; the second, over the same blocks, forms p and q for every
/// pair and sums log(1 − p) per column and log(1 − q) per row. It costs about a third more
/// than the first (an exponential per pair, q = p·e^lseₖ·e^(−lse′ⱼ), and the two series of
/// log(1 − ·); two exponentials below τ = 1/350), so the jackknife takes 2.3× the metric's
/// time (4096 pairs, d = 512, f32: 416 ms against 178 ms); no n × n matrix, O(n) memory per
/// task.
///
/// Precision: each log(1 − p) is its seven-term series for p ≤ 1/128 (the rest of the series
/// is below 2.2e-16 of it), `ln_1p` up to p = 3/4, and above, where 1 − p would cancel, the log
/// of the row's other shares summed without p; so every deviation keeps the digits of the
/// log-sum-exps themselves, an ulp or two of the largest logit (f64 rows), or the 5e-9
/// relative of the exponential at f32 precision. Leave-one-out values match the loss
/// recomputed without each pair to 1e-14 (f64; 1e-10 for f32 rows) in the tests. The loss is
/// a smooth function of means over rows and columns, so the jackknife is consistent.
///
/// The loss grows with the number of negatives (about as log n), which the jackknife reads as
/// an O(1/n) bias: [`bias_corrected`](crate::Jackknife::bias_corrected) extrapolates that
/// trend rather than removing a bias (on the CLIP pairs below, 2.49 against 1.80); the
/// standard error is what to report.
///
/// # Errors
///
/// Those of [`contrastive_loss`](crate::contrastive_loss), and
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 3.
///
/// # Examples
///
/// ```
/// use modality_gap::{Image, Temperature, Text, UnitEmbeddings, contrastive_loss, jackknife, npy};
///
/// static CLIP: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/features_clip.npy"));
/// let (img, txt) = npy::read_pair_from::<f32, Image, Text, _>(CLIP)?;
/// let (img, txt) = (UnitEmbeddings::normalize(img)?, UnitEmbeddings::normalize(txt)?);
/// let loss = jackknife::contrastive_loss(&img, &txt, Temperature::CLIP)?.estimate();
/// assert_eq!(loss.value, contrastive_loss(&img, &txt, Temperature::CLIP)?.symmetric);
/// // The 500 published CLIP pairs at τ = 0.01: 1.8009 ± 0.0911.
/// assert!((loss.value - 1.8009).abs() < 1e-4);
/// assert!((loss.standard_error - 0.0911).abs() < 1e-4);
/// let ci = loss.interval(0.95)?;
/// assert!(ci.lower > 1.62 && ci.upper < 1.98);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Radford et al., "Learning Transferable Visual Models From Natural Language Supervision",
/// ICML 2021 (the symmetric loss); van den Oord, Li & Vinyals, "Representation Learning with
/// Contrastive Predictive Coding", 2018 (InfoNCE); Efron & Stein, "The Jackknife Estimate of
/// Variance", Annals of Statistics 1981.
pub fn contrastive_loss<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    temperature: Temperature,
) -> Result<Jackknife> {
    check::paired(a.shape(), b.shape())?;
    check::at_least(3, a.len())?;
    let sets = Sets::new(a.as_slice(), b.as_slice(), a.dim());
    let left_out =
        kernel::cross_entropies_left_out(sets, temperature.logit_scale(), dot_bound(a, b));
    from_left_out::<A, B>(left_out, Method::Jackknife)
}

/// The jackknife of the symmetric loss from both directions' deviations: each unit's is the
/// mean of its row and column deviations, as the loss is the mean of the two directions.
pub(crate) fn from_left_out<A: Modality, B: Modality>(
    left_out: LeftOut,
    method: Method,
) -> Result<Jackknife> {
    let value = loss_from(left_out.means, (A::NAME, B::NAME))?.symmetric;
    let deviations = (left_out.rows.iter().zip(&left_out.cols))
        .map(|(r, c)| 0.5 * (r + c))
        .collect();
    Jackknife::from_deviations(value, deviations, method)
}

/// The delete-a-group jackknife of the symmetric [`contrastive_loss`](crate::contrastive_loss)
/// from the metric's own pass: the n pairs are cut into g runs of consecutive indices (run h
/// holds ⌊h·n/g⌋ ≤ i < ⌊(h+1)·n/g⌋, sizes ⌊n/g⌋ or ⌈n/g⌉), and the pass keeps, beside each
/// row's and column's log-sum-exp, its parts over every run of columns (rows). Leaving run h
/// out removes its rows and columns: with ℓₖ the cross-entropy of row k, L_r their mean and
/// Pₖₕ = exp(lseₖ,ₕ − lseₖ) the share of run h's columns in row k, and likewise over columns,
///
/// ```text
/// L_r,₋ₕ − L_r = (Σ_{k∉h} log(1 − Pₖₕ) − Σ_{k∈h} (ℓₖ − L_r)) / (n − nₕ)
/// δₕ = ½ (L_r,₋ₕ − L_r + L_c,₋ₕ − L_c),   SE² = ((g − 1)/g) Σₕ (δₕ − δ̄)²
/// ```
///
/// ([`Method::GroupedJackknife`], dof = g − 1). Each δₕ is the loss recomputed without run h,
/// minus the loss, to rounding: the tests ask 1e-12 of max(1, |δₕ|) against brute force, f64
/// and f32 rows (the recomputed loss itself rounds; 9e-13 measured at n = 2500, τ = 0.001).
/// The cost is the metric's one pass plus 16·g·n bytes (twice while the tasks' parts merge:
/// each column's log-sum-exp over every run of rows) and n·g log(1 − P) terms per direction,
/// where the delete-one [`jackknife::contrastive_loss`](contrastive_loss) needs a second
/// pass: 1.06× the metric's time at 4096 pairs and 1.02× at 8192 (d = 512, f32, g = 32; the
/// exact jackknife 2.2×; `docs/uncertainty.md` in the repository gives the run). g between 20
/// and 50 is usual: the interval has g − 1 degrees of freedom.
///
/// The runs are consecutive, not shuffled, so that the pass meets each run as a block: the
/// standard error is that of a random sample when the order of the pairs does not follow
/// their content. For pairs sorted by class or source, shuffle them first (`select` both sets
/// with one seeded permutation): the loss then changes only by rounding.
///
/// # Errors
///
/// Those of [`contrastive_loss`](crate::contrastive_loss),
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 3,
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless 2 ≤ `groups` ≤ n, and
/// [`Error::Overflow`](crate::Error::Overflow) for g·n above 2²⁷ (2 GiB of parts; g = n is
/// the delete-one jackknife, which [`jackknife::contrastive_loss`](contrastive_loss) gives in
/// O(n) memory).
///
/// # Examples
///
/// ```
/// use modality_gap::{Image, Method, Temperature, Text, UnitEmbeddings, contrastive_loss, jackknife, npy};
///
/// static CLIP: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/features_clip.npy"));
/// let (img, txt) = npy::read_pair_from::<f32, Image, Text, _>(CLIP)?;
/// let (img, txt) = (UnitEmbeddings::normalize(img)?, UnitEmbeddings::normalize(txt)?);
/// let jk = jackknife::contrastive_loss_grouped(&img, &txt, Temperature::CLIP, 25)?;
/// assert_eq!(jk.value(), contrastive_loss(&img, &txt, Temperature::CLIP)?.symmetric);
/// // Leaving out the first 20 pairs, by hand:
/// let kept: Vec<usize> = (20..500).collect();
/// let without = contrastive_loss(&img.select(&kept)?, &txt.select(&kept)?, Temperature::CLIP)?;
/// assert!((jk.deviations()[0] - (without.symmetric - jk.value())).abs() < 1e-9);
/// let loss = jk.estimate();
/// assert_eq!((loss.dof, loss.method), (24, Method::GroupedJackknife));
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// As [`jackknife::contrastive_loss`](contrastive_loss); K. Wolter, *Introduction to Variance
/// Estimation*, 2nd ed., Springer 2007, ch. 4 (random groups), and Efron & Tibshirani, *An
/// Introduction to the Bootstrap*, 1993, ch. 11.5 (the delete-d jackknife).
pub fn contrastive_loss_grouped<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    temperature: Temperature,
    groups: usize,
) -> Result<Jackknife> {
    check::paired(a.shape(), b.shape())?;
    check::at_least(3, a.len())?;
    check::count_within("groups", groups, 2, a.len(), "between 2 and n")?;
    check::at_most(
        "the run parts g·n (at most 2^27)",
        (groups as u64).saturating_mul(a.len() as u64),
        MAX_RUN_PARTS,
    )?;
    let sets = Sets::new(a.as_slice(), b.as_slice(), a.dim());
    let runs = Runs::new(a.len(), groups);
    let left_out = kernel::cross_entropies_left_out_by_runs(
        sets,
        temperature.logit_scale(),
        dot_bound(a, b),
        runs,
    );
    from_left_out::<A, B>(left_out, Method::GroupedJackknife)
}

/// The most parts over runs that [`contrastive_loss_grouped`] keeps, g·n: 2 GiB of log-sum-exps.
const MAX_RUN_PARTS: u64 = 1 << 27;
