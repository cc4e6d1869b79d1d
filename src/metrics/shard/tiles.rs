//! The tiles of each sharded metric: its plan, a part over a range of tiles, and the value
//! from every tile.

use std::ops::Range;

use super::{Metric, Part, Pass, Plan};
use crate::kernel::{self, CosineCounts, LogSumExp, Sets, Tiled};
use crate::metrics::distribution::{bin_count, centre_between, centre_within};
use crate::metrics::uniform::Potential;
use crate::{
    CosineHistogram, Embeddings, Modality, Result, Scalar, ShardError, TopK, UnitEmbeddings, check,
};

/// The state of one tile of the uniformity loss: the log-sum-exp of its pairs' potentials.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct UniformTile {
    terms: LogSumExp,
    /// Every pair of the set coincides (the loss is 0 and no pass runs).
    coincides: bool,
}

/// The state of one tile of the top-k neighbours: the lists of its queries, query after query.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TopKTile {
    pub(super) indices: Vec<usize>,
    pub(super) similarities: Vec<f64>,
}

/// The state of one tile of a cosine histogram: its counts and moments.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct HistogramTile {
    counts: CosineCounts,
}

impl Plan {
    /// The plan of [`uniform_loss`](crate::uniform_loss)`(x, t)`, or of
    /// [`raw::uniform_loss`](crate::raw::uniform_loss) on rows as they are (pass
    /// `&UnitEmbeddings` or `&Embeddings`).
    ///
    /// # Errors
    ///
    /// As [`uniform_loss`](crate::uniform_loss).
    ///
    /// # Examples
    ///
    /// See [the module](crate::shard).
    pub fn uniform_loss<T: Scalar, M: Modality>(x: &Embeddings<T, M>, t: f64) -> Result<Self> {
        let potential = Potential::within(x, t)?;
        Ok(Self::of_potential(
            &potential,
            uniform_pass(x, x, t, Metric::UniformLoss),
        ))
    }

    /// The plan of [`cross_modal_uniformity`](crate::cross_modal_uniformity)`(a, b, t)`.
    ///
    /// # Errors
    ///
    /// As [`cross_modal_uniformity`](crate::cross_modal_uniformity).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::shard::{self, Plan};
    /// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, cross_modal_uniformity};
    ///
    /// let rows: Vec<[f32; 2]> = (0..50).map(|i| [(i as f32).cos(), (i as f32).sin()]).collect();
    /// let a = UnitEmbeddings::normalize(Embeddings::<f32, Image>::from_rows(&rows)?)?;
    /// let b = UnitEmbeddings::normalize(Embeddings::<f32, Text>::from_rows(&rows)?.select(&(1..50).chain([0]).collect::<Vec<_>>())?)?;
    /// let plan = Plan::cross_modal_uniformity(&a, &b, 2.0)?;
    /// let halves = [plan.shard(0, 2)?, plan.shard(1, 2)?];
    /// let [first, second] = halves.map(|tiles| shard::cross_modal_uniformity(&plan, &a, &b, tiles));
    /// let value = first?.merge(second?)?.finish()?;
    /// assert_eq!(value.to_bits(), cross_modal_uniformity(&a, &b, 2.0)?.to_bits());
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn cross_modal_uniformity<T: Scalar, A: Modality, B: Modality>(
        a: &UnitEmbeddings<T, A>,
        b: &UnitEmbeddings<T, B>,
        t: f64,
    ) -> Result<Self> {
        let potential = Potential::between(a, b, t)?;
        let pass = uniform_pass(a, b, t, Metric::CrossModalUniformity);
        Ok(Self::of_potential(&potential, pass))
    }

    /// The plan of a uniformity's `potential`, for `pass` (its tiles counted here).
    fn of_potential(potential: &Potential<'_>, pass: Pass) -> Self {
        let tile_pairs = potential.tile_pairs();
        Self {
            pass: Pass {
                tiles: tile_pairs.len(),
                ..pass
            },
            tile_pairs,
        }
    }

    ///
    /// # Errors
    ///
    /// As [`CosineHistogram::within`].
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::shard::{self, Plan};
    /// use modality_gap::{CosineHistogram, Embeddings, Image, UnitEmbeddings};
    ///
    /// let rows: Vec<[f64; 2]> = (0..30).map(|i| [(i as f64).cos(), (i as f64).sin()]).collect();
    /// let x = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&rows)?)?;
    /// let plan = Plan::cosine_histogram_within(&x, 8)?;
    /// let h = shard::cosine_histogram_within(&plan, &x, 0..plan.tiles())?.finish()?;
    /// assert_eq!(h, CosineHistogram::within(&x, 8)?);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn cosine_histogram_within<T: Scalar, M: Modality>(
        x: &UnitEmbeddings<T, M>,
        bins: usize,
    ) -> Result<Self> {
        let bins = bin_count(bins)?;
        check::at_least(2, x.len())?;
        let pass = Tiled::Histogram { within: true, bins };
        let tile_pairs = kernel::tile_pairs(sets(x, x), pass);
        Ok(Self {
            pass: histogram_pass::<T>(
                Metric::CosineHistogramWithin,
                x.shape(),
                x.len(),
                bins,
                tile_pairs.len(),
            ),
            tile_pairs,
        })
    }

    /// The plan of [`CosineHistogram::between`]`(a, b, bins)`.
    ///
    /// # Errors
    ///
    /// As [`CosineHistogram::between`].
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::shard::{self, Plan};
    /// use modality_gap::{CosineHistogram, Embeddings, Image, Text, UnitEmbeddings};
    ///
    /// let rows: Vec<[f64; 2]> = (0..30).map(|i| [(i as f64).cos(), (i as f64).sin()]).collect();
    /// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&rows)?)?;
    /// let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&rows[..7])?)?;
    /// let plan = Plan::cosine_histogram_between(&a, &b, 8)?;
    /// let h = shard::cosine_histogram_between(&plan, &a, &b, 0..plan.tiles())?.finish()?;
    /// assert_eq!(h, CosineHistogram::between(&a, &b, 8)?);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn cosine_histogram_between<T: Scalar, A: Modality, B: Modality>(
        a: &UnitEmbeddings<T, A>,
        b: &UnitEmbeddings<T, B>,
        bins: usize,
    ) -> Result<Self> {
        let bins = bin_count(bins)?;
        check::comparable(a.shape(), b.shape())?;
        let pass = Tiled::Histogram {
            within: false,
            bins,
        };
        let tile_pairs = kernel::tile_pairs(sets(a, b), pass);
        Ok(Self {
            pass: histogram_pass::<T>(
                Metric::CosineHistogramBetween,
                a.shape(),
                b.len(),
                bins,
                tile_pairs.len(),
            ),
            tile_pairs,
        })
    }
}

impl Plan {
    /// The plan of [`top_k`](crate::top_k)`(queries, keys, k)`.
    ///
    /// # Errors
    ///
    /// As [`top_k`](crate::top_k).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::shard::{self, Plan};
    /// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, top_k};
    ///
    /// let rows: Vec<[f64; 2]> = (0..40).map(|i| [(i as f64).cos(), (i as f64).sin()]).collect();
    /// let q = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&rows)?)?;
    /// let keys = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&rows[3..])?)?;
    /// let plan = Plan::top_k(&q, &keys, 5)?;
    /// let found = shard::top_k(&plan, &q, &keys, 0..plan.tiles())?.finish()?;
    /// assert_eq!(found, top_k(&q, &keys, 5)?);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn top_k<T: Scalar, A: Modality, B: Modality>(
        queries: &UnitEmbeddings<T, A>,
        keys: &UnitEmbeddings<T, B>,
        k: usize,
    ) -> Result<Self> {
        check::comparable(queries.shape(), keys.shape())?;
        check::at_least_one("k", k)?;
        let tile_pairs = kernel::tile_pairs(sets(queries, keys), Tiled::TopK);
        Ok(Self {
            pass: top_k_pass(queries, keys, k, tile_pairs.len()),
            tile_pairs,
        })
    }
}

fn top_k_pass<T: Scalar, A: Modality, B: Modality>(
    queries: &UnitEmbeddings<T, A>,
    keys: &UnitEmbeddings<T, B>,
    k: usize,
    tiles: usize,
) -> Pass {
    Pass {
        metric: Metric::TopK,
        shape: (queries.len(), keys.len(), queries.dim(), size_of::<T>()),
        parameter: k as u64,
        groups: 0,
        tiles,
    }
}

/// The part of [`top_k`](crate::top_k) over the tiles `tiles` of `plan`, made with
/// [`Plan::top_k`]`(queries, keys, k)`.
///
/// # Errors
///
/// As [`uniform_loss`].
///
/// # Examples
///
/// See [`Plan::top_k`].
pub fn top_k<T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    queries: &UnitEmbeddings<T, A>,
    keys: &UnitEmbeddings<T, B>,
    tiles: Range<usize>,
) -> Result<Part<TopKTile>> {
    plan.check_tiles(&tiles)?;
    check::comparable(queries.shape(), keys.shape())?;
    let k = plan.pass.parameter as usize;
    plan.check_pass(top_k_pass(queries, keys, k, plan.tiles()))?;
    let lists = kernel::top_k_tiles(sets(queries, keys), k, tiles.clone());
    Ok(Part {
        pass: plan.pass,
        start: tiles.start,
        states: (lists.into_iter())
            .map(|(indices, similarities)| TopKTile {
                indices,
                similarities,
            })
            .collect(),
    })
}

impl Part<TopKTile> {
    /// [`top_k`](crate::top_k), from every tile: the same lists.
    ///
    /// # Errors
    ///
    /// [`ShardError::Incomplete`] unless the part holds every tile of its plan;
    /// [`ShardError::NotThePlan`] for lists of the wrong sizes (a corrupted transfer).
    ///
    /// # Examples
    ///
    /// See [`Plan::top_k`].
    pub fn finish(self) -> Result<TopK> {
        let (pass, states) = self.complete(&[Metric::TopK])?;
        let (n, m, ..) = pass.shape;
        let width = (pass.parameter as usize).min(m);
        let (mut indices, mut similarities) = (Vec::new(), Vec::new());
        for tile in states {
            if tile.indices.len() != tile.similarities.len() {
                indices.clear();
                break;
            }
            indices.extend(tile.indices);
            similarities.extend(tile.similarities);
        }
        if Some(indices.len()) != n.checked_mul(width) || indices.iter().any(|&j| j >= m) {
            return Err(ShardError::NotThePlan {
                what: "the size of a tile's lists",
            }
            .into());
        }
        Ok(TopK::of_lists(width, indices, similarities))
    }
}

/// The sum of counts from a part's states, unless it overflows (a part from outside bytes).
pub(super) fn total(counts: impl IntoIterator<Item = u64>) -> Option<u64> {
    counts.into_iter().try_fold(0u64, u64::checked_add)
}

/// The two sets of a pass.
pub(super) fn sets<'a, T: Scalar, A: Modality, B: Modality>(
    a: &'a UnitEmbeddings<T, A>,
    b: &'a UnitEmbeddings<T, B>,
) -> Sets<'a> {
    Sets::new(a.as_slice(), b.as_slice(), a.dim())
}

/// The pass of a uniformity between `a` and `b` (the same set within one), its tiles not yet
/// counted.
fn uniform_pass<T: Scalar, A: Modality, B: Modality>(
    a: &Embeddings<T, A>,
    b: &Embeddings<T, B>,
    t: f64,
    metric: Metric,
) -> Pass {
    Pass {
        metric,
        shape: (a.len(), b.len(), a.dim(), size_of::<T>()),
        parameter: t.to_bits(),
        groups: 0,
        tiles: 0,
    }
}

fn histogram_pass<T: Scalar>(
    metric: Metric,
    (n, d): (usize, usize),
    m: usize,
    bins: usize,
    tiles: usize,
) -> Pass {
    Pass {
        metric,
        shape: (n, m, d, size_of::<T>()),
        parameter: bins as u64,
        groups: 0,
        tiles,
    }
}

/// The part of [`uniform_loss`](crate::uniform_loss) (or, on rows as they are, of
/// [`raw::uniform_loss`](crate::raw::uniform_loss)) over the tiles `tiles` of `plan`, made
/// with [`Plan::uniform_loss`]`(x, t)`.
///
/// # Errors
///
/// [`ShardError::NotThePlan`] for embeddings of another shape or element type than the
/// plan's, [`ShardError::Tiles`] for tiles past the plan's last.
///
/// # Examples
///
/// See [the module](crate::shard).
pub fn uniform_loss<T: Scalar, M: Modality>(
    plan: &Plan,
    x: &Embeddings<T, M>,
    tiles: Range<usize>,
) -> Result<Part<UniformTile>> {
    let potential = within_potential(plan, x, &tiles)?;
    Ok(uniform_part(plan, &potential, tiles))
}

/// The potential of the pass of `plan`, a plan of [`uniform_loss`]`(x, t)`, checked with the
/// range `tiles` against the plan.
pub(super) fn within_potential<'a, T: Scalar, M: Modality>(
    plan: &Plan,
    x: &'a Embeddings<T, M>,
    tiles: &Range<usize>,
) -> Result<Potential<'a>> {
    plan.check_tiles(tiles)?;
    let t = f64::from_bits(plan.pass.parameter);
    plan.check_pass(Pass {
        tiles: plan.tiles(),
        ..uniform_pass(x, x, t, Metric::UniformLoss)
    })?;
    Potential::within(x, t)
}

/// The potential of the pass of `plan`, a plan of
/// [`cross_modal_uniformity`]`(a, b, t)`, checked with the range `tiles` against the plan.
pub(super) fn between_potential<'a, T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    a: &'a UnitEmbeddings<T, A>,
    b: &'a UnitEmbeddings<T, B>,
    tiles: &Range<usize>,
) -> Result<Potential<'a>> {
    plan.check_tiles(tiles)?;
    check::paired(a.shape(), b.shape())?;
    let t = f64::from_bits(plan.pass.parameter);
    plan.check_pass(Pass {
        tiles: plan.tiles(),
        ..uniform_pass(a, b, t, Metric::CrossModalUniformity)
    })?;
    Potential::between(a, b, t)
}

/// The part of [`cross_modal_uniformity`](crate::cross_modal_uniformity) over the tiles
/// `tiles` of `plan`, made with [`Plan::cross_modal_uniformity`]`(a, b, t)`.
///
/// # Errors
///
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) or
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch) for sets that are not
/// paired; then as [`uniform_loss`].
///
/// # Examples
///
/// See [`Plan::cross_modal_uniformity`].
pub fn cross_modal_uniformity<T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    tiles: Range<usize>,
) -> Result<Part<UniformTile>> {
    let potential = between_potential(plan, a, b, &tiles)?;
    Ok(uniform_part(plan, &potential, tiles))
}

/// The states of the tiles `tiles` of a uniformity's `potential`.
fn uniform_part(plan: &Plan, potential: &Potential<'_>, tiles: Range<usize>) -> Part<UniformTile> {
    let coincides = potential.coincides();
    let states = if coincides {
        vec![LogSumExp::EMPTY; tiles.len()]
    } else {
        potential.tiles(tiles.clone())
    };
    Part {
        pass: plan.pass,
        start: tiles.start,
        states: (states.into_iter())
            .map(|terms| UniformTile { terms, coincides })
            .collect(),
    }
}

impl Part<UniformTile> {
    /// [`uniform_loss`](crate::uniform_loss) or
    /// [`cross_modal_uniformity`](crate::cross_modal_uniformity) (as the plan), from every
    /// tile: the same bits.
    ///
    /// # Errors
    ///
    /// [`ShardError::Incomplete`] unless the part holds every tile of its plan;
    /// [`ShardError::NotThePlan`] for tiles of inputs that disagree (a coincident set in some,
    /// not in others); as [`uniform_loss`](crate::uniform_loss).
    ///
    /// # Examples
    ///
    /// See [the module](crate::shard).
    pub fn finish(self) -> Result<f64> {
        let metrics = [Metric::UniformLoss, Metric::CrossModalUniformity];
        let (pass, states) = self.complete(&metrics)?;
        let coincides = states.first().is_some_and(|tile| tile.coincides);
        // Every pair once: i < j within one set, i ≠ j between two (none when all coincide),
        // which also tells a part of one metric from the other's with the same tiles.
        let n = pass.shape.0 as u128;
        let pairs = match pass.metric {
            Metric::UniformLoss => n * (n - 1) / 2,
            _ => n * (n - 1),
        };
        let expected = if coincides { 0 } else { pairs };
        let counts = states.iter().map(|tile| tile.terms.count());
        if states.iter().any(|tile| tile.coincides != coincides)
            || total(counts).map(u128::from) != Some(expected)
        {
            return Err(ShardError::NotThePlan {
                what: "the embeddings of the tiles, or the pairs they visit",
            }
            .into());
        }
        let terms = states.into_iter().map(|tile| tile.terms).collect();
        let quantity = match pass.metric {
            Metric::UniformLoss => "the uniformity loss",
            _ => "the cross-modal uniformity",
        };
        Potential::log_mean_of(quantity, coincides, terms)
    }
}

/// The part of [`CosineHistogram::within`] over the tiles `tiles` of `plan`, made with
/// [`Plan::cosine_histogram_within`]`(x, bins)`.
///
/// # Errors
///
/// As [`uniform_loss`].
///
/// # Examples
///
/// See [`Plan::cosine_histogram_within`].
pub fn cosine_histogram_within<T: Scalar, M: Modality>(
    plan: &Plan,
    x: &UnitEmbeddings<T, M>,
    tiles: Range<usize>,
) -> Result<Part<HistogramTile>> {
    plan.check_tiles(&tiles)?;
    let bins = plan.pass.parameter as usize;
    let metric = Metric::CosineHistogramWithin;
    plan.check_pass(histogram_pass::<T>(
        metric,
        x.shape(),
        x.len(),
        bins,
        plan.tiles(),
    ))?;
    let centre = centre_within(x)?;
    let counts = kernel::histogram_tiles(sets(x, x), true, (bins, centre), tiles.clone());
    Ok(histogram_part(plan, tiles, counts))
}

/// The part of [`CosineHistogram::between`] over the tiles `tiles` of `plan`, made with
/// [`Plan::cosine_histogram_between`]`(a, b, bins)`.
///
/// # Errors
///
/// As [`uniform_loss`].
///
/// # Examples
///
/// See [`Plan::cosine_histogram_between`].
pub fn cosine_histogram_between<T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    tiles: Range<usize>,
) -> Result<Part<HistogramTile>> {
    plan.check_tiles(&tiles)?;
    let bins = plan.pass.parameter as usize;
    let metric = Metric::CosineHistogramBetween;
    plan.check_pass(histogram_pass::<T>(
        metric,
        a.shape(),
        b.len(),
        bins,
        plan.tiles(),
    ))?;
    let centre = centre_between(a, b)?;
    let counts = kernel::histogram_tiles(sets(a, b), false, (bins, centre), tiles.clone());
    Ok(histogram_part(plan, tiles, counts))
}

fn histogram_part(
    plan: &Plan,
    tiles: Range<usize>,
    counts: Vec<CosineCounts>,
) -> Part<HistogramTile> {
    Part {
        pass: plan.pass,
        start: tiles.start,
        states: counts
            .into_iter()
            .map(|counts| HistogramTile { counts })
            .collect(),
    }
}

impl Part<HistogramTile> {
    /// The [`CosineHistogram`] of the pass, from every tile: the same bits.
    ///
    /// # Errors
    ///
    /// [`ShardError::Incomplete`] unless the part holds every tile of its plan;
    /// [`ShardError::NotThePlan`] for a tile of another bin count or centre.
    ///
    /// # Examples
    ///
    /// See [`Plan::cosine_histogram_within`].
    pub fn finish(self) -> Result<CosineHistogram> {
        let (pass, states) = self.complete(&[
            Metric::CosineHistogramWithin,
            Metric::CosineHistogramBetween,
        ])?;
        let bins = pass.parameter as usize;
        let centre = states.first().map_or(0.0, |tile| tile.counts.centre);
        let agree = |tile: &HistogramTile| {
            tile.counts.counts.len() == bins && tile.counts.centre.to_bits() == centre.to_bits()
        };
        let counts = states
            .iter()
            .flat_map(|tile| tile.counts.counts.iter().copied());
        if !states.iter().all(agree) || total(counts).is_none() {
            return Err(ShardError::NotThePlan {
                what: "the bins or the centre of a tile",
            }
            .into());
        }
        let counts = states.into_iter().map(|tile| tile.counts).collect();
        Ok(CosineHistogram::from(kernel::histogram_of(
            counts, bins, centre,
        )))
    }
}
