//! Packing rows into the panels the micro-kernels read.

use std::ops::Range;

use super::Rows;
use super::simd::Element;

/// Bytes of a cache line: packed panels start on one, so that no vector load of a panel
/// straddles two lines (on AVX2 such split loads halve the micro-kernel's speed).
const LINE: usize = 64;

/// A reusable buffer whose contents start on a cache-line boundary.
pub(super) struct Aligned<T> {
    storage: Vec<T>,
    start: usize,
    len: usize,
}

impl<T: Element> Aligned<T> {
    pub(super) fn new() -> Self {
        Self {
            storage: Vec::new(),
            start: 0,
            len: 0,
        }
    }

    /// The contents, `len` zeros after the last `zeroed`.
    pub(super) fn as_slice(&self) -> &[T] {
        &self.storage[self.start..][..self.len]
    }

    /// Resizes to `len` values, all zero, and returns them.
    fn zeroed(&mut self, len: usize) -> &mut [T] {
        let slack = LINE / size_of::<T>();
        self.storage.clear();
        self.storage.resize(len + slack, T::ZERO);
        // The allocation is aligned to `size_of::<T>()`, so the distance to the next line is a
        // whole number of values.
        let misalignment = self.storage.as_ptr() as usize % LINE;
        self.start = (LINE - misalignment) % LINE / size_of::<T>();
        self.len = len;
        &mut self.storage[self.start..][..len]
    }
}

/// Packs the rows of each range of `pieces`, one piece after another, into panels of `width`
/// rows interleaved by coordinate: row `piece.start + p·width + r`, coordinate k, lands at
/// `k·width + r` of the piece's p-th panel, and the panels follow each other in `out`. Each
/// piece's last panel is padded with zero rows. A shift of `x` is applied here. `out` starts
/// on a cache line.
#[inline(always)]
pub(super) fn pack_panels<T: Element>(
    x: Rows<'_, T>,
    pieces: &[Range<usize>],
    width: usize,
    out: &mut Aligned<T>,
    rows: &mut Vec<T>,
) {
    let d = x.dim();
    let panels: usize = pieces.iter().map(|p| p.len().div_ceil(width)).sum();
    let groups = pieces.iter().flat_map(|piece| {
        (piece.start..piece.end)
            .step_by(width)
            .map(move |first| first..piece.end.min(first + width))
    });
    for (panel, group) in out
        .zeroed(panels * d * width)
        .chunks_exact_mut(d * width)
        .zip(groups)
    {
        // The panel's rows, shifted, side by side; then interleaved coordinate by coordinate,
        // so that every store is contiguous.
        x.copy_rows(group, rows);
        match width {
            4 => interleave::<T, 4>(rows, d, panel),
            6 => interleave::<T, 6>(rows, d, panel),
            8 => interleave::<T, 8>(rows, d, panel),
            12 => interleave::<T, 12>(rows, d, panel),
            16 => interleave::<T, 16>(rows, d, panel),
            32 => interleave::<T, 32>(rows, d, panel),
            _ => interleave_rows(rows, d, width, panel, 0),
        }
    }
}

/// `panel[k·W + r] = rows[r·d + k]`: the W rows of a full panel interleaved by coordinate, W
/// known to the compiler (every tile width the micro-kernels have), so that the copy of each
/// coordinate unrolls (the loop over the rows cost 5 % of a uniformity pass at n = 8192,
/// d = 512 on Zen 3); a panel of fewer rows takes [`interleave_rows`].
#[inline(always)]
fn interleave<T: Element, const W: usize>(rows: &[T], d: usize, panel: &mut [T]) {
    if rows.len() != W * d {
        return interleave_rows(rows, d, W, panel, 0);
    }
    // Eight coordinates of every row at a time, so that the indices are checked once per eight
    // copies.
    const STEP: usize = 8;
    let whole = d - d % STEP;
    for (k, slots) in (0..whole)
        .step_by(STEP)
        .zip(panel.chunks_exact_mut(STEP * W))
    {
        for r in 0..W {
            let values: &[T; STEP] = rows[r * d + k..][..STEP].try_into().expect("eight values");
            for (q, &value) in values.iter().enumerate() {
                slots[q * W + r] = value;
            }
        }
    }
    interleave_rows(rows, d, W, panel, whole);
}

/// `panel[k·width + r] = rows[r·d + k]` for the rows there are (the rest of the panel stays
/// zero), from coordinate `from` on.
#[inline(always)]
fn interleave_rows<T: Element>(rows: &[T], d: usize, width: usize, panel: &mut [T], from: usize) {
    for (k, slots) in panel.chunks_exact_mut(width).enumerate().skip(from) {
        for (slot, row) in slots.iter_mut().zip(rows.chunks_exact(d)) {
            *slot = row[k];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Aligned, LINE, interleave, interleave_rows, pack_panels};
    use crate::kernel::Rows;

    #[test]
    fn rows_are_interleaved_by_coordinate_and_the_last_panel_is_padded() {
        // Three rows of dimension 2, packed from row 0 in panels of two: (0,1 | 2,3), (4,5 | 0).
        let x = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
        let (mut out, mut rows) = (Aligned::new(), Vec::new());
        let one = |range| std::slice::from_ref(range);
        pack_panels(Rows::new(&x, 2), one(&(0..3)), 2, &mut out, &mut rows);
        assert_eq!(out.as_slice(), [0.0, 2.0, 1.0, 3.0, 4.0, 0.0, 5.0, 0.0]);
        assert_eq!(out.as_slice().as_ptr() as usize % LINE, 0);
        pack_panels(Rows::new(&x, 2), one(&(1..2)), 2, &mut out, &mut rows);
        assert_eq!(out.as_slice(), [2.0, 0.0, 3.0, 0.0]);
        assert_eq!(out.as_slice().as_ptr() as usize % LINE, 0);
    }

    #[test]
    fn pieces_are_packed_one_after_another_each_last_panel_padded() {
        // Rows 0 | 1, 2 of dimension 2 in panels of two: (0,1 | 0), (2,3 | 4,5); an empty
        // piece adds nothing.
        let x = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
        let (mut out, mut rows) = (Aligned::new(), Vec::new());
        pack_panels(
            Rows::new(&x, 2),
            &[0..1, 2..2, 1..3],
            2,
            &mut out,
            &mut rows,
        );
        assert_eq!(out.as_slice(), [0.0, 0.0, 1.0, 0.0, 2.0, 4.0, 3.0, 5.0]);
        assert_eq!(out.as_slice().as_ptr() as usize % LINE, 0);
    }

    #[test]
    fn every_tile_width_interleaves_full_and_partial_panels() {
        // Two full panels and a partial one, at dimensions below, at and off the multiples of
        // the eight coordinates the full panels copy at a time.
        for width in [4, 6, 8, 12, 16, 32] {
            for d in [1, 7, 8, 13, 24] {
                let n = 2 * width + 3;
                let x: Vec<f64> = (0..n * d).map(|v| v as f64 + 0.5).collect();
                let (mut out, mut rows) = (Aligned::new(), Vec::new());
                let all = 0..n;
                let all = std::slice::from_ref(&all);
                pack_panels(Rows::new(&x, d), all, width, &mut out, &mut rows);
                let expected: Vec<f64> = (0..3 * d * width)
                    .map(|slot| {
                        let (panel, k, r) = (slot / (d * width), slot / width % d, slot % width);
                        let row = panel * width + r;
                        if row < n { x[row * d + k] } else { 0.0 }
                    })
                    .collect();
                assert_eq!(out.as_slice(), expected, "width {width}, d {d}");
            }
        }
    }

    #[test]
    fn the_unrolled_interleave_of_a_full_panel_is_the_row_by_row_one() {
        for d in [1, 7, 8, 13, 24] {
            let rows: Vec<f64> = (0..16 * d).map(|v| v as f64 + 0.25).collect();
            let (mut fast, mut slow) = (vec![0.0; 16 * d], vec![0.0; 16 * d]);
            interleave::<f64, 16>(&rows, d, &mut fast);
            interleave_rows(&rows, d, 16, &mut slow, 0);
            assert_eq!(fast, slow, "d {d}");
            assert_eq!(fast[16 * (d - 1) + 15], rows[16 * d - 1]);
            let (mut fast, mut slow) = (vec![0.0; 6 * d], vec![0.0; 6 * d]);
            interleave::<f64, 6>(&rows[..6 * d], d, &mut fast);
            interleave_rows(&rows[..6 * d], d, 6, &mut slow, 0);
            assert_eq!(fast, slow, "d {d}");
        }
    }

    #[test]
    fn a_shift_and_scale_are_applied_in_f64_and_rounded_once() {
        let x = [1.0f32, 2.0];
        let shift = [0.1, -0.2];
        let (mut out, mut row) = (Aligned::new(), Vec::new());
        pack_panels(
            Rows::new(&x, 2).shifted(&shift, 4.0),
            std::slice::from_ref(&(0..1)),
            1,
            &mut out,
            &mut row,
        );
        assert_eq!(
            out.as_slice(),
            [((1.0f64 - 0.1) * 4.0) as f32, ((2.0f64 + 0.2) * 4.0) as f32]
        );
    }
}
