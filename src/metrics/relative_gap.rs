use super::pairing::Pairing;
use crate::{
    Diagonal, Modality, Result, Scalar, UnitEmbeddings, check, mean_pairwise_cosine, reduce::dot,
};

/// The relative modality gap (RMG) of Schrodi et al.: the distance between matched pairs
/// relative to the spread within each modality. Obtain it with [`relative_gap`].
///
/// ```text
/// d(c)     = (1 − c) / 2                               a cosine mapped to a distance in [0, 1]
/// matched  = d(mean over pairs of aᵢ·bᵢ),              replaced by 10⁻³ when ≤ 0
/// within_a = d(mean over i ≠ j of aᵢ·aⱼ),  within_b = d(mean over i ≠ j of bᵢ·bⱼ)
/// RMG      = matched / (matched + (within_a + within_b) / 2)     ∈ (0, 1]
/// ```
///
/// Small when matched pairs sit closer than the members of each modality sit to one another,
/// near 1 when the modalities are apart. The floor of 10⁻³ is the reference's; it applies
/// only when every pair coincides (a mean matched cosine of 1), and keeps RMG above 0.
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, relative_gap};
///
/// let img = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
/// let txt = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0], [-1.0, 0.0]])?)?;
/// let rmg = relative_gap(&img, &txt)?;
/// // matched cosines 1 and 0: d = 0.25; within: cosines 0 and −1: d = 0.5 and 1.
/// assert_eq!((rmg.matched, rmg.within_a, rmg.within_b), (0.25, 0.5, 1.0));
/// assert_eq!(rmg.value, 0.25 / (0.25 + 0.75));
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// S. Schrodi, D. T. Hoffmann, M. Argus, V. Fischer, T. Brox, "Two Effects, One Trigger: On
/// the Modality Gap, Object Bias, and Information Imbalance in Contrastive Vision-Language
/// Models", ICLR 2025; lmb-freiburg/two-effects-one-trigger, `analysis/gap_precompute.py`,
/// `compute_rmg`.
#[doc(alias = "RMG")]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RelativeGap {
    /// The relative modality gap, matched / (matched + (within_a + within_b) / 2).
    pub value: f64,
    /// The distance (1 − c)/2 of the mean matched cosine c, floored at 10⁻³.
    pub matched: f64,
    /// The distance (1 − c)/2 of the mean cosine c between distinct rows of the first set.
    pub within_a: f64,
    /// The distance (1 − c)/2 of the mean cosine c between distinct rows of the second set.
    pub within_b: f64,
}

/// The smallest matched distance [`RelativeGap`] uses: the reference's floor.
const MATCHED_FLOOR: f64 = 1e-3;

impl RelativeGap {
    /// The RMG of two sets and their true pairs (shapes already checked).
    pub(super) fn of<T: Scalar, A: Modality, B: Modality>(
        a: &UnitEmbeddings<T, A>,
        b: &UnitEmbeddings<T, B>,
        pairs: Pairing<'_>,
    ) -> Result<Self> {
        Ok(Self::from_cosines(
            pairs.mean(a, b, dot),
            mean_pairwise_cosine(a, Diagonal::Excluded)?,
            mean_pairwise_cosine(b, Diagonal::Excluded)?,
        ))
    }

    /// The RMG of a mean matched cosine and the two mean cosines within the sets.
    pub(super) fn from_cosines(matched: f64, within_a: f64, within_b: f64) -> Self {
        let distance = |c: f64| (1.0 - c) / 2.0;
        let matched = match distance(matched) {
            d if d > 0.0 => d,
            _ => MATCHED_FLOOR,
        };
        let (within_a, within_b) = (distance(within_a), distance(within_b));
        Self {
            value: matched / (matched + (within_a + within_b) / 2.0),
            matched,
            within_a,
            within_b,
        }
    }
}

/// The relative modality gap of paired sets ([`RelativeGap`] has the formula), exactly and in
/// O(n·d).
///
/// The mean matched cosine is (1/n) Σᵢ aᵢ·bᵢ, and each within-set mean over i ≠ j comes from
/// the sum vector, (‖Σᵢ xᵢ‖² − Σᵢ ‖xᵢ‖²) / (n(n − 1)) as in [`mean_pairwise_cosine`], all in
/// f64. The reference forms the n × n similarity matrices and zeroes their diagonals; the two
/// agree to rounding. For several captions per image (the reference's COCO convention: the
/// image term over unique images) use
/// [`Captioned::relative_gap`](crate::Captioned::relative_gap).
///
/// # Errors
///
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch),
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) (the sets must be paired),
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 2 (no pairs within a set).
///
/// # Examples
///
/// ```
/// use modality_gap::{Image, Text, UnitEmbeddings, npy, relative_gap};
///
/// static CLIP: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/features_clip.npy"));
/// let (img, txt) = npy::read_pair_from::<f32, Image, Text, _>(CLIP)?;
/// let (img, txt) = (UnitEmbeddings::normalize(img)?, UnitEmbeddings::normalize(txt)?);
/// let rmg = relative_gap(&img, &txt)?;
/// assert!((rmg.value - 0.59146).abs() < 1e-5);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Schrodi et al., "Two Effects, One Trigger", ICLR 2025, Sec. 3 (RMG);
/// lmb-freiburg/two-effects-one-trigger, `analysis/gap_precompute.py`, `compute_rmg`.
#[doc(alias = "RMG")]
pub fn relative_gap<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
) -> Result<RelativeGap> {
    check::paired(a.shape(), b.shape())?;
    RelativeGap::of(a, b, Pairing::Rows)
}
