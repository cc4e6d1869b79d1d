//! `ndarray` views as embeddings, without a copy (cargo feature `ndarray`).
//!
//! An `ArrayView2` of shape `(n, d)` in standard layout (row-major and contiguous: numpy's C
//! order, and what `Array2::zeros`, `from_shape_vec` and `as_standard_layout` give) holds
//! exactly the layout of [`Embeddings`]. [`with_view`] and [`with_unit_view`] lend it to a
//! closure as embeddings that borrow the view's values, checked as the constructors check
//! them (finite values; unit rows), for the length of the call. A clone of the borrowed set
//! copies it; so does anything that must own its rows ([`UnitEmbeddings::normalize`],
//! `into_vec`).

#![allow(unsafe_code)]

use ndarray::ArrayView2;

use crate::storage::Storage;
use crate::{Embeddings, Error, Modality, Result, Scalar, UnitEmbeddings};

/// Runs `work` on the rows of `view` (one sample per row) as [`Embeddings`] that borrow the
/// view's values, and returns what it returns.
///
/// # Errors
///
/// [`Error::NotStandardLayout`] for a view whose rows are not contiguous and in order (a
/// transposed or strided view), and the errors of
/// [`Embeddings::from_row_major_vec`] (no rows, no columns, a non-finite value); `work`
/// does not run then.
///
/// # Examples
///
/// ```
/// use modality_gap::{Image, array, centroid};
/// use ndarray::array;
///
/// let x = array![[1.0f32, 0.0], [0.0, 3.0]];
/// let c = array::with_view::<f32, Image, _>(x.view(), |x| centroid(x))?;
/// assert_eq!(c, [0.5, 1.5]);
/// // A transposed view is not row-major: copy it into standard layout to borrow it.
/// let t = x.t();
/// assert!(array::with_view::<f32, Image, _>(t, |x| x.len()).is_err());
/// assert_eq!(array::with_view::<f32, Image, _>(t.as_standard_layout().view(), |x| x.row(0).to_vec())?, [1.0, 0.0]);
/// # Ok::<(), modality_gap::Error>(())
/// ```
pub fn with_view<T: Scalar, M: Modality, R>(
    view: ArrayView2<'_, T>,
    work: impl FnOnce(&Embeddings<T, M>) -> R,
) -> Result<R> {
    Ok(work(&borrowed(view)?))
}

/// [`with_view`] for unit rows: checks |‖xᵢ‖₂ − 1| ≤ `tolerance` as
/// [`UnitEmbeddings::verify_unit`] does, and runs `work` on them as [`UnitEmbeddings`] that
/// borrow the view, as every metric on the sphere takes them.
///
/// # Errors
///
/// As [`with_view`] and [`UnitEmbeddings::verify_unit`].
///
/// # Examples
///
/// ```
/// use modality_gap::{Diagonal, Image, array, mean_pairwise_cosine};
/// use ndarray::array;
///
/// let x = array![[0.6f64, 0.8], [1.0, 0.0], [0.0, 1.0]];
/// let cone = array::with_unit_view::<f64, Image, _>(x.view(), 1e-12, |u| {
///     mean_pairwise_cosine(u, Diagonal::Excluded)
/// })??;
/// assert!((cone - (0.6 + 0.8 + 0.0) / 3.0).abs() < 1e-15);
/// # Ok::<(), modality_gap::Error>(())
/// ```
pub fn with_unit_view<T: Scalar, M: Modality, R>(
    view: ArrayView2<'_, T>,
    tolerance: f64,
    work: impl FnOnce(&UnitEmbeddings<T, M>) -> R,
) -> Result<R> {
    let unit = UnitEmbeddings::verify_unit(borrowed(view)?, tolerance)?;
    Ok(work(&unit))
}

/// The view's rows as embeddings that borrow them. They must not outlive the view: the two
/// functions above drop them before they return, and hand out only a reference that cannot
/// escape the closure (its lifetime is the closure's own, and the closure's result is a type
/// fixed outside it).
fn borrowed<T: Scalar, M: Modality>(view: ArrayView2<'_, T>) -> Result<Embeddings<T, M>> {
    let (n, d) = view.dim();
    let values = view.to_slice().ok_or(Error::NotStandardLayout)?;
    // SAFETY: the values live as long as the view's borrow of its array ('_ above), which
    // outlasts the call of `with_view` or `with_unit_view` that owns the set made here and
    // drops it before returning; the closure sees the set only through a reference of its own
    // lifetime, and cloning the set or taking its buffer copies the values.
    let values: &'static [T] = unsafe { std::mem::transmute::<&[T], &'static [T]>(values) };
    Embeddings::from_storage(n, d, Storage::Borrowed(values))
}
