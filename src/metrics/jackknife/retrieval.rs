//! Recall@K: a mean of hits whose leave-one-out values also move the other queries' ranks.

use crate::kernel::{self, Sets};
use crate::{Jackknife, Method, Modality, Result, RetrievalRanks, Scalar, UnitEmbeddings, check};

/// The jackknifes of both directions of [`retrieval_recall`](crate::retrieval_recall).
///
/// # Examples
///
/// ```
/// use modality_gap::{Image, Text, UnitEmbeddings, jackknife, npy};
///
/// static CLIP: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/features_clip.npy"));
/// let (img, txt) = npy::read_pair_from::<f32, Image, Text, _>(CLIP)?;
/// let (img, txt) = (UnitEmbeddings::normalize(img)?, UnitEmbeddings::normalize(txt)?);
/// let r1 = jackknife::retrieval_recall(&img, &txt, 1)?;
/// assert_eq!((r1.a_to_b.value(), r1.b_to_a.value()), (0.552, 0.506));
/// # Ok::<(), modality_gap::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RecallJackknife {
    /// `a` → `b` (image → text when `a` holds the images).
    pub a_to_b: Jackknife,
    /// `b` → `a`.
    pub b_to_a: Jackknife,
}

/// The jackknife of [`retrieval_recall`](crate::retrieval_recall) in both directions, exactly,
/// from the metric's pass and one more. Leaving sample j out removes query aⱼ (and its hit)
/// and candidate bⱼ, which lifts every query whose pair ranked exactly K and was outranked by
/// bⱼ into the top K:
///
/// ```text
/// R₋ⱼ = (H − hitⱼ + Cⱼ)/(n − 1),   Cⱼ = #{ i ≠ j : rankᵢ = K and (i, j) outranks (i, i) }
/// R₋ⱼ − R = (H/n − hitⱼ + Cⱼ)/(n − 1)
/// ```
///
/// with H the number of hits and ties ranked as the metric ranks them. The metric's own pass
/// finds the flips Cⱼ too: it keeps each query's first K outrankers (all of them for a query
/// that ends at rank K), and for each column the rows that outranked it while it had fewer
/// than K in a task of the pass; the flips follow once the ranks are final. That keeps at
/// most K row indices per query and K per column and task (up to 16 tasks): 4·n·K·17 bytes
/// at worst, 680 MB at n = 10⁶ and K = 10, far less where most queries rank high (nothing
/// for K ≥ n, where no query can rank K). Recall
/// is a mean of hits, but not of independent ones: Cⱼ is the part a plain s/√n over the hits
/// would miss. The value is the metric's.
///
/// # Errors
///
/// Those of [`retrieval_recall`](crate::retrieval_recall) (K ≥ 1, checked before the pass),
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 2, and
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) for n ≥ 2³².
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Jackknife, Text, UnitEmbeddings, jackknife, retrieval_recall};
///
/// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[
///     [1.0, 0.1], [1.0, 0.0], [0.0, 1.0], [0.6, 0.8],
/// ])?)?;
/// let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[
///     [1.0, 0.0], [0.0, 1.0], [0.6, 0.8], [0.8, 0.6],
/// ])?)?;
/// let fast = jackknife::retrieval_recall(&a, &b, 1)?.a_to_b;
/// let brute = Jackknife::delete_one(4, |k| Ok(retrieval_recall(&a.select(k)?, &b.select(k)?, 1)?.a_to_b))?;
/// let same = fast.deviations().iter().zip(brute.deviations()).all(|(f, b)| (f - b).abs() < 1e-15);
/// assert!(same && fast.deviations()[1] > 0.4); // without sample 1, another pair moves up to rank 0
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022 (`evaluate_retrieval`, Weixin-Liang/Modality-Gap)
/// for the metric; Efron & Stein 1981.
pub fn retrieval_recall<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    k: usize,
) -> Result<RecallJackknife> {
    check::paired(a.shape(), b.shape())?;
    check::at_least(2, a.len())?;
    check::count_within(
        "n",
        a.len(),
        2,
        u32::MAX as usize,
        "at most 2³² − 1 samples (the pass keeps row indices as u32)",
    )?;
    check::at_least_one("k", k)?;
    let sets = Sets::new(a.as_slice(), b.as_slice(), a.dim());
    let ((a_to_b, b_to_a), (col_flips, row_flips)) = kernel::ranks_and_flips(sets, k as u64);
    let ranks = RetrievalRanks::new(a_to_b, b_to_a, (A::NAME, B::NAME));
    let recall = ranks.recall(k)?;
    let jackknife = |value: f64, ranks: &[u64], flips: &[u64]| {
        let n = ranks.len() as f64;
        let deviations = ranks
            .iter()
            .zip(flips)
            .map(|(&rank, &flips)| {
                let hit = f64::from(u8::from(rank < k as u64));
                (value - hit + flips as f64) / (n - 1.0)
            })
            .collect();
        Jackknife::from_deviations(value, deviations, Method::Jackknife)
    };
    Ok(RecallJackknife {
        a_to_b: jackknife(recall.a_to_b, ranks.a_to_b(), &col_flips)?,
        b_to_a: jackknife(recall.b_to_a, ranks.b_to_a(), &row_flips)?,
    })
}
