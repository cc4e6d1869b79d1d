//! The whole matrix of dot products, written into the caller's buffer.

use std::marker::PhantomData;

use crate::kernel::{Block, Element, Epilogue, Isa, Pairs, Rows, Scratch, row_tasks, run};

/// Copies each block into rows of a row-major n × m matrix of f64.
struct DotMatrix<'o> {
    cols: usize,
    out: PhantomData<&'o mut [f64]>,
}

struct Acc<'o> {
    first_row: usize,
    out: &'o mut [f64],
}

impl<'o, T: Element> Epilogue<T> for DotMatrix<'o> {
    type Acc = Acc<'o>;

    #[inline(always)]
    fn consume(&self, acc: &mut Acc<'o>, block: &Block<'_, T>, _: &mut Scratch) {
        for i in block.rows() {
            let (first, dots) = block.row(i);
            let row = &mut acc.out[(i - acc.first_row) * self.cols + first..][..dots.len()];
            for (o, &s) in row.iter_mut().zip(dots) {
                *o = s.to_f64();
            }
        }
    }
}

/// `out[i·m + j] = aᵢ·bⱼ`, for `out` of length n·m.
pub(crate) fn dot_matrix<T: Element>(isa: Isa, a: Rows<'_, T>, b: Rows<'_, T>, out: &mut [f64]) {
    debug_assert_eq!(out.len(), a.len() * b.len());
    let pairs = Pairs::Between(a, b);
    let mut rest = out;
    let tasks = row_tasks(&pairs, None)
        .into_iter()
        .map(|tile| {
            let rows = &tile.rows;
            debug_assert_eq!(rows.len(), 1, "between two sets a task owns one range");
            let (out, tail) = std::mem::take(&mut rest).split_at_mut(rows[0].len() * b.len());
            rest = tail;
            let acc = Acc {
                first_row: rows[0].start,
                out,
            };
            (tile, acc)
        })
        .collect();
    let epilogue = DotMatrix {
        cols: b.len(),
        out: PhantomData,
    };
    run(isa, &pairs, tasks, &epilogue);
}
