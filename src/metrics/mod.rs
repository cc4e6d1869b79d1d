//! The metrics: each a short formula over the types and the pairwise kernel.

mod align;
mod cone;
mod contrastive;
mod distribution;
mod gap;
mod pairwise;
mod retrieval;
mod top_k;
mod uniform;

pub use align::align_loss;
pub use cone::{Diagonal, mean_pairwise_cosine};
pub use contrastive::{ContrastiveLoss, contrastive_loss};
pub use distribution::CosineHistogram;
pub use gap::{Gap, gap};
pub use pairwise::pairwise_cosine;
pub use retrieval::{Recall, retrieval_recall};
pub use top_k::{TopK, top_k};
pub use uniform::uniform_loss;

pub(crate) use align::align_loss_raw;
pub(crate) use contrastive::{logit_scale, loss_of_rows, loss_of_sets};
pub(crate) use uniform::uniform_loss_raw;

use crate::{Embeddings, Error, Modality, Result, Scalar};

/// Both sets have the same sample dimension.
pub(crate) fn same_dim<T: Scalar, A: Modality, B: Modality>(
    a: &Embeddings<T, A>,
    b: &Embeddings<T, B>,
) -> Result<()> {
    if a.dim() == b.dim() {
        Ok(())
    } else {
        Err(Error::DimensionMismatch {
            expected: a.dim(),
            found: b.dim(),
        })
    }
}

/// Both sets have the same dimension and the same number of samples (row i pairs with row i).
pub(crate) fn paired<T: Scalar, A: Modality, B: Modality>(
    a: &Embeddings<T, A>,
    b: &Embeddings<T, B>,
) -> Result<()> {
    same_dim(a, b)?;
    if a.len() == b.len() {
        Ok(())
    } else {
        Err(Error::LengthMismatch {
            expected: a.len(),
            found: b.len(),
        })
    }
}

/// A real parameter that must be finite and strictly positive (α, t, τ).
pub(crate) fn positive(name: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(Error::InvalidParameter {
            name,
            value,
            requirement: "finite and > 0",
        })
    }
}

/// A result that must be finite: the input's magnitude or the parameters may overflow it.
pub(crate) fn finite(quantity: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(Error::Overflow { quantity })
    }
}

/// At least `required` samples.
pub(crate) fn at_least<T: Scalar, M: Modality>(
    x: &Embeddings<T, M>,
    required: usize,
) -> Result<()> {
    if x.len() >= required {
        Ok(())
    } else {
        Err(Error::TooFewSamples {
            required,
            found: x.len(),
        })
    }
}

/// A count parameter (k) that must be at least 1.
pub(crate) fn at_least_one(name: &'static str, value: usize) -> Result<usize> {
    if value >= 1 {
        Ok(value)
    } else {
        Err(Error::InvalidParameter {
            name,
            value: 0.0,
            requirement: "at least 1",
        })
    }
}
