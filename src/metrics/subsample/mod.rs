//! Estimates at any scale: uniformity, cross-modal uniformity and the cone from a budget of
//! random pairs, and the contrastive loss from random (row, column) draws, with their standard
//! errors. Each function has the name of the exact metric it estimates and takes the same
//! arguments, then a [`Budget`] and a seed; it returns an
//! [`Estimate`](crate::Estimate) with [`Method::Subsample`](crate::Method::Subsample).
//!
//! | estimate | pairs drawn | value from B pair values | standard error |
//! |---|---|---|---|
//! | [`uniform_loss`] | i ≠ j of one set (uniform over i < j) | log of the mean of exp(−t‖xᵢ − xⱼ‖²) | s_w / (√B · mean w) |
//! | [`cross_modal_uniformity`] | i ≠ j of A × B | log of the mean of exp(−t‖aᵢ − bⱼ‖²) | s_w / (√B · mean w) |
//! | [`mean_pairwise_cosine`] | i ≠ j of one set | mean of uᵢ·uⱼ | s / √B |
//! | [`contrastive_loss`] | B (row, column) draws, each whole (against all n) | mean of ½(ℓᵢ + ℓ′ⱼ) | s / √B |
//!
//! ## What the standard error measures
//!
//! The exact metrics are complete U-statistics: means over every pair of the set. These
//! functions are incomplete U-statistics (Blom 1976): the same mean over B pairs drawn
//! uniformly **with replacement** from the metric's pairs. The B pair values are then
//! independent draws from the set's own population of pair values, their mean is unbiased
//! for the exact mean, and its standard deviation is σ/√B exactly, σ² the variance of the
//! pair values over the set; s² estimates σ². So the standard error is that of the estimate
//! **against the exact metric on the given set**, given the set: a 95 % interval covers the
//! value the O(n²·d) pass would return in 95 % of seeds. (For the uniformities, the log of the
//! mean takes its standard error by the delta method, SE(log m̂) = SE(m̂)/m̂, and carries a
//! bias of about −SE²/2, negligible once SE is small.) It does not include how the metric
//! would vary over other samples of n from the population the set came from: that is the
//! jackknife's standard error ([`crate::jackknife`]). For a mean over pairs the two add,
//! approximately: Var(estimate) ≈ Var(exact) + σ²/B (Janson 1984; Lee 1990, Sec. 4.3).
//!
//! ## Cost and determinism
//!
//! Each pair costs O(d): its value is computed directly from the two rows, every difference or
//! product widened to f64 (the rows of `f32` input are read as they are stored), and nothing
//! is formed of size n. The work is random row access, so it is bound by memory latency; it
//! does not depend on n beyond that. Pairs are drawn in chunks of 4096, each chunk from its
//! own ChaCha12 stream keyed by (seed, chunk index); chunks run in parallel in the caller's
//! rayon pool and their summaries merge in chunk order, so the result is bitwise the same for
//! any number of threads, and a budget of B pairs draws the first B pairs of a budget of
//! B′ > B with the same seed. `docs/uncertainty.md` in the repository has the coverage
//! measured by simulation and the timing at n = 10⁶.
//!
//! # References
//!
//! - G. Blom, *Some properties of incomplete U-statistics*, Biometrika 63 (1976) 573–580.
//! - S. Janson, *The asymptotic distributions of incomplete U-statistics*, Z.
//!   Wahrscheinlichkeitstheorie verw. Gebiete 66 (1984) 495–505.
//! - A. J. Lee, *U-Statistics: Theory and Practice*, Marcel Dekker 1990, ch. 4.3.
//! - T. Wang, P. Isola, *Understanding Contrastive Representation Learning through Alignment
//!   and Uniformity on the Hypersphere*, ICML 2020 (uniformity).
//! - W. Liang et al., *Mind the Gap*, NeurIPS 2022 (the cone effect).

mod contrastive;
mod draw;
mod moments;

pub use contrastive::contrastive_loss;

use draw::{GROUP, Group, Rows};
use moments::{Moments, Potential};

use crate::reduce::{dots, squared_distances};
use crate::{Estimate, Modality, Result, Scalar, UnitEmbeddings, check};

/// How many random pairs to draw: a fixed number, or as many as reach a standard error.
///
/// ```text
/// Pairs(B):          B pairs (B ≥ 2)
/// StandardError(ε):  rounds of ROUND_PAIRS pairs until SE ≤ ε, or MAX_PAIRS pairs are drawn
/// ```
///
/// With `StandardError`, the standard error is computed after each round of
/// [`ROUND_PAIRS`](Budget::ROUND_PAIRS) pairs, and drawing stops at the first round whose
/// standard error is at most ε. At the cap of [`MAX_PAIRS`](Budget::MAX_PAIRS) pairs it stops
/// and **returns the estimate with the standard error reached**, above ε: compare
/// [`Estimate::standard_error`](crate::Estimate) with your target, or ask for more pairs with
/// `Pairs`. The result is bitwise that of `Pairs(k · ROUND_PAIRS)` with the same seed, k the
/// number of rounds drawn (the estimate's `dof + 1` pairs).
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, UnitEmbeddings, subsample::{self, Budget}};
///
/// let rows: Vec<[f64; 3]> = (0..200).map(|i| [(i as f64).sin(), (i as f64).cos(), 1.0]).collect();
/// let x = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&rows)?)?;
/// let e = subsample::mean_pairwise_cosine(&x, Budget::StandardError(1e-3), 3)?;
/// assert!(e.standard_error <= 1e-3);
/// let pairs = e.dof as u64 + 1;
/// assert!(pairs.is_multiple_of(Budget::ROUND_PAIRS));
/// assert_eq!(subsample::mean_pairwise_cosine(&x, Budget::Pairs(pairs), 3)?, e);
/// # Ok::<(), modality_gap::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Budget {
    /// Draw this many pairs (at least 2); for [`contrastive_loss`], this many (row, column)
    /// draws, each a whole row and column against all n.
    Pairs(u64),
    /// Draw rounds of [`Budget::ROUND_PAIRS`] pairs until the standard error is at most this
    /// (finite, > 0), or [`Budget::MAX_PAIRS`] pairs are drawn; for [`contrastive_loss`],
    /// rounds of [`Budget::ROUND_ROWS`] draws, at most n.
    StandardError(f64),
}

impl Budget {
    /// The pairs of one round of a [`StandardError`](Budget::StandardError) budget, 2¹⁶ (16
    /// chunks of 4096, the unit of parallel work).
    pub const ROUND_PAIRS: u64 = 1 << 16;

    /// The cap of a [`StandardError`](Budget::StandardError) budget, 2²⁶ ≈ 6.7·10⁷ pairs: a
    /// standard error of about σ/8192, σ the standard deviation of the pair values (for the
    /// uniformities, relative to their mean); under a minute at d = 512 on two cores (0.5 to
    /// 0.7 µs per pair measured at n = 10⁶).
    pub const MAX_PAIRS: u64 = 1 << 26;

    /// The (row, column) draws of one round of [`contrastive_loss`] under a
    /// [`StandardError`](Budget::StandardError) budget: 64 rows and 64 columns, each a kernel
    /// pass against all n (at n = 10⁶ and d = 512, about a second on two cores).
    pub const ROUND_ROWS: u64 = 64;

    /// The most pairs to draw, and the standard error at which to stop early.
    fn plan(self) -> Result<(u64, Option<f64>)> {
        match self {
            Budget::Pairs(pairs) => Ok((check::pair_budget(pairs)?, None)),
            Budget::StandardError(target) => Ok((
                Budget::MAX_PAIRS,
                Some(check::target_standard_error(target)?),
            )),
        }
    }
}

/// The uniformity loss of Wang & Isola ([`crate::uniform_loss`]) estimated from random pairs.
///
/// ```text
/// L̂ = log( (1/B) Σ_b w_b ),   w_b = exp(−t ‖x_{i_b} − x_{j_b}‖₂²),   (i_b, j_b) uniform over i < j
/// SE(L̂) = s_w / (√B · (1/B) Σ_b w_b),   s_w² = (1/(B−1)) Σ_b (w_b − w̄)²,   dof = B − 1
/// ```
///
/// Valid while the standard error of the log is small (below about 0.1): at a large t the
/// potentials are heavy-tailed (the closest pairs carry the mean), and a budget that leaves
/// the log's standard error at 0.2 or more gives intervals that cover far less than their
/// level (86 % at t = 10, 32 % at t = 30 with 10⁴ pairs on a cone; the table is in
/// `docs/uncertainty.md`). [`Budget::StandardError`] keeps drawing until the error is small.
///
/// The pairs are those of the exact metric, i < j (drawn as ordered pairs i ≠ j, which is the
/// same uniform law on unordered pairs), with replacement. The sum is kept as a shift m = max
/// of −t‖xᵢ − xⱼ‖² and the terms expm1(−t‖xᵢ − xⱼ‖² − m), so L̂ = m + log1p(mean): finite however
/// large t is (where the literal `exp(…).mean().log()` gives −∞) and exact to the last digits
/// for tight clusters. Distances are taken row against row in f64 (no Gram identity), so the
/// estimate's target is the exact metric up to that metric's own rounding (for `f32` input,
/// its dot products in f32: ≲ 1e-6, far below any standard error here).
///
/// # Errors
///
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 2,
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless t is finite and > 0, or
/// for a budget of fewer than 2 pairs or a target standard error that is not finite and > 0,
/// [`Error::Overflow`](crate::Error::Overflow) for t above `f64::MAX`/5 (an exponent
/// −t‖xᵢ − xⱼ‖² could overflow).
///
/// # Examples
///
/// ```
/// use modality_gap::{Image, Text, UnitEmbeddings, npy, subsample::{self, Budget}};
///
/// // The 500 CLIP images: 124 750 pairs; 20 000 random pairs estimate their uniformity.
/// static CLIP: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/features_clip.npy"));
/// let (images, _) = npy::read_pair_from::<f32, Image, Text, _>(CLIP)?;
/// let images = UnitEmbeddings::normalize(images)?;
/// let exact = modality_gap::uniform_loss(&images, 2.0)?;
/// let e = subsample::uniform_loss(&images, 2.0, Budget::Pairs(20_000), 7)?;
/// assert!((exact + 1.79453).abs() < 1e-5);
/// assert!(e.standard_error > 0.002 && e.standard_error < 0.005);
/// assert!(e.interval(0.999)?.contains(exact));
///
/// // Three rows at 120°: every pair is √3 apart, so every sample gives −2·3, with SE 0.
/// let h = 3f64.sqrt() / 2.0;
/// let x = UnitEmbeddings::normalize(modality_gap::Embeddings::<f64, Image>::from_rows(
///     &[[1.0, 0.0], [-0.5, h], [-0.5, -h]],
/// )?)?;
/// let e = subsample::uniform_loss(&x, 2.0, Budget::Pairs(1000), 1)?;
/// assert!((e.value + 6.0).abs() < 1e-14 && e.standard_error < 1e-14);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Wang & Isola, ICML 2020, Sec. 4.1, Eq. (3), for the metric; Blom 1976, Janson 1984 and Lee
/// 1990 (ch. 4.3) for incomplete U-statistics (see the [module docs](self)).
pub fn uniform_loss<T: Scalar, M: Modality>(
    x: &UnitEmbeddings<T, M>,
    t: f64,
    budget: Budget,
    seed: u64,
) -> Result<Estimate> {
    check::at_least(2, x.len())?;
    potential(x.as_slice(), x.as_slice(), x.dim(), t)?.estimate::<Potential>(budget, seed)
}

/// The cross-modal uniformity ([`crate::cross_modal_uniformity`]) estimated from random pairs.
///
/// ```text
/// L̂ = log( (1/B) Σ_b w_b ),   w_b = exp(−t ‖a_{i_b} − b_{j_b}‖₂²),   (i_b, j_b) uniform over i ≠ j
/// SE(L̂) = s_w / (√B · (1/B) Σ_b w_b),   dof = B − 1
/// ```
///
/// The pairs are the exact metric's n(n−1) ordered unmatched pairs (i, j), i ≠ j, of A × B,
/// drawn with replacement; the sum is kept and the standard error taken as for
/// [`uniform_loss`], and valid as it is: while the log's standard error is below about 0.1.
///
/// # Errors
///
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch),
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) for n ≠ m, and those of
/// [`uniform_loss`].
///
/// # Examples
///
/// ```
/// use modality_gap::{Image, Text, UnitEmbeddings, npy, subsample::{self, Budget}};
///
/// static CLIP: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/features_clip.npy"));
/// let (images, texts) = npy::read_pair_from::<f32, Image, Text, _>(CLIP)?;
/// let (images, texts) = (UnitEmbeddings::normalize(images)?, UnitEmbeddings::normalize(texts)?);
/// let exact = modality_gap::cross_modal_uniformity(&images, &texts, 2.0)?;
/// let e = subsample::cross_modal_uniformity(&images, &texts, 2.0, Budget::StandardError(0.002), 7)?;
/// assert!((exact + 3.33427).abs() < 1e-5);
/// assert!(e.standard_error <= 0.002);
/// assert!(e.interval(0.999)?.contains(exact));
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Fahim, Murphy & Fyshe, "It's Not a Modality Gap", 2024, for the metric; Wang & Isola,
/// ICML 2020, for the potential; Blom 1976, Janson 1984 and Lee 1990 for incomplete
/// U-statistics.
pub fn cross_modal_uniformity<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    t: f64,
    budget: Budget,
    seed: u64,
) -> Result<Estimate> {
    check::paired(a.shape(), b.shape())?;
    check::at_least(2, a.len())?;
    potential(a.as_slice(), b.as_slice(), a.dim(), t)?.estimate::<Potential>(budget, seed)
}

/// The cone effect ([`crate::mean_pairwise_cosine`], diagonal excluded) estimated from random
/// pairs.
///
/// ```text
/// ĉ = (1/B) Σ_b u_{i_b}·u_{j_b},   (i_b, j_b) uniform over i ≠ j
/// SE(ĉ) = s / √B,   s² = (1/(B−1)) Σ_b (u_{i_b}·u_{j_b} − ĉ)²,   dof = B − 1
/// ```
///
/// The exact cone is O(n·d) already (from the sum vector), so this estimate is for a first
/// look at a set too large to stream, or beside the two uniformities from the same kind of
/// pass. Only [`Diagonal::Excluded`](crate::Diagonal): the diagonal's mean, 1, is known, and
/// the mean with it included is ((n − 1)·ĉ + 1)/n (on exactly unit rows) with standard error
/// (n − 1)/n · SE(ĉ). Like the exact cone the value is clamped to [−1, 1].
///
/// # Errors
///
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 2,
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) for a budget of fewer than 2
/// pairs or a target standard error that is not finite and > 0.
///
/// # Examples
///
/// ```
/// use modality_gap::{Diagonal, Image, Text, UnitEmbeddings, npy, subsample::{self, Budget}};
///
/// static CLIP: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/features_clip.npy"));
/// let (images, _) = npy::read_pair_from::<f32, Image, Text, _>(CLIP)?;
/// let images = UnitEmbeddings::normalize(images)?;
/// let exact = modality_gap::mean_pairwise_cosine(&images, Diagonal::Excluded)?;
/// let e = subsample::mean_pairwise_cosine(&images, Budget::StandardError(1e-3), 11)?;
/// assert!((exact - 0.53148).abs() < 1e-5);
/// assert!(e.standard_error <= 1e-3);
/// assert!(e.interval(0.999)?.contains(exact));
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 2 and Fig. 2, for the metric; Blom 1976,
/// Janson 1984 and Lee 1990 for incomplete U-statistics.
pub fn mean_pairwise_cosine<T: Scalar, M: Modality>(
    x: &UnitEmbeddings<T, M>,
    budget: Budget,
    seed: u64,
) -> Result<Estimate> {
    check::at_least(2, x.len())?;
    Rows::new(
        x.as_slice(),
        x.as_slice(),
        x.dim(),
        #[inline(always)]
        |pairs| dots(pairs),
    )
    .estimate::<Moments>(budget, seed)
}

/// The exponents −t‖aᵢ − bⱼ‖² of pairs of unit rows (t checked: finite, > 0, and small enough
/// that no exponent overflows: ‖aᵢ − bⱼ‖² ≤ 4 up to the rounding of the rows, below 5).
fn potential<'a, T: Scalar>(
    a: &'a [T],
    b: &'a [T],
    dim: usize,
    t: f64,
) -> Result<Rows<'a, T, impl Fn(Group<'_, T>) -> [f64; GROUP] + Sync>> {
    let t = check::positive("t", t)?;
    check::no_overflow("the exponent t·‖x − y‖²", 5.0 * t)?;
    Ok(Rows::new(
        a,
        b,
        dim,
        #[inline(always)]
        move |pairs| squared_distances(pairs).map(|s| -t * s),
    ))
}
