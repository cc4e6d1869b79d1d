use super::{finite, paired, positive};
use crate::{
    Error, Modality, Result, Scalar, UnitEmbeddings,
    kernel::{Isa, Rows, epilogue::cross_entropies, logsumexp::OnlineLogSumExp, paired_dots},
    reduce::max_row_norm,
};

/// The symmetric CLIP / InfoNCE loss and its two halves. Obtain it with [`contrastive_loss`].
///
/// ```text
/// symmetric = (image_to_text + text_to_image) / 2
/// ```
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, contrastive_loss};
///
/// // Both texts equal: each image sees logits (1, 1) or (0, 0), so image → text is ln 2.
/// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
/// let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0], [1.0, 0.0]])?)?;
/// let loss = contrastive_loss(&a, &b, 1.0)?;
/// assert!((loss.image_to_text - 2f64.ln()).abs() < 1e-15);
/// assert!((loss.text_to_image - ((1.0 + 1f64.exp()).ln() - 0.5)).abs() < 1e-15);
/// assert_eq!(loss.symmetric, (loss.image_to_text + loss.text_to_image) / 2.0);
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
    /// CE over rows: each sample of the first set classifies which sample of the second set is
    /// its pair (image → text).
    pub image_to_text: f64,
    /// CE over columns: each sample of the second set classifies its pair in the first set
    /// (text → image).
    pub text_to_image: f64,
}

/// The symmetric contrastive (CLIP, InfoNCE) loss of paired unit embeddings at temperature τ.
///
/// ```text
/// zᵢⱼ = aᵢ·bⱼ / τ                                   (logits, n × n, never stored)
/// CE_rows    = (1/n) Σᵢ [ log Σⱼ exp(zᵢⱼ) − zᵢᵢ ]   image → text
/// CE_columns = (1/n) Σⱼ [ log Σᵢ exp(zᵢⱼ) − zⱼⱼ ]   text → image
/// L = (CE_rows + CE_columns) / 2
/// ```
///
/// Row i of `a` pairs with row i of `b`; the diagonal is the target of both cross-entropies.
/// CLIP's learned logit scale is 100, i.e. **τ = 0.01**; the peers' "logit_scale" s is 1/τ.
/// Both cross-entropies come out of one pass of the pairwise kernel, each row's and each
/// column's log-sum-exp gathered online and shifted so that nothing overflows or underflows
/// at any τ. O(n²·d) time and O(n) memory: no n × n matrix.
///
/// Differs from `plot_optimization_exp.ipynb` (Fig. 3b–d), whose "symmetric" loss is the
/// image → text half counted twice; that value is [`ContrastiveLoss::image_to_text`].
///
/// # Errors
///
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch),
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch),
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless τ is finite, > 0 and
/// has a finite inverse, [`Error::Overflow`](crate::Error::Overflow) if 1/τ is so large
/// (beyond about 1e307) that the loss overflows.
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, contrastive_loss};
///
/// // Perfectly separated pairs: each logit row is (1/τ, 0): CE = log(1 + e^(−1/τ)).
/// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
/// let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
/// let loss = contrastive_loss(&a, &b, 1.0)?;
/// assert!((loss.symmetric - (1.0 + (-1.0f64).exp()).ln()).abs() < 1e-15);
/// assert_eq!(loss.image_to_text, loss.text_to_image);
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
    temperature: f64,
) -> Result<ContrastiveLoss> {
    paired(a, b)?;
    loss_of_sets(a, b, logit_scale(temperature)?, None)
}

/// The contrastive loss of two whole paired sets at logit scale s, with the targets of
/// [`loss_of_rows`].
pub(crate) fn loss_of_sets<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    scale: f64,
    targets: Option<&[usize]>,
) -> Result<ContrastiveLoss> {
    // |aᵢ·bⱼ| ≤ ‖aᵢ‖‖bⱼ‖: 1 for unit rows, more for rows accepted by `try_from_unit` with a
    // loose tolerance. (Rounding past the bound moves an exponent by a hair, harmlessly.)
    let dot_bound = max_row_norm(a) * max_row_norm(b);
    loss_of_rows(Rows::of(a), Rows::of(b), scale, dot_bound, targets)
}

/// s = 1/τ, for a τ that is finite, positive and has a finite inverse.
pub(crate) fn logit_scale(temperature: f64) -> Result<f64> {
    let scale = 1.0 / positive("temperature", temperature)?;
    if scale.is_finite() {
        Ok(scale)
    } else {
        Err(Error::InvalidParameter {
            name: "temperature",
            value: temperature,
            requirement: "a positive number whose inverse is finite",
        })
    }
}

/// The contrastive loss of rows against columns (whole sets, or one batch of them) at logit
/// scale s, with `dot_bound` ≥ every |aᵢ·bⱼ|. Row i's target is column i, unless `targets`
/// gives one index tᵢ per row: then row i's target is column tᵢ and column j's is row tⱼ, the
/// same label vector in both directions as the peers' `calc_loss`.
pub(crate) fn loss_of_rows<T: Scalar>(
    rows: Rows<'_, T>,
    cols: Rows<'_, T>,
    scale: f64,
    dot_bound: f64,
    targets: Option<&[usize]>,
) -> Result<ContrastiveLoss> {
    let isa = Isa::detect();
    let (row_targets, col_targets) = match targets {
        None => {
            let diagonal = paired_dots(isa, rows, cols);
            (diagonal.clone(), diagonal)
        }
        Some(t) => {
            let (picked_cols, picked_rows) = (cols.gather(t), rows.gather(t));
            (
                paired_dots(isa, rows, Rows::new(&picked_cols, cols.dim())),
                paired_dots(isa, Rows::new(&picked_rows, rows.dim()), cols),
            )
        }
    };
    let (row_lse, col_lse) = cross_entropies(isa, rows, cols, scale, dot_bound);
    // CE = mean over rows (columns) of log Σ exp(z) − z_target, the target logit being the
    // kernel's own dot product times s.
    let mean_ce = |lse: Vec<OnlineLogSumExp>, targets: Vec<T>| {
        let total: f64 = lse
            .into_iter()
            .zip(&targets)
            .map(|(l, t)| l.value() - scale * t.to_f64())
            .sum();
        total / rows.len() as f64
    };
    let (image_to_text, text_to_image) =
        (mean_ce(row_lse, row_targets), mean_ce(col_lse, col_targets));
    Ok(ContrastiveLoss {
        symmetric: finite(
            "the contrastive loss",
            0.5 * (image_to_text + text_to_image),
        )?,
        image_to_text,
        text_to_image,
    })
}
