//! `Embeddings`: n samples of dimension d, one contiguous row per sample.

use std::fmt;
use std::marker::PhantomData;

use nalgebra::{DMatrix, DMatrixView, Dim, Matrix, RawStorage};

use crate::storage::Storage;
use crate::{Modality, Result, Scalar, check};

/// n embeddings of dimension d from modality `M`, stored sample by sample.
///
/// Sample `i` occupies `as_slice()[i·d .. (i+1)·d]`: the layout of a numpy `(n, d)` array in C
/// order, and equally of a nalgebra `d × n` matrix whose *columns* are the samples (nalgebra is
/// column-major). Constructors name the layout they read.
///
/// Invariants, checked once at construction: n ≥ 1, d ≥ 1, and every value is finite. So no
/// metric can be handed a `NaN` or an empty set.
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image};
///
/// // numpy: np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32), shape (2, 3)
/// let x = Embeddings::<f32, Image>::from_row_major_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])?;
/// assert_eq!((x.len(), x.dim()), (2, 3));
/// assert_eq!(x.row(1), &[4.0, 5.0, 6.0]);
/// # Ok::<(), modality_gap::Error>(())
/// ```
pub struct Embeddings<T: Scalar, M: Modality> {
    data: Storage<T>,
    n: usize,
    d: usize,
    modality: PhantomData<fn() -> M>,
}

impl<T: Scalar, M: Modality> Embeddings<T, M> {
    /// Takes ownership of a row-major buffer: sample `i` is `data[i·d .. (i+1)·d]` (numpy's
    /// `(n, d)` C order). No copy.
    ///
    /// # Errors
    ///
    /// [`Error::Empty`](crate::Error::Empty) if n = 0, [`Error::ZeroDimension`](crate::Error::ZeroDimension) if d = 0, [`Error::BufferLength`](crate::Error::BufferLength)
    /// if `data.len() != n·d`, [`Error::NonFinite`](crate::Error::NonFinite) naming the first NaN or infinity.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Text};
    ///
    /// let t = Embeddings::<f64, Text>::from_row_major_vec(2, 2, vec![1.0, 0.0, 0.0, 1.0])?;
    /// assert_eq!(t.row(0), &[1.0, 0.0]);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn from_row_major_vec(n: usize, d: usize, data: Vec<T>) -> Result<Self> {
        Self::from_storage(n, d, Storage::Owned(data))
    }

    /// n samples of dimension d in `data`, checked as
    /// [`from_row_major_vec`](Self::from_row_major_vec) checks them.
    pub(crate) fn from_storage(n: usize, d: usize, data: Storage<T>) -> Result<Self> {
        let values = data.as_slice();
        check::shape(n, d, values.len())?;
        check::finite_values(values, d, |done| data.done_with(done))?;
        Ok(Self {
            data,
            n,
            d,
            modality: PhantomData,
        })
    }

    /// Copies a row-major slice: sample `i` is `data[i·d .. (i+1)·d]` (numpy's `(n, d)` C
    /// order).
    ///
    /// # Errors
    ///
    /// As [`from_row_major_vec`](Self::from_row_major_vec).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image};
    ///
    /// let x = Embeddings::<f32, Image>::from_row_major_slice(3, 1, &[1.0, 2.0, 3.0])?;
    /// assert_eq!(x.row(2), &[3.0]);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn from_row_major_slice(n: usize, d: usize, data: &[T]) -> Result<Self> {
        check::shape(n, d, data.len())?;
        Self::from_row_major_vec(n, d, data.to_vec())
    }

    /// Copies a list of rows, one sample each; d is the length of the first row.
    ///
    /// # Errors
    ///
    /// [`Error::Empty`](crate::Error::Empty) for no rows, [`Error::ZeroDimension`](crate::Error::ZeroDimension) for empty rows,
    /// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch) for a row whose length differs from the first one's,
    /// [`Error::NonFinite`](crate::Error::NonFinite).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Text};
    ///
    /// let t = Embeddings::<f64, Text>::from_rows(&[[0.6, 0.8], [1.0, 0.0]])?;
    /// assert_eq!((t.len(), t.dim()), (2, 2));
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn from_rows<R: AsRef<[T]>>(rows: &[R]) -> Result<Self> {
        check::not_empty(rows.len())?;
        let d = rows[0].as_ref().len();
        let mut data = Vec::with_capacity(rows.len().saturating_mul(d));
        for row in rows {
            let row = row.as_ref();
            check::same_dim(d, row.len())?;
            data.extend_from_slice(row);
        }
        Self::from_row_major_vec(rows.len(), d, data)
    }

    /// Copies an `n × d` nalgebra matrix whose **rows** are the samples (numpy's orientation).
    ///
    /// # Errors
    ///
    /// As [`from_row_major_vec`](Self::from_row_major_vec).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image};
    /// use nalgebra::dmatrix;
    ///
    /// let m = dmatrix![1.0, 2.0, 3.0;
    ///                  4.0, 5.0, 6.0]; // 2 samples of dimension 3
    /// let x = Embeddings::<f64, Image>::from_sample_rows(&m)?;
    /// assert_eq!(x.row(1), &[4.0, 5.0, 6.0]);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn from_sample_rows<R: Dim, C: Dim, S: RawStorage<T, R, C>>(
        matrix: &Matrix<T, R, C, S>,
    ) -> Result<Self> {
        let (n, d) = matrix.shape();
        let mut data = Vec::with_capacity(n * d);
        for i in 0..n {
            data.extend((0..d).map(|j| matrix[(i, j)]));
        }
        Self::from_row_major_vec(n, d, data)
    }

    /// Takes a `d × n` nalgebra matrix whose **columns** are the samples. No copy: a
    /// column-major `d × n` buffer is exactly this type's layout.
    ///
    /// # Errors
    ///
    /// As [`from_row_major_vec`](Self::from_row_major_vec).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image};
    /// use nalgebra::dmatrix;
    ///
    /// let m = dmatrix![1.0, 4.0;
    ///                  2.0, 5.0;
    ///                  3.0, 6.0]; // 2 samples (columns) of dimension 3
    /// let x = Embeddings::<f64, Image>::from_sample_columns(m)?;
    /// assert_eq!(x.row(1), &[4.0, 5.0, 6.0]);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn from_sample_columns(matrix: DMatrix<T>) -> Result<Self> {
        let (d, n) = matrix.shape();
        Self::from_row_major_vec(n, d, matrix.data.into())
    }

    /// A `d × n` nalgebra view whose **columns** are the samples. No copy.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image};
    ///
    /// let x = Embeddings::<f64, Image>::from_rows(&[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])?;
    /// let v = x.as_sample_columns();
    /// assert_eq!(v.shape(), (3, 2));
    /// assert_eq!(v[(2, 1)], 6.0); // coordinate 2 of sample 1
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn as_sample_columns(&self) -> DMatrixView<'_, T> {
        DMatrixView::from_slice(self.as_slice(), self.d, self.n)
    }

    /// An `n × d` nalgebra matrix whose **rows** are the samples (a copy).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image};
    ///
    /// let x = Embeddings::<f64, Image>::from_rows(&[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])?;
    /// let m = x.to_sample_rows();
    /// assert_eq!(m.shape(), (2, 3));
    /// assert_eq!(m[(1, 2)], 6.0); // sample 1, coordinate 2
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn to_sample_rows(&self) -> DMatrix<T> {
        DMatrix::from_row_slice(self.n, self.d, self.as_slice())
    }

    /// The same samples as another modality (no copy), e.g. to read the first half of a
    /// `[2, n, d]` file as `Audio` rather than `Image`.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Audio, Embeddings, Image};
    ///
    /// let x = Embeddings::<f32, Image>::from_rows(&[[1.0, 0.0]])?;
    /// let audio: Embeddings<f32, Audio> = x.with_modality();
    /// assert_eq!(audio.modality(), "audio");
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn with_modality<N: Modality>(self) -> Embeddings<T, N> {
        Embeddings {
            data: self.data,
            n: self.n,
            d: self.d,
            modality: PhantomData,
        }
    }

    /// The same samples in another precision: `f32` → `f64` is exact, `f64` → `f32` rounds to
    /// nearest. Two-set metrics take both sets in one precision; cast one of them.
    ///
    /// # Errors
    ///
    /// [`Error::NonFinite`](crate::Error::NonFinite) if a value is beyond the target type's range (`f64` → `f32` only).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Text};
    ///
    /// let x = Embeddings::<f32, Text>::from_rows(&[[0.1, 2.0]])?;
    /// let y: Embeddings<f64, Text> = x.cast()?;
    /// assert_eq!(y.row(0), &[0.1f32 as f64, 2.0]);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn cast<U: Scalar>(&self) -> Result<Embeddings<U, M>> {
        let data = self
            .as_slice()
            .iter()
            .map(|v| U::from_f64(v.to_f64()))
            .collect();
        Embeddings::from_row_major_vec(self.n, self.d, data)
    }

    /// The number of samples n (at least 1).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image};
    ///
    /// let x = Embeddings::<f32, Image>::from_rows(&[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])?;
    /// assert_eq!(x.len(), 2);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    #[allow(clippy::len_without_is_empty)] // never empty: n ≥ 1 by construction
    pub fn len(&self) -> usize {
        self.n
    }

    /// The dimension d of every sample (at least 1).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image};
    ///
    /// let x = Embeddings::<f32, Image>::from_rows(&[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])?;
    /// assert_eq!(x.dim(), 3);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn dim(&self) -> usize {
        self.d
    }

    /// The shape (n, d): n samples of dimension d, as numpy's `x.shape` and nalgebra's
    /// `shape()` of the n × d matrix.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image};
    ///
    /// let x = Embeddings::<f32, Image>::from_rows(&[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])?;
    /// assert_eq!(x.shape(), (2, 3));
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn shape(&self) -> (usize, usize) {
        (self.n, self.d)
    }

    /// The modality's name, [`Modality::NAME`].
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Text};
    ///
    /// let t = Embeddings::<f64, Text>::from_rows(&[[0.6, 0.8]])?;
    /// assert_eq!(t.modality(), "text");
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn modality(&self) -> &'static str {
        M::NAME
    }

    /// Sample `i` as a slice of length d.
    ///
    /// # Panics
    ///
    /// If `i >= self.len()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image};
    ///
    /// let x = Embeddings::<f32, Image>::from_row_major_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])?;
    /// assert_eq!(x.row(0), &[1.0, 2.0, 3.0]);
    /// assert_eq!(x.row(1), &[4.0, 5.0, 6.0]);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn row(&self, i: usize) -> &[T] {
        assert!(i < self.n, "row {i} out of range for {} samples", self.n);
        &self.as_slice()[i * self.d..(i + 1) * self.d]
    }

    /// The samples in order, each a slice of length d.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image};
    ///
    /// let x = Embeddings::<f64, Image>::from_rows(&[[3.0, 4.0], [0.0, 2.0]])?;
    /// let sums: Vec<f64> = x.rows().map(|r| r.iter().sum()).collect();
    /// assert_eq!(sums, [7.0, 2.0]);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn rows(&self) -> std::slice::ChunksExact<'_, T> {
        self.as_slice().chunks_exact(self.d)
    }

    /// All values, row-major (sample `i` at `[i·d .. (i+1)·d]`).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image};
    ///
    /// let x = Embeddings::<f32, Image>::from_rows(&[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])?;
    /// assert_eq!(x.as_slice(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn as_slice(&self) -> &[T] {
        self.data.as_slice()
    }

    /// Tells the set that a sweep over its rows is done with `rows`: the pages of a mapped
    /// file holding them leave the process's resident memory (and come back if read again);
    /// rows in memory stay where they are. The O(n·d) sweeps call this after each chunk.
    #[inline]
    pub(crate) fn done_with(&self, rows: std::ops::Range<usize>) {
        self.data.done_with(rows.start * self.d..rows.end * self.d);
    }

    /// The samples `indices[0]`, `indices[1]`, … as a new set, in that order; an index may
    /// repeat. The building block of resampling: a jackknife keeps all samples but one, a
    /// bootstrap draws n with replacement, a permutation reorders them.
    ///
    /// # Errors
    ///
    /// [`Error::Empty`](crate::Error::Empty) for no indices.
    ///
    /// # Panics
    ///
    /// If an index is ≥ n (as [`row`](Self::row)).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image};
    ///
    /// let x = Embeddings::<f64, Image>::from_rows(&[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])?;
    /// assert_eq!(x.select(&[2, 0, 2])?.as_slice(), &[5.0, 6.0, 1.0, 2.0, 5.0, 6.0]);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn select(&self, indices: &[usize]) -> Result<Self> {
        check::not_empty(indices.len())?;
        let mut data = Vec::with_capacity(indices.len() * self.d);
        for &i in indices {
            data.extend_from_slice(self.row(i));
        }
        Ok(Self {
            data: Storage::Owned(data),
            n: indices.len(),
            d: self.d,
            modality: PhantomData,
        })
    }

    /// Gives back the row-major buffer.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Text};
    ///
    /// let t = Embeddings::<f64, Text>::from_row_major_vec(2, 2, vec![1.0, 0.0, 0.0, 1.0])?;
    /// assert_eq!(t.into_vec(), vec![1.0, 0.0, 0.0, 1.0]);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn into_vec(self) -> Vec<T> {
        self.data.into_vec()
    }
}

impl<T: Scalar, M: Modality> Clone for Embeddings<T, M> {
    fn clone(&self) -> Self {
        Self {
            data: self.data.clone(),
            n: self.n,
            d: self.d,
            modality: PhantomData,
        }
    }
}

impl<T: Scalar, M: Modality> PartialEq for Embeddings<T, M> {
    fn eq(&self, other: &Self) -> bool {
        self.d == other.d && self.as_slice() == other.as_slice()
    }
}

impl<T: Scalar, M: Modality> fmt::Debug for Embeddings<T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Embeddings<{}, {}>(n = {}, d = {})",
            T::NAME,
            M::NAME,
            self.n,
            self.d
        )
    }
}
