//! The mismatched-data simulations of Sec. 4.3: a handful of pairs on the 3-D sphere whose
//! contrastive loss, as the two modalities move apart, has its minimum at a gap when some pairs
//! are mismatched and at no gap when all pairs match.

use crate::check;
use crate::{
    Embeddings, Image, Result, Temperature, Text, UnitEmbeddings, contrastive_loss,
    contrastive_loss_with_targets, gap,
};

/// Whether the simulation's text points sit above their own image points. See
/// [`sphere_pairs`].
///
/// # Examples
///
/// ```
/// use modality_gap::experiments::Pairing;
///
/// assert_ne!(Pairing::Mismatched, Pairing::Matched);
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Fig. 3e–g (mismatched) and Supp. Fig. 9
/// (matched).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pairing {
    /// Texts 0 and 1 sit above images 1 and 0: two mismatched pairs (Fig. 3e).
    Mismatched,
    /// Every text sits above its own image.
    Matched,
}

/// Which text each image of the nine-pair simulation takes as its target. See
/// [`nine_pair_landscape`].
///
/// # Examples
///
/// ```
/// use modality_gap::experiments::NinePairLabels;
///
/// assert_eq!(NinePairLabels::TorchLiteral.targets(), [0, 1, 2, 8, 4, 5, 6, 7, 8]);
/// ```
///
/// # References
///
/// `mismatched_simulation.ipynb` cell 2 and `Table_1_*/simulation/simulation.ipynb` cell 2 in
/// Weixin-Liang/Modality-Gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NinePairLabels {
    /// Image i's target is text i.
    Paired,
    /// Targets 3 and 8 exchanged, `[0, 1, 2, 8, 4, 5, 6, 7, 3]`: what the notebooks intend.
    IntendedSwap,
    /// `[0, 1, 2, 8, 4, 5, 6, 7, 8]`: what the notebooks compute. Their
    /// `labels[3], labels[8] = labels[8], labels[3]` on a torch tensor assigns through
    /// aliasing views, so text 8 becomes the target of images 3 and 8 and nothing is swapped.
    TorchLiteral,
}

impl NinePairLabels {
    /// The target text of each of the nine images (the same vector labels the text → image
    /// direction, as in the notebooks' `calc_loss`).
    pub fn targets(self) -> [usize; 9] {
        match self {
            Self::Paired => [0, 1, 2, 3, 4, 5, 6, 7, 8],
            Self::IntendedSwap => [0, 1, 2, 8, 4, 5, 6, 7, 3],
            Self::TorchLiteral => [0, 1, 2, 8, 4, 5, 6, 7, 8],
        }
    }
}

/// One position of a simulated loss landscape.
///
/// # Examples
///
/// ```
/// use modality_gap::experiments::LandscapePoint;
///
/// let p = LandscapePoint { position: -30.0, signed_gap_distance: -0.7, loss: 1.2 };
/// assert_eq!(p.signed_gap_distance.signum(), p.position.signum());
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Fig. 3g.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LandscapePoint {
    /// Where the texts are: Δθ in degrees ([`sphere_landscape`]) or the images' height z
    /// ([`nine_pair_landscape`]); positive puts the texts below the images.
    pub position: f64,
    /// ‖Δ‖ · sign(position), Δ = centroid(images) − centroid(texts): the figure's x axis.
    pub signed_gap_distance: f64,
    /// The symmetric contrastive loss of the pairs.
    pub loss: f64,
}

/// The six image–text pairs of Fig. 3e on the unit sphere S².
///
/// ```text
/// p(u, v) = (cos u sin v, sin u sin v, cos v)        u azimuth, v polar angle, in degrees
/// image i = p(20°·kᵢ, 90°),   kᵢ = −1, 0, 1, 2, 3, 4          (on the equator)
/// text  i = p(20°·k′ᵢ, 90° + Δθ),  k′ = (0, −1, 1, 2, 3, 4) mismatched, k′ = k matched
/// ```
///
/// Δθ > 0 puts the texts below the equator, Δθ = 0 on it; at Δθ = 0 the mismatched texts are
/// the images with the first two exchanged.
///
/// # Errors
///
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless Δθ is finite.
///
/// # Examples
///
/// ```
/// use modality_gap::experiments::{Pairing, sphere_pairs};
///
/// let (images, texts) = sphere_pairs(0.0, Pairing::Mismatched)?;
/// assert_eq!(images.row(0), texts.row(1));
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Fig. 3e; `3d_sphere.ipynb` cells 2 and 4,
/// `Appendix_3d_sphere.ipynb` cell 3.
pub fn sphere_pairs(
    delta_theta: f64,
    pairing: Pairing,
) -> Result<(UnitEmbeddings<f64, Image>, UnitEmbeddings<f64, Text>)> {
    check::finite("delta_theta", delta_theta)?;
    // Degrees to radians as the notebook rounds it, x·π/180.
    let radians = |degrees: f64| degrees * std::f64::consts::PI / 180.0;
    let point = |k: f64, v: f64| {
        let (u, v) = (radians(20.0 * k), radians(v));
        [u.cos() * v.sin(), u.sin() * v.sin(), v.cos()]
    };
    let image_steps = [-1.0, 0.0, 1.0, 2.0, 3.0, 4.0];
    let text_steps = match pairing {
        Pairing::Mismatched => [0.0, -1.0, 1.0, 2.0, 3.0, 4.0],
        Pairing::Matched => image_steps,
    };
    let images = image_steps.map(|k| point(k, 90.0));
    let texts = text_steps.map(|k| point(k, 90.0 + delta_theta));
    Ok((unit(&images)?, unit(&texts)?))
}

/// The loss landscape of Fig. 3g: the six pairs of [`sphere_pairs`] at each Δθ, and their
/// symmetric contrastive loss at temperature τ.
///
/// ```text
/// for each Δθ:  (I, T) = sphere_pairs(Δθ, pairing);  record ‖Δ‖·sign Δθ,  L(I, T; τ)
/// ```
///
/// With mismatched pairs and a low temperature, the loss is lowest away from Δθ = 0: the
/// mismatch alone makes a gap optimal. The paper sweeps Δθ = 90°, 89°, …, −90° at logit
/// scales 1, 5, 35, 50 and 100 (τ = 1/s); at Δθ = 0 its mismatched losses read 1.548,
/// 1.095, 0.887, 1.083 and 2.014.
///
/// # Errors
///
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) for a non-finite Δθ or a temperature that
/// [`contrastive_loss`](crate::contrastive_loss) rejects.
///
/// # Examples
///
/// ```
/// use modality_gap::Temperature;
/// use modality_gap::experiments::{Pairing, sphere_landscape};
///
/// let angles: Vec<f64> = (-90..=90).map(f64::from).collect();
/// let landscape = sphere_landscape(&angles, Temperature::new(0.01)?, Pairing::Mismatched)?.collect::<Result<Vec<_>, _>>()?;
/// let best = landscape.iter().min_by(|p, q| p.loss.total_cmp(&q.loss)).unwrap();
/// assert!(best.position.abs() > 45.0); // the optimum keeps a gap
/// assert!((landscape[90].loss - 2.0142435325150863).abs() < 1e-12); // Δθ = 0
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 4.3 and Fig. 3e–g;
/// `3d_sphere.ipynb` cell 4 (`get_clip_loss`).
pub fn sphere_landscape(
    delta_thetas: &[f64],
    temperature: Temperature,
    pairing: Pairing,
) -> Result<impl Iterator<Item = Result<LandscapePoint>> + '_> {
    landscape(delta_thetas, temperature, None, move |delta_theta| {
        sphere_pairs(delta_theta, pairing)
    })
}

/// The nine image–text pairs of the notebooks' `init_points`: images at height z, texts at −z.
///
/// ```text
/// a = √(1 − z²),  b = √((1 − z²)/2),  θ = 1.53π
/// (x, y) ∈ (a, 0), (−a, 0), (0, a), (0, −a), (b, b), (−b, b), (b, −b), (−b, −b), (a cos θ, a sin θ)
/// image i = (xᵢ, yᵢ, z),   text i = (xᵢ, yᵢ, −z)
/// ```
///
/// Coordinates are rounded to f32, as the notebooks' `torch.tensor(...).float()`, and kept
/// as f64 (norms within 1e-7 of 1). Point 8 sits 5.4° from point 3, so exchanging their
/// targets makes a near-duplicate mismatch.
///
/// # Errors
///
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless −1 ≤ z ≤ 1.
///
/// # Examples
///
/// ```
/// use modality_gap::{experiments::nine_pairs, gap};
///
/// let (images, texts) = nine_pairs(0.5)?;
/// assert_eq!(images.len(), 9);
/// assert!((gap(&images, &texts)?.distance() - 1.0).abs() < 1e-7); // 2z
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// `mismatched_simulation.ipynb` cell 1 and `Table_1_*/simulation/simulation.ipynb` cell 1
/// (`init_points`), the simulation behind Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 4.3.
pub fn nine_pairs(z: f64) -> Result<(UnitEmbeddings<f64, Image>, UnitEmbeddings<f64, Text>)> {
    check::cosine("z", z)?;
    let a = (1.0 - z * z).sqrt();
    let b = ((1.0 - z * z) / 2.0).sqrt();
    let theta = 0.03 * std::f64::consts::PI + 1.5 * std::f64::consts::PI;
    let plane = [
        (a, 0.0),
        (-a, 0.0),
        (0.0, a),
        (0.0, -a),
        (b, b),
        (-b, b),
        (b, -b),
        (-b, -b),
        (theta.cos() * a, theta.sin() * a),
    ];
    let f32_rounded = |x: f64| f64::from(x as f32);
    let at = |height: f64| plane.map(|(x, y)| [x, y, height].map(f32_rounded));
    Ok((unit(&at(z))?, unit(&at(-z))?))
}

/// The loss landscape of the nine-pair simulation: [`nine_pairs`] at each z, and their
/// symmetric contrastive loss at temperature τ with the given targets.
///
/// ```text
/// for each z:  (I, T) = nine_pairs(z);  record ‖Δ‖·sign z,  L(I, T; τ, targets)
/// L = ½ [ (1/9) Σᵢ CE(row i, target tᵢ) + (1/9) Σⱼ CE(column j, target tⱼ) ]
/// ```
///
/// The position is z: positive puts the texts below the images, as Δθ > 0 does in
/// [`sphere_landscape`]. The notebooks sweep z over 100 points of [−1, 1] at logit scales 1, 5, 10, 50,
/// 100, 500 and 1000 (their "temperature" argument multiplies the similarities); their plotted
/// curves use [`NinePairLabels::TorchLiteral`].
///
/// # Errors
///
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) for a z outside [−1, 1] or a temperature that
/// [`contrastive_loss`](crate::contrastive_loss) rejects.
///
/// # Examples
///
/// ```
/// use modality_gap::Temperature;
/// use modality_gap::experiments::{NinePairLabels, nine_pair_landscape};
///
/// let at_zero = |labels| nine_pair_landscape(&[0.0], Temperature::new(0.01)?, labels)?.next().unwrap();
/// let (paired, swapped) = (at_zero(NinePairLabels::Paired)?, at_zero(NinePairLabels::IntendedSwap)?);
/// assert!(swapped.loss > paired.loss); // a mismatch costs loss where the pairs meet
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// `mismatched_simulation.ipynb` cell 2 (`calc_loss` over `np.linspace(-1, 1, 100)`), the
/// simulation behind Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 4.3.
pub fn nine_pair_landscape(
    zs: &[f64],
    temperature: Temperature,
    labels: NinePairLabels,
) -> Result<impl Iterator<Item = Result<LandscapePoint>> + '_> {
    landscape(zs, temperature, Some(labels.targets()), nine_pairs)
}

/// Points on the sphere as unit embeddings (they are unit up to rounding, or f32 rounding).
fn unit<M: crate::Modality>(points: &[[f64; 3]]) -> Result<UnitEmbeddings<f64, M>> {
    UnitEmbeddings::verify_unit(Embeddings::from_rows(points)?, 1e-6)
}

/// The landscape over `positions`: at each, the pairs `pairs(position)` and their
/// contrastive loss (with `targets`, or the diagonal): the one loop behind both landscapes.
/// Lazy, as the sweeps.
fn landscape<'a>(
    positions: &'a [f64],
    temperature: Temperature,
    targets: Option<[usize; 9]>,
    pairs: impl Fn(f64) -> Result<(UnitEmbeddings<f64, Image>, UnitEmbeddings<f64, Text>)> + 'a,
) -> Result<impl Iterator<Item = Result<LandscapePoint>> + 'a> {
    Ok(positions.iter().map(move |&position| {
        let (images, texts) = pairs(position)?;
        let loss = match &targets {
            None => contrastive_loss(&images, &texts, temperature)?,
            Some(t) => contrastive_loss_with_targets(&images, &texts, temperature, t)?,
        };
        let sign = if position == 0.0 {
            0.0
        } else {
            position.signum()
        };
        Ok(LandscapePoint {
            position,
            signed_gap_distance: gap(&images, &texts)?.distance() * sign,
            loss: loss.symmetric,
        })
    }))
}
