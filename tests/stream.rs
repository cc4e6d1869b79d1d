//! O(n·d) metrics a chunk at a time (`modality_gap::stream`) and the chunked `.npy` reader
//! (`npy::Chunks`): the in-memory metrics' bits for any cut of the rows; every defect of the
//! file a typed error at the chunk where it shows.

use crate::common;

use common::random_unit;
use modality_gap::npy::{self, Chunks};
use modality_gap::stream::{self, Alignment, RowSums};
use modality_gap::{Diagonal, Error, Image, NpyError, Scalar, Text, UnitEmbeddings};
use proptest::prelude::*;

/// The rows of `x` cut at `cuts` (sorted row indices), each piece added in order.
fn sums_in_pieces<T: Scalar, M: modality_gap::Modality>(
    x: &UnitEmbeddings<T, M>,
    cuts: &[usize],
) -> RowSums<T, M> {
    let mut sums = RowSums::new(x.dim()).unwrap();
    for rows in pieces(x.len(), cuts) {
        sums.add(&x.select(&rows).unwrap()).unwrap();
    }
    sums
}

/// The rows 0..n cut at `cuts` (sorted; those outside 1..n ignored), as lists of indices.
fn pieces(n: usize, cuts: &[usize]) -> Vec<Vec<usize>> {
    let mut bounds = vec![0];
    bounds.extend(cuts.iter().copied().filter(|&c| c > 0 && c < n));
    bounds.push(n);
    (bounds.windows(2).filter(|p| p[0] < p[1]))
        .map(|p| (p[0]..p[1]).collect())
        .collect()
}

/// Rows of `T` cut at `cuts`: the in-memory centroid, cone, gap and alignment bits.
fn cut_rows_give_the_in_memory_bits<T: Scalar>(n: usize, d: usize, cuts: &[usize], seed: u64) {
    let a = random_unit::<T, Image>(n, d, 0.7, seed);
    let b = random_unit::<T, Text>(n / 2 + 1, d, -0.2, seed + 1);
    let sa = sums_in_pieces(&a, cuts);
    let sb = sums_in_pieces(&b, cuts);
    assert_eq!(sa.len(), n);
    assert_eq!(sa.centroid().unwrap(), modality_gap::centroid(&a));
    for diagonal in [Diagonal::Excluded, Diagonal::Included] {
        assert_eq!(
            sa.mean_pairwise_cosine(diagonal).unwrap().to_bits(),
            modality_gap::mean_pairwise_cosine(&a, diagonal)
                .unwrap()
                .to_bits()
        );
    }
    assert_eq!(
        stream::gap(&sa, &sb).unwrap(),
        modality_gap::gap(&a, &b).unwrap()
    );

    // Paired rows: the alignment loss of the first n / 2 + 1 rows of each, cut alike.
    let m = n / 2 + 1;
    let pairs: Vec<usize> = (0..m).collect();
    let a = a.select(&pairs).unwrap();
    let mut alignment = Alignment::new(d, 2.0).unwrap();
    for rows in pieces(m, cuts) {
        alignment
            .add(&a.select(&rows).unwrap(), &b.select(&rows).unwrap())
            .unwrap();
    }
    assert_eq!(alignment.len(), m);
    assert_eq!(
        alignment.align_loss().unwrap().to_bits(),
        modality_gap::align_loss(&a, &b, 2.0).unwrap().to_bits()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Any cut of the rows (pieces smaller and larger than the 2048-row chunks, across their
    /// boundaries) gives the in-memory bits, in f32 and in f64 (whose sums in f64 round, so
    /// that a chunk added out of order shows).
    #[test]
    fn any_cut_of_the_rows_gives_the_in_memory_bits(
        n in 2usize..7000,
        d in 1usize..12,
        mut cuts in proptest::collection::vec(0usize..7000, 0..6),
        seed in 0u64..1000,
        wide in any::<bool>(),
    ) {
        cuts.sort_unstable();
        if wide {
            cut_rows_give_the_in_memory_bits::<f64>(n, d, &cuts, seed);
        } else {
            cut_rows_give_the_in_memory_bits::<f32>(n, d, &cuts, seed);
        }
    }
}

/// A version 1.0 `.npy` file of `descr` with the given shape and payload, as numpy writes it.
fn npy_file(descr: &str, fortran: bool, shape: &str, payload: &[u8]) -> Vec<u8> {
    common::npy_padded(&common::npy_dict(descr, fortran, shape), 118, payload)
}

fn f32_payload(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[test]
fn chunks_concatenate_to_what_the_reader_reads() {
    let values: Vec<f32> = (0..7 * 3).map(|k| k as f32 * 0.25 - 2.0).collect();
    let file = npy_file("<f4", false, "(7, 3)", &f32_payload(&values));
    let whole = npy::read_from::<f64, Image, _>(&file[..]).unwrap();
    for rows in [1, 2, 3, 7, 100] {
        let chunks = Chunks::<f64, Image, _>::new(&file[..], rows).unwrap();
        assert_eq!((chunks.rows(), chunks.dim()), (7, 3));
        let pieces: Vec<_> = chunks.collect::<Result<_, _>>().unwrap();
        assert_eq!(pieces.len(), 7usize.div_ceil(rows));
        let values: Vec<f64> = pieces.iter().flat_map(|p| p.as_slice().to_vec()).collect();
        assert_eq!(values, whole.as_slice(), "chunks of {rows}");
    }
}

/// The first error the chunks give (there must be one), and the rows read before it.
fn first_error(file: &[u8], rows: usize) -> (usize, Error) {
    let mut read = 0;
    for chunk in Chunks::<f32, Image, _>::new(file, rows).unwrap() {
        match chunk {
            Ok(chunk) => read += chunk.len(),
            Err(e) => return (read, e),
        }
    }
    panic!("no error after {read} rows");
}

#[test]
fn defects_are_typed_errors_where_they_show() {
    let mut values: Vec<f32> = vec![0.5; 5 * 2];
    values[7] = f32::INFINITY; // row 3, column 1
    let file = npy_file("<f4", false, "(5, 2)", &f32_payload(&values));
    let (read, error) = first_error(&file, 2);
    assert_eq!(read, 2);
    assert!(
        matches!(error, Error::NonFinite { row: 3, column: 1 }),
        "{error}"
    );

    let file = npy_file("<f4", false, "(5, 2)", &f32_payload(&[0.5; 10]));
    let (read, error) = first_error(&file[..file.len() - 3], 2);
    assert_eq!(read, 4);
    let expected = file.len() as u64;
    assert!(
        matches!(error, Error::Npy(NpyError::Truncated { expected: e, found }) if e == expected && found == expected - 3),
        "{error}"
    );
    let mut long = file.clone();
    long.extend_from_slice(&[0; 5]);
    let (read, error) = first_error(&long, 2);
    assert_eq!(read, 5);
    assert!(
        matches!(error, Error::Npy(NpyError::TrailingBytes { extra: 5 })),
        "{error}"
    );

    let fortran = npy_file("<f4", true, "(5, 2)", &f32_payload(&[0.5; 10]));
    assert!(matches!(
        Chunks::<f32, Image, _>::new(&fortran[..], 2),
        Err(Error::Npy(NpyError::FortranOrder))
    ));
    assert!(matches!(
        Chunks::<f32, Image, _>::new(&file[..], 0),
        Err(Error::InvalidParameter { .. })
    ));
}

#[test]
fn empty_sums_and_mismatched_dimensions_are_typed_errors() {
    let sums = RowSums::<f64, Image>::new(3).unwrap();
    assert!(matches!(sums.centroid(), Err(Error::Empty)));
    assert!(matches!(
        RowSums::<f64, Image>::new(0),
        Err(Error::ZeroDimension)
    ));
    let mut sums = RowSums::<f32, Image>::new(3).unwrap();
    let x = random_unit::<f32, Image>(4, 2, 0.0, 1);
    assert!(matches!(sums.add(&x), Err(Error::DimensionMismatch { .. })));
    let y = RowSums::<f32, Text>::new(2).unwrap();
    assert!(matches!(
        stream::gap(&sums, &y),
        Err(Error::DimensionMismatch { .. })
    ));
}
