//! The held-out [`modality_separability`](crate::modality_separability) over shards: Newton's
//! method run by a coordinator ([`SeparabilityFit`]), each of whose questions (the objective,
//! or the gradient and Hessian, at one θ; at the end, the classification of every sample) is
//! one round over the tiles of [`Plan::modality_separability`].

use std::ops::Range;

use nalgebra::{DMatrix, DVector};

use super::{Metric, Part, Pass, Plan, fingerprint};
use crate::gram::{cross_product_tiles, cross_products_of_tiles};
use crate::metrics::separability::{
    HELD_OUT_EVERY, Labelled, Need, Newton, SetDerivatives, common_centre, derivatives_of,
    held_out, objective_of, sum_in_order, training,
};
use crate::reduce::{CHUNK_ROWS, ChunkTotal};
use crate::{Modality, Result, Scalar, Separability, ShardError, UnitEmbeddings, check};

/// What a round of the fit asks of every tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
enum Ask {
    /// The loss terms of the training rows, per chunk.
    Objective,
    /// The weighted row sums per chunk, and the tile's weighted cross products.
    Derivatives,
    /// How many of the tile's held-out and training rows are on their side of the boundary.
    Outcomes,
}

/// One question of a [`SeparabilityFit`] to every shard: what to compute at which parameters
/// θ = (w, β), about which centre of the rows. Send it to every shard (an MPI broadcast:
/// 16·d bytes); each answers with [`modality_separability`] over its tiles.
///
/// # Examples
///
/// See [`SeparabilityFit`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SeparabilityRound {
    ask: Ask,
    theta: Vec<f64>,
    centre: Vec<f64>,
}

impl SeparabilityRound {
    /// The 64-bit fingerprint (FNV-1a) of the round, which its parts carry: parts of another
    /// round do not finish it.
    fn fingerprint(&self) -> u64 {
        let ask = [self.ask as u64];
        let bits = (self.theta.iter()).chain(&self.centre).map(|v| v.to_bits());
        fingerprint(ask.into_iter().chain(bits))
    }
}

/// The state of one tile of a round of the separability's fit (a node of the cross products'
/// summation tree of the rows of one set), for the 2048-row chunks that start in it and for
/// its own rows.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SeparabilityTile {
    /// Per chunk, in order: the sum of the loss terms of its training rows (the objective),
    /// or (Σᵢ rᵢ (xᵢ − c), Σᵢ rᵢ) then (Σᵢ wᵢ (xᵢ − c), Σᵢ wᵢ), 2(d + 1) values (the
    /// derivatives); none for the outcomes.
    chunks: Vec<f64>,
    /// With the derivatives, Σᵢ wᵢ (xᵢ − c)(xᵢ − c)ᵀ over the tile's rows (d × d,
    /// column-major, upper triangle); else empty.
    products: Vec<f64>,
    /// With the outcomes, the tile's held-out and its training rows on their side of the
    /// boundary; else zeros.
    correct: [u64; 2],
}

impl Plan {
    /// The plan of [`modality_separability`](crate::modality_separability)`(a, b)`: the
    /// nodes of the summation tree of the cross products of `a`'s rows (at most 16), then of
    /// `b`'s. Each round of the fit ([`SeparabilityFit`]) runs over these tiles.
    ///
    /// # Errors
    ///
    /// As [`modality_separability`](crate::modality_separability).
    ///
    /// # Examples
    ///
    /// See [`SeparabilityFit`].
    pub fn modality_separability<T: Scalar, A: Modality, B: Modality>(
        a: &UnitEmbeddings<T, A>,
        b: &UnitEmbeddings<T, B>,
    ) -> Result<Self> {
        check::comparable(a.shape(), b.shape())?;
        check::at_least(HELD_OUT_EVERY, a.len())?;
        check::at_least(HELD_OUT_EVERY, b.len())?;
        let tile_pairs: Vec<u64> = (cross_product_tiles(a.len()).into_iter())
            .chain(cross_product_tiles(b.len()))
            .map(|rows| rows.len() as u64)
            .collect();
        Ok(Self {
            pass: Pass {
                tiles: tile_pairs.len(),
                ..separability_pass(a, b)
            },
            tile_pairs,
        })
    }
}

/// The pass of the separability of `a` and `b` (its tiles not yet counted).
fn separability_pass<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
) -> Pass {
    Pass {
        metric: Metric::Separability,
        shape: (a.len(), b.len(), a.dim(), size_of::<T>()),
        parameter: 0,
        groups: 0,
        tiles: 0,
    }
}

/// Tile k of a plan of sets of n and m rows: the set (0 for A, 1 for B) and its rows.
fn tile_rows((n, m): (usize, usize)) -> Vec<(usize, Range<usize>)> {
    let tiles =
        |set: usize, rows: usize| cross_product_tiles(rows).into_iter().map(move |r| (set, r));
    tiles(0, n).chain(tiles(1, m)).collect()
}

/// The chunks of rows that start among `rows`.
fn owned_chunks(rows: &Range<usize>) -> Range<usize> {
    rows.start.div_ceil(CHUNK_ROWS)..rows.end.div_ceil(CHUNK_ROWS)
}

/// The part of round `round` of the fit of
/// [`modality_separability`](crate::modality_separability)`(a, b)` over the tiles `tiles`
/// of `plan` ([`Plan::modality_separability`]`(a, b)`).
///
/// # Errors
///
/// [`ShardError::Tiles`] for tiles past the plan's;
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch) for sets of different
/// dimensions; [`ShardError::NotThePlan`] for sets that are not the plan's, or a round of
/// another dimension.
///
/// # Examples
///
/// See [`SeparabilityFit`].
pub fn modality_separability<T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    round: &SeparabilityRound,
    tiles: Range<usize>,
) -> Result<Part<SeparabilityTile>> {
    plan.check_tiles(&tiles)?;
    check::comparable(a.shape(), b.shape())?;
    plan.check_pass(Pass {
        tiles: plan.tiles(),
        ..separability_pass(a, b)
    })?;
    let d = a.dim();
    if round.theta.len() != d + 1 || round.centre.len() != d {
        return Err(ShardError::NotThePlan {
            what: "the round (parameters or a centre of another dimension)",
        }
        .into());
    }
    let sets = (
        Labelled::new(a.as_slice(), true, &round.centre),
        Labelled::new(b.as_slice(), false, &round.centre),
    );
    let all = tile_rows((a.len(), b.len()));
    let states = (all[tiles.clone()].iter())
        .map(|(set, rows)| match set {
            0 => tile_state(sets.0, round, rows.clone()),
            _ => tile_state(sets.1, round, rows.clone()),
        })
        .collect();
    Ok(Part {
        pass: Pass {
            parameter: round.fingerprint(),
            ..plan.pass
        },
        start: tiles.start,
        states,
    })
}

/// The state of the tile of `set`'s rows `rows` in round `round`.
fn tile_state<T: Scalar>(
    set: Labelled<'_, T>,
    round: &SeparabilityRound,
    rows: Range<usize>,
) -> SeparabilityTile {
    let chunks = owned_chunks(&rows);
    // The margins of the tile's rows and of those of its chunks past them.
    let end = match round.ask {
        Ask::Outcomes => rows.end,
        _ => rows.end.max(set.len().min(chunks.end * CHUNK_ROWS)),
    };
    let z = set.margins(&round.theta, rows.start..end);
    let mut tile = SeparabilityTile {
        chunks: Vec::new(),
        products: Vec::new(),
        correct: [0, 0],
    };
    match round.ask {
        Ask::Objective => {
            tile.chunks = set.loss_chunks(&z, rows.start, chunks);
        }
        Ask::Derivatives => {
            let (r, w) = set.residuals_and_weights(&z, rows.start);
            let parts = set.weighted_sum_chunks((&r, &w), rows.start, chunks);
            tile.chunks = parts.into_iter().flatten().flatten().collect();
            let products = set.products(&w[..rows.len()], rows);
            tile.products = products.as_slice().to_vec();
        }
        Ask::Outcomes => {
            for (i, &z) in rows.zip(&z) {
                let side = usize::from(!held_out(i));
                tile.correct[side] += u64::from((z > 0.0) == set.positive());
            }
        }
    }
    tile
}

/// Newton's method of [`modality_separability`](crate::modality_separability) over shards:
/// the coordinator (an MPI rank 0, say) asks a [`SeparabilityRound`] of every shard, merges
/// their parts in tile order and [`advance`](Self::advance)s, until the last round gives
/// the separability: the in-memory value, to the bit. The fit takes one round for the
/// objective at θ = 0, then for each Newton step one for the derivatives and one or more
/// for the line search's objectives, one for the derivatives where it stops, and a last for
/// the outcomes (about 20 rounds for a fit of 8 steps). A round of the derivatives costs
/// O((n + m)·d²/shards), and its part holds 8·d² bytes per tile (at most 32 tiles) and
/// 16·(d + 1) per 2048 rows; the others cost O((n + m)·d/shards).
///
/// # Examples
///
/// ```
/// use modality_gap::shard::{self, Plan, SeparabilityFit};
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, modality_separability};
///
/// let rows = |side: f64| -> Vec<[f64; 3]> {
///     (0..3000).map(|i| {
///         let t = i as f64 * 0.37;
///         [t.cos(), t.sin(), side * 0.3 + 0.5 * (2.0 * t).sin()]
///     }).collect()
/// };
/// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&rows(1.0))?)?;
/// let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&rows(-1.0))?)?;
/// let plan = Plan::modality_separability(&a, &b)?;
/// let mut fit = SeparabilityFit::new(&plan, &a, &b)?;
/// let separability = loop {
///     // Broadcast the round; each of two shards answers over its tiles; merge in order.
///     let round = fit.round();
///     let [first, second] = [plan.shard(0, 2)?, plan.shard(1, 2)?]
///         .map(|tiles| shard::modality_separability(&plan, &a, &b, &round, tiles));
///     if let Some(done) = fit.advance(first?.merge(second?)?)? {
///         break done;
///     }
/// };
/// assert_eq!(separability, modality_separability(&a, &b)?);
/// # Ok::<(), modality_gap::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct SeparabilityFit {
    pass: Pass,
    newton: Newton,
    centre: Vec<f64>,
    result: Option<Separability>,
}

impl SeparabilityFit {
    /// The fit of the plan `plan` ([`Plan::modality_separability`]`(a, b)`), from θ = 0: it
    /// computes the common centre of the rows (O((n + m)·d)).
    ///
    /// # Errors
    ///
    /// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch) for sets of different
    /// dimensions; [`ShardError::NotThePlan`] for sets that are not the plan's.
    pub fn new<T: Scalar, A: Modality, B: Modality>(
        plan: &Plan,
        a: &UnitEmbeddings<T, A>,
        b: &UnitEmbeddings<T, B>,
    ) -> Result<Self> {
        check::comparable(a.shape(), b.shape())?;
        plan.check_pass(Pass {
            tiles: plan.tiles(),
            ..separability_pass(a, b)
        })?;
        Ok(Self {
            pass: plan.pass,
            newton: Newton::new(a.dim(), training(a.len()) + training(b.len())),
            centre: common_centre(a, b),
            result: None,
        })
    }

    /// The round to ask of every shard next (once the fit is done, the last one again).
    pub fn round(&self) -> SeparabilityRound {
        let (ask, theta) = match self.newton.need() {
            Need::Objective(theta) => (Ask::Objective, theta),
            Need::Derivatives(theta) => (Ask::Derivatives, theta),
            Need::Done(theta) => (Ask::Outcomes, theta),
        };
        SeparabilityRound {
            ask,
            theta: theta.as_slice().to_vec(),
            centre: self.centre.clone(),
        }
    }

    /// Takes the answer to [`round`](Self::round): the parts of every shard, merged in tile
    /// order. The separability once the fit is done (the outcomes' round), else `None`.
    ///
    /// # Errors
    ///
    /// [`ShardError::Incomplete`] unless the part holds every tile;
    /// [`ShardError::NotThePlan`] for a part of another round or plan, or whose tiles have
    /// the wrong sizes, derivatives that are not finite or counts above their rows' (a
    /// corrupted transfer). A refused part leaves the fit as it was.
    pub fn advance(&mut self, part: Part<SeparabilityTile>) -> Result<Option<Separability>> {
        let round = self.round();
        let expected = Pass {
            parameter: round.fingerprint(),
            ..self.pass
        };
        if part.pass != expected {
            return Err(ShardError::NotThePlan {
                what: "the round or the plan (a part of another)",
            }
            .into());
        }
        let (pass, states) = part.complete(&[Metric::Separability])?;
        let (n, m, d, _) = pass.shape;
        let tiles = tile_rows((n, m));
        if !(tiles.iter().zip(&states)).all(|((_, rows), tile)| sized(tile, rows, round.ask, d)) {
            return Err(ShardError::NotThePlan {
                what: "the size of a tile's state, derivatives that are not finite, or counts \
                    above the rows'",
            }
            .into());
        }
        let theta = DVector::from_vec(round.theta);
        // Each set's tiles, in order.
        let mut sets: [Vec<(Range<usize>, SeparabilityTile)>; 2] = [Vec::new(), Vec::new()];
        for ((set, rows), tile) in tiles.into_iter().zip(states) {
            sets[set].push((rows, tile));
        }
        match round.ask {
            Ask::Objective => {
                let losses = sets.map(|tiles| {
                    let mut total = ChunkTotal::new();
                    total.add_chunks(tiles.into_iter().flat_map(|(_, tile)| tile.chunks));
                    total.value()
                });
                self.newton.objective(objective_of(&theta, losses));
            }
            Ask::Derivatives => {
                let sizes = [n, m];
                let mut parts = sets.into_iter().zip(sizes).map(|(tiles, rows)| {
                    let mut chunks = Vec::new();
                    let mut products = Vec::new();
                    for (_, tile) in tiles {
                        chunks.extend(tile.chunks);
                        products.push(DMatrix::from_vec(d, d, tile.products));
                    }
                    let chunks = chunks.chunks_exact(2 * (d + 1));
                    let residuals = chunks.clone().map(|c| c[..=d].to_vec());
                    let weights = chunks.map(|c| c[d + 1..].to_vec());
                    SetDerivatives {
                        residuals: sum_in_order(residuals, d + 1),
                        weights: sum_in_order(weights, d + 1),
                        products: cross_products_of_tiles(rows, products),
                    }
                });
                let sets = [(); 2].map(|()| parts.next().expect("two sets"));
                self.newton.derivatives(derivatives_of(&theta, sets));
            }
            Ask::Outcomes => {
                let correct = |side: usize| -> u64 {
                    (sets.iter().flatten())
                        .map(|(_, tile)| tile.correct[side])
                        .sum()
                };
                let test_count = n / HELD_OUT_EVERY + m / HELD_OUT_EVERY;
                let train_count = training(n) + training(m);
                self.result = Some(Separability {
                    accuracy: correct(0) as f64 / test_count as f64,
                    train_accuracy: correct(1) as f64 / train_count as f64,
                    test_count,
                });
            }
        }
        Ok(self.result)
    }
}

/// Whether a tile's state has the sizes of round `ask` over `rows` (dimension d), and finite
/// derivatives, and at most its rows' counts. (An objective may be infinite or NaN where a
/// step overshoots, as in one process: the line search then takes a shorter one.)
fn sized(tile: &SeparabilityTile, rows: &Range<usize>, ask: Ask, d: usize) -> bool {
    let chunks = owned_chunks(rows).len();
    let finite = |values: &[f64]| values.iter().all(|v| v.is_finite());
    match ask {
        Ask::Objective => {
            tile.chunks.len() == chunks && tile.products.is_empty() && tile.correct == [0, 0]
        }
        Ask::Derivatives => {
            tile.chunks.len() == chunks * 2 * (d + 1)
                && tile.products.len() == d * d
                && finite(&tile.chunks)
                && finite(&tile.products)
                && tile.correct == [0, 0]
        }
        Ask::Outcomes => {
            // The held-out rows below e are those with i mod 5 = 4: ⌊e/5⌋ of them.
            let held = |end: usize| end / HELD_OUT_EVERY;
            let held = (held(rows.end) - held(rows.start)) as u64;
            tile.chunks.is_empty()
                && tile.products.is_empty()
                && tile.correct[0] <= held
                && tile.correct[1] <= rows.len() as u64 - held
        }
    }
}
