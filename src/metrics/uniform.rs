use std::ops::Range;

use crate::kernel::{LogSumExp, SampleBlock};
use crate::{
    Embeddings, Error, Modality, Result, Scalar, UnitEmbeddings, check,
    kernel::{self, Sets},
    reduce::{Reach, mean_row, reach},
    scalar::unit_roundoff,
};

/// The uniformity loss of Wang & Isola: the log of the mean Gaussian potential over all
/// unordered pairs of one set.
///
/// ```text
/// L_uniform(t) = log( (2 / (n(n−1))) Σ_{i<j} exp(−t ‖xᵢ − xⱼ‖₂²) ),    t > 0, n ≥ 2
/// ```
///
/// Lower is more uniform. On unit rows −4t ≤ L_uniform ≤ 0, with 0 iff all rows coincide. The
/// pairs are i < j as in `torch.pdist` (no diagonal, no duplicates). The paper's default is
/// t = 2.
///
/// Computed as a log-sum-exp with f64 partial sums, so it stays finite where the literal
/// `pdist(x).pow(2).mul(-t).exp().mean().log()` underflows to −∞ (every t·d² above about 745
/// in f64, 103 in f32). Squared distances come from the Gram identity
/// ‖xᵢ‖² + ‖xⱼ‖² − 2 xᵢ·xⱼ on rows centred at their mean (distances are translation-invariant,
/// and centring keeps tight clusters free of cancellation), with the dot products from the
/// pairwise kernel in the input precision and everything after them in f64; identical rows
/// give exactly 0. O(n²·d) time over the n(n−1)/2 pairs only, no n × n matrix. For the
/// unnormalised call of align_uniform use
/// [`raw::uniform_loss`](crate::raw::uniform_loss).
///
/// # Errors
///
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 2 (no pairs; `torch.pdist` gives
/// `NaN`), [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless t is finite
/// and > 0, [`Error::Unresolved`](crate::Error::Unresolved) when the rounding of the Gram
/// identity could move the value by more than 1: t·5(d + 8)·u·maxᵢ ‖xᵢ − x̄‖² > 1, with u the
/// unit roundoff of `T` (2⁻²⁴ or 2⁻⁵³). The value is within that bound of the exact one,
/// apart from the exponential's and the f64 sums' own rounding (docs/metrics.md): on unit
/// rows of width 512 in `f32`, 3.1e-4 at t = 2 when every row lies 1 from the mean. The bound
/// passes 1 on unit rows in `f32` only for t·(d + 8) above about 8·10⁵ (t beyond 1600 at
/// d = 512), and on raw rows with an outlier far from the others.
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, UnitEmbeddings, uniform_loss};
///
/// // Two orthogonal unit vectors are √2 apart: log exp(−2·2) = −4.
/// let x = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
/// assert!((uniform_loss(&x, 2.0)? + 4.0).abs() < 1e-15);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Wang & Isola, "Understanding Contrastive Representation Learning through Alignment and
/// Uniformity on the Hypersphere", ICML 2020, Sec. 4.1, Eq. (3).
pub fn uniform_loss<T: Scalar, M: Modality>(x: &UnitEmbeddings<T, M>, t: f64) -> Result<f64> {
    uniform_loss_raw(x, t)
}

/// [`uniform_loss`] on rows as they are; see [`crate::raw::uniform_loss`].
pub(crate) fn uniform_loss_raw<T: Scalar, M: Modality>(
    x: &Embeddings<T, M>,
    t: f64,
) -> Result<f64> {
    Potential::within(x, t)?.log_mean()
}

/// The cross-modal uniformity: the log of the mean Gaussian potential between the samples of
/// two paired sets, over the pairs that are not matched.
///
/// ```text
/// L_cross(t) = log( (1 / (n(n−1))) Σ_{i≠j} exp(−t ‖aᵢ − bⱼ‖₂²) ),    t > 0, n = m ≥ 2
/// ```
///
/// Lower means the two modalities spread over each other more uniformly. On unit rows
/// −4t ≤ L_cross ≤ 0. The n(n−1) ordered pairs (i, j) with i ≠ j are all kept: aᵢ against bⱼ
/// and aⱼ against bᵢ are different pairs. The matched pairs (i, i) are left out (they are the
/// alignment's). abrar-fahim/contrastive-gap calls it `cross_encoder_uniform_loss` and uses
/// t = 2 (squared distances, as here).
///
/// One fused pass of the pairwise kernel over A × B that skips j = i, as [`uniform_loss`]: the
/// squared distances from the Gram identity ‖aᵢ‖² + ‖bⱼ‖² − 2 aᵢ·bⱼ on both sets centred at
/// one common point (the mean of their two means), dot products in the input precision,
/// everything after them in f64, and an exact log-sum-exp that stays finite where the literal
/// `exp(…).mean().log()` underflows. O(n²·d) time, no n × n matrix.
///
/// # Errors
///
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch),
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) for n ≠ m,
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 2 (no unmatched pair; the
/// reference gives `NaN`), [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless
/// t is finite and > 0, [`Error::Unresolved`](crate::Error::Unresolved) as [`uniform_loss`],
/// with x̄ the common centre and the largest distance from it over both sets.
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, cross_modal_uniformity};
///
/// // a₀ = b₁ and a₁ ⟂ b₀: the two unmatched pairs give exp(0) and exp(−2·2).
/// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
/// let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0], [1.0, 0.0]])?)?;
/// let expected = ((1.0 + (-4.0f64).exp()) / 2.0).ln();
/// assert!((cross_modal_uniformity(&a, &b, 2.0)? - expected).abs() < 1e-15);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Fahim, Murphy & Fyshe, "It's Not a Modality Gap: Characterizing and Addressing the
/// Contrastive Gap", 2024; abrar-fahim/contrastive-gap, `src/evaluator.py`,
/// `get_mscoco_uniformity` (`cross_encoder_uniform_loss`). Wang & Isola, ICML 2020, for the
/// potential.
pub fn cross_modal_uniformity<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    t: f64,
) -> Result<f64> {
    Potential::between(a, b, t)?.log_mean()
}

/// The Gaussian potentials of a uniformity pass: the pairs of `sets` (`within` one set, or
/// i ≠ j between two), the rows centred at `centre` and scaled by a power of two near
/// 1/`spread` (so no magnitude over- or underflows in the kernel's precision).
pub(super) struct Potential<'a> {
    sets: Sets<'a>,
    within: bool,
    n: usize,
    centre: Vec<f64>,
    spread: f64,
    t: f64,
    quantity: &'static str,
}

impl<'a> Potential<'a> {
    /// The pairs i < j of one set (n ≥ 2, t > 0).
    pub(super) fn within<T: Scalar, M: Modality>(x: &'a Embeddings<T, M>, t: f64) -> Result<Self> {
        check::at_least(2, x.len())?;
        let t = check::positive("t", t)?;
        // Distances do not change under translation. Centring first shrinks the norms in the
        // Gram identity to the spread of the set, so a narrow cone loses no digits to
        // cancellation; a power-of-two scale (exact) brings the spread near 1, so no magnitude
        // over- or underflows in the kernel's precision.
        let centre = mean_row(x);
        let quantity = "the uniformity loss";
        let reach = resolved::<T>(quantity, t, x.dim(), reach(x, &centre))?;
        Ok(Self {
            sets: Sets::one(x.as_slice(), x.dim()),
            within: true,
            n: x.len(),
            centre,
            spread: reach.coordinate,
            t,
            quantity,
        })
    }

    /// The pairs i ≠ j of two paired sets (n = m ≥ 2, t > 0).
    pub(super) fn between<T: Scalar, A: Modality, B: Modality>(
        a: &'a Embeddings<T, A>,
        b: &'a Embeddings<T, B>,
        t: f64,
    ) -> Result<Self> {
        check::paired(a.shape(), b.shape())?;
        check::at_least(2, a.len())?;
        let t = check::positive("t", t)?;
        // Distances between the sets are invariant under a common translation only: one
        // centre.
        let centre: Vec<f64> = mean_row(a)
            .into_iter()
            .zip(mean_row(b))
            .map(|(x, y)| 0.5 * (x + y))
            .collect();
        let both = reach(a, &centre).max(reach(b, &centre));
        let quantity = "the cross-modal uniformity";
        let reach = resolved::<T>(quantity, t, a.dim(), both)?;
        Ok(Self {
            sets: Sets::new(a.as_slice(), b.as_slice(), a.dim()),
            within: false,
            n: a.len(),
            centre,
            spread: reach.coordinate,
            t,
            quantity,
        })
    }

    /// Whether every pair coincides: the log-mean is then 0, with no pass.
    pub(super) fn coincides(&self) -> bool {
        self.spread == 0.0
    }

    /// The pairs each tile of the pass visits ([`crate::shard`]).
    pub(super) fn tile_pairs(&self) -> Vec<u64> {
        let within = self.within;
        kernel::tile_pairs(self.sets, kernel::Tiled::Gaussian { within })
    }

    /// The states of the tiles `tiles` of the pass, in order.
    pub(super) fn tiles(&self, tiles: Range<usize>) -> Vec<LogSumExp> {
        let parameters = (self.within, &self.centre[..], self.scale(), self.t);
        kernel::gaussian_tiles(self.sets, parameters, tiles)
    }

    /// The states of the tiles `tiles` of the pass that also sums each sample's potentials
    /// ([`log_mean_and_shares`](Self::log_mean_and_shares)), and the aligned blocks of those
    /// sums; `None` when that pass takes two passes (some exponent may fall below −700).
    pub(super) fn share_tiles(
        &self,
        tiles: Range<usize>,
    ) -> Option<(Vec<LogSumExp>, Vec<SampleBlock>)> {
        let parameters = (self.within, &self.centre[..], self.scale(), self.t);
        kernel::gaussian_share_tiles(self.sets, parameters, tiles)
    }

    /// [`log_mean`](Self::log_mean) from the states of every tile of the pass, in order (of
    /// the same inputs: `coincides` is [`coincides`](Self::coincides)).
    pub(super) fn log_mean_of(
        quantity: &'static str,
        coincides: bool,
        tiles: Vec<LogSumExp>,
    ) -> Result<f64> {
        if coincides {
            return Ok(0.0);
        }
        check::no_overflow(quantity, kernel::gaussian_log_mean_of(tiles))
    }

    /// The number of samples.
    pub(super) fn len(&self) -> usize {
        self.n
    }

    /// log of the mean potential. 0 when every row sits at the centre (every pair coincides:
    /// log mean exp(0)).
    pub(super) fn log_mean(&self) -> Result<f64> {
        if self.coincides() {
            return Ok(0.0);
        }
        let log_mean =
            kernel::gaussian_log_mean(self.sets, self.within, &self.centre, self.scale(), self.t);
        check::no_overflow(self.quantity, log_mean)
    }

    /// [`log_mean`](Self::log_mean), and each sample's share (rₖ − r̄)/S of the sum S of the
    /// potentials beyond the mean share, rₖ summing the pairs that contain sample k (all 0
    /// when every pair coincides).
    pub(super) fn log_mean_and_shares(&self) -> Result<(f64, Vec<f64>)> {
        if self.spread == 0.0 {
            return Ok((0.0, vec![0.0; self.len()]));
        }
        let (log_mean, shares) = kernel::gaussian_log_mean_and_shares(
            self.sets,
            self.within,
            &self.centre,
            self.scale(),
            self.t,
        );
        Ok((check::no_overflow(self.quantity, log_mean)?, shares))
    }

    fn scale(&self) -> f64 {
        power_of_two_near(self.spread.recip())
    }
}

/// `reach` (of rows of width `d` in `T` from the pass's centre c) when the log-mean of the
/// potentials is resolved: when the most rounding can move it,
///
/// ```text
/// bound = t · 5(d + 8) · u · maxᵢ ‖xᵢ − c‖²      (u = 2⁻²⁴ in f32, 2⁻⁵³ in f64),
/// ```
///
/// is at most 1; else [`Error::Unresolved`]. Each exponent −t‖xᵢ − xⱼ‖² comes from rows
/// rounded to `T` once centred (a relative error of at most 2u per entry, so at most
/// (4u + 4u²)·(‖xᵢ − c‖ + ‖xⱼ − c‖)² in the squared distance) and from the Gram identity in `T`
/// (dot products and norms of length d, at most 2γ_d·(‖xᵢ − c‖² + ‖xⱼ − c‖²), with
/// γ_d = du/(1 − du), plus the f64 sums after them): at most t·(4.06d + 32)·u·max‖xᵢ − c‖² in
/// all, within the bound for d·u ≤ 0.01. A log-mean-exp moves by at most the largest move of
/// its exponents. The bound is a worst case (the rows (10⁸, 0), (0, 1), (1, 0) in `f64` err by
/// 0.25 against a bound of 24.7); on unit rows in `f32` it passes 1 only for t·(d + 8) above
/// about 8·10⁵. A mean that overflows (NaN, from sums of opposite infinities) reaches +∞ far.
fn resolved<T: Scalar>(quantity: &'static str, t: f64, d: usize, reach: Reach) -> Result<Reach> {
    // The small factors first, so that no product overflows before the bound does.
    let bound = 5.0 * (d as f64 + 8.0) * unit_roundoff::<T>() * reach.squared * t;
    if bound <= 1.0 {
        Ok(reach)
    } else {
        Err(Error::Unresolved { quantity, bound })
    }
}

/// 2ᵉ with e the integer nearest log₂ `value`, within f64's normal range.
fn power_of_two_near(value: f64) -> f64 {
    2f64.powi(value.log2().round().clamp(-1022.0, 1023.0) as i32)
}
