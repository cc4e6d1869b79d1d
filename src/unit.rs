//! `UnitEmbeddings`: embeddings whose every sample lies on the unit hypersphere.

use std::fmt;
use std::ops::Deref;

use rayon::prelude::*;

use crate::reduce::per_chunk;
use crate::{Embeddings, Modality, Result, Scalar, check, norm::Norm};

/// Embeddings with the invariant ‖xᵢ‖₂ = 1 for every sample, checked once at construction.
///
/// Metrics defined on the hypersphere (gap, cone, alignment, uniformity, contrastive loss,
/// retrieval) take this type, so "did you normalise first?" is answered by the compiler. The
/// unnormalised variants of alignment and uniformity that align_uniform's code computes live
/// in [`crate::raw`].
///
/// The norm is computed in f64; for `f32` storage the rounded rows have norms within a few
/// units in the last place of 1. `UnitEmbeddings` dereferences to [`Embeddings`], so `len`,
/// `dim`, `row` and the nalgebra views are all available.
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Text, UnitEmbeddings};
///
/// let raw = Embeddings::<f64, Text>::from_rows(&[[3.0, 4.0], [0.0, 2.0]])?;
/// let unit = UnitEmbeddings::normalize(raw)?;
/// assert_eq!(unit.row(0), &[0.6, 0.8]);
/// assert_eq!(unit.row(1), &[0.0, 1.0]);
/// # Ok::<(), modality_gap::Error>(())
/// ```
pub struct UnitEmbeddings<T: Scalar, M: Modality> {
    inner: Embeddings<T, M>,
}

impl<T: Scalar, M: Modality> UnitEmbeddings<T, M> {
    /// Divides every row by its L2 norm: uᵢ = xᵢ / ‖xᵢ‖₂ (in f64, then rounded to `T`).
    ///
    /// `x / x.norm(dim=-1, keepdim=True)` in align_uniform (SsnL/align_uniform) and `my_norm`
    /// (eps = 0) in Weixin-Liang/Modality-Gap compute the same thing; where they return `NaN`
    /// for a zero row, this returns an error. The norm is safe from overflow and underflow:
    /// rows whose squared norm is not a normal f64 (entries beyond about 1e154 or below
    /// 1e-154) are divided by their largest entry first. Nothing is kept of the norms; to have
    /// them too, use [`normalize_and_get`](Self::normalize_and_get).
    ///
    /// # Errors
    ///
    /// [`Error::ZeroNorm`](crate::Error::ZeroNorm) naming the first all-zero row. (Non-finite values cannot occur:
    /// [`Embeddings`] rejects them at construction with [`Error::NonFinite`](crate::Error::NonFinite).)
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Error, Image, UnitEmbeddings};
    ///
    /// let x = Embeddings::<f32, Image>::from_rows(&[[1.0, 1.0], [0.0, 0.0]])?;
    /// assert!(matches!(UnitEmbeddings::normalize(x), Err(Error::ZeroNorm { row: 1 })));
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn normalize(embeddings: Embeddings<T, M>) -> Result<Self> {
        Self::normalize_and_get(embeddings).map(|(unit, _)| unit)
    }

    /// [`normalize`](Self::normalize), also returning the norm ‖xᵢ‖₂ of every input row (in
    /// f64), as nalgebra's `Unit::new_and_get` returns the norm it divided by: whether the
    /// input was already normalised, at no extra cost.
    ///
    /// # Errors
    ///
    /// As [`normalize`](Self::normalize).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Text, UnitEmbeddings};
    ///
    /// let x = Embeddings::<f64, Text>::from_rows(&[[3.0, 4.0], [0.0, 0.5]])?;
    /// let (unit, norms) = UnitEmbeddings::normalize_and_get(x)?;
    /// assert_eq!(norms, [5.0, 0.5]);
    /// assert_eq!(unit.row(1), &[0.0, 1.0]);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn normalize_and_get(embeddings: Embeddings<T, M>) -> Result<(Self, Vec<f64>)> {
        let d = embeddings.dim();
        let norms = row_norms(&embeddings);
        for (row, norm) in norms.iter().enumerate() {
            check::nonzero_norm(row, norm.is_zero())?;
        }
        let n = embeddings.len();
        let mut data = embeddings.into_vec();
        data.par_chunks_exact_mut(d)
            .zip(norms.par_iter())
            .for_each(|(row, &norm)| {
                for v in row {
                    *v = T::from_f64(norm.divide(v.to_f64()));
                }
            });
        // Dividing finite values by a positive norm leaves them finite and of the same shape.
        let unit = Self {
            inner: Embeddings::from_row_major_vec(n, d, data)?,
        };
        Ok((unit, norms.into_iter().map(Norm::value).collect()))
    }

    /// Verifies that rows are already unit-norm, |‖xᵢ‖₂ − 1| ≤ `tolerance` for every i, and
    /// keeps them as they are: nothing is renormalised (unlike nalgebra's `Unit::try_new`,
    /// which normalises; that is [`normalize`](Self::normalize) here).
    ///
    /// Use a tolerance that matches how the data was normalised: about 1e-6 for `f32` rows
    /// normalised in `f32`, and about 1e-3 for the published CLIP features, which were
    /// normalised in half precision. When in doubt, call [`normalize`](Self::normalize).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) if `tolerance` is negative or not finite;
    /// [`Error::NotUnitNorm`](crate::Error::NotUnitNorm) naming the first row outside the tolerance.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Error, Image, UnitEmbeddings};
    ///
    /// let x = Embeddings::<f64, Image>::from_rows(&[[0.6, 0.8], [1.0, 0.0]])?;
    /// let unit = UnitEmbeddings::verify_unit(x.clone(), 1e-12)?;
    /// assert_eq!(unit.row(0), &[0.6, 0.8]);
    ///
    /// let y = Embeddings::<f64, Image>::from_rows(&[[0.6, 0.8], [2.0, 0.0]])?;
    /// assert!(matches!(
    ///     UnitEmbeddings::verify_unit(y, 1e-12),
    ///     Err(Error::NotUnitNorm { row: 1, .. })
    /// ));
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn verify_unit(embeddings: Embeddings<T, M>, tolerance: f64) -> Result<Self> {
        let tolerance = check::non_negative("tolerance", tolerance)?;
        let x = &embeddings;
        // The error of each chunk's first row outside the tolerance, in chunk order.
        let firsts = per_chunk(x.len(), |rows| {
            let first = rows
                .clone()
                .find_map(|i| check::unit_norm(i, Norm::of_row(x.row(i)).value(), tolerance).err());
            x.done_with(rows);
            first
        });
        match firsts.into_iter().flatten().next() {
            Some(error) => Err(error),
            None => Ok(Self { inner: embeddings }),
        }
    }

    /// The same unit rows as another modality (no copy).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Audio, Embeddings, Image, UnitEmbeddings};
    ///
    /// let x = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[3.0, 4.0]])?)?;
    /// let audio: UnitEmbeddings<f64, Audio> = x.with_modality();
    /// assert_eq!((audio.modality(), audio.row(0)), ("audio", &[0.6, 0.8][..]));
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn with_modality<N: Modality>(self) -> UnitEmbeddings<T, N> {
        UnitEmbeddings {
            inner: self.inner.with_modality(),
        }
    }

    /// The unit rows `indices[0]`, `indices[1]`, … as a new set (still unit rows, no check
    /// needed); see [`Embeddings::select`].
    ///
    /// # Errors
    ///
    /// [`Error::Empty`](crate::Error::Empty) for no indices.
    ///
    /// # Panics
    ///
    /// If an index is ≥ n.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image, UnitEmbeddings};
    ///
    /// let x = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[3.0, 4.0], [0.0, 2.0]])?)?;
    /// let kept: UnitEmbeddings<f64, Image> = x.select(&[1])?;
    /// assert_eq!(kept.as_slice(), &[0.0, 1.0]);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn select(&self, indices: &[usize]) -> Result<Self> {
        Ok(Self {
            inner: self.inner.select(indices)?,
        })
    }

    /// Gives back the plain [`Embeddings`].
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Text, UnitEmbeddings};
    ///
    /// let unit = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[3.0, 4.0]])?)?;
    /// let plain: Embeddings<f64, Text> = unit.into_inner();
    /// assert_eq!(plain.row(0), &[0.6, 0.8]);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn into_inner(self) -> Embeddings<T, M> {
        self.inner
    }

    /// The plain [`Embeddings`] (also reachable through `Deref`).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Text, UnitEmbeddings};
    ///
    /// let unit = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[0.0, 2.0]])?)?;
    /// let plain: &Embeddings<f64, Text> = unit.as_embeddings();
    /// assert_eq!(plain.as_slice(), &[0.0, 1.0]);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn as_embeddings(&self) -> &Embeddings<T, M> {
        &self.inner
    }
}

/// ‖xᵢ‖₂ for every row, in f64, safe from overflow and underflow.
fn row_norms<T: Scalar, M: Modality>(x: &Embeddings<T, M>) -> Vec<Norm> {
    x.as_slice()
        .par_chunks_exact(x.dim())
        .with_min_len(1024)
        .map(Norm::of_row)
        .collect()
}

impl<T: Scalar, M: Modality> Deref for UnitEmbeddings<T, M> {
    type Target = Embeddings<T, M>;

    fn deref(&self) -> &Embeddings<T, M> {
        &self.inner
    }
}

impl<T: Scalar, M: Modality> Clone for UnitEmbeddings<T, M> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<T: Scalar, M: Modality> PartialEq for UnitEmbeddings<T, M> {
    fn eq(&self, other: &Self) -> bool {
        self.inner == other.inner
    }
}

impl<T: Scalar, M: Modality> fmt::Debug for UnitEmbeddings<T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Unit{:?}", self.inner)
    }
}
