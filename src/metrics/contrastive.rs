use crate::{
    Modality, Result, Scalar, Temperature, UnitEmbeddings, check,
    kernel::{self, Sets, Targets},
    reduce::max_row_norm,
};

/// The symmetric CLIP / InfoNCE loss and its two halves. Obtain it with [`contrastive_loss`].
///
/// ```text
/// symmetric = (a_to_b + b_to_a) / 2
/// ```
///
/// The halves are named after the arguments `a` and `b` of the function that made it: with
/// images as `a`, `a_to_b` is image → text.
///
/// # Examples
///
/// ```
/// use modality_gap::Temperature;
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, contrastive_loss};
///
/// // Both texts equal: each image sees logits (1, 1) or (0, 0), so image → text is ln 2.
/// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
/// let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0], [1.0, 0.0]])?)?;
/// let loss = contrastive_loss(&a, &b, Temperature::new(1.0)?)?;
/// assert!((loss.a_to_b - 2f64.ln()).abs() < 1e-15);
/// assert!((loss.b_to_a - ((1.0 + 1f64.exp()).ln() - 0.5)).abs() < 1e-15);
/// assert_eq!(loss.symmetric, (loss.a_to_b + loss.b_to_a) / 2.0);
/// assert_eq!(loss.to_string(), "symmetric 0.7532 (image→text 0.6931, text→image 0.8133)");
/// // Texts first: the halves swap, and the names say so.
/// let swapped = contrastive_loss(&b, &a, Temperature::new(1.0)?)?;
/// assert_eq!(swapped.to_string(), "symmetric 0.7532 (text→image 0.8133, image→text 0.6931)");
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Radford et al., "Learning Transferable Visual Models From Natural Language Supervision",
/// ICML 2021 (the symmetric loss); Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 4.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContrastiveLoss {
    /// (CE_rows + CE_columns) / 2, what CLIP trains on.
    pub symmetric: f64,
    /// CE over rows: each sample of `a` classifies which sample of `b` is its pair (image →
    /// text when `a` holds the images).
    pub a_to_b: f64,
    /// CE over columns: each sample of `b` classifies its pair in `a` (text → image).
    pub b_to_a: f64,
    /// The modalities of `a` and `b` ([`Modality::NAME`]): `Display` names the directions with
    /// them, so texts passed first show as "text→image".
    pub modalities: (&'static str, &'static str),
}

impl std::fmt::Display for ContrastiveLoss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (a, b) = self.modalities;
        write!(
            f,
            "symmetric {:.4} ({a}→{b} {:.4}, {b}→{a} {:.4})",
            self.symmetric, self.a_to_b, self.b_to_a
        )
    }
}

/// The symmetric contrastive (CLIP, InfoNCE) loss of paired unit embeddings at temperature τ.
///
/// ```text
/// zᵢⱼ = aᵢ·bⱼ / τ                                   (logits, n × n, never stored)
/// CE_rows    = (1/n) Σᵢ [ log Σⱼ exp(zᵢⱼ) − zᵢᵢ ]   a → b (image → text)
/// CE_columns = (1/n) Σⱼ [ log Σᵢ exp(zᵢⱼ) − zⱼⱼ ]   b → a (text → image)
/// L = (CE_rows + CE_columns) / 2
/// ```
///
/// Row i of `a` pairs with row i of `b`; the diagonal is the target of both cross-entropies.
/// CLIP's learned logit scale is 100, i.e. **τ = 0.01** ([`Temperature::CLIP`]); the
/// [`Temperature`] type holds both, so the two cannot be swapped. This is the
/// loss over the whole set, every sample against every other; for the mean over fixed-size
/// batches that training and the paper's validation curves report, see
/// [`batched_contrastive_loss`](crate::batched_contrastive_loss). Both cross-entropies come out of one pass of the pairwise
/// kernel, each row's and each column's log-sum-exp gathered online and shifted so that
/// nothing overflows or underflows at any τ. O(n²·d) time and O(n) memory: no n × n matrix.
///
/// The notebook `plot_optimization_exp.ipynb` of Weixin-Liang/Modality-Gap (Fig. 3b–d) calls
/// the image → text half counted twice its "symmetric" loss; that value is
/// [`ContrastiveLoss::a_to_b`].
///
/// # Errors
///
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch),
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch),
/// [`Error::Overflow`](crate::Error::Overflow) if 1/τ is so large (beyond about 1e307) that
/// the loss overflows.
///
/// # Examples
///
/// ```
/// use modality_gap::Temperature;
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, contrastive_loss};
///
/// // Perfectly separated pairs: each logit row is (1/τ, 0): CE = log(1 + e^(−1/τ)).
/// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
/// let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
/// let loss = contrastive_loss(&a, &b, Temperature::new(1.0)?)?;
/// assert!((loss.symmetric - (1.0 + (-1.0f64).exp()).ln()).abs() < 1e-15);
/// assert_eq!(loss.a_to_b, loss.b_to_a);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Radford et al., "Learning Transferable Visual Models From Natural Language Supervision",
/// ICML 2021 (the loss); Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 4 (its role in the
/// gap).
pub fn contrastive_loss<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    temperature: Temperature,
) -> Result<ContrastiveLoss> {
    check::paired(a.shape(), b.shape())?;
    loss_of(a, b, temperature.logit_scale(), Targets::Diagonal)
}

/// The contrastive loss with label targets: row i's target is column tᵢ, and column j's is
/// row tⱼ (one label vector for both directions).
///
/// ```text
/// CE_rows    = (1/n) Σᵢ [ log Σⱼ exp(zᵢⱼ) − z_{i,tᵢ} ]
/// CE_columns = (1/n) Σⱼ [ log Σᵢ exp(zᵢⱼ) − z_{tⱼ,j} ]
/// ```
///
/// With tᵢ = i it is [`contrastive_loss`]. This is `calc_loss` of the mismatched-data
/// notebooks of Weixin-Liang/Modality-Gap (Sec. 4.3), which pass one `labels` tensor to both
/// `F.cross_entropy(logits, labels)` and `F.cross_entropy(logits.T, labels)`. One pass, as
/// [`contrastive_loss`].
///
/// # Errors
///
/// As [`contrastive_loss`], and [`Error::LengthMismatch`](crate::Error::LengthMismatch)
/// unless there is one target per row, [`Error::InvalidParameter`](crate::Error::InvalidParameter)
/// for a target ≥ n.
///
/// # Examples
///
/// ```
/// use modality_gap::Temperature;
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, contrastive_loss, contrastive_loss_with_targets};
///
/// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
/// let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[0.0, 1.0], [1.0, 0.0]])?)?;
/// // The pairs are swapped: targets (1, 0) make them right again.
/// let swapped = contrastive_loss_with_targets(&a, &b, Temperature::new(1.0)?, &[1, 0])?;
/// let right = contrastive_loss(&a, &b, Temperature::new(1.0)?)?;
/// assert!(swapped.symmetric < right.symmetric);
/// assert!((swapped.symmetric - (1.0 + (-1.0f64).exp()).ln()).abs() < 1e-15);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 4.3 and Fig. 3e–g.
pub fn contrastive_loss_with_targets<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    temperature: Temperature,
    targets: &[usize],
) -> Result<ContrastiveLoss> {
    check::paired(a.shape(), b.shape())?;
    check::labels("targets", a.len(), b.len(), targets)?;
    loss_of(a, b, temperature.logit_scale(), Targets::Labels(targets))
}

/// The loss of two whole checked sets at logit scale s.
fn loss_of<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    scale: f64,
    targets: Targets<'_>,
) -> Result<ContrastiveLoss> {
    let sets = Sets::new(a.as_slice(), b.as_slice(), a.dim());
    loss_of_sets(sets, scale, dot_bound(a, b), targets, (A::NAME, B::NAME))
}

/// A bound on every |aᵢ·bⱼ|: ‖aᵢ‖‖bⱼ‖ ≤ max ‖a‖ · max ‖b‖, which is 1 for unit rows and more
/// for rows accepted by `verify_unit` with a loose tolerance. (Rounding past the bound moves
/// an exponent by a hair, harmlessly.)
pub(super) fn dot_bound<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
) -> f64 {
    max_row_norm(a) * max_row_norm(b)
}

/// The loss of rows against columns at logit scale s, with `dot_bound` ≥ every |aᵢ·bⱼ|.
pub(super) fn loss_of_sets(
    sets: Sets<'_>,
    scale: f64,
    dot_bound: f64,
    targets: Targets<'_>,
    modalities: (&'static str, &'static str),
) -> Result<ContrastiveLoss> {
    let halves = kernel::cross_entropies(sets, scale, dot_bound, targets);
    loss_from(halves, modalities)
}

/// The loss from its two halves (over rows, over columns).
pub(super) fn loss_from(
    (a_to_b, b_to_a): (f64, f64),
    modalities: (&'static str, &'static str),
) -> Result<ContrastiveLoss> {
    Ok(ContrastiveLoss {
        symmetric: check::no_overflow("the contrastive loss", 0.5 * (a_to_b + b_to_a))?,
        a_to_b,
        b_to_a,
        modalities,
    })
}
