use super::{Shift, shift};
use crate::{Error, Modality, Result, Scalar, UnitEmbeddings, gap, metrics::at_least_one, top_k};

/// The zero-shot prediction of every image: the class prompt with the largest cosine
/// similarity.
///
/// ```text
/// ŷᵢ = argmax_c  aᵢ·p_c        (ties: the larger class index, as the peers' argsort tail)
/// ```
///
/// The logit scale and the softmax of CLIP do not change the argmax. One pass of the pairwise
/// kernel ([`top_k`] with k = 1).
///
/// # Errors
///
/// [`Error::DimensionMismatch`].
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, experiments::predict};
///
/// let img = UnitEmbeddings::normalize(Embeddings::<f32, Image>::from_rows(&[[1.0, 0.1], [0.1, 1.0]])?)?;
/// let prompts = UnitEmbeddings::normalize(Embeddings::<f32, Text>::from_rows(&[[0.0, 1.0], [1.0, 0.0]])?)?;
/// assert_eq!(predict(&img, &prompts)?, [1, 0]);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Table 1; `train_clip.py` line 93.
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
/// Ties in the ranking go to the larger class index, as in the peers' stable argsort. One
/// pass of the pairwise kernel for all K.
///
/// # Errors
///
/// [`Error::DimensionMismatch`], [`Error::LengthMismatch`] unless there is one label per
/// image, [`Error::InvalidParameter`] for a label that is not a prompt's index or K = 0.
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, experiments::hit_rates};
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
/// `Table_1_*/training/train_clip.py` lines 56–63.
pub fn hit_rates<T: Scalar, A: Modality, B: Modality>(
    images: &UnitEmbeddings<T, A>,
    prompts: &UnitEmbeddings<T, B>,
    labels: &[usize],
    ks: &[usize],
) -> Result<Vec<f64>> {
    check_labels(images.len(), prompts.len(), labels)?;
    for &k in ks {
        at_least_one("k", k)?;
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

/// One δ of [`zero_shot_sweep`]: the gap after the shift and the zero-shot Hit@1/5/10.
///
/// # Examples
///
/// ```
/// use modality_gap::experiments::ZeroShotPoint;
///
/// let p = ZeroShotPoint { delta: 0.0, gap_distance: 1.1, hit_at_1: 0.6, hit_at_5: 0.9, hit_at_10: 1.0 };
/// assert!(p.hit_at_1 <= p.hit_at_5);
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Table 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZeroShotPoint {
    /// The shift δ.
    pub delta: f64,
    /// ‖centroid(images′) − centroid(prompts′)‖ after the shift.
    pub gap_distance: f64,
    /// Top-1 accuracy after the shift.
    pub hit_at_1: f64,
    /// Hit@5 after the shift (K clamped to the number of prompts).
    pub hit_at_5: f64,
    /// Hit@10 after the shift (K clamped to the number of prompts).
    pub hit_at_10: f64,
}

/// The Table 1 protocol: zero-shot accuracy as the gap between the images and the class
/// prompts is shifted, one δ at a time.
///
/// ```text
/// g = direction, or the unit gap of the task's own features (images − prompts)
/// for each δ:  (a′, p′) = shift(a, p, g, δ, Both);  record ‖gap(a′, p′)‖, Hit@1, Hit@5, Hit@10
/// ```
///
/// Returns an iterator: each point is computed when the caller asks for it (so the caller
/// shows progress, stops early or runs the points in parallel); the library never prints.
/// The peers' δ are −5, −4.75, …, 4.75; the paper reports the best top-1 over the sweep
/// against δ = 0. A direction from elsewhere (e.g. the MSCOCO gap) is passed as `direction`.
///
/// # Errors
///
/// Up front: [`Error::DimensionMismatch`], [`Error::LengthMismatch`] and
/// [`Error::InvalidParameter`] as in [`hit_rates`], [`Error::ZeroGap`] when the direction is
/// the task's own and the gap is zero. Per point: the errors of [`shift`].
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, experiments::zero_shot_sweep};
///
/// let img = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.1, 1.0], [0.1, 1.0, 1.0]])?)?;
/// let prompts = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0, -1.0], [0.0, 1.0, -1.0]])?)?;
/// for point in zero_shot_sweep(&img, &prompts, &[0, 1], &[-1.0, 0.0, 1.0], None)? {
///     let point = point?;
///     assert_eq!(point.hit_at_1, 1.0);
/// }
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 5.1 and Table 1;
/// `Table_1_*/training/train_clip.py` lines 77–105, `shift_features.ipynb` cell 0.
pub fn zero_shot_sweep<'a, T: Scalar, A: Modality, B: Modality>(
    images: &'a UnitEmbeddings<T, A>,
    prompts: &'a UnitEmbeddings<T, B>,
    labels: &'a [usize],
    deltas: &'a [f64],
    direction: Option<&[f64]>,
) -> Result<impl Iterator<Item = Result<ZeroShotPoint>> + 'a> {
    check_labels(images.len(), prompts.len(), labels)?;
    let direction = match direction {
        Some(g) => g.to_vec(),
        None => gap(images, prompts)?.direction()?,
    };
    Ok(deltas.iter().map(move |&delta| {
        let (a, p) = shift(images, prompts, &direction, delta, Shift::Both)?;
        let hits = hit_rates(&a, &p, labels, &[1, 5, 10])?;
        Ok(ZeroShotPoint {
            delta,
            gap_distance: gap(&a, &p)?.distance(),
            hit_at_1: hits[0],
            hit_at_5: hits[1],
            hit_at_10: hits[2],
        })
    }))
}

/// One label per image, each the index of a prompt.
pub(super) fn check_labels(images: usize, prompts: usize, labels: &[usize]) -> Result<()> {
    if labels.len() != images {
        return Err(Error::LengthMismatch {
            expected: images,
            found: labels.len(),
        });
    }
    match labels.iter().find(|&&label| label >= prompts) {
        Some(&bad) => Err(Error::InvalidParameter {
            name: "labels",
            value: bad as f64,
            requirement: "the index of a class prompt",
        }),
        None => Ok(()),
    }
}
