//! The validation room: every shape and parameter check of the crate, each returning the typed
//! [`Error`] it documents. The checks take plain numbers and slices, so every layer can use
//! them, and no other module builds an `Err(Error::…)` of its own. (The `.npy` reader's
//! format errors, [`NpyError`](crate::NpyError), belong to the reader.)

use std::ops::Range;

use crate::reduce::per_chunk;
use crate::{Error, Result, Scalar};

/// A row-major buffer of `len` values holds n > 0 samples of dimension d > 0.
pub(crate) fn shape(n: usize, d: usize, len: usize) -> Result<()> {
    if n == 0 {
        return Err(Error::Empty);
    }
    if d == 0 {
        return Err(Error::ZeroDimension);
    }
    match n.checked_mul(d) {
        Some(expected) if expected == len => Ok(()),
        expected => Err(Error::BufferLength {
            expected: expected.unwrap_or(usize::MAX),
            found: len,
        }),
    }
}

/// A metric's value on all samples is finite; else [`Error::NonFinite`] at row 0, column 1
/// (the convention of [`Jackknife`](crate::Jackknife) and of the resampling results, whose
/// column 0 holds the replicates).
pub(crate) fn finite_value(value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(Error::NonFinite { row: 0, column: 1 })
    }
}

/// Every value of a row-major buffer of dimension `d` is finite; else the first that is not.
/// The rows are checked in the chunks of [`per_chunk`], in parallel, and `done(values)` is
/// called with each chunk's range of values once it is checked (a mapped set lets their pages
/// go; see [`Storage::done_with`](crate::storage::Storage::done_with)).
pub(crate) fn finite_values<T: Scalar>(
    data: &[T],
    d: usize,
    done: impl Fn(Range<usize>) + Sync,
) -> Result<()> {
    debug_assert!(data.len().is_multiple_of(d), "whole rows");
    let firsts = per_chunk(data.len() / d, |rows| {
        let values = rows.start * d..rows.end * d;
        let first = data[values.clone()]
            .iter()
            .position(|v| !v.to_f64().is_finite());
        done(values.clone());
        first.map(|k| values.start + k)
    });
    match firsts.into_iter().flatten().next() {
        None => Ok(()),
        Some(k) => Err(Error::NonFinite {
            row: k / d,
            column: k % d,
        }),
    }
}

/// The values of one row (a layer's weights) are finite; else the first that is not.
pub(crate) fn finite_row(row: usize, values: impl IntoIterator<Item = f64>) -> Result<()> {
    match values.into_iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(column) => Err(Error::NonFinite { row, column }),
    }
}

/// A list of scores (one column) is finite.
pub(crate) fn finite_scores(values: &[f64]) -> Result<()> {
    finite_values(values, 1, |_| {})
}

/// At least one value.
pub(crate) fn not_empty(len: usize) -> Result<()> {
    if len == 0 { Err(Error::Empty) } else { Ok(()) }
}

/// A dimension (of a row, a set or a vector) is the one expected.
pub(crate) fn same_dim(expected: usize, found: usize) -> Result<()> {
    equal(expected, found, |expected, found| {
        Error::DimensionMismatch { expected, found }
    })
}

/// A count of samples, labels or scores is the one expected (row i pairs with row i).
pub(crate) fn same_len(expected: usize, found: usize) -> Result<()> {
    equal(expected, found, |expected, found| Error::LengthMismatch {
        expected,
        found,
    })
}

/// Two sets of shapes (n, d) and (m, d′) share their dimension.
pub(crate) fn comparable((_, d): (usize, usize), (_, d2): (usize, usize)) -> Result<()> {
    same_dim(d, d2)
}

/// Two sets of shapes (n, d) and (m, d′) are paired: the same dimension and n = m.
pub(crate) fn paired((n, d): (usize, usize), (m, d2): (usize, usize)) -> Result<()> {
    same_dim(d, d2)?;
    same_len(n, m)
}

/// A flat buffer (weights, an output matrix) holds the `expected` number of values.
pub(crate) fn buffer_len(expected: usize, found: usize) -> Result<()> {
    equal(expected, found, |expected, found| Error::BufferLength {
        expected,
        found,
    })
}

/// At least `required` samples.
pub(crate) fn at_least(required: usize, found: usize) -> Result<()> {
    if found >= required {
        Ok(())
    } else {
        Err(Error::TooFewSamples { required, found })
    }
}

/// A real parameter that must be finite and strictly positive (α, t, τ).
pub(crate) fn positive(name: &'static str, value: f64) -> Result<f64> {
    requirement(
        name,
        value,
        value.is_finite() && value > 0.0,
        "finite and > 0",
    )
}

/// A real parameter that must be finite and ≥ 0 (a tolerance, a variance).
pub(crate) fn non_negative(name: &'static str, value: f64) -> Result<f64> {
    requirement(
        name,
        value,
        value.is_finite() && value >= 0.0,
        "finite and ≥ 0",
    )
}

/// A real parameter that must be finite.
pub(crate) fn finite(name: &'static str, value: f64) -> Result<f64> {
    requirement(name, value, value.is_finite(), "finite")
}

/// A vector parameter (a direction) that must be finite in every coordinate.
pub(crate) fn finite_vector(name: &'static str, values: &[f64]) -> Result<()> {
    match values.iter().find(|v| !v.is_finite()) {
        None => Ok(()),
        Some(&bad) => requirement(name, bad, false, "finite in every coordinate").map(drop),
    }
}

/// A probability or level strictly between 0 and 1.
pub(crate) fn open_unit_interval(name: &'static str, value: f64) -> Result<f64> {
    requirement(
        name,
        value,
        value > 0.0 && value < 1.0,
        "strictly between 0 and 1",
    )
}

/// A real parameter within the closed interval [−1, 1] (a cosine, a height on the sphere).
pub(crate) fn cosine(name: &'static str, value: f64) -> Result<f64> {
    requirement(name, value, (-1.0..=1.0).contains(&value), "within [−1, 1]")
}

/// A gap distance to aim for: finite, in [0, 2) (two unit centroids are at most 2 apart).
pub(crate) fn below_two(name: &'static str, value: f64) -> Result<f64> {
    requirement(
        name,
        value,
        (0.0..2.0).contains(&value),
        "a gap distance in [0, 2)",
    )
}

/// A gap distance that the shift along the gap direction can reach.
pub(crate) fn reachable(name: &'static str, value: f64, holds: bool) -> Result<()> {
    requirement(
        name,
        value,
        holds,
        "a gap distance this shift can reach along the gap direction (see shift_to_gap)",
    )
    .map(drop)
}

/// A real parameter within [0, 1] (a quantile's order).
pub(crate) fn fraction(name: &'static str, value: f64) -> Result<f64> {
    requirement(name, value, (0.0..=1.0).contains(&value), "within [0, 1]")
}

/// A temperature τ: finite, > 0, with a finite inverse. Returns the logit scale s = 1/τ.
pub(crate) fn logit_scale(temperature: f64) -> Result<f64> {
    let scale = 1.0 / positive("temperature", temperature)?;
    requirement(
        "temperature",
        temperature,
        scale.is_finite(),
        "a positive number whose inverse is finite",
    )?;
    Ok(scale)
}

/// A logit scale s: finite, > 0, with a positive inverse. Returns the temperature τ = 1/s.
pub(crate) fn inverse_of_logit_scale(scale: f64) -> Result<f64> {
    let tau = 1.0 / positive("logit_scale", scale)?;
    requirement(
        "logit_scale",
        scale,
        tau > 0.0,
        "a positive number whose inverse is positive",
    )?;
    Ok(tau)
}

/// A count parameter (k, a batch size, degrees of freedom) that must be at least 1.
pub(crate) fn at_least_one(name: &'static str, value: usize) -> Result<usize> {
    count_within(name, value, 1, usize::MAX, "at least 1")
}

/// A budget of random pairs: at least 2, so that their values have a standard deviation.
pub(crate) fn pair_budget(pairs: u64) -> Result<u64> {
    requirement(
        "Budget::Pairs",
        pairs as f64,
        pairs >= 2,
        "at least 2 pairs (a standard error needs two values)",
    )?;
    Ok(pairs)
}

/// A standard error to aim for: finite and > 0.
pub(crate) fn target_standard_error(value: f64) -> Result<f64> {
    positive("Budget::StandardError", value)
}

/// A count parameter within `low..=high`; `requirement` says so in words.
pub(crate) fn count_within(
    name: &'static str,
    value: usize,
    low: usize,
    high: usize,
    requirement: &'static str,
) -> Result<usize> {
    self::requirement(
        name,
        value as f64,
        (low..=high).contains(&value),
        requirement,
    )?;
    Ok(value)
}

/// One class label (or target index) per sample, each the index of one of `classes`.
pub(crate) fn labels(
    name: &'static str,
    samples: usize,
    classes: usize,
    labels: &[usize],
) -> Result<()> {
    same_len(samples, labels.len())?;
    match labels.iter().find(|&&label| label >= classes) {
        None => Ok(()),
        Some(&bad) => requirement(name, bad as f64, false, "the index of a class").map(drop),
    }
}

/// Binary labels with both classes present.
pub(crate) fn both_classes(positives: usize, total: usize) -> Result<()> {
    requirement(
        "labels",
        positives as f64,
        positives > 0 && positives < total,
        "a count of true labels between 1 and n − 1",
    )
    .map(drop)
}

/// A result that must be finite: the input's magnitude or the parameters may overflow it.
pub(crate) fn no_overflow(quantity: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(Error::Overflow { quantity })
    }
}

/// A count of values to hold that must stay within a memory budget.
pub(crate) fn at_most(quantity: &'static str, value: u64, limit: u64) -> Result<()> {
    if value <= limit {
        Ok(())
    } else {
        Err(Error::Overflow { quantity })
    }
}

/// A row that is to be normalised has a non-zero norm.
pub(crate) fn nonzero_norm(row: usize, is_zero: bool) -> Result<()> {
    if is_zero {
        Err(Error::ZeroNorm { row })
    } else {
        Ok(())
    }
}

/// A row that is taken as unit has a norm within `tolerance` of 1.
pub(crate) fn unit_norm(row: usize, norm: f64, tolerance: f64) -> Result<()> {
    if (norm - 1.0).abs() <= tolerance {
        Ok(())
    } else {
        Err(Error::NotUnitNorm {
            row,
            norm,
            tolerance,
        })
    }
}

/// A gap vector that is to give a direction is not zero.
pub(crate) fn nonzero_gap(distance: f64) -> Result<()> {
    if distance == 0.0 {
        Err(Error::ZeroGap)
    } else {
        Ok(())
    }
}

/// Every group 0..`groups` is named by at least one of `labels` (already checked to be below
/// `groups`): every image has a caption, no group of a jackknife is empty. `requirement` says
/// so in words.
pub(crate) fn every_group_named(
    name: &'static str,
    groups: usize,
    labels: &[usize],
    requirement: &'static str,
) -> Result<()> {
    let mut named = vec![false; groups];
    labels.iter().for_each(|&g| named[g] = true);
    match named.iter().position(|&n| !n) {
        None => Ok(()),
        Some(missing) => self::requirement(name, missing as f64, false, requirement).map(drop),
    }
}

/// Rows that are to be projected do not all sit at their centre.
pub(crate) fn some_variance(all_rows_at_centre: bool) -> Result<()> {
    if all_rows_at_centre {
        Err(Error::ZeroVariance)
    } else {
        Ok(())
    }
}

/// A number of directions (singular vectors) that the data resolve: `holds` says that the
/// `value`-th singular value of every set stands above rounding (issue 11: SVCCA).
pub(crate) fn resolved_directions(name: &'static str, value: usize, holds: bool) -> Result<()> {
    requirement(
        name,
        value as f64,
        holds,
        "at most the numerical rank of each set (z-scored for SVCCA): its q-th singular value must exceed √(d·ε)·σ₁, the Gram route's rounding level",
    )
    .map(drop)
}

/// `Ok(value)` when `holds`, else [`Error::InvalidParameter`](crate::Error::InvalidParameter) with the requirement in words.
fn requirement(
    name: &'static str,
    value: f64,
    holds: bool,
    requirement: &'static str,
) -> Result<f64> {
    if holds {
        Ok(value)
    } else {
        Err(Error::InvalidParameter {
            name,
            value,
            requirement,
        })
    }
}

/// `Ok` when the count found is the one expected, else `error(expected, found)`.
fn equal(expected: usize, found: usize, error: fn(usize, usize) -> Error) -> Result<()> {
    if expected == found {
        Ok(())
    } else {
        Err(error(expected, found))
    }
}
