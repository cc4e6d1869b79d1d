//! The delete-a-group jackknife over seeded groups, for the metrics whose delete-one jackknife
//! has no closed form and would cost n evaluations (SVCCA), or is not valid (the k-NN metrics,
//! whose bootstrap is invalid too, a row drawn twice being its own nearest neighbour; the
//! quantiles of the cosines, which are not smooth).

use crate::{Embeddings, Jackknife, Modality, Result, Scalar, UnitEmbeddings, check};

/// The delete-a-group jackknife of [`mutual_knn`](crate::mutual_knn): the samples are dealt
/// into g seeded groups of (nearly) equal size ([`Jackknife::seeded_groups`]), and the metric
/// is recomputed on the rows of both sets without each group in turn
/// ([`Method::GroupedJackknife`](crate::Method), dof = g − 1).
///
/// ```text
/// θ     = mutual_knn(A, B, k)
/// θ₋ₕ   = mutual_knn(A without group h, B without group h, k),   h = 1 … g
/// SE²   = ((g − 1)/g) Σₕ (δₕ − δ̄)²,   δₕ = θ₋ₕ − θ
/// ```
///
/// Leaving a group out changes the neighbours of the samples that stay (they are recomputed
/// among the kept rows), as drawing a smaller sample would: this is the jackknife of the
/// metric, not of a mean of fixed per-sample scores. The bootstrap is not valid here (a row
/// drawn twice is its own nearest neighbour at distance 0); the delete-one jackknife would
/// cost n passes where this costs g. Groups of ⌈n/g⌉ or ⌊n/g⌋ samples; g between 10 and 50 is
/// usual (g − 1 degrees of freedom for the interval, g + 1 metric evaluations). The same
/// (`groups`, `seed`) gives the same groups on every machine, so two models measured on the
/// same samples with the same seed pair ([`Jackknife::difference`]).
///
/// # Errors
///
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) for sets of different lengths,
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless 2 ≤ `groups` ≤ n, and
/// the errors of [`mutual_knn`](crate::mutual_knn) on all n rows and on the n − ⌈n/g⌉ rows
/// kept without a largest group: k must be at most n − ⌈n/g⌉ − 1.
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Jackknife, Method, Text, jackknife, mutual_knn};
///
/// let a = Embeddings::<f64, Image>::from_rows(&(0..12).map(|i| [(i as f64).sin(), (i as f64).cos()]).collect::<Vec<_>>())?;
/// let b = Embeddings::<f64, Text>::from_rows(&(0..12).map(|i| [(i as f64).sin() + 0.1 * (i % 2) as f64]).collect::<Vec<_>>())?;
/// let jk = jackknife::mutual_knn(&a, &b, 2, 4, 9)?;
/// assert_eq!(jk.value(), mutual_knn(&a, &b, 2)?);
/// // Each deviation is the metric without one group, minus the value: by hand for group 0.
/// let groups = Jackknife::seeded_groups(12, 4, 9)?;
/// let keep: Vec<usize> = (0..12).filter(|&i| groups[i] != 0).collect();
/// let without = mutual_knn(&a.select(&keep)?, &b.select(&keep)?, 2)?;
/// assert_eq!(jk.deviations()[0], without - jk.value());
/// assert_eq!((jk.len(), jk.estimate().dof, jk.estimate().method), (4, 3, Method::GroupedJackknife));
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Huh, Cheung, Wang & Isola, "The Platonic Representation Hypothesis", ICML 2024;
/// minyoungg/platonic-rep, `metrics.py` (`mutual_knn`), for the metric. Efron & Tibshirani,
/// *An Introduction to the Bootstrap*, 1993, ch. 11.5 (the delete-d jackknife); K. Wolter,
/// *Introduction to Variance Estimation*, 2nd ed., Springer 2007, ch. 4 (random groups).
pub fn mutual_knn<T: Scalar, A: Modality, B: Modality>(
    a: &Embeddings<T, A>,
    b: &Embeddings<T, B>,
    k: usize,
    groups: usize,
    seed: u64,
) -> Result<Jackknife> {
    delete_groups(a, b, k, groups, seed, crate::mutual_knn)
}

/// The delete-a-group jackknife of [`cknna`](crate::cknna), as
/// [`jackknife::mutual_knn`](mutual_knn) does it for the mutual k-NN alignment.
///
/// ```text
/// θ     = cknna(A, B, k)
/// θ₋ₕ   = cknna(A without group h, B without group h, k),   h = 1 … g
/// SE²   = ((g − 1)/g) Σₕ (δₕ − δ̄)²,   δₕ = θ₋ₕ − θ
/// ```
///
/// # Errors
///
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) for sets of different lengths,
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless 2 ≤ `groups` ≤ n, and
/// the errors of [`cknna`](crate::cknna) on all n rows and on the n − ⌈n/g⌉ rows kept without
/// a largest group (at least 4 rows, 2 ≤ k ≤ n − ⌈n/g⌉ − 1, a masked HSIC of each set with
/// itself above rounding).
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, cknna, jackknife};
///
/// let a = Embeddings::<f64, Image>::from_rows(&(0..16).map(|i| [(i as f64).sin(), (0.7 * i as f64).cos()]).collect::<Vec<_>>())?;
/// let b = Embeddings::<f64, Text>::from_rows(&(0..16).map(|i| [(i as f64).sin(), (0.7 * i as f64).cos() + 0.2 * (i % 3) as f64]).collect::<Vec<_>>())?;
/// let jk = jackknife::cknna(&a, &b, 4, 8, 1)?;
/// assert_eq!(jk.value(), cknna(&a, &b, 4)?);
/// assert!(jk.estimate().standard_error > 0.0);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Huh et al., ICML 2024; minyoungg/platonic-rep, `metrics.py` (`cknna`), for the metric;
/// Efron & Tibshirani 1993, ch. 11.5, for the delete-d jackknife.
pub fn cknna<T: Scalar, A: Modality, B: Modality>(
    a: &Embeddings<T, A>,
    b: &Embeddings<T, B>,
    k: usize,
    groups: usize,
    seed: u64,
) -> Result<Jackknife> {
    delete_groups(a, b, k, groups, seed, crate::cknna)
}

/// The delete-a-group jackknife of [`svcca`](crate::svcca), as
/// [`jackknife::mutual_knn`](mutual_knn) does it for the mutual k-NN alignment: g + 1
/// evaluations of the metric.
///
/// SVCCA is a smooth function of the sets' second moments while the q kept directions are
/// separated from the rest, so the delete-one jackknife would be valid too, at n evaluations
/// (each O(n·d²) with two SVDs); g groups give the same standard error to within the
/// precision of g − 1 degrees of freedom, at g evaluations.
///
/// # Errors
///
/// Those of [`jackknife::mutual_knn`](mutual_knn), with [`svcca`](crate::svcca)'s on all rows
/// and on the rows kept without each group: q at most min(d_a, d_b, kept − 1) and the
/// numerical rank of each kept set.
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, jackknife, svcca};
///
/// let a = Embeddings::<f64, Image>::from_rows(&(0..40).map(|i| { let t = i as f64; [t.sin(), t.cos(), (0.3 * t).sin()] }).collect::<Vec<_>>())?;
/// let b = Embeddings::<f64, Text>::from_rows(&(0..40).map(|i| { let t = i as f64; [t.sin() + 0.2 * (2.0 * t).cos(), (0.7 * t).cos()] }).collect::<Vec<_>>())?;
/// let jk = jackknife::svcca(&a, &b, 2, 10, 4)?;
/// assert_eq!(jk.value(), svcca(&a, &b, 2)?);
/// assert_eq!(jk.len(), 10);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Raghu, Gilmer, Yosinski & Sohl-Dickstein, "SVCCA", NeurIPS 2017; minyoungg/platonic-rep,
/// `metrics.py` (`AlignmentMetrics.svcca`), for the metric; Efron & Tibshirani 1993, ch. 11.5.
pub fn svcca<T: Scalar, A: Modality, B: Modality>(
    a: &Embeddings<T, A>,
    b: &Embeddings<T, B>,
    q: usize,
    groups: usize,
    seed: u64,
) -> Result<Jackknife> {
    delete_groups(a, b, q, groups, seed, crate::svcca)
}

/// The delete-a-group jackknife of one quantile of the cosines within a set,
/// [`cosine_quantiles_within`](crate::cosine_quantiles_within)`(x, &[q])`, over g seeded groups
/// of rows.
///
/// A quantile is not a smooth statistic: the delete-one jackknife of a sample quantile is not
/// consistent (its variance estimate does not converge; Efron 1982, ch. 3), while the
/// delete-d jackknife is when d/√n → ∞ and n − d → ∞ (Shao & Wu 1989). Groups of d = n/g rows
/// with g ≤ √n/2 meet that in practice (g = 10 to 20 for n in the thousands); the measured
/// coverage is in `docs/uncertainty.md`. g + 1 evaluations of the exact quantile pass.
///
/// # Errors
///
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless 2 ≤ `groups` ≤ n, and
/// those of [`cosine_quantiles_within`](crate::cosine_quantiles_within) on all rows and on the
/// rows kept without a largest group (at least 2).
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, UnitEmbeddings, cosine_quantiles_within, jackknife};
///
/// let x = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(
///     &(0..60).map(|i| { let t = i as f64; [1.0 + t.sin(), t.cos(), (0.3 * t).sin()] }).collect::<Vec<_>>(),
/// )?)?;
/// let median = jackknife::cosine_quantile_within(&x, 0.5, 6, 1)?;
/// assert_eq!(median.value(), cosine_quantiles_within(&x, &[0.5])?[0]);
/// assert!(median.standard_error() > 0.0);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// J. Shao, C. F. J. Wu, "A general theory for jackknife variance estimation", Annals of
/// Statistics 17, 1989; B. Efron, *The Jackknife, the Bootstrap and Other Resampling Plans*,
/// SIAM 1982.
pub fn cosine_quantile_within<T: Scalar, M: Modality>(
    x: &UnitEmbeddings<T, M>,
    q: f64,
    groups: usize,
    seed: u64,
) -> Result<Jackknife> {
    by_seeded_groups(x.len(), groups, seed, |keep| {
        Ok(crate::cosine_quantiles_within(&x.select(keep)?, &[q])?[0])
    })
}

/// The delete-a-group jackknife of one quantile of the cosines between two sets of n paired
/// samples, [`cosine_quantiles_between`](crate::cosine_quantiles_between)`(a, b, &[q])`: each
/// group leaves out its rows of both sets. As
/// [`cosine_quantile_within`] (a quantile is not smooth: groups, not single rows).
///
/// # Errors
///
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) for sets of different lengths, and
/// those of [`cosine_quantile_within`].
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, cosine_quantiles_between, jackknife};
///
/// let rows = |shift: f64| (0..60).map(|i| { let t = i as f64 + shift; [1.0 + t.sin(), t.cos()] }).collect::<Vec<_>>();
/// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&rows(0.0))?)?;
/// let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&rows(0.5))?)?;
/// let q90 = jackknife::cosine_quantile_between(&a, &b, 0.9, 6, 1)?;
/// assert_eq!(q90.value(), cosine_quantiles_between(&a, &b, &[0.9])?[0]);
/// # Ok::<(), modality_gap::Error>(())
/// ```
pub fn cosine_quantile_between<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    q: f64,
    groups: usize,
    seed: u64,
) -> Result<Jackknife> {
    check::same_len(a.len(), b.len())?;
    by_seeded_groups(a.len(), groups, seed, |keep| {
        Ok(crate::cosine_quantiles_between(&a.select(keep)?, &b.select(keep)?, &[q])?[0])
    })
}

/// A metric of two paired sets with one count parameter: [`mutual_knn`](crate::mutual_knn),
/// [`cknna`](crate::cknna) (k) or [`svcca`](crate::svcca) (q).
type PairedMetric<T, A, B> = fn(&Embeddings<T, A>, &Embeddings<T, B>, usize) -> Result<f64>;

/// `metric(A, B, k)` on all rows and without each of `groups` seeded groups of rows.
fn delete_groups<T: Scalar, A: Modality, B: Modality>(
    a: &Embeddings<T, A>,
    b: &Embeddings<T, B>,
    k: usize,
    groups: usize,
    seed: u64,
    metric: PairedMetric<T, A, B>,
) -> Result<Jackknife> {
    check::same_len(a.len(), b.len())?;
    by_seeded_groups(a.len(), groups, seed, |keep| {
        metric(&a.select(keep)?, &b.select(keep)?, k)
    })
}

/// `metric(keep)` on all n samples and without each of `groups` seeded groups.
fn by_seeded_groups(
    n: usize,
    groups: usize,
    seed: u64,
    metric: impl Fn(&[usize]) -> Result<f64> + Sync,
) -> Result<Jackknife> {
    let labels = Jackknife::seeded_groups(n, groups, seed)?;
    Jackknife::delete_groups(&labels, groups, metric)
}
