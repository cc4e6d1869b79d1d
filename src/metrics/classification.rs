//! Zero-shot classification: each image takes the class of its most similar class prompt.

use super::top_k;
use crate::{Modality, Result, Scalar, UnitEmbeddings, check};

/// The zero-shot prediction of every image: the class prompt with the largest cosine
/// similarity.
///
/// ```text
/// ŷᵢ = argmax_c  aᵢ·p_c        (ties: the larger class index, as the tail of a stable argsort)
/// ```
///
/// The logit scale and the softmax of CLIP do not change the argmax. One pass of the pairwise
/// kernel ([`top_k`] with k = 1).
///
/// # Errors
///
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch).
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, predict};
///
/// let img = UnitEmbeddings::normalize(Embeddings::<f32, Image>::from_rows(&[[1.0, 0.1], [0.1, 1.0]])?)?;
/// let prompts = UnitEmbeddings::normalize(Embeddings::<f32, Text>::from_rows(&[[0.0, 1.0], [1.0, 0.0]])?)?;
/// assert_eq!(predict(&img, &prompts)?, [1, 0]);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Table 1; `Table_1_*/training/train_clip.py`
/// line 93 in Weixin-Liang/Modality-Gap.
pub fn predict<T: Scalar, A: Modality, B: Modality>(
    images: &UnitEmbeddings<T, A>,
    prompts: &UnitEmbeddings<T, B>,
) -> Result<Vec<usize>> {
    let best = top_k(images, prompts, 1)?;
    Ok((0..best.len()).map(|i| best.indices(i)[0]).collect())
}

/// Hit@K for every K of `ks`: the fraction of images whose label is among the K class prompts
/// most similar to them. Hit@1 is the top-1 accuracy.
///
/// ```text
/// Hit@K = (1/n) #{ i : labelᵢ ∈ top_K(aᵢ) }        K clamped to the number of prompts
/// ```
///
/// Ties in the ranking go to the larger class index, as in a stable argsort (the reference's). One
/// pass of the pairwise kernel for all K.
///
/// # Errors
///
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch),
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) unless there is one label per
/// image, [`Error::InvalidParameter`](crate::Error::InvalidParameter) for a label that is not
/// a prompt's index or K = 0.
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, hit_rates};
///
/// let img = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.1], [0.1, 1.0]])?)?;
/// let prompts = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[0.0, 1.0], [1.0, 0.0], [-1.0, 0.0]])?)?;
/// // Image 0 (class 0) ranks its class second; image 1 (class 2) ranks its class last.
/// assert_eq!(hit_rates(&img, &prompts, &[0, 2], &[1, 2, 3])?, [0.0, 0.5, 1.0]);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Table 1; `evaluate_classification` in
/// `Table_1_*/training/train_clip.py` lines 56–63 in Weixin-Liang/Modality-Gap.
pub fn hit_rates<T: Scalar, A: Modality, B: Modality>(
    images: &UnitEmbeddings<T, A>,
    prompts: &UnitEmbeddings<T, B>,
    labels: &[usize],
    ks: &[usize],
) -> Result<Vec<f64>> {
    check::labels("labels", images.len(), prompts.len(), labels)?;
    for &k in ks {
        check::at_least_one("k", k)?;
    }
    let widest = ks.iter().copied().max().unwrap_or(1);
    let best = top_k(images, prompts, widest)?;
    let n = images.len() as f64;
    Ok(ks
        .iter()
        .map(|&k| {
            let hits = labels
                .iter()
                .enumerate()
                .filter(|&(i, label)| best.indices(i).iter().take(k).any(|c| c == label))
                .count();
            hits as f64 / n
        })
        .collect())
}
