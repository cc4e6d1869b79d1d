//! The true pairs of two sets: row i with row i, or caption j with its image gⱼ.

use crate::reduce::{ChunkTotal, per_row};
use crate::{Embeddings, Modality, Scalar};

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
    /// chunks: the same bits for any thread count), letting each chunk's rows go once summed
    /// ([`Embeddings::done_with`]).
    pub(super) fn mean<T: Scalar, A: Modality, B: Modality>(
        self,
        a: &Embeddings<T, A>,
        b: &Embeddings<T, B>,
        f: impl Fn(&[T], &[T]) -> f64 + Sync,
    ) -> f64 {
        let mut total = ChunkTotal::new();
        total.add_rows(
            b.len(),
            #[inline(always)]
            |j| f(a.row(self.partner(j)), b.row(j)),
            |rows| self.done_with(a, b, rows),
        );
        total.value() / b.len() as f64
    }

    /// f(a_row, b_row) for each pair, in the order of the rows of B.
    pub(super) fn values<T: Scalar, A: Modality, B: Modality>(
        self,
        a: &Embeddings<T, A>,
        b: &Embeddings<T, B>,
        f: impl Fn(&[T], &[T]) -> f64 + Sync,
    ) -> Vec<f64> {
        per_row(
            b.len(),
            #[inline(always)]
            |j| f(a.row(self.partner(j)), b.row(j)),
        )
    }

    /// Lets the pages of the pairs of `rows` of B go ([`Embeddings::done_with`]), and of
    /// their rows of A when the pairs are row with row (a caption's image is read again by
    /// its other captions).
    pub(super) fn done_with<T: Scalar, A: Modality, B: Modality>(
        self,
        a: &Embeddings<T, A>,
        b: &Embeddings<T, B>,
        rows: std::ops::Range<usize>,
    ) {
        if let Pairing::Rows = self {
            a.done_with(rows.clone());
        }
        b.done_with(rows);
    }

    /// The row of A that row j of B pairs with.
    #[inline(always)]
    pub(super) fn partner(self, j: usize) -> usize {
        match self {
            Pairing::Rows => j,
            Pairing::Groups(g) => g[j],
        }
    }
}
