use crate::{
    Embeddings, Modality, Result, Scalar, check,
    kernel::{self, Sets},
};

/// Mutual k-nearest-neighbour alignment: how many of each sample's k nearest neighbours in
/// one representation are also among its k nearest neighbours in the other.
///
/// ```text
/// mutual_knn(A, B, k) = (1 / (n·k)) Σᵢ |N_k^A(i) ∩ N_k^B(i)|,    1 ≤ k < n
/// N_k^X(i) = the k samples j ≠ i with the largest inner products xᵢ·xⱼ
/// ```
///
/// Row i of `a` and row i of `b` are the same sample; the two sets may differ in dimension.
/// Neighbours are by inner product within each set (cosine for unit rows), sample i itself
/// excluded, ties ranked as [`top_k`](crate::top_k) ranks them (the larger index first). The
/// value is in [0, 1]: 1 when both sets give every sample the same neighbours, about k/(n−1)
/// for unrelated sets.
///
/// Two passes of the pairwise kernel's fused top-k (each keeps k + 1 candidates per row and
/// drops the sample itself, or the last when the sample is not among them), O(n²·d) time and
/// O(n·k) memory; the count is an exact integer.
///
/// platonic-rep's `mutual_knn` computes the same number through n × n masks: its
/// `compute_nearest_neighbors` fills the diagonal of the Gram matrix with −1e8 (self-exclusion
/// that fails only for inner products below −1e8) and takes a descending, unstable `argsort`,
/// so its tie order is unspecified; the two agree wherever the k-th and (k+1)-th neighbours
/// are not tied.
///
/// # Errors
///
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) for sets of different lengths,
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 2,
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless 1 ≤ k ≤ n − 1,
/// [`Error::Overflow`](crate::Error::Overflow) when the neighbour lists, n·(k + 1) entries,
/// would exceed 2^27 (k is meant to be small: platonic-rep uses 10).
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, mutual_knn};
///
/// // Three points on a line and the same three points reflected: the same neighbours.
/// let a = Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [2.0, 0.0], [-1.0, 0.0]])?;
/// let b = Embeddings::<f64, Text>::from_rows(&[[-1.0], [-2.0], [1.0]])?;
/// assert_eq!(mutual_knn(&a, &b, 1)?, 1.0);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Huh, Cheung, Wang & Isola, "The Platonic Representation Hypothesis", ICML 2024;
/// minyoungg/platonic-rep, `metrics.py` (`mutual_knn`, `compute_nearest_neighbors`).
pub fn mutual_knn<T: Scalar, A: Modality, B: Modality>(
    a: &Embeddings<T, A>,
    b: &Embeddings<T, B>,
    k: usize,
) -> Result<f64> {
    mutual_knn_count(a.len(), b.len(), k)?;
    Ok(mutual_knn_of(&Neighbours::of(a, k), &Neighbours::of(b, k)))
}

/// The checks of [`mutual_knn`] on n and m rows. Returns n.
pub(crate) fn mutual_knn_count(n: usize, m: usize, k: usize) -> Result<usize> {
    neighbour_count((n, m), 2, k, (1, "between 1 and n − 1"))
}

/// [`mutual_knn`] from the neighbour lists of both sets.
pub(crate) fn mutual_knn_of(in_a: &Neighbours, in_b: &Neighbours) -> f64 {
    let n = in_a.len();
    let shared: usize = (0..n).map(|i| in_a.mutual(in_b, i).count()).sum();
    shared as f64 / (n as f64 * in_a.k as f64)
}

/// CKNNA: the unbiased centred kernel alignment of the linear kernels K = AAᵀ and L = BBᵀ,
/// each restricted to the pairs that are mutual k-nearest neighbours.
///
/// ```text
/// Mᵢⱼ = 1 if j ∈ N_k^A(i) ∩ N_k^B(i) (j ≠ i), else 0;   K̃ = M ∘ K,  L̃ = M ∘ L
/// HSIC₁(K̃, L̃) = [Σᵢⱼ K̃ᵢⱼ L̃ⱼᵢ + (1ᵀK̃1)(1ᵀL̃1)/((n−1)(n−2)) − 2/(n−2) · 1ᵀK̃L̃1] / (n(n−3))
/// cknna(A, B, k) = HSIC₁(M∘K, M∘L) / √( HSIC₁(M_A∘K, M_A∘K) · HSIC₁(M_B∘L, M_B∘L) )
/// ```
///
/// M_A (M_B) is the k-nearest-neighbour mask of A (B) alone, N_k as in [`mutual_knn`]
/// (inner products, self excluded, the larger index first among ties). The masks need not be
/// symmetric: the first sum counts the pairs with both Mᵢⱼ and Mⱼᵢ. With k = n − 1 every
/// pair is kept and CKNNA is the unbiased linear CKA of the rows as given ([`cka`](crate::cka)
/// computes that without neighbour lists). The value may be negative, and exceed 1 in
/// magnitude (the masked HSIC is not a Gram form); it is returned as it is.
///
/// Computed from the two top-k passes of [`mutual_knn`] and the kernel values of the
/// neighbour pairs they return, in O(n·k·log k) after the passes, O(n·k) memory: no n × n
/// mask. platonic-rep forms K, L and the masks as n × n matrices, divides by
/// √(HSIC_KK · HSIC_LL) + 1e-6 (the crate returns the exact ratio), and its default
/// `topk=None` cannot run: it compares `topk < 2` before replacing `None` by n − 1, so callers
/// must pass `topk`, as here.
///
/// # Errors
///
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) for sets of different lengths,
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for n < 4 (the unbiased HSIC divides
/// by n(n−3)), [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless
/// 2 ≤ k ≤ n − 1 (the reference's lower bound),
/// [`Error::ZeroVariance`](crate::Error::ZeroVariance) when the HSIC of a set's masked kernel
/// with itself is not above the rounding of its terms, 16·(n + k)·ε times their magnitudes
/// (the ratio is undefined; the reference returns `NaN` or a quotient of rounding; the value
/// can be exactly 0 for sets that are not constant), [`Error::Overflow`](crate::Error::Overflow)
/// when n·(k + 1) exceeds 2^27 (as [`mutual_knn`]) or for rows of extreme magnitude.
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, cknna};
///
/// let rows = [[1.0, 0.2], [0.9, 0.5], [0.1, 1.0], [-0.6, 0.8], [-1.0, -0.3], [0.4, -0.9]];
/// let a = Embeddings::<f64, Image>::from_rows(&rows)?;
/// let b = a.clone().with_modality::<Text>();
/// assert!((cknna(&a, &b, 3)? - 1.0).abs() < 1e-12); // a set against itself
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Huh, Cheung, Wang & Isola, "The Platonic Representation Hypothesis", ICML 2024;
/// minyoungg/platonic-rep, `metrics.py` (`cknna`, `hsic_unbiased`). Song et al., "Feature
/// Selection via Dependence Maximization", JMLR 2012, Eq. 5, for the unbiased HSIC.
pub fn cknna<T: Scalar, A: Modality, B: Modality>(
    a: &Embeddings<T, A>,
    b: &Embeddings<T, B>,
    k: usize,
) -> Result<f64> {
    cknna_count(a.len(), b.len(), k)?;
    cknna_of(&Neighbours::of(a, k), &Neighbours::of(b, k))
}

/// The checks of [`cknna`] on n and m rows. Returns n.
pub(crate) fn cknna_count(n: usize, m: usize, k: usize) -> Result<usize> {
    neighbour_count((n, m), 4, k, (2, "between 2 and n − 1"))
}

/// [`cknna`] from the neighbour lists of both sets.
pub(crate) fn cknna_of(in_a: &Neighbours, in_b: &Neighbours) -> Result<f64> {
    // A set's masked HSIC with itself at or below the rounding of its three terms is 0 as far
    // as f64 can tell (it is exactly 0 for some sets, where its sign would be chance).
    let scale = 16.0 * (in_a.len() + in_a.k) as f64 * f64::EPSILON;
    let rounding = |(_, terms): (f64, f64)| scale * terms;
    let (kk, ll) = (in_a.masked_hsic(in_a), in_b.masked_hsic(in_b));
    check::some_variance(kk.0 <= rounding(kk) || ll.0 <= rounding(ll))?;
    let kl = in_a.masked_hsic(in_b).0;
    check::no_overflow("CKNNA", kl / (kk.0.sqrt() * ll.0.sqrt()))
}

/// The most neighbour entries, n·(k + 1) per set, that the k-NN metrics hold (2^27: 2 GiB of
/// (index, value) pairs). The lists are O(n·k), not n × n, only while k is small; each
/// candidate also costs O(k) to place.
const MAX_NEIGHBOUR_ENTRIES: u64 = 1 << 27;

/// The checks of the k-NN metrics: paired sets of at least `samples` rows, `smallest` ≤ k ≤
/// n − 1 (`requirement` in words), and n·(k + 1) within the memory budget. Returns n.
fn neighbour_count(
    (n, m): (usize, usize),
    samples: usize,
    k: usize,
    (smallest, requirement): (usize, &'static str),
) -> Result<usize> {
    check::same_len(n, m)?;
    check::at_least(samples, n)?;
    check::count_within("k", k, smallest, n - 1, requirement)?;
    check::at_most(
        "the neighbour lists n·(k + 1) (at most 2^27)",
        (n as u64).saturating_mul(k as u64 + 1),
        MAX_NEIGHBOUR_ENTRIES,
    )?;
    Ok(n)
}

/// The k nearest neighbours j ≠ i of every sample i by inner product, each row's k as
/// (j, xᵢ·xⱼ) sorted by j.
pub(crate) struct Neighbours {
    k: usize,
    pairs: Vec<(usize, f64)>,
}

impl Neighbours {
    /// One top-k pass of `x` against itself, k + 1 candidates per row.
    fn of<T: Scalar, M: Modality>(x: &Embeddings<T, M>, k: usize) -> Self {
        let (indices, dots) = kernel::top_k(Sets::one(x.as_slice(), x.dim()), k + 1);
        Self::from_lists(&indices, &dots, k)
    }

    /// The lists from each row's k + 1 best candidates in its own set (`indices`, `dots`:
    /// n·(k + 1) each, every index < n): without i, its k + 1 best are the k best others plus
    /// one, so i (or else the last) is dropped.
    pub(crate) fn from_lists(indices: &[usize], dots: &[f64], k: usize) -> Self {
        let mut pairs = Vec::with_capacity(indices.len() / (k + 1) * k);
        for (i, (row, dots)) in indices
            .chunks_exact(k + 1)
            .zip(dots.chunks_exact(k + 1))
            .enumerate()
        {
            let skip = row.iter().position(|&j| j == i).unwrap_or(k);
            let start = pairs.len();
            pairs.extend(
                row.iter()
                    .zip(dots)
                    .enumerate()
                    .filter(|&(r, _)| r != skip)
                    .map(|(_, (&j, &v))| (j, v)),
            );
            pairs[start..].sort_unstable_by_key(|&(j, _)| j);
        }
        Self { k, pairs }
    }

    /// The number of samples.
    fn len(&self) -> usize {
        self.pairs.len() / self.k
    }

    /// Row i's neighbours, sorted by index.
    fn row(&self, i: usize) -> &[(usize, f64)] {
        &self.pairs[i * self.k..][..self.k]
    }

    /// Whether j is a neighbour of i.
    fn contains(&self, i: usize, j: usize) -> bool {
        self.row(i).binary_search_by_key(&j, |&(j, _)| j).is_ok()
    }

    /// The mutual neighbours j of i in `self` and `other`, as (j, value here, value there).
    fn mutual<'a>(
        &'a self,
        other: &'a Self,
        i: usize,
    ) -> impl Iterator<Item = (usize, f64, f64)> + 'a {
        let (mut x, mut y) = (
            self.row(i).iter().peekable(),
            other.row(i).iter().peekable(),
        );
        std::iter::from_fn(move || {
            loop {
                let (&&(p, u), &&(q, v)) = (x.peek()?, y.peek()?);
                match p.cmp(&q) {
                    std::cmp::Ordering::Less => drop(x.next()),
                    std::cmp::Ordering::Greater => drop(y.next()),
                    std::cmp::Ordering::Equal => {
                        x.next();
                        y.next();
                        return Some((p, u, v));
                    }
                }
            }
        })
    }

    /// The unbiased HSIC of the two kernels (the values kept here and in `other`) masked to
    /// the mutual neighbours of both: Song et al.'s estimator with the n × n sums taken over
    /// the O(n·k) non-zero entries, in a fixed order; and the sum of its three terms'
    /// magnitudes (the scale of its rounding), both divided by n(n − 3).
    fn masked_hsic(&self, other: &Self) -> (f64, f64) {
        let n = self.len();
        let (mut trace, mut sum_k, mut sum_l) = (0.0, 0.0, 0.0);
        let (mut col_k, mut row_l) = (vec![0.0; n], vec![0.0; n]);
        for (i, row_sum) in row_l.iter_mut().enumerate() {
            for (j, kv, lv) in self.mutual(other, i) {
                sum_k += kv;
                sum_l += lv;
                col_k[j] += kv;
                *row_sum += lv;
                // K̃ᵢⱼ L̃ⱼᵢ: L̃ⱼᵢ = Lᵢⱼ (the kernel's dot products are symmetric bit for bit)
                // when i is a mutual neighbour of j too.
                if self.contains(j, i) && other.contains(j, i) {
                    trace += kv * lv;
                }
            }
        }
        let product: f64 = col_k.iter().zip(&row_l).map(|(c, r)| c * r).sum();
        let n = n as f64;
        let terms = [
            trace,
            sum_k * sum_l / ((n - 1.0) * (n - 2.0)),
            -2.0 * product / (n - 2.0),
        ];
        let scale = n * (n - 3.0);
        (
            terms.iter().sum::<f64>() / scale,
            terms.iter().map(|t| t.abs()).sum::<f64>() / scale,
        )
    }
}
