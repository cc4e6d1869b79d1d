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
        for (k, slots) in panel.chunks_exact_mut(width).enumerate() {
            for (slot, row) in slots.iter_mut().zip(rows.chunks_exact(d)) {
                *slot = row[k];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Aligned, LINE, pack_panels};
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
