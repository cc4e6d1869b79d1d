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
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless 1 ≤ k ≤ n − 1.
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
    check::same_len(a.len(), b.len())?;
    let n = a.len();
    check::at_least(2, n)?;
    check::count_within("k", k, 1, n - 1, "between 1 and n − 1")?;
    let (mut in_a, mut in_b) = (neighbours(a, k), neighbours(b, k));
    let shared: usize = in_a
        .chunks_exact_mut(k)
        .zip(in_b.chunks_exact_mut(k))
        .map(|(x, y)| common(x, y))
        .sum();
    Ok(shared as f64 / (n as f64 * k as f64))
}

/// The k nearest neighbours j ≠ i of every sample i by inner product, row after row (n·k
/// indices), in rank order.
fn neighbours<T: Scalar, M: Modality>(x: &Embeddings<T, M>, k: usize) -> Vec<usize> {
    let (candidates, _) = kernel::top_k(Sets::one(x.as_slice(), x.dim()), k + 1);
    candidates
        .chunks_exact(k + 1)
        .enumerate()
        .flat_map(|(i, row)| {
            // Without i, its k + 1 best are the k best others plus one: drop that last one.
            let skip = row.iter().position(|&j| j == i).unwrap_or(k);
            row.iter()
                .enumerate()
                .filter(move |&(r, _)| r != skip)
                .map(|(_, &j)| j)
        })
        .collect()
}

/// |x ∩ y| for two lists of distinct indices (sorted in place).
fn common(x: &mut [usize], y: &mut [usize]) -> usize {
    x.sort_unstable();
    y.sort_unstable();
    let (mut p, mut q, mut count) = (0, 0, 0);
    while p < x.len() && q < y.len() {
        match x[p].cmp(&y[q]) {
            std::cmp::Ordering::Less => p += 1,
            std::cmp::Ordering::Greater => q += 1,
            std::cmp::Ordering::Equal => {
                count += 1;
                p += 1;
                q += 1;
            }
        }
    }
    count
}
