//! The O(n·d²) passes behind CKA, SVCCA, the spectra, the separability's Newton steps,
//! Procrustes and the projections, in f64 through nalgebra's gemm on blocks of rows: the d × d
//! cross-product matrix Σᵢ (aᵢ − c)(bᵢ − c)ᵀ (or d_a × d_b between two sets, or weighted
//! Σᵢ wᵢ (xᵢ − c)(xᵢ − c)ᵀ of one set), and a d × d (or k × d) matrix applied to every row. Neither forms an n × n (or
//! n × d f64) matrix. Then the symmetric eigendecomposition of such a d × d matrix, and the
//! rounding level below which its eigenvalues are noise.
//!
//! A cross-product pass is one observed pass of [`progress`], counted in rows.

use std::ops::Range;

use nalgebra::{DMatrix, DMatrixView, SymmetricEigen};
use rayon::prelude::*;

use crate::{Scalar, progress};

/// Rows per gemm call: the inner dimension of Σ (block)ᵀ(block), long enough for gemm to run
/// near its peak, short enough that a block of f64 rows (BLOCK · d · 8 bytes) stays in cache.
const BLOCK: usize = 256;

/// Columns per panel of a set's cross products with itself: only the panels on and above the
/// diagonal are multiplied (10 of 16 at d = 512), and the lower triangle is mirrored at the end.
const PANEL: usize = 128;

/// Rows of one task of the cross-product pass; larger ranges are split in two at a multiple of
/// `BLOCK`, so the summation tree depends on n alone (not on the number of threads).
const LEAF: usize = 4 * BLOCK;

/// Σᵢ (aᵢ − c)(bᵢ − c)ᵀ over the rows of two row-major sets of `d` columns and equal length, in
/// f64 (d × d). Deterministic: a fixed binary tree of row ranges, each leaf one d × d partial.
pub(crate) fn cross_products<T: Scalar>(
    a: &[T],
    b: &[T],
    d: usize,
    centre: &[f64],
) -> DMatrix<f64> {
    debug_assert_eq!(centre.len(), d);
    cross_products_between(a, centre, b, centre)
}

/// Σᵢ (aᵢ − c_a)(bᵢ − c_b)ᵀ over the rows of two row-major sets of equal length whose
/// dimensions d_a = `centre_a.len()` and d_b = `centre_b.len()` may differ, in f64
/// (d_a × d_b). The same fixed tree as [`cross_products`].
pub(crate) fn cross_products_between<T: Scalar>(
    a: &[T],
    centre_a: &[f64],
    b: &[T],
    centre_b: &[f64],
) -> DMatrix<f64> {
    debug_assert_eq!(a.len() / centre_a.len(), b.len() / centre_b.len());
    let same = std::ptr::eq(a, b) && std::ptr::eq(centre_a, centre_b);
    Sides {
        a,
        b,
        centre_a,
        centre_b,
        same,
        weights: None,
    }
    .sum()
}

/// Σᵢ wᵢ (xᵢ − c)(xᵢ − c)ᵀ over the rows of one row-major set of `d` = `centre.len()` columns,
/// for weights wᵢ ≥ 0 (one per row), in f64 (d × d): [`cross_products`] of the rows scaled by
/// √wᵢ, with the same fixed summation tree.
pub(crate) fn weighted_cross_products<T: Scalar>(
    x: &[T],
    centre: &[f64],
    weights: &[f64],
) -> DMatrix<f64> {
    let mut sum = weighted_cross_products_of_tile(x, centre, weights);
    sum.fill_lower_triangle_with_upper_triangle();
    sum
}

/// The part of [`weighted_cross_products`] of the rows `x` of one tile of
/// [`cross_product_tiles`] (the tile's rows only, with their weights `weights`; or all the
/// rows, the whole tree): its subtree's sum, upper triangle only.
pub(crate) fn weighted_cross_products_of_tile<T: Scalar>(
    x: &[T],
    centre: &[f64],
    weights: &[f64],
) -> DMatrix<f64> {
    debug_assert_eq!(x.len(), weights.len() * centre.len());
    let sides = Sides {
        a: x,
        b: x,
        centre_a: centre,
        centre_b: centre,
        same: true,
        weights: Some(weights),
    };
    // The tree's cuts are relative to a node's first row: the node's rows alone make it.
    sides.run(0..weights.len())
}

/// The tiles of [`cross_products`] of n rows: the row ranges of the nodes of its summation
/// tree at depth [`TILE_DEPTH`] (or leaves above it), in order. The tree depends on n alone.
pub(crate) fn cross_product_tiles(n: usize) -> Vec<Range<usize>> {
    fn nodes(rows: Range<usize>, depth: usize, out: &mut Vec<Range<usize>>) {
        match halves(&rows) {
            Some((left, right)) if depth > 0 => {
                nodes(left, depth - 1, out);
                nodes(right, depth - 1, out);
            }
            _ => out.push(rows),
        }
    }
    let mut out = Vec::new();
    nodes(0..n, TILE_DEPTH, &mut out);
    out
}

/// Depth of the tiles in the summation tree: at most 2⁴ = 16 tiles.
const TILE_DEPTH: usize = 4;

/// The two halves a node of the summation tree is cut into, or none for a leaf.
fn halves(rows: &Range<usize>) -> Option<(Range<usize>, Range<usize>)> {
    let (start, end) = (rows.start, rows.end);
    (end - start > LEAF).then(|| {
        let middle = start + (end - start).div_ceil(2 * BLOCK) * BLOCK;
        (start..middle, middle..end)
    })
}

/// The part of [`cross_products`] (`a` = `b`, one set with itself) of the rows of one tile
/// of [`cross_product_tiles`]: its subtree's sum, upper triangle only.
pub(crate) fn cross_products_of_tile<T: Scalar>(
    x: &[T],
    centre: &[f64],
    rows: Range<usize>,
) -> DMatrix<f64> {
    let sides = Sides {
        a: x,
        b: x,
        centre_a: centre,
        centre_b: centre,
        same: true,
        weights: None,
    };
    sides.run(rows)
}

/// The part of [`cross_products_between`] of two sets with centres of their own (not one
/// shared slice: every entry is computed) of the rows of one tile of [`cross_product_tiles`].
pub(crate) fn cross_products_between_of_tile<T: Scalar>(
    (a, centre_a): (&[T], &[f64]),
    (b, centre_b): (&[T], &[f64]),
    rows: Range<usize>,
) -> DMatrix<f64> {
    debug_assert!(!std::ptr::eq(centre_a, centre_b));
    let sides = Sides {
        a,
        b,
        centre_a,
        centre_b,
        same: false,
        weights: None,
    };
    sides.run(rows)
}

/// [`cross_products`] of one set of n rows with itself from the parts of all its tiles, in
/// order: added up the summation tree as the one-process pass adds them, to the same bits.
pub(crate) fn cross_products_of_tiles(n: usize, tiles: Vec<DMatrix<f64>>) -> DMatrix<f64> {
    let mut sum = cross_products_between_of_tiles(n, tiles);
    sum.fill_lower_triangle_with_upper_triangle();
    sum
}

/// [`cross_products_between`] of two sets of n rows from the parts of all its tiles
/// ([`cross_products_between_of_tile`]), in order: added up the summation tree as the
/// one-process pass adds them, to the same bits.
pub(crate) fn cross_products_between_of_tiles(n: usize, tiles: Vec<DMatrix<f64>>) -> DMatrix<f64> {
    fn combine(
        rows: Range<usize>,
        depth: usize,
        tiles: &mut impl Iterator<Item = DMatrix<f64>>,
    ) -> DMatrix<f64> {
        match halves(&rows) {
            Some((left, right)) if depth > 0 => {
                let mut sum = combine(left, depth - 1, tiles);
                sum += combine(right, depth - 1, tiles);
                sum
            }
            _ => tiles.next().expect("one part per tile"),
        }
    }
    combine(0..n, TILE_DEPTH, &mut tiles.into_iter())
}

/// The two sets of a cross-product pass and their centres.
#[derive(Clone, Copy)]
struct Sides<'a, T> {
    a: &'a [T],
    b: &'a [T],
    centre_a: &'a [f64],
    centre_b: &'a [f64],
    /// One set with itself (and the same centre): the leaves fill the upper triangle only.
    same: bool,
    /// Row weights (one set with itself only): each centred row is scaled by √wᵢ.
    weights: Option<&'a [f64]>,
}

impl<T: Scalar> Sides<'_, T> {
    /// The cross products of every row, the lower triangle mirrored for one set with itself.
    fn sum(self) -> DMatrix<f64> {
        let mut sum = self.run(0..self.a.len() / self.centre_a.len());
        if self.same {
            sum.fill_lower_triangle_with_upper_triangle();
        }
        sum
    }

    /// The cross products of `rows` by bisection, one observed pass of as many rows
    /// ([`progress::observe`]), reported block by block; once stopped, the rest are skipped.
    fn run(self, rows: Range<usize>) -> DMatrix<f64> {
        let progress = progress::pass(rows.len() as u64);
        self.split(rows.start, rows.end, progress.as_ref())
    }

    /// The cross products of rows `start..end`, by bisection.
    fn split(self, start: usize, end: usize, progress: Option<&progress::Pass>) -> DMatrix<f64> {
        let Some((left, right)) = halves(&(start..end)) else {
            return self.leaf(start, end, progress);
        };
        let (mut left, right) = rayon::join(
            || self.split(left.start, left.end, progress),
            || self.split(right.start, right.end, progress),
        );
        left += right;
        left
    }

    /// The cross products of rows `start..end` (at most `LEAF`), one gemm per block of rows.
    fn leaf(self, start: usize, end: usize, progress: Option<&progress::Pass>) -> DMatrix<f64> {
        let Self {
            a,
            b,
            centre_a,
            centre_b,
            same,
            weights,
        } = self;
        debug_assert!(same || weights.is_none());
        let (da, db) = (centre_a.len(), centre_b.len());
        let mut sum = DMatrix::zeros(da, db);
        let (mut xa, mut xb) = (vec![0.0; BLOCK * da], vec![0.0; BLOCK * db]);
        for first in (start..end).step_by(BLOCK) {
            if progress.is_some_and(|p| p.cancelled()) {
                break;
            }
            let rows = BLOCK.min(end - first);
            centred(&a[first * da..(first + rows) * da], centre_a, &mut xa);
            if let Some(w) = weights {
                for (row, w) in xa.chunks_exact_mut(da).zip(&w[first..first + rows]) {
                    let root = w.sqrt();
                    row.iter_mut().for_each(|v| *v *= root);
                }
            }
            let xb = if same {
                &xa
            } else {
                centred(&b[first * db..(first + rows) * db], centre_b, &mut xb);
                &xb
            };
            // Row-major rows are the columns of a d × rows matrix, and the rows of a rows × d one.
            let columns = DMatrixView::from_slice(&xa[..rows * da], da, rows);
            let transposed =
                DMatrixView::from_slice_with_strides(&xb[..rows * db], rows, db, db, 1);
            if same {
                for p in (0..da).step_by(PANEL) {
                    let width = PANEL.min(da - p);
                    for q in (p..da).step_by(PANEL) {
                        let height = PANEL.min(da - q);
                        sum.view_mut((p, q), (width, height)).gemm(
                            1.0,
                            &columns.rows(p, width),
                            &transposed.columns(q, height),
                            1.0,
                        );
                    }
                }
            } else {
                sum.gemm(1.0, &columns, &transposed, 1.0);
            }
            if let Some(progress) = progress {
                progress.advance(rows as u64);
            }
        }
        sum
    }
}

/// The k largest eigenvalues of a symmetric d × d matrix (clamped at 0, decreasing) and their
/// eigenvectors as the rows of a k × d matrix, each with its largest-magnitude entry positive.
pub(crate) fn top_components(scatter: DMatrix<f64>, k: usize) -> (Vec<f64>, DMatrix<f64>) {
    let eigen = SymmetricEigen::new(symmetric(scatter));
    let mut order: Vec<usize> = (0..eigen.eigenvalues.len()).collect();
    order.sort_by(|&i, &j| eigen.eigenvalues[j].total_cmp(&eigen.eigenvalues[i]));
    let d = eigen.eigenvectors.nrows();
    let mut components = DMatrix::zeros(k, d);
    for (r, &j) in order.iter().take(k).enumerate() {
        let v = eigen.eigenvectors.column(j);
        let largest = v.iamax(); // the first entry of largest magnitude, as numpy's argmax
        let sign = if v[largest] < 0.0 { -1.0 } else { 1.0 };
        components.row_mut(r).tr_copy_from(&(v * sign));
    }
    let eigenvalues = order
        .iter()
        .take(k)
        .map(|&j| eigen.eigenvalues[j].max(0.0))
        .collect();
    (eigenvalues, components)
}

/// The eigenvalues of a symmetric d × d matrix (a Gram or scatter matrix), clamped at 0 (a
/// positive semi-definite matrix has none below; rounding can leave some), in decreasing order.
pub(crate) fn eigenvalues(scatter: DMatrix<f64>) -> Vec<f64> {
    let mut values: Vec<f64> = symmetric(scatter)
        .symmetric_eigenvalues()
        .iter()
        .map(|l| l.max(0.0))
        .collect();
    values.sort_by(|x, y| y.total_cmp(x));
    values
}

/// The rounding level of the eigenvalues of a d × d Gram matrix with largest eigenvalue
/// `largest`: d·ε·λ₁. The symmetric eigensolver is backward stable (errors of a small multiple
/// of ε·λ₁) and the f64 Gram of rows that are exactly rank-deficient (repeated rows, n < d) has
/// its zero eigenvalues at about ε·λ₁ (1.3e-16·λ₁ measured on the CLASP texts, 98 distinct
/// rows of 99), so an eigenvalue at or below this level cannot be told from 0: a singular
/// value below √(d·ε)·σ₁ (3.4e-7·σ₁ at d = 512) is not resolved by the Gram route.
pub(crate) fn rounding_level(d: usize, largest: f64) -> f64 {
    d as f64 * f64::EPSILON * largest
}

/// (M + Mᵀ)/2: a matrix that is symmetric up to rounding (a correlation matrix scaled entry
/// by entry) made exactly so; an exactly symmetric one (a set's cross products with itself)
/// passes unchanged.
fn symmetric(m: DMatrix<f64>) -> DMatrix<f64> {
    (&m + m.transpose()) * 0.5
}

/// M (xᵢ − c) for every row xᵢ of a row-major set of `M.ncols()` columns, rounded to `U`,
/// row-major (n × M.nrows()). Rows are independent, so blocks run in parallel.
pub(crate) fn apply_to_rows<T: Scalar, U: Scalar>(
    x: &[T],
    centre: &[f64],
    m: &DMatrix<f64>,
) -> Vec<U> {
    let (k, d) = m.shape();
    let n = x.len() / d;
    let mut out = vec![U::from_f64(0.0); n * k];
    out.par_chunks_mut(BLOCK * k)
        .zip(x.par_chunks(BLOCK * d))
        .for_each(|(out, x)| {
            let rows = x.len() / d;
            let mut block = vec![0.0; rows * d];
            centred(x, centre, &mut block);
            let mut product = DMatrix::zeros(k, rows);
            product.gemm(1.0, m, &DMatrixView::from_slice(&block, d, rows), 0.0);
            // A k × rows column-major matrix is `rows` row-major rows of k values.
            for (o, p) in out.iter_mut().zip(product.as_slice()) {
                *o = U::from_f64(*p);
            }
        });
    out
}

/// xᵢₖ − cₖ in f64 for the row-major rows `x`, into the front of `out`.
fn centred<T: Scalar>(x: &[T], centre: &[f64], out: &mut [f64]) {
    for (row, out) in x
        .chunks_exact(centre.len())
        .zip(out.chunks_exact_mut(centre.len()))
    {
        for ((o, v), c) in out.iter_mut().zip(row).zip(centre) {
            *o = v.to_f64() - c;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows long enough to take the split, the leaf loop and a ragged last block.
    #[test]
    fn cross_products_and_rows_agree_with_the_plain_sums() {
        let (n, d) = (2 * LEAF + BLOCK / 3, 5);
        let a: Vec<f64> = (0..n * d).map(|k| ((k * 7) % 11) as f64 - 5.0).collect();
        let b: Vec<f64> = (0..n * d).map(|k| ((k * 5) % 13) as f64 - 6.0).collect();
        let centre = [0.5, -1.0, 0.0, 2.0, 0.25];
        let g = cross_products(&a, &b, d, &centre);
        for j in 0..d {
            for k in 0..d {
                let plain: f64 = (0..n)
                    .map(|i| (a[i * d + j] - centre[j]) * (b[i * d + k] - centre[k]))
                    .sum();
                assert_eq!(g[(j, k)], plain, "({j}, {k})"); // small integers and quarters: exact
            }
        }
        // Weights that are squares of small integers (and 0): the scaled rows stay exact.
        let weights: Vec<f64> = (0..n).map(|i| ((i % 4) * (i % 4)) as f64).collect();
        let w = weighted_cross_products(&a, &centre, &weights);
        for j in 0..d {
            for k in 0..d {
                let plain: f64 = (0..n)
                    .map(|i| weights[i] * (a[i * d + j] - centre[j]) * (a[i * d + k] - centre[k]))
                    .sum();
                assert_eq!(w[(j, k)], plain, "weighted ({j}, {k})");
            }
        }
        // One set with itself, over more columns than a panel (and a ragged last panel): the
        // upper panels and the mirror give every entry.
        let wide = 2 * PANEL + 3;
        let x: Vec<f64> = (0..300 * wide)
            .map(|k| ((k * 7) % 11) as f64 - 5.0)
            .collect();
        let half = vec![0.5; wide];
        let g = cross_products(&x, &x, wide, &half);
        for (j, k) in [
            (0, 0),
            (0, wide - 1),
            (wide - 1, 0),
            (PANEL + 1, 3),
            (wide - 2, wide - 1),
        ] {
            let plain: f64 = (0..300)
                .map(|i| (x[i * wide + j] - 0.5) * (x[i * wide + k] - 0.5))
                .sum();
            assert_eq!(g[(j, k)], plain, "({j}, {k})");
        }
        assert_eq!(g, g.transpose());
        let m = DMatrix::from_fn(3, d, |r, c| (r as f64) - (c as f64) * 0.5);
        let out: Vec<f64> = apply_to_rows(&a, &centre, &m);
        for i in [0, n / 2, n - 1] {
            for r in 0..3 {
                let plain: f64 = (0..d).map(|c| m[(r, c)] * (a[i * d + c] - centre[c])).sum();
                assert_eq!(out[i * 3 + r], plain);
            }
        }
    }
}
