//! The true pairs of two sets: row i with row i, or caption j with its image gⱼ.

use crate::{Embeddings, Modality, Scalar, reduce::sum_over_rows};

/// Which rows of A and B pair up (shapes already checked).
#[derive(Debug, Clone, Copy)]
pub(super) enum Pairing<'a> {
    /// Row i of A with row i of B (n = m).
    Rows,
    /// Row gⱼ of A with row j of B, for every row j of B.
    Groups(&'a [usize]),
}

impl Pairing<'_> {
    /// The mean of f(a_row, b_row) over the pairs, in f64 (one pair per row of B, in fixed
    /// chunks: the same bits for any thread count).
    pub(super) fn mean<T: Scalar, A: Modality, B: Modality>(
        self,
        a: &Embeddings<T, A>,
        b: &Embeddings<T, B>,
        f: impl Fn(&[T], &[T]) -> f64 + Sync,
    ) -> f64 {
        let partner = |j: usize| match self {
            Pairing::Rows => j,
            Pairing::Groups(g) => g[j],
        };
        sum_over_rows(
            b.len(),
            #[inline(always)]
            |j| f(a.row(partner(j)), b.row(j)),
        ) / b.len() as f64
    }
}
