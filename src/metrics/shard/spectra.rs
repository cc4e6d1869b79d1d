//! The tiles of the spectra: the d × d cross products Σᵢ (xᵢ − c)(xᵢ − c)ᵀ behind
//! [`effective_rank`](crate::effective_rank) and [`isoscore`](crate::isoscore), cut at the
//! nodes of their summation tree.

use std::ops::Range;

use nalgebra::DMatrix;

use super::{Metric, Part, Pass, Plan};
use crate::gram::{cross_product_tiles, cross_products_of_tile, cross_products_of_tiles};
use crate::metrics::spectrum::{
    gram_setup, isoscore_dimension, isoscore_of, rank_of_spectrum, spectrum_of,
};
use crate::{
    Centring, EffectiveRank, Embeddings, Modality, Result, Scalar, ShardError, Spectrum, check,
};

/// The state of one tile of the effective rank: the cross products of its rows, a d × d
/// matrix (column-major, upper triangle filled).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct EffectiveRankTile {
    values: Vec<f64>,
}

/// The state of one tile of IsoScore: as [`EffectiveRankTile`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct IsoScoreTile {
    values: Vec<f64>,
}

impl Plan {
    /// The plan of [`effective_rank`](crate::effective_rank)`(x, spectrum, centring)`: tiles
    /// of rows, each the d × d cross products of its rows.
    ///
    /// # Errors
    ///
    /// As [`effective_rank`](crate::effective_rank).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::shard::{self, Plan};
    /// use modality_gap::{Centring, Embeddings, Image, Spectrum, effective_rank};
    ///
    /// let rows: Vec<[f64; 3]> = (0..5000).map(|i| {
    ///     let a = i as f64 * 0.61;
    ///     [a.cos(), a.sin(), 0.1 * (3.0 * a).cos()]
    /// }).collect();
    /// let x = Embeddings::<f64, Image>::from_rows(&rows)?;
    /// let plan = Plan::effective_rank(&x, Spectrum::SingularValues, Centring::Mean)?;
    /// let parts = [plan.shard(0, 2)?, plan.shard(1, 2)?]
    ///     .map(|tiles| shard::effective_rank(&plan, &x, tiles));
    /// let [first, second] = parts;
    /// let erank = first?.merge(second?)?.finish()?;
    /// assert_eq!(erank, effective_rank(&x, Spectrum::SingularValues, Centring::Mean)?);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn effective_rank<T: Scalar, M: Modality>(
        x: &Embeddings<T, M>,
        spectrum: Spectrum,
        centring: Centring,
    ) -> Result<Self> {
        gram_setup(x, centring)?;
        Ok(spectrum_plan(
            x,
            Metric::EffectiveRank,
            parameter(spectrum, centring),
        ))
    }

    /// The plan of [`isoscore`](crate::isoscore)`(x)`: as [`Plan::effective_rank`] with the
    /// mean-centred cross products.
    ///
    /// # Errors
    ///
    /// As [`isoscore`](crate::isoscore).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::shard::{self, Plan};
    /// use modality_gap::{Embeddings, Image, isoscore};
    ///
    /// let rows: Vec<[f32; 2]> = (0..3000).map(|i| [(i as f32).cos(), 0.5 * (i as f32).sin()]).collect();
    /// let x = Embeddings::<f32, Image>::from_rows(&rows)?;
    /// let plan = Plan::isoscore(&x)?;
    /// let score = shard::isoscore(&plan, &x, 0..plan.tiles())?.finish()?;
    /// assert_eq!(score, isoscore(&x)?);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn isoscore<T: Scalar, M: Modality>(x: &Embeddings<T, M>) -> Result<Self> {
        check::at_least(2, x.len())?;
        isoscore_dimension(x.dim())?;
        gram_setup(x, Centring::Mean)?;
        Ok(spectrum_plan(
            x,
            Metric::IsoScore,
            parameter(Spectrum::Variances, Centring::Mean),
        ))
    }
}

/// The spectrum and the centring, as a pass's parameter.
fn parameter(spectrum: Spectrum, centring: Centring) -> u64 {
    let spectrum = match spectrum {
        Spectrum::SingularValues => 0,
        Spectrum::Variances => 1,
    };
    let centring = match centring {
        Centring::None => 0,
        Centring::Mean => 2,
    };
    spectrum + centring
}

fn spectrum_and_centring(parameter: u64) -> (Spectrum, Centring) {
    let spectrum = if parameter & 1 == 0 {
        Spectrum::SingularValues
    } else {
        Spectrum::Variances
    };
    let centring = if parameter & 2 == 0 {
        Centring::None
    } else {
        Centring::Mean
    };
    (spectrum, centring)
}

/// A spectrum's plan: the tiles of its summation tree, their rows as their work.
fn spectrum_plan<T: Scalar, M: Modality>(
    x: &Embeddings<T, M>,
    metric: Metric,
    parameter: u64,
) -> Plan {
    let tile_rows: Vec<u64> = cross_product_tiles(x.len())
        .into_iter()
        .map(|rows| rows.len() as u64)
        .collect();
    Plan {
        pass: spectrum_pass(x, metric, parameter, tile_rows.len()),
        tile_pairs: tile_rows,
    }
}

fn spectrum_pass<T: Scalar, M: Modality>(
    x: &Embeddings<T, M>,
    metric: Metric,
    parameter: u64,
    tiles: usize,
) -> Pass {
    Pass {
        metric,
        shape: (x.len(), x.len(), x.dim(), size_of::<T>()),
        parameter,
        groups: 0,
        tiles,
    }
}

/// The cross products of the tiles `tiles` of a spectrum's plan, each made a tile's state by
/// `state`.
fn cross_products_part<T: Scalar, M: Modality, S>(
    plan: &Plan,
    x: &Embeddings<T, M>,
    metric: Metric,
    tiles: Range<usize>,
    state: impl Fn(Vec<f64>) -> S,
) -> Result<Part<S>> {
    plan.check_tiles(&tiles)?;
    plan.check_pass(spectrum_pass(x, metric, plan.pass.parameter, plan.tiles()))?;
    let (_, centring) = spectrum_and_centring(plan.pass.parameter);
    let (centre, _) = gram_setup(x, centring)?;
    let rows = cross_product_tiles(x.len());
    let states = rows[tiles.clone()]
        .iter()
        .map(|rows| {
            state(
                cross_products_of_tile(x.as_slice(), &centre, rows.clone())
                    .data
                    .into(),
            )
        })
        .collect();
    Ok(Part {
        pass: plan.pass,
        start: tiles.start,
        states,
    })
}

/// The part of [`effective_rank`](crate::effective_rank) over the tiles `tiles` of `plan`,
/// made with [`Plan::effective_rank`]`(x, spectrum, centring)`.
///
/// # Errors
///
/// As [`uniform_loss`](super::uniform_loss).
///
/// # Examples
///
/// See [`Plan::effective_rank`].
pub fn effective_rank<T: Scalar, M: Modality>(
    plan: &Plan,
    x: &Embeddings<T, M>,
    tiles: Range<usize>,
) -> Result<Part<EffectiveRankTile>> {
    cross_products_part(plan, x, Metric::EffectiveRank, tiles, |values| {
        EffectiveRankTile { values }
    })
}

/// The part of [`isoscore`](crate::isoscore) over the tiles `tiles` of `plan`, made with
/// [`Plan::isoscore`]`(x)`.
///
/// # Errors
///
/// As [`uniform_loss`](super::uniform_loss).
///
/// # Examples
///
/// See [`Plan::isoscore`].
pub fn isoscore<T: Scalar, M: Modality>(
    plan: &Plan,
    x: &Embeddings<T, M>,
    tiles: Range<usize>,
) -> Result<Part<IsoScoreTile>> {
    cross_products_part(plan, x, Metric::IsoScore, tiles, |values| IsoScoreTile {
        values,
    })
}

/// The spectrum's eigenvalues and rank bound from every tile's cross products.
fn eigenvalues_of(pass: Pass, states: Vec<Vec<f64>>) -> Result<(Vec<f64>, usize)> {
    let (n, _, d, _) = pass.shape;
    let sized = |values: &Vec<f64>| Some(values.len()) == d.checked_mul(d);
    if states.len() != cross_product_tiles(n).len() || !states.iter().all(sized) {
        return Err(ShardError::NotThePlan {
            what: "the number or the size of the tiles' cross products",
        }
        .into());
    }
    let tiles = states
        .into_iter()
        .map(|values| DMatrix::from_vec(d, d, values))
        .collect();
    let (_, centring) = spectrum_and_centring(pass.parameter);
    let bound = match centring {
        Centring::None => n.min(d),
        Centring::Mean => (n - 1).min(d),
    };
    if bound == 0 {
        // One mean-centred row: no plan makes it (a plan needs two).
        return Err(ShardError::NotThePlan {
            what: "the rows of the pass (one, centred)",
        }
        .into());
    }
    Ok((
        spectrum_of(cross_products_of_tiles(n, tiles), bound)?,
        bound,
    ))
}

impl Part<EffectiveRankTile> {
    /// [`effective_rank`](crate::effective_rank), from every tile: the same bits.
    ///
    /// # Errors
    ///
    /// [`ShardError::Incomplete`] unless the part holds every tile of its plan;
    /// [`ShardError::NotThePlan`] for a tile of the wrong size; as
    /// [`effective_rank`](crate::effective_rank).
    ///
    /// # Examples
    ///
    /// See [`Plan::effective_rank`].
    pub fn finish(self) -> Result<EffectiveRank> {
        let (pass, states) = self.complete(&[Metric::EffectiveRank])?;
        let states = states.into_iter().map(|tile| tile.values).collect();
        let (variances, bound) = eigenvalues_of(pass, states)?;
        let (spectrum, _) = spectrum_and_centring(pass.parameter);
        Ok(EffectiveRank {
            value: rank_of_spectrum(&variances, bound, spectrum),
            bound,
        })
    }
}

impl Part<IsoScoreTile> {
    /// [`isoscore`](crate::isoscore), from every tile: the same bits.
    ///
    /// # Errors
    ///
    /// As [`Part::<EffectiveRankTile>::finish`](Part::finish), and as
    /// [`isoscore`](crate::isoscore).
    ///
    /// # Examples
    ///
    /// See [`Plan::isoscore`].
    pub fn finish(self) -> Result<f64> {
        let (pass, states) = self.complete(&[Metric::IsoScore])?;
        let states = states.into_iter().map(|tile| tile.values).collect();
        let (variances, _) = eigenvalues_of(pass, states)?;
        Ok(isoscore_of(&variances, pass.shape.2))
    }
}
