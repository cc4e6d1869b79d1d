//! The tiles of the contrastive loss, one positive per sample ([`contrastive_loss`]) or each
//! image with its captions ([`Captioned::contrastive_loss`]).

use std::marker::PhantomData;
use std::ops::Range;

use super::contrastive_jackknife::CrossEntropies;
use super::tiles::sets;
use super::{Metric, Part, Pass, Plan, fingerprint_indices};
use crate::kernel::{self, CrossEntropyTile, Targets, Tiled};
use crate::metrics::contrastive::{dot_bound, loss_from};
use crate::{
    Captioned, ContrastiveLoss, Modality, Result, Scalar, ShardError, Temperature, UnitEmbeddings,
    check,
};

/// The state of one tile of the contrastive loss (a range of rows against a panel of
/// columns): the log-sum-exp of each of its rows over the panel and of each of the panel's
/// columns over its rows, and the target dot products it owns (the logits over the
/// temperature). The tiles of the first panel hold each of their rows' (against the diagonal or
/// targets); the tiles of the first task (the rows from 0) hold each of their panel's
/// columns' (with targets or captions: a caption's with its image, and which image that
/// is).
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(bound = ""))]
pub struct ContrastiveTile<A: Modality, B: Modality> {
    tile: CrossEntropyTile,
    /// With captions, in the tiles of the first task, the image of each caption of the panel.
    images: Vec<usize>,
    modalities: PhantomData<fn() -> (A, B)>,
}

paired_tile_traits!(ContrastiveTile { tile, images });

impl Plan {
    /// The plan of [`contrastive_loss`](crate::contrastive_loss)`(a, b, temperature)`.
    ///
    /// # Errors
    ///
    /// As [`contrastive_loss`](crate::contrastive_loss).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::shard::{self, Plan};
    /// use modality_gap::{Embeddings, Image, Temperature, Text, UnitEmbeddings, contrastive_loss};
    ///
    /// let rows: Vec<[f32; 2]> = (0..50).map(|i| [(i as f32).cos(), (i as f32).sin()]).collect();
    /// let a = UnitEmbeddings::normalize(Embeddings::<f32, Image>::from_rows(&rows)?)?;
    /// let b = UnitEmbeddings::normalize(Embeddings::<f32, Text>::from_rows(&rows[1..])?.select(&(0..49).chain([0]).collect::<Vec<_>>())?)?;
    /// let plan = Plan::contrastive_loss(&a, &b, Temperature::CLIP)?;
    /// let loss = shard::contrastive_loss(&plan, &a, &b, 0..plan.tiles())?.finish()?;
    /// assert_eq!(loss, contrastive_loss(&a, &b, Temperature::CLIP)?);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn contrastive_loss<T: Scalar, A: Modality, B: Modality>(
        a: &UnitEmbeddings<T, A>,
        b: &UnitEmbeddings<T, B>,
        temperature: Temperature,
    ) -> Result<Self> {
        check::paired(a.shape(), b.shape())?;
        let scale = temperature.logit_scale();
        let pass = contrastive_pass(a, b, scale, Metric::ContrastiveLoss, 0);
        Ok(Self::of_cross_entropies(pass, a, b))
    }

    /// The plan of
    /// [`contrastive_loss_with_targets`](crate::contrastive_loss_with_targets)`(a, b,
    /// temperature, targets)`: the tiles of [`Plan::contrastive_loss`], with row i's target
    /// column tᵢ and column j's target row tⱼ.
    ///
    /// The plan holds a 64-bit fingerprint (FNV-1a) of the targets, so that parts of other
    /// targets refuse to merge (short of a hash collision).
    ///
    /// # Errors
    ///
    /// As [`contrastive_loss_with_targets`](crate::contrastive_loss_with_targets).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::shard::{self, Plan};
    /// use modality_gap::{Embeddings, Image, Temperature, Text, UnitEmbeddings, contrastive_loss_with_targets};
    ///
    /// let rows: Vec<[f32; 2]> = (0..50).map(|i| [(i as f32).cos(), (i as f32).sin()]).collect();
    /// let a = UnitEmbeddings::normalize(Embeddings::<f32, Image>::from_rows(&rows)?)?;
    /// let b = UnitEmbeddings::normalize(Embeddings::<f32, Text>::from_rows(&rows)?)?;
    /// let targets: Vec<usize> = (0..50).map(|i| (i + 1) % 50).collect(); // mismatched pairs
    /// let plan = Plan::contrastive_loss_with_targets(&a, &b, Temperature::CLIP, &targets)?;
    /// let part = shard::contrastive_loss_with_targets(&plan, &a, &b, &targets, 0..plan.tiles())?;
    /// assert_eq!(part.finish()?, contrastive_loss_with_targets(&a, &b, Temperature::CLIP, &targets)?);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn contrastive_loss_with_targets<T: Scalar, A: Modality, B: Modality>(
        a: &UnitEmbeddings<T, A>,
        b: &UnitEmbeddings<T, B>,
        temperature: Temperature,
        targets: &[usize],
    ) -> Result<Self> {
        check::paired(a.shape(), b.shape())?;
        check::labels("targets", a.len(), b.len(), targets)?;
        let (scale, metric) = (
            temperature.logit_scale(),
            Metric::ContrastiveLossWithTargets,
        );
        let pass = contrastive_pass(a, b, scale, metric, fingerprint_indices(targets));
        Ok(Self::of_cross_entropies(pass, a, b))
    }

    /// The plan of [`Captioned::contrastive_loss`]`(temperature)`: the same tiles as
    /// [`Plan::contrastive_loss`] of the images against the captions, with each caption's
    /// image as its positive and each image's captions as its positives.
    ///
    /// The plan holds a 64-bit fingerprint (FNV-1a) of the caption → image map, so that
    /// parts of two different groupings refuse to merge (short of a hash collision).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::shard::{self, Plan};
    /// use modality_gap::{Captioned, Embeddings, Image, Temperature, Text, UnitEmbeddings};
    ///
    /// let rows: Vec<[f32; 2]> = (0..90).map(|i| [(i as f32).cos(), (i as f32).sin()]).collect();
    /// let images = UnitEmbeddings::normalize(Embeddings::<f32, Image>::from_rows(&rows[..30])?)?;
    /// let captions = UnitEmbeddings::normalize(Embeddings::<f32, Text>::from_rows(&rows)?)?;
    /// let coco = Captioned::new(images, captions, (0..90).map(|j| j % 30).collect())?;
    /// let plan = Plan::captioned_contrastive_loss(&coco, Temperature::CLIP);
    /// let loss = shard::captioned_contrastive_loss(&plan, &coco, 0..plan.tiles())?.finish()?;
    /// assert_eq!(loss, coco.contrastive_loss(Temperature::CLIP)?);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn captioned_contrastive_loss<T: Scalar, A: Modality, B: Modality>(
        captioned: &Captioned<T, A, B>,
        temperature: Temperature,
    ) -> Self {
        let pass = captioned_pass(captioned, temperature.logit_scale());
        Self::of_cross_entropies(pass, captioned.images(), captioned.captions())
    }

    /// The plan of the cross-entropies' pass between `a` and `b`, for `pass` (its tiles
    /// counted here).
    fn of_cross_entropies<T: Scalar, A: Modality, B: Modality>(
        pass: Pass,
        a: &UnitEmbeddings<T, A>,
        b: &UnitEmbeddings<T, B>,
    ) -> Self {
        let tile_pairs = kernel::tile_pairs(sets(a, b), Tiled::CrossEntropies);
        Self {
            pass: Pass {
                tiles: tile_pairs.len(),
                ..pass
            },
            tile_pairs,
        }
    }
}

/// The pass of the cross-entropies between `a` and `b` (its tiles not yet counted).
fn contrastive_pass<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    scale: f64,
    metric: Metric,
    groups: u64,
) -> Pass {
    Pass {
        metric,
        shape: (a.len(), b.len(), a.dim(), size_of::<T>()),
        parameter: scale.to_bits(),
        groups,
        tiles: 0,
    }
}

fn captioned_pass<T: Scalar, A: Modality, B: Modality>(
    captioned: &Captioned<T, A, B>,
    scale: f64,
) -> Pass {
    let (images, captions) = (captioned.images(), captioned.captions());
    let groups = fingerprint_indices(captioned.image_of());
    let metric = Metric::CaptionedContrastiveLoss;
    contrastive_pass(images, captions, scale, metric, groups)
}

/// The part of [`contrastive_loss`](crate::contrastive_loss) over the tiles `tiles` of
/// `plan`, made with [`Plan::contrastive_loss`]`(a, b, temperature)`.
///
/// # Errors
///
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) or
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch) for sets that are not
/// paired; then as [`uniform_loss`](super::uniform_loss).
///
/// # Examples
///
/// See [`Plan::contrastive_loss`].
pub fn contrastive_loss<T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    tiles: Range<usize>,
) -> Result<Part<ContrastiveTile<A, B>>> {
    check_plan(plan, (a, b), &tiles)?;
    Ok(part_of(plan, (a, b), Targets::Diagonal, tiles))
}

/// Checks that `plan` is [`Plan::contrastive_loss`] of `a` and `b` and `tiles` a range of its
/// tiles; gives its logit scale.
pub(super) fn check_plan<T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    (a, b): (&UnitEmbeddings<T, A>, &UnitEmbeddings<T, B>),
    tiles: &Range<usize>,
) -> Result<f64> {
    plan.check_tiles(tiles)?;
    check::paired(a.shape(), b.shape())?;
    let scale = f64::from_bits(plan.pass.parameter);
    let pass = contrastive_pass(a, b, scale, Metric::ContrastiveLoss, 0);
    plan.check_pass(Pass {
        tiles: plan.tiles(),
        ..pass
    })?;
    Ok(scale)
}

/// The part of [`contrastive_loss_with_targets`](crate::contrastive_loss_with_targets) over
/// the tiles `tiles` of `plan`, made with
/// [`Plan::contrastive_loss_with_targets`]`(a, b, temperature, targets)`.
///
/// # Errors
///
/// [`Error::LengthMismatch`](crate::Error::LengthMismatch) or
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch) for sets that are not
/// paired, [`Error::InvalidParameter`](crate::Error::InvalidParameter) for a target past the last column; then as [`uniform_loss`](super::uniform_loss) (other targets are another plan).
///
/// # Examples
///
/// See [`Plan::contrastive_loss_with_targets`].
pub fn contrastive_loss_with_targets<T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    targets: &[usize],
    tiles: Range<usize>,
) -> Result<Part<ContrastiveTile<A, B>>> {
    plan.check_tiles(&tiles)?;
    check::paired(a.shape(), b.shape())?;
    check::labels("targets", a.len(), b.len(), targets)?;
    let scale = f64::from_bits(plan.pass.parameter);
    let metric = Metric::ContrastiveLossWithTargets;
    let pass = contrastive_pass(a, b, scale, metric, fingerprint_indices(targets));
    plan.check_pass(Pass {
        tiles: plan.tiles(),
        ..pass
    })?;
    Ok(part_of(plan, (a, b), Targets::Labels(targets), tiles))
}

/// The part of [`Captioned::contrastive_loss`] over the tiles `tiles` of `plan`, made with
/// [`Plan::captioned_contrastive_loss`]`(captioned, temperature)`.
///
/// # Errors
///
/// As [`uniform_loss`](super::uniform_loss) (another grouping is another plan).
///
/// # Examples
///
/// See [`Plan::captioned_contrastive_loss`].
pub fn captioned_contrastive_loss<T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    captioned: &Captioned<T, A, B>,
    tiles: Range<usize>,
) -> Result<Part<ContrastiveTile<A, B>>> {
    plan.check_tiles(&tiles)?;
    let pass = captioned_pass(captioned, f64::from_bits(plan.pass.parameter));
    plan.check_pass(Pass {
        tiles: plan.tiles(),
        ..pass
    })?;
    let sides = (captioned.images(), captioned.captions());
    Ok(part_of(
        plan,
        sides,
        Targets::Groups(captioned.image_of()),
        tiles,
    ))
}

/// The states of the tiles `tiles` of the cross-entropies' pass between `a` and `b` with
/// `targets`.
fn part_of<T: Scalar, A: Modality, B: Modality>(
    plan: &Plan,
    (a, b): (&UnitEmbeddings<T, A>, &UnitEmbeddings<T, B>),
    targets: Targets<'_>,
    tiles: Range<usize>,
) -> Part<ContrastiveTile<A, B>> {
    let scale = f64::from_bits(plan.pass.parameter);
    let bounds = (scale, dot_bound(a, b));
    let states = kernel::cross_entropy_tiles(sets(a, b), bounds, targets, tiles.clone());
    let states = (states.into_iter())
        .map(|(tile, panel)| ContrastiveTile {
            // The images of the captions whose positives the tile holds.
            images: match targets {
                Targets::Groups(g) if !tile.col_targets.is_empty() => g[panel].to_vec(),
                _ => Vec::new(),
            },
            tile,
            modalities: PhantomData,
        })
        .collect();
    Part {
        pass: plan.pass,
        start: tiles.start,
        states,
    }
}

impl<A: Modality, B: Modality> Part<ContrastiveTile<A, B>> {
    /// [`contrastive_loss`](crate::contrastive_loss),
    /// [`contrastive_loss_with_targets`](crate::contrastive_loss_with_targets) or
    /// [`Captioned::contrastive_loss`] (as the plan), from every tile: the same bits.
    ///
    /// # Errors
    ///
    /// [`ShardError::Incomplete`] unless the part holds every tile of its plan;
    /// [`ShardError::NotThePlan`] for a tile whose state has the wrong size, a target dot
    /// product above what its log-sum-exp allows, or a caption → image map that is not the
    /// plan's (a corrupted transfer); as
    /// [`contrastive_loss`](crate::contrastive_loss).
    ///
    /// # Examples
    ///
    /// See [`Plan::contrastive_loss`].
    pub fn finish(self) -> Result<ContrastiveLoss> {
        let metrics = [
            Metric::ContrastiveLoss,
            Metric::ContrastiveLossWithTargets,
            Metric::CaptionedContrastiveLoss,
        ];
        let (pass, tiles, images) = self.tiles_of(&metrics)?;
        // The tiles hold the labels' targets themselves: only the kind matters.
        let targets = match pass.metric {
            Metric::CaptionedContrastiveLoss => Targets::Groups(&images),
            Metric::ContrastiveLossWithTargets => Targets::Labels(&[]),
            _ => Targets::Diagonal,
        };
        let scale = f64::from_bits(pass.parameter);
        let means =
            kernel::cross_entropies_of(tiles, pass.shape, scale, targets).ok_or(NOT_THE_TILES)?;
        loss_from(means, (A::NAME, B::NAME))
    }

    /// Every row's and column's log-sum-exp and cross-entropy of
    /// [`contrastive_loss`](crate::contrastive_loss), from every tile of
    /// [`Plan::contrastive_loss`]: the first round of
    /// [`shard::jackknife::contrastive_loss`](super::jackknife::contrastive_loss).
    ///
    /// # Errors
    ///
    /// As [`finish`](Self::finish); [`ShardError::NotThePlan`] for a part of another
    /// metric's plan (with targets or captions).
    ///
    /// # Examples
    ///
    /// See [`shard::jackknife::contrastive_loss`](super::jackknife::contrastive_loss).
    pub fn cross_entropies(self) -> Result<CrossEntropies<A, B>> {
        let (pass, tiles, _) = self.tiles_of(&[Metric::ContrastiveLoss])?;
        let scale = f64::from_bits(pass.parameter);
        let values = kernel::cross_entropies_of_tiles(tiles, pass.shape, scale, Targets::Diagonal)
            .ok_or(NOT_THE_TILES)?;
        Ok(CrossEntropies {
            pass,
            values,
            modalities: PhantomData,
        })
    }

    /// The pass of a complete part of one of `metrics`, its tiles' states and the images they
    /// carry, checked against the pass.
    fn tiles_of(self, metrics: &[Metric]) -> Result<(Pass, Vec<CrossEntropyTile>, Vec<usize>)> {
        let (pass, states) = self.complete(metrics)?;
        let mut images = Vec::new();
        let mut tiles = Vec::with_capacity(states.len());
        for state in states {
            images.extend(state.images);
            tiles.push(state.tile);
        }
        check_images(pass, &images)?;
        Ok((pass, tiles, images))
    }
}

/// Tiles whose states cannot be the plan's (a corrupted transfer).
const NOT_THE_TILES: ShardError = ShardError::NotThePlan {
    what: "the size of a tile's state, or a target above its log-sum-exp",
};

/// Checks the images that a part's tiles carry against its pass: none with one positive per
/// sample; with captions, an image for each caption, each an image's index, every image
/// named, and the plan's fingerprint.
fn check_images(pass: Pass, images: &[usize]) -> Result<()> {
    let (n, m, ..) = pass.shape;
    let valid = match pass.metric {
        Metric::CaptionedContrastiveLoss => {
            // The length first: n ≤ m, so the flags below are no larger than the images.
            images.len() == m
                && check::labels("image_of", m, n, images).is_ok()
                && check::every_group_named("image_of", n, images, "").is_ok()
                && fingerprint_indices(images) == pass.groups
        }
        _ => images.is_empty(),
    };
    if valid {
        Ok(())
    } else {
        Err(ShardError::NotThePlan {
            what: "the caption → image map the tiles carry",
        }
        .into())
    }
}
