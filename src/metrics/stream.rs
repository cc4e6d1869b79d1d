//! O(n·d) metrics of sets larger than memory, a chunk of rows at a time: the centroid, the
//! cone's mean pairwise cosine and the gap from [`RowSums`], and the alignment loss of paired
//! rows from [`Alignment`], fed by any source of rows, such as the chunked reader
//! [`npy::Chunks`](crate::npy::Chunks) over a file or a pipe.
//!
//! The sums are those of the in-memory metrics, in the same order (fixed chunks of 2048 rows,
//! added in order; the rows of an unfinished chunk wait in a buffer of at most 2047 rows), so
//! the values are the in-memory metrics' bits whatever the sizes of the pieces the rows come
//! in. Memory: the buffer, d sums, and whatever the source holds (one chunk for
//! [`npy::Chunks`](crate::npy::Chunks)).
//!
//! # Examples
//!
//! ```
//! use modality_gap::{Embeddings, Image, UnitEmbeddings, npy, stream::RowSums};
//!
//! // Rows from a file in chunks of 1000 (here an in-memory file of 2500 rows).
//! let rows: Vec<f32> = (0..2500 * 3).map(|k| ((k * 7919) % 1000) as f32 / 500.0 - 0.9).collect();
//! let header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (2500, 3), }\n";
//! let mut file = b"\x93NUMPY\x01\x00".to_vec();
//! file.extend_from_slice(&(header.len() as u16).to_le_bytes());
//! file.extend_from_slice(header);
//! file.extend(rows.iter().flat_map(|v| v.to_le_bytes()));
//!
//! let mut sums = RowSums::<f32, Image>::new(3)?;
//! for chunk in npy::Chunks::<f32, Image, _>::new(&file[..], 1000)? {
//!     sums.add(&UnitEmbeddings::normalize(chunk?)?)?;
//! }
//! let whole = UnitEmbeddings::normalize(Embeddings::<f32, Image>::from_row_major_vec(2500, 3, rows)?)?;
//! assert_eq!(sums.centroid()?, modality_gap::centroid(&whole));
//! assert_eq!(
//!     sums.mean_pairwise_cosine(modality_gap::Diagonal::Excluded)?,
//!     modality_gap::mean_pairwise_cosine(&whole, modality_gap::Diagonal::Excluded)?
//! );
//! # Ok::<(), modality_gap::Error>(())
//! ```

use std::marker::PhantomData;

use crate::metrics::align::distance_power;
use crate::metrics::cone::cone_from_sums;
use crate::reduce::{CHUNK_ROWS, ChunkTotal, RowSum, dot};
use crate::{Diagonal, Gap, Modality, Result, Scalar, UnitEmbeddings, check};

/// The row sum Σᵢ uᵢ and the sum of squared norms Σᵢ ‖uᵢ‖² of unit rows added piece by
/// piece, in the in-memory metrics' order.
#[derive(Debug, Clone)]
pub struct RowSums<T: Scalar, M: Modality> {
    n: usize,
    sums: RowSum,
    /// The rows of the unfinished chunk (fewer than 2048), row-major.
    pending: Vec<T>,
    /// The sums end in a partial chunk already added (a sharded pass's): no row may follow.
    closed: bool,
    modality: PhantomData<fn() -> M>,
}

impl<T: Scalar, M: Modality> RowSums<T, M> {
    /// No rows yet, of dimension d.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroDimension`](crate::Error::ZeroDimension) for d = 0.
    pub fn new(d: usize) -> Result<Self> {
        if d == 0 {
            return Err(crate::Error::ZeroDimension);
        }
        Ok(Self {
            n: 0,
            sums: RowSum::new(d),
            pending: Vec::new(),
            closed: false,
            modality: PhantomData,
        })
    }

    /// Adds the rows of `rows`, after those added before.
    ///
    /// # Errors
    ///
    /// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch) for rows of another
    /// dimension; [`ShardError::PartialChunk`](crate::ShardError::PartialChunk) after the
    /// sums of a sharded pass of n rows, n not a multiple of 2048.
    pub fn add(&mut self, rows: &UnitEmbeddings<T, M>) -> Result<()> {
        let d = self.dim();
        check::same_dim(d, rows.dim())?;
        if self.closed {
            return Err(crate::ShardError::PartialChunk { rows: self.n }.into());
        }
        let values = rows.as_slice();
        let Cut { first, whole } = Cut::of(self.pending.len() / d, rows.len());
        self.pending.extend_from_slice(&values[..first * d]);
        if self.pending.len() == CHUNK_ROWS * d {
            self.sums.add_rows(&self.pending, squared_norm);
            self.pending.clear();
        }
        let rest = &values[first * d..];
        self.sums.add_rows(&rest[..whole * d], squared_norm);
        self.pending.extend_from_slice(&rest[whole * d..]);
        self.n += rows.len();
        Ok(())
    }

    /// The sums of `n` rows of dimension `sums.sum.len()`, every chunk added (the last one
    /// partial unless n is a multiple of 2048: then no row may follow).
    pub(crate) fn of_totals(n: usize, sums: RowSum) -> Self {
        Self {
            n,
            sums,
            pending: Vec::new(),
            closed: !n.is_multiple_of(CHUNK_ROWS),
            modality: PhantomData,
        }
    }

    /// The number of rows added (n).
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether no rows were added.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The dimension of the rows (d).
    pub fn dim(&self) -> usize {
        self.sums.sum.len()
    }

    /// (Σᵢ uᵢ, Σᵢ ‖uᵢ‖²) over every row added: the buffered rows are the last chunk.
    pub(crate) fn totals(&self) -> Result<RowSum> {
        check::not_empty(self.n)?;
        let mut sums = self.sums.clone();
        sums.add_rows(&self.pending, squared_norm);
        Ok(sums)
    }

    /// [`centroid`](crate::centroid) of every row added: the same bits.
    ///
    /// # Errors
    ///
    /// [`Error::Empty`](crate::Error::Empty) before any row.
    ///
    /// # Examples
    ///
    /// See [the module](crate::stream).
    pub fn centroid(&self) -> Result<Vec<f64>> {
        let n = self.n as f64;
        let mut sum = self.totals()?.sum;
        sum.iter_mut().for_each(|s| *s /= n);
        Ok(sum)
    }

    /// [`mean_pairwise_cosine`](crate::mean_pairwise_cosine) of every row added: the same
    /// bits.
    ///
    /// # Errors
    ///
    /// As [`mean_pairwise_cosine`](crate::mean_pairwise_cosine);
    /// [`Error::Empty`](crate::Error::Empty) before any row.
    ///
    /// # Examples
    ///
    /// See [the module](crate::stream).
    pub fn mean_pairwise_cosine(&self, diagonal: Diagonal) -> Result<f64> {
        let totals = self.totals()?;
        cone_from_sums(self.n, &totals.sum, totals.extras, diagonal)
    }
}

/// How rows added to a sum that waits with `pending` rows of an unfinished chunk are cut: the
/// `first` rows complete that chunk (none when nothing waits), the next `whole` rows are whole
/// chunks, and the rest wait.
struct Cut {
    first: usize,
    whole: usize,
}

impl Cut {
    fn of(pending: usize, rows: usize) -> Self {
        let first = if pending == 0 {
            0
        } else {
            rows.min(CHUNK_ROWS - pending)
        };
        let whole = (rows - first) / CHUNK_ROWS * CHUNK_ROWS;
        Self { first, whole }
    }
}

/// The alignment loss (1/n) Σᵢ ‖aᵢ − bᵢ‖₂^α of paired unit rows added piece by piece, in the
/// in-memory [`align_loss`](crate::align_loss)'s order (its sums of 2048-row chunks, added in
/// order): the same bits for any cut of the pairs.
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, align_loss, stream::Alignment};
///
/// let rows: Vec<[f64; 2]> = (0..5000).map(|i| [(i as f64).cos(), (i as f64).sin()]).collect();
/// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&rows)?)?;
/// let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&rows[1..])?.select(&(0..4999).chain([0]).collect::<Vec<_>>())?)?;
/// let mut alignment = Alignment::new(2, 2.0)?;
/// for start in (0..5000).step_by(1500) {
///     let pairs: Vec<usize> = (start..5000.min(start + 1500)).collect();
///     alignment.add(&a.select(&pairs)?, &b.select(&pairs)?)?;
/// }
/// assert_eq!(alignment.align_loss()?, align_loss(&a, &b, 2.0)?);
/// # Ok::<(), modality_gap::Error>(())
/// ```
#[derive(Debug)]
pub struct Alignment<T: Scalar, A: Modality, B: Modality> {
    alpha: f64,
    d: usize,
    n: usize,
    total: ChunkTotal,
    /// The pairs of the unfinished chunk (fewer than 2048), row-major.
    pending: (Vec<T>, Vec<T>),
    modalities: PhantomData<fn() -> (A, B)>,
}

impl<T: Scalar, A: Modality, B: Modality> Alignment<T, A, B> {
    /// No pairs yet, of dimension d, for the power α.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroDimension`](crate::Error::ZeroDimension) for d = 0,
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless α > 0 is finite.
    pub fn new(d: usize, alpha: f64) -> Result<Self> {
        if d == 0 {
            return Err(crate::Error::ZeroDimension);
        }
        Ok(Self {
            alpha: check::positive("alpha", alpha)?,
            d,
            n: 0,
            total: ChunkTotal::new(),
            pending: (Vec::new(), Vec::new()),
            modalities: PhantomData,
        })
    }

    /// Adds the pairs (aᵢ, bᵢ), after those added before.
    ///
    /// # Errors
    ///
    /// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch) or
    /// [`Error::LengthMismatch`](crate::Error::LengthMismatch) unless `a` and `b` are paired
    /// rows of this dimension.
    pub fn add(&mut self, a: &UnitEmbeddings<T, A>, b: &UnitEmbeddings<T, B>) -> Result<()> {
        check::paired(a.shape(), b.shape())?;
        let d = self.d;
        check::same_dim(d, a.dim())?;
        let (rows, a, b) = (a.len(), a.as_slice(), b.as_slice());
        let Cut { first, whole } = Cut::of(self.pending.0.len() / d, rows);
        self.pending.0.extend_from_slice(&a[..first * d]);
        self.pending.1.extend_from_slice(&b[..first * d]);
        if self.pending.0.len() == CHUNK_ROWS * d {
            let (x, y) = &self.pending;
            add_pairs(&mut self.total, (x, y), d, self.alpha);
            self.pending.0.clear();
            self.pending.1.clear();
        }
        let (a, b) = (&a[first * d..], &b[first * d..]);
        add_pairs(
            &mut self.total,
            (&a[..whole * d], &b[..whole * d]),
            d,
            self.alpha,
        );
        self.pending.0.extend_from_slice(&a[whole * d..]);
        self.pending.1.extend_from_slice(&b[whole * d..]);
        self.n += rows;
        Ok(())
    }

    /// The number of pairs added (n).
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether no pairs were added.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// [`align_loss`](crate::align_loss) of every pair added: the same bits.
    ///
    /// # Errors
    ///
    /// [`Error::Empty`](crate::Error::Empty) before any pair; as
    /// [`align_loss`](crate::align_loss).
    pub fn align_loss(&self) -> Result<f64> {
        check::not_empty(self.n)?;
        let mut total = self.total;
        let (a, b) = &self.pending;
        add_pairs(&mut total, (a, b), self.d, self.alpha);
        check::no_overflow("the alignment loss", total.value() / self.n as f64)
    }
}

/// Adds ‖aᵢ − bᵢ‖^α of the pairs of row-major rows of dimension d (whole chunks; the last may
/// be short only at the end).
fn add_pairs<T: Scalar>(total: &mut ChunkTotal, (a, b): (&[T], &[T]), d: usize, alpha: f64) {
    let power = distance_power(alpha);
    total.add_rows(
        a.len() / d,
        |i| power(&a[i * d..(i + 1) * d], &b[i * d..(i + 1) * d]),
        |_| {},
    );
}

/// ‖u‖², as the in-memory cone sums it.
#[inline(always)]
pub(crate) fn squared_norm<T: Scalar>(row: &[T]) -> f64 {
    dot(row, row)
}

/// [`gap`](crate::gap) of the rows added to `a` and to `b`: the same bits.
///
/// # Errors
///
/// As [`gap`](crate::gap); [`Error::Empty`](crate::Error::Empty) for a set with no rows.
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, stream::{self, RowSums}};
///
/// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.6, 0.8]])?)?;
/// let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[0.0, 1.0]])?)?;
/// let (mut sa, mut sb) = (RowSums::new(2)?, RowSums::new(2)?);
/// sa.add(&a)?;
/// sb.add(&b)?;
/// assert_eq!(stream::gap(&sa, &sb)?, modality_gap::gap(&a, &b)?);
/// # Ok::<(), modality_gap::Error>(())
/// ```
pub fn gap<T: Scalar, A: Modality, B: Modality>(
    a: &RowSums<T, A>,
    b: &RowSums<T, B>,
) -> Result<Gap> {
    check::same_dim(a.dim(), b.dim())?;
    Ok(Gap::between_centroids(a.centroid()?, b.centroid()?))
}
