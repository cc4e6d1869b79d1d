//! Coverage of the jackknife intervals by simulation: samples from distributions on the
//! sphere S² whose true metric values are known in closed form (or by a one-dimensional
//! integral), and how often each 95 % interval covers them. Shared by `tests/uncertainty.rs`
//! (a fast run) and `examples/coverage.rs` (the table of `docs/uncertainty.md`).

use modality_gap::{
    Centring, Diagonal, Embeddings, HsicEstimator, Image, Jackknife, Result, Spectrum, Temperature,
    Text, UnitEmbeddings, jackknife,
};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

/// The concentration κ of the von Mises–Fisher samples.
pub const KAPPA: f64 = 2.0;
/// Wang & Isola's t.
pub const T: f64 = 2.0;
/// The correlation of the Gaussian pairs of the CKA row.
pub const RHO: f64 = 0.6;
/// The standard deviations along e₁, e₂, e₃ of the Gaussian rows of the spectra's rows.
pub const SCALES: [f64; 3] = [3.0, 2.0, 1.0];

/// One method's coverage: how many of `reps` intervals at `level` covered `truth`.
pub struct Coverage {
    /// The metric.
    pub metric: &'static str,
    /// The samples it was measured on.
    pub model: &'static str,
    /// Its true value.
    pub truth: f64,
    /// Intervals that covered the truth.
    pub covered: usize,
    /// Replications.
    pub reps: usize,
    /// The mean of the standard errors.
    pub mean_standard_error: f64,
    /// The standard deviation of the values over the replications (what the standard error
    /// estimates).
    pub spread: f64,
    /// Whether the metric is a degenerate U-statistic on these samples (its first-order
    /// projection constant), where the jackknife is conservative rather than nominal.
    pub degenerate: bool,
}

impl Coverage {
    /// The fraction of intervals that covered the truth.
    pub fn rate(&self) -> f64 {
        self.covered as f64 / self.reps as f64
    }
}

/// A metric with its jackknife, measured on one replication's samples.
type Measure = fn(&Samples) -> Result<Jackknife>;

/// One replication: n pairs (a, b) of rows in three dimensions, as drawn and normalised.
pub struct Samples {
    raw_a: Embeddings<f64, Image>,
    raw_b: Embeddings<f64, Text>,
    a: UnitEmbeddings<f64, Image>,
    b: UnitEmbeddings<f64, Text>,
}

/// Each metric's coverage over `reps` replications of n pairs at `level`, from `seed`.
pub fn coverage(reps: usize, n: usize, level: f64, seed: u64) -> Vec<Coverage> {
    let a_kappa = mean_resultant(KAPPA);
    let measures: [(&str, &str, f64, Model, Measure); 13] = [
        (
            "align_loss (α = 2)",
            "a, b independent uniform",
            2.0, // E‖a − b‖² = 2 − 2 E[a]·E[b] = 2
            Model::Independent,
            |s| jackknife::align_loss(&s.a, &s.b, 2.0),
        ),
        (
            "mean_pairwise_cosine",
            "a ~ vMF(e₃, 2)",
            a_kappa * a_kappa, // E[aᵢ·aⱼ] = ‖E a‖² = A(κ)²
            Model::Apart,
            |s| jackknife::mean_pairwise_cosine(&s.a, Diagonal::Excluded),
        ),
        (
            "gap",
            "a ~ vMF(e₃, 2), b ~ vMF(e₁, 2)",
            a_kappa * 2f64.sqrt(), // ‖A(κ)(e₃ − e₁)‖
            Model::Apart,
            |s| jackknife::gap(&s.a, &s.b),
        ),
        (
            "relative_gap",
            "a ~ vMF(e₃, 2), b ~ vMF(e₁, 2)",
            // matched cosine E[a]·E[b] = 0: d = ½; within: d = (1 − A²)/2 for both.
            0.5 / (0.5 + (1.0 - a_kappa * a_kappa) / 2.0),
            Model::Apart,
            |s| jackknife::relative_gap(&s.a, &s.b),
        ),
        (
            "cka (unbiased)",
            "a ~ N(0, I₃), b = ρa + √(1 − ρ²) z, ρ = 0.6",
            RHO * RHO, // ‖Σ_ab‖²_F / (‖Σ_aa‖_F ‖Σ_bb‖_F) = ρ²·3 / 3
            Model::Correlated,
            |s| jackknife::cka(&s.raw_a, &s.raw_b, HsicEstimator::Unbiased),
        ),
        (
            "isoscore",
            "a ~ N(0, diag(9, 4, 1))",
            isoscore(SCALES.map(|s| s * s)), // ((Σλ)²/Σλ² − 1)/(d − 1) = (196/98 − 1)/2
            Model::Elongated,
            |s| jackknife::isoscore(&s.raw_a),
        ),
        (
            "effective_rank (σ)",
            "a ~ N(0, diag(9, 4, 1))",
            effective_rank(SCALES), // p ∝ (3, 2, 1)
            Model::Elongated,
            |s| jackknife::effective_rank(&s.raw_a, Spectrum::SingularValues, Centring::Mean),
        ),
        (
            "effective_rank (σ²)",
            "a ~ N(0, diag(9, 4, 1))",
            effective_rank(SCALES.map(|s| s * s)), // p ∝ (9, 4, 1)
            Model::Elongated,
            |s| jackknife::effective_rank(&s.raw_a, Spectrum::Variances, Centring::Mean),
        ),
        (
            "contrastive_loss (τ = 0.1)",
            "a ~ vMF(e₃, 2), b = a turned about e₃",
            f64::NAN, // E[L_n] at this n: the mean of 4·reps other replications
            Model::Turned,
            |s| jackknife::contrastive_loss(&s.a, &s.b, Temperature::new(0.1)?),
        ),
        (
            "contrastive_loss, 20 runs left out (τ = 0.1)",
            "a ~ vMF(e₃, 2), b = a turned about e₃",
            f64::NAN,
            Model::Turned,
            |s| jackknife::contrastive_loss_grouped(&s.a, &s.b, Temperature::new(0.1)?, 20),
        ),
        (
            "uniform_loss (t = 2)",
            "a ~ vMF(e₃, 2)",
            vmf_uniformity(KAPPA, T),
            Model::Apart,
            |s| jackknife::uniform_loss(&s.a, T),
        ),
        (
            "cross_modal_uniformity (t = 2)",
            "a ~ vMF(e₃, 2), b = a turned about e₃",
            vmf_uniformity(KAPPA, T), // b ~ vMF(e₃, 2) too, and bⱼ is independent of aᵢ (i ≠ j)
            Model::Turned,
            |s| jackknife::cross_modal_uniformity(&s.a, &s.b, T),
        ),
        (
            "cross_modal_uniformity (t = 2)",
            "a uniform, b = (a + z/2)/‖·‖ (degenerate)",
            ((1.0 - (-4.0 * T).exp()) / (4.0 * T)).ln(), // b is uniform too, bⱼ ⟂ aᵢ (i ≠ j)
            Model::Noisy,
            |s| jackknife::cross_modal_uniformity(&s.a, &s.b, T),
        ),
    ];
    measures
        .into_iter()
        .enumerate()
        .map(|(m, (metric, model_name, truth, model, measure))| {
            // A statistic whose expectation depends on n (the contrastive loss grows like
            // log n) has no closed form here: its truth is the mean over other replications.
            let truth = if truth.is_nan() {
                let mut rng = StdRng::seed_from_u64(seed + 1000 * m as u64 + 1);
                let others = 4 * reps;
                (0..others)
                    .map(|_| {
                        measure(&model.draw(n, &mut rng))
                            .expect("valid samples")
                            .value()
                    })
                    .sum::<f64>()
                    / others as f64
            } else {
                truth
            };
            let mut rng = StdRng::seed_from_u64(seed + 1000 * m as u64);
            let (mut covered, mut errors, mut values) = (0, 0.0, Vec::with_capacity(reps));
            for _ in 0..reps {
                let samples = model.draw(n, &mut rng);
                let estimate = measure(&samples).expect("valid samples").estimate();
                let interval = estimate.interval(level).expect("valid level");
                covered += usize::from(interval.contains(truth));
                errors += estimate.standard_error;
                values.push(estimate.value);
            }
            let mean = values.iter().sum::<f64>() / reps as f64;
            let spread = (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>()
                / (reps - 1) as f64)
                .sqrt();
            Coverage {
                metric,
                model: model_name,
                truth,
                covered,
                reps,
                mean_standard_error: errors / reps as f64,
                spread,
                // On the uniform sphere E_b exp(−t‖a − b‖²) is the same for every a.
                degenerate: matches!(model, Model::Noisy),
            }
        })
        .collect()
}

/// How a replication's pairs are drawn.
#[derive(Clone, Copy)]
enum Model {
    /// a and b independent, uniform on the sphere.
    Independent,
    /// a ~ vMF(e₃, κ), b ~ vMF(e₁, κ), independent.
    Apart,
    /// a ~ vMF(e₃, κ), b = a turned about e₃ by an angle uniform in [0, π/2): b ~ vMF(e₃, κ)
    /// and depends on a.
    Turned,
    /// a uniform, b = (a + z/2)/‖a + z/2‖ with z standard normal: b is uniform and depends
    /// on a.
    Noisy,
    /// a standard normal, b = ρa + √(1 − ρ²) z (not normalised).
    Correlated,
    /// a ~ N(0, diag(SCALES)²), b standard normal (not normalised).
    Elongated,
}

impl Model {
    fn draw(self, n: usize, rng: &mut StdRng) -> Samples {
        let (mut a, mut b) = (Vec::with_capacity(3 * n), Vec::with_capacity(3 * n));
        for _ in 0..n {
            let (x, y) = match self {
                Model::Independent => (uniform(rng), uniform(rng)),
                Model::Apart => {
                    let (x, y) = (vmf_e3(KAPPA, rng), vmf_e3(KAPPA, rng));
                    (x, [y[2], y[1], -y[0]]) // e₃ ↦ e₁
                }
                Model::Turned => {
                    let x = vmf_e3(KAPPA, rng);
                    let angle = std::f64::consts::FRAC_PI_2 * rng.random::<f64>();
                    let (sin, cos) = angle.sin_cos();
                    (x, [cos * x[0] - sin * x[1], sin * x[0] + cos * x[1], x[2]])
                }
                Model::Correlated => {
                    let (x, z) = (normal3(rng), normal3(rng));
                    let r = (1.0 - RHO * RHO).sqrt();
                    (x, [0, 1, 2].map(|k| RHO * x[k] + r * z[k]))
                }
                Model::Elongated => {
                    let (x, y) = (normal3(rng), normal3(rng));
                    ([0, 1, 2].map(|k| SCALES[k] * x[k]), y)
                }
                Model::Noisy => {
                    let x = uniform(rng);
                    let z = normal3(rng);
                    (x, [0, 1, 2].map(|k| x[k] + 0.5 * z[k]))
                }
            };
            a.extend(x);
            b.extend(y);
        }
        let raw_a = Embeddings::from_row_major_vec(n, 3, a).expect("shape");
        let raw_b = Embeddings::from_row_major_vec(n, 3, b).expect("shape");
        Samples {
            a: UnitEmbeddings::normalize(raw_a.clone()).expect("nonzero rows"),
            b: UnitEmbeddings::normalize(raw_b.clone()).expect("nonzero rows"),
            raw_a,
            raw_b,
        }
    }
}

/// ((Σλ)²/Σλ² − 1)/(d − 1) of a spectrum λ.
fn isoscore(lambda: [f64; 3]) -> f64 {
    let (sum, squares) = (
        lambda.iter().sum::<f64>(),
        lambda.iter().map(|l| l * l).sum::<f64>(),
    );
    (sum * sum / squares - 1.0) / 2.0
}

/// exp(−Σ pⱼ ln pⱼ) for pⱼ ∝ wⱼ.
fn effective_rank(weights: [f64; 3]) -> f64 {
    let total: f64 = weights.iter().sum();
    (-weights
        .iter()
        .map(|w| w / total * (w / total).ln())
        .sum::<f64>())
    .exp()
}

fn normal3(rng: &mut StdRng) -> [f64; 3] {
    [0; 3].map(|_| StandardNormal.sample(rng))
}

/// A uniform point of S² (a normalised Gaussian; the caller normalises).
fn uniform(rng: &mut StdRng) -> [f64; 3] {
    normal3(rng)
}

/// A von Mises–Fisher point of S² about e₃: w = 1 + ln(ξ + (1 − ξ)e^(−2κ))/κ is the cosine
/// with e₃ (Wood 1994), the azimuth uniform.
fn vmf_e3(kappa: f64, rng: &mut StdRng) -> [f64; 3] {
    let xi: f64 = rng.random();
    let w = 1.0 + (xi + (1.0 - xi) * (-2.0 * kappa).exp()).ln() / kappa;
    let phi = 2.0 * std::f64::consts::PI * rng.random::<f64>();
    let r = (1.0 - w * w).max(0.0).sqrt();
    [r * phi.cos(), r * phi.sin(), w]
}

/// ‖E u‖ for u ~ vMF(κ) on S²: A(κ) = coth κ − 1/κ.
pub fn mean_resultant(kappa: f64) -> f64 {
    1.0 / kappa.tanh() - 1.0 / kappa
}

/// log E exp(−t‖x − y‖²) for x, y independent vMF(κ) on S²: with w = μ·x, of density
/// κe^(κw)/(2 sinh κ) on [−1, 1], and E_y exp(v·y) = κ sinh r/(r sinh κ), r = ‖κμ + v‖,
///
/// ```text
/// E = e^(−2t) ∫ κe^(κw)/(2 sinh κ) · κ sinh r(w)/(r(w) sinh κ) dw,   r(w)² = κ² + 4t² + 4tκw
/// ```
///
/// by composite Simpson on 20 000 intervals (a smooth integrand: error far below 1e-12).
pub fn vmf_uniformity(kappa: f64, t: f64) -> f64 {
    let f = |w: f64| {
        let r = (kappa * kappa + 4.0 * t * t + 4.0 * t * kappa * w).sqrt();
        kappa * (kappa * w).exp() / (2.0 * kappa.sinh()) * kappa * r.sinh() / (r * kappa.sinh())
    };
    let steps = 20_000;
    let h = 2.0 / steps as f64;
    let sum: f64 = (0..=steps)
        .map(|k| {
            let weight = if k == 0 || k == steps {
                1.0
            } else if k % 2 == 1 {
                4.0
            } else {
                2.0
            };
            weight * f(-1.0 + k as f64 * h)
        })
        .sum();
    (sum * h / 3.0).ln() - 2.0 * t
}
