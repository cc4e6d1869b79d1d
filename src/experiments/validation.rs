use crate::{
    Modality, Result, Scalar, Temperature, UnitEmbeddings, batched_contrastive_loss,
    contrastive_loss,
};

/// The loss recorded at each point of the embedding-shift sweep (Fig. 3b–d). See
/// [`validation_loss`].
///
/// # Examples
///
/// ```
/// use modality_gap::experiments::ValidationLoss;
///
/// assert_eq!(ValidationLoss::default(), ValidationLoss::Batched { size: 50 });
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Fig. 3b–d; `plot_optimization_exp.ipynb`
/// cell 4 (`calculate_val_loss`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValidationLoss {
    /// The symmetric contrastive loss over all n pairs at once.
    Full,
    /// The notebook's protocol: consecutive batches of `size` pairs (the remainder dropped),
    /// the symmetric loss of each, averaged. The default, with batches of 50.
    Batched {
        /// Pairs per batch.
        size: usize,
    },
    /// The same batches, but only the image → text cross-entropy: what the notebook really
    /// plots (its "symmetric" loss counts the image → text half twice).
    BatchedImageToText {
        /// Pairs per batch.
        size: usize,
    },
}

impl Default for ValidationLoss {
    fn default() -> Self {
        Self::Batched { size: 50 }
    }
}

/// The validation loss of paired unit embeddings at temperature τ, by one of the protocols of
/// [`ValidationLoss`].
///
/// ```text
/// Full:                L(a, b)                                   (contrastive_loss, symmetric)
/// Batched { B }:       (1/K) Σₖ L(a[kB..(k+1)B], b[kB..(k+1)B]),  K = ⌊n/B⌋
/// BatchedImageToText:  the same with the image → text half of L
/// ```
///
/// The batched protocols are [`batched_contrastive_loss`](crate::batched_contrastive_loss),
/// `Full` is [`contrastive_loss`](crate::contrastive_loss).
///
/// # Errors
///
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch), [`Error::LengthMismatch`](crate::Error::LengthMismatch), [`Error::InvalidParameter`](crate::Error::InvalidParameter) for a
/// bad τ or a batch size of 0, [`Error::TooFewSamples`](crate::Error::TooFewSamples) for fewer pairs than one batch.
///
/// # Examples
///
/// ```
/// use modality_gap::Temperature;
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, contrastive_loss};
/// use modality_gap::experiments::{ValidationLoss, validation_loss};
///
/// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])?)?;
/// let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0, 0.2], [0.2, 1.0], [1.0, 0.0]])?)?;
/// let full = validation_loss(&a, &b, Temperature::new(0.1)?, ValidationLoss::Full)?;
/// assert_eq!(full, contrastive_loss(&a, &b, Temperature::new(0.1)?)?.symmetric);
/// // One batch of 2: the third pair is dropped.
/// let batched = validation_loss(&a, &b, Temperature::new(0.1)?, ValidationLoss::Batched { size: 2 })?;
/// assert!(batched < full);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Fig. 3b–d; `plot_optimization_exp.ipynb`
/// cell 4.
pub fn validation_loss<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    temperature: Temperature,
    protocol: ValidationLoss,
) -> Result<f64> {
    Ok(match protocol {
        ValidationLoss::Full => contrastive_loss(a, b, temperature)?.symmetric,
        ValidationLoss::Batched { size } => {
            batched_contrastive_loss(a, b, temperature, size)?.symmetric
        }
        ValidationLoss::BatchedImageToText { size } => {
            batched_contrastive_loss(a, b, temperature, size)?.a_to_b
        }
    })
}
