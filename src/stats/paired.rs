//! Checking that the two sides of a paired comparison are the same samples.

use crate::{Error, Result, check};

/// Checks that two lists of sample ids (image ids, caption ids, file names) are the same ids
/// in the same order, as a paired comparison of two models
/// ([`Jackknife::difference`](crate::Jackknife::difference)) needs: both sides must measure
/// the same samples, row for row.
///
/// # Errors
///
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) for lists of different lengths,
/// [`Error::DifferentSamples`](crate::Error::DifferentSamples) at the first position where
/// the ids differ.
///
/// # Examples
///
/// ```
/// use modality_gap::{Error, stats::same_samples};
///
/// same_samples(&[139, 285, 632], &[139, 285, 632])?;
/// let err = same_samples(&["a", "b"], &["a", "c"]).unwrap_err();
/// assert!(matches!(err, Error::DifferentSamples { index: 1 }));
/// # Ok::<(), modality_gap::Error>(())
/// ```
pub fn same_samples<I: PartialEq>(a: &[I], b: &[I]) -> Result<()> {
    check::same_len(a.len(), b.len())?;
    match a.iter().zip(b).position(|(x, y)| x != y) {
        None => Ok(()),
        Some(index) => Err(Error::DifferentSamples { index }),
    }
}
