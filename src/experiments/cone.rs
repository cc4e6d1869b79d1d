use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Normal};

use crate::{
    Diagonal, Embeddings, Modality, Result, Scalar, UnitEmbeddings, check, mean_pairwise_cosine,
};

/// The activation of every layer of a [`RandomMlp`].
///
/// # Examples
///
/// ```
/// use modality_gap::experiments::Activation;
///
/// assert_eq!(Activation::LeakyRelu.apply(-2.0), -0.02);
/// assert_eq!(Activation::Relu.apply(-2.0), 0.0);
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Fig. 2b (`bias_linear_relu.ipynb` cells 2–3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Activation {
    /// max(h, 0).
    Relu,
    /// h for h ≥ 0, 0.01·h below (PyTorch's default slope).
    LeakyRelu,
    /// 1 / (1 + e^(−h)).
    Sigmoid,
    /// tanh h.
    Tanh,
    /// h: linear layers only.
    Identity,
}

impl Activation {
    /// The activation of one pre-activation value.
    pub fn apply(self, h: f64) -> f64 {
        match self {
            Self::Relu => h.max(0.0),
            Self::LeakyRelu => {
                if h >= 0.0 {
                    h
                } else {
                    0.01 * h
                }
            }
            Self::Sigmoid => 1.0 / (1.0 + (-h).exp()),
            Self::Tanh => h.tanh(),
            Self::Identity => h,
        }
    }
}

/// A multilayer perceptron of d → d layers x ↦ act(W x + b), for the cone effect at
/// initialisation (Fig. 2b). Build it from a seed ([`RandomMlp::random`]) or from given
/// weights ([`RandomMlp::from_layers`]), then measure [`RandomMlp::layerwise_cone`].
///
/// # Examples
///
/// ```
/// use modality_gap::experiments::{Activation, RandomMlp};
///
/// let mlp = RandomMlp::random(8, 3, Activation::Relu, 42)?;
/// assert_eq!((mlp.dim(), mlp.depth()), (8, 3));
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 2 and Fig. 2b.
#[derive(Debug, Clone, PartialEq)]
pub struct RandomMlp {
    /// (W, b) per layer; W is d × d.
    layers: Vec<(DMatrix<f64>, Vec<f64>)>,
    activation: Activation,
}

impl RandomMlp {
    /// `depth` layers of dimension `d` with every weight and bias drawn from N(0, 1/d), from
    /// a seeded `StdRng` (the paper: "both weight and bias randomly initialized from
    /// N(0, 1/512)"): value-stable for a given seed and version of `rand`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) for d = 0 (there is no
    /// layer of dimension 0).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::experiments::{Activation, RandomMlp};
    ///
    /// assert_eq!(RandomMlp::random(4, 2, Activation::Tanh, 7)?, RandomMlp::random(4, 2, Activation::Tanh, 7)?);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    ///
    /// # References
    ///
    /// Liang et al., "Mind the Gap", NeurIPS 2022, Fig. 2b caption.
    pub fn random(d: usize, depth: usize, activation: Activation, seed: u64) -> Result<Self> {
        let d = check::at_least_one("d", d)?;
        let normal = Normal::new(0.0, 1.0 / (d as f64).sqrt()).expect("a finite deviation");
        let mut rng = StdRng::seed_from_u64(seed);
        let layers = (0..depth)
            .map(|_| {
                let w = DMatrix::from_fn(d, d, |_, _| normal.sample(&mut rng));
                let b = (0..d).map(|_| normal.sample(&mut rng)).collect();
                (w, b)
            })
            .collect();
        Ok(Self { layers, activation })
    }

    /// Layers from given weights: each a d × d matrix W, row-major (numpy's `W[l]`, PyTorch's
    /// `weight`), and a bias of d values.
    ///
    /// # Errors
    ///
    /// [`Error::BufferLength`](crate::Error::BufferLength) unless every W holds d² values and [`Error::DimensionMismatch`](crate::Error::DimensionMismatch)
    /// unless every bias holds d (d from the first bias), [`Error::NonFinite`](crate::Error::NonFinite) for a
    /// non-finite weight or bias (row = layer, column = index within it).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::experiments::{Activation, RandomMlp};
    ///
    /// let identity = (vec![1.0, 0.0, 0.0, 1.0], vec![0.0, 0.0]);
    /// let mlp = RandomMlp::from_layers(vec![identity], Activation::Identity)?;
    /// assert_eq!(mlp.depth(), 1);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn from_layers(layers: Vec<(Vec<f64>, Vec<f64>)>, activation: Activation) -> Result<Self> {
        let d = layers.first().map_or(0, |(_, b)| b.len());
        let layers = layers
            .into_iter()
            .enumerate()
            .map(|(l, (w, b))| {
                check::buffer_len(d * d, w.len())?;
                check::same_dim(d, b.len())?;
                check::finite_row(l, w.iter().chain(&b).copied())?;
                Ok((DMatrix::from_row_slice(d, d, &w), b))
            })
            .collect::<Result<_>>()?;
        Ok(Self { layers, activation })
    }

    /// The dimension d of every layer (0 without layers).
    pub fn dim(&self) -> usize {
        self.layers.first().map_or(0, |(_, b)| b.len())
    }

    /// The number of layers.
    pub fn depth(&self) -> usize {
        self.layers.len()
    }

    /// The cone effect layer by layer: the mean pairwise cosine of the inputs and of the
    /// outputs of each layer, L + 1 values.
    ///
    /// ```text
    /// x⁽⁰⁾ = x,   x⁽ˡ⁾ = act(x⁽ˡ⁻¹⁾ Wₗᵀ + bₗ),   value l = mean_pairwise_cosine(x⁽ˡ⁾, diagonal)
    /// ```
    ///
    /// Computed in f64. Fig. 2b includes the diagonal ([`Diagonal::Included`], which tends to
    /// 1/n rather than 0 for isotropic data); Fig. 2a's convention excludes it.
    ///
    /// # Errors
    ///
    /// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch) unless x has the MLP's dimension, [`Error::ZeroNorm`](crate::Error::ZeroNorm) if
    /// a layer maps a sample to 0 (all its ReLUs off), [`Error::NonFinite`](crate::Error::NonFinite) if its activations
    /// overflow, the errors of [`mean_pairwise_cosine`].
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Diagonal, Embeddings, Image, experiments::{Activation, RandomMlp}};
    ///
    /// let x = Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [-1.0, 0.0]])?;
    /// // Swap the coordinates and add (1, 1): (1, 0) ↦ (1, 2) and (−1, 0) ↦ (1, 0).
    /// let layer = (vec![0.0, 1.0, 1.0, 0.0], vec![1.0, 1.0]);
    /// let mlp = RandomMlp::from_layers(vec![layer], Activation::Identity)?;
    /// let cone = mlp.layerwise_cone(&x, Diagonal::Excluded)?;
    /// assert_eq!(cone[0], -1.0); // opposite inputs
    /// assert!((cone[1] - 1.0 / 5f64.sqrt()).abs() < 1e-15); // cos between (1, 2) and (1, 0)
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    ///
    /// # References
    ///
    /// Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 2 and Fig. 2b.
    pub fn layerwise_cone<T: Scalar, M: Modality>(
        &self,
        x: &Embeddings<T, M>,
        diagonal: Diagonal,
    ) -> Result<Vec<f64>> {
        self.check_dim(x)?;
        let mut h = input_matrix(x);
        let mut values = vec![cone_of(&h, diagonal)?];
        for layer in &self.layers {
            h = self.apply(layer, h);
            values.push(cone_of(&h, diagonal)?);
        }
        Ok(values)
    }

    /// The network as an encoder: its output for each input, normalised onto the sphere as
    /// CLIP normalises its features.
    ///
    /// ```text
    /// x⁽ᴸ⁾ = act(… act(x W₁ᵀ + b₁) …),   encode(x)ᵢ = x⁽ᴸ⁾ᵢ / ‖x⁽ᴸ⁾ᵢ‖
    /// ```
    ///
    /// Two encoders seeded differently map the same inputs into two different narrow cones:
    /// a modality gap exists before any training (Sec. 2.3, Fig. 2c).
    ///
    /// # Errors
    ///
    /// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch) unless x has the MLP's dimension, [`Error::ZeroNorm`](crate::Error::ZeroNorm) if
    /// the network maps a sample to 0, [`Error::NonFinite`](crate::Error::NonFinite) if its activations overflow.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image, Text, gap, experiments::{Activation, RandomMlp}};
    ///
    /// let x = Embeddings::<f64, Image>::from_row_major_vec(64, 32, (0..2048).map(|k| (k as f64 * 0.7).sin()).collect())?;
    /// let image_encoder = RandomMlp::random(32, 3, Activation::Relu, 1)?;
    /// let text_encoder = RandomMlp::random(32, 3, Activation::Relu, 2)?;
    /// let images = image_encoder.encode(&x)?;
    /// let texts = text_encoder.encode(&x)?.with_modality::<Text>();
    /// assert!(gap(&images, &texts)?.distance() > 0.5); // same inputs, two cones
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    ///
    /// # References
    ///
    /// Liang et al., "Mind the Gap", NeurIPS 2022, Sec. 2 and Fig. 2c.
    pub fn encode<T: Scalar, M: Modality>(
        &self,
        x: &Embeddings<T, M>,
    ) -> Result<UnitEmbeddings<f64, M>> {
        self.check_dim(x)?;
        let h = self
            .layers
            .iter()
            .fold(input_matrix(x), |h, layer| self.apply(layer, h));
        UnitEmbeddings::normalize(Embeddings::from_sample_rows(&h)?)
    }

    /// One layer: act(h Wᵀ + b).
    fn apply(&self, (w, b): &(DMatrix<f64>, Vec<f64>), h: DMatrix<f64>) -> DMatrix<f64> {
        let mut h = h * w.transpose();
        for (j, mut column) in h.column_iter_mut().enumerate() {
            column.apply(|v| *v = self.activation.apply(*v + b[j]));
        }
        h
    }

    /// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch) unless x has the dimension of the layers.
    fn check_dim<T: Scalar, M: Modality>(&self, x: &Embeddings<T, M>) -> Result<()> {
        if self.layers.is_empty() {
            Ok(())
        } else {
            check::same_dim(self.dim(), x.dim())
        }
    }
}

/// The samples as the rows of an n × d matrix of f64.
fn input_matrix<T: Scalar, M: Modality>(x: &Embeddings<T, M>) -> DMatrix<f64> {
    DMatrix::from_row_iterator(x.len(), x.dim(), x.as_slice().iter().map(|v| v.to_f64()))
}

/// The mean pairwise cosine of the rows of an n × d matrix.
fn cone_of(h: &DMatrix<f64>, diagonal: Diagonal) -> Result<f64> {
    let rows = Embeddings::<f64, crate::Image>::from_sample_rows(h)?;
    mean_pairwise_cosine(&UnitEmbeddings::normalize(rows)?, diagonal)
}

/// The infinite-width prediction of the cone after Linear + ReLU layers: the pairwise cosine
/// ρ of two inputs evolves by the arc-cosine kernel of degree 1.
///
/// ```text
/// var = σ_w²·q + σ_b²,   cov = σ_w²·c + σ_b²,   cos θ = cov / var
/// q′ = var / 2,          c′ = var/(2π) · (sin θ + (π − θ) cos θ),   ρ′ = c′ / q′
/// ```
///
/// with W ~ N(0, σ_w²/d) and b ~ N(0, σ_b²), σ_w² = 1, starting from q = 1, c = ρ₀. Returns
/// L + 1 values (index 0 is ρ₀). With ρ₀ = 0 and no bias: 1/π = 0.3183, 0.4937, 0.6048, …;
/// the notebook measures 0.3195, 0.4943, 0.6069 at d = 512, n = 1024 (with the diagonal,
/// which adds (1 − ρ)/n).
///
/// # Errors
///
/// [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless ρ₀ ∈ [−1, 1] and
/// σ_b² is finite and ≥ 0; [`Error::Overflow`](crate::Error::Overflow) if the variance
/// overflows f64 over the layers (σ_b² beyond about 1e307).
///
/// # Examples
///
/// ```
/// use modality_gap::experiments::relu_cone_theory;
///
/// let rho = relu_cone_theory(0.0, 2, 0.0)?;
/// assert!((rho[1] - std::f64::consts::FRAC_1_PI).abs() < 1e-15);
/// assert!(rho[2] > rho[1]); // the cone narrows with depth
/// assert!(relu_cone_theory(1.5, 2, 0.0).is_err()); // not a cosine
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Cho & Saul, "Kernel Methods for Deep Learning", NIPS 2009 (the arc-cosine kernel); Liang
/// et al., "Mind the Gap", NeurIPS 2022, Fig. 2b and Theorem 1.
pub fn relu_cone_theory(rho0: f64, layers: usize, bias_variance: f64) -> Result<Vec<f64>> {
    check::cosine("rho0", rho0)?;
    check::non_negative("bias_variance", bias_variance)?;
    let (mut q, mut c) = (1.0_f64, rho0);
    let mut out = vec![rho0];
    for _ in 0..layers {
        let (var, cov) = (q + bias_variance, c + bias_variance);
        let cos = (cov / var).clamp(-1.0, 1.0);
        let theta = cos.acos();
        q = var / 2.0;
        c = var / (2.0 * std::f64::consts::PI)
            * (theta.sin() + (std::f64::consts::PI - theta) * cos);
        out.push(check::no_overflow("the layer variance", c / q)?);
    }
    Ok(out)
}
