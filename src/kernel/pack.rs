//! Packing rows into the panels the micro-kernels read.

use std::ops::Range;

use super::Rows;
use crate::Scalar;

/// Packs rows `range` of `x` into panels of `width` rows interleaved by coordinate: row
/// `range.start + p·width + r`, coordinate k, lands at `out[p·d·width + k·width + r]`. The last
/// panel is padded with zero rows. A shift of `x` is applied here.
#[inline(always)]
pub(super) fn pack_panels<T: Scalar>(
    x: Rows<'_, T>,
    range: Range<usize>,
    width: usize,
    out: &mut Vec<T>,
    row: &mut Vec<T>,
) {
    let d = x.dim();
    let panels = range.len().div_ceil(width);
    out.clear();
    out.resize(panels * d * width, T::ZERO);
    row.resize(d, T::ZERO);
    for (offset, i) in range.enumerate() {
        x.copy_row(i, row);
        let panel = &mut out[(offset / width) * d * width..][..d * width];
        for (slot, &v) in panel
            .iter_mut()
            .skip(offset % width)
            .step_by(width)
            .zip(row.iter())
        {
            *slot = v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::pack_panels;
    use crate::kernel::Rows;

    #[test]
    fn rows_are_interleaved_by_coordinate_and_the_last_panel_is_padded() {
        // Three rows of dimension 2, packed from row 0 in panels of two: (0,1 | 2,3), (4,5 | 0).
        let x = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
        let (mut out, mut row) = (Vec::new(), Vec::new());
        pack_panels(Rows::new(&x, 2), 0..3, 2, &mut out, &mut row);
        assert_eq!(out, [0.0, 2.0, 1.0, 3.0, 4.0, 0.0, 5.0, 0.0]);
        pack_panels(Rows::new(&x, 2), 1..2, 2, &mut out, &mut row);
        assert_eq!(out, [2.0, 0.0, 3.0, 0.0]);
    }

    #[test]
    fn a_shift_and_scale_are_applied_in_f64_and_rounded_once() {
        let x = [1.0f32, 2.0];
        let shift = [0.1, -0.2];
        let (mut out, mut row) = (Vec::new(), Vec::new());
        pack_panels(
            Rows::new(&x, 2).shifted(&shift, 4.0),
            0..1,
            1,
            &mut out,
            &mut row,
        );
        assert_eq!(
            out,
            [((1.0f64 - 0.1) * 4.0) as f32, ((2.0f64 + 0.2) * 4.0) as f32]
        );
    }
}
