//! The k-nearest-neighbour metrics: their delete-a-group jackknife over seeded groups (the
//! bootstrap is invalid for them, a row drawn twice being its own nearest neighbour).

use crate::{Embeddings, Jackknife, Modality, Result, Scalar, check};

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

/// A k-NN metric of two paired sets: [`mutual_knn`](crate::mutual_knn) or
/// [`cknna`](crate::cknna).
type KnnMetric<T, A, B> = fn(&Embeddings<T, A>, &Embeddings<T, B>, usize) -> Result<f64>;

/// `metric(A, B, k)` on all rows and without each of `groups` seeded groups of rows.
fn delete_groups<T: Scalar, A: Modality, B: Modality>(
    a: &Embeddings<T, A>,
    b: &Embeddings<T, B>,
    k: usize,
    groups: usize,
    seed: u64,
    metric: KnnMetric<T, A, B>,
) -> Result<Jackknife> {
    check::same_len(a.len(), b.len())?;
    let labels = Jackknife::seeded_groups(a.len(), groups, seed)?;
    Jackknife::delete_groups(&labels, groups, |keep| {
        metric(&a.select(keep)?, &b.select(keep)?, k)
    })
}
