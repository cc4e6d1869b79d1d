use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

use crate::{
    Modality, Result, Scalar, UnitEmbeddings, check,
    gram::weighted_cross_products,
    reduce::{mean_row, per_chunk, sum_over_rows},
};

/// How well a linear classifier tells the two modalities apart. Obtain it with
/// [`modality_separability`].
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, modality_separability};
///
/// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.1]; 5])?)?;
/// let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[0.1, 1.0]; 5])?)?;
/// let s = modality_separability(&a, &b)?;
/// assert_eq!((s.accuracy, s.train_accuracy, s.test_count), (1.0, 1.0, 2));
/// # Ok::<(), modality_gap::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Separability {
    /// The fraction of the held-out samples (both sets) classified correctly.
    pub accuracy: f64,
    /// The fraction of the training samples classified correctly.
    pub train_accuracy: f64,
    /// The number of held-out samples (both sets): ⌊n/5⌋ + ⌊m/5⌋.
    pub test_count: usize,
}

/// Held-out accuracy of a logistic regression that tells the samples of `a` (label 1) from
/// those of `b` (label 0).
///
/// ```text
/// train: the samples i with i mod 5 ≠ 4 of each set;  test: those with i mod 5 = 4
/// (w, β) = argmin ½‖w‖² + Σ_train log(1 + exp(−sᵢ (w·xᵢ + β))),   sᵢ = +1 for a, −1 for b
/// predicted a  ⇔  w·xᵢ + β > 0;      accuracy = correct / test count
/// ```
///
/// The objective is scikit-learn's default `LogisticRegression()`: L2 penalty with C = 1 on
/// w, intercept β unpenalised. It is strictly convex, and solved here by Newton's method
/// with a backtracking line search on the d + 1 parameters (the d × d Hessian block from one
/// deterministic gemm pass, Cholesky by nalgebra) until the gradient of the objective per
/// training sample is below 1e-12 in every coordinate, or no step decreases the objective any
/// more (its rounding floor). Two more exits guard the loop and have not been reached on any
/// input tried: 100 Newton steps (it takes about 8 on the published features), and a Hessian
/// that rounding makes indefinite; the fit then stands where Newton's method left it. The rows are centred at the mean of both sets first (an exact reparametrisation, as
/// β is free) so the Hessian is well conditioned for a narrow cone. Deterministic: the same
/// split, iterations and sums whatever the thread count. O(n·d²) per iteration, a few
/// iterations.
///
/// The split is fixed, every fifth sample of each set held out (about 80 % for training), so
/// the result is reproducible. abrar-fahim/contrastive-gap's `get_linear_seperability` draws
/// a random split of the pairs with `torch.randperm` (its comment says it trains on 20 %; its
/// code trains on 80 %) and fits with scikit-learn's default lbfgs solver (tolerance 1e-4),
/// so its number varies with the seed and may differ from the exact optimum's on samples
/// near the boundary. It labels images 0 and texts 1: the fitted boundary is the same with the
/// signs flipped, and only a held-out sample exactly on it (w·x + β = 0) would be classified
/// differently. The sets may differ in length; the reference pairs them.
///
/// # Errors
///
/// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch),
/// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for a set of fewer than 5 samples
/// (each set needs a training and a held-out sample).
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Text, UnitEmbeddings, modality_separability};
///
/// // Images near +x, texts near −x: separable, and separated on the held-out samples.
/// let img: Vec<[f64; 2]> = (0..10).map(|i| [1.0, 0.1 * i as f64]).collect();
/// let txt: Vec<[f64; 2]> = (0..10).map(|i| [-1.0, 0.1 * i as f64]).collect();
/// let a = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&img)?)?;
/// let b = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&txt)?)?;
/// assert_eq!(modality_separability(&a, &b)?.accuracy, 1.0);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Fahim, Murphy & Fyshe, "It's Not a Modality Gap: Characterizing and Addressing the
/// Contrastive Gap", 2024; abrar-fahim/contrastive-gap, `src/evaluator.py`,
/// `get_linear_seperability`. scikit-learn's `LogisticRegression` for the objective.
pub fn modality_separability<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
) -> Result<Separability> {
    Ok(separability_and_outcomes(a, b)?.0)
}

/// [`modality_separability`], and whether each held-out sample (those of `a`, then those of
/// `b`) was classified correctly (1) or not (0).
pub(crate) fn separability_and_outcomes<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
) -> Result<(Separability, Vec<f64>)> {
    check::comparable(a.shape(), b.shape())?;
    check::at_least(HELD_OUT_EVERY, a.len())?;
    check::at_least(HELD_OUT_EVERY, b.len())?;
    let (n, m) = (a.len() as f64, b.len() as f64);
    let centre: Vec<f64> = mean_row(a)
        .into_iter()
        .zip(mean_row(b))
        .map(|(x, y)| (n * x + m * y) / (n + m))
        .collect();
    let problem = Problem {
        sets: [(a.as_slice(), true), (b.as_slice(), false)],
        centre: &centre,
    };
    let theta = problem.fit();
    let [test, train] = [true, false].map(|held_out| problem.outcomes(&theta, held_out));
    let accuracy = |outcomes: &[f64]| outcomes.iter().sum::<f64>() / outcomes.len() as f64;
    Ok((
        Separability {
            accuracy: accuracy(&test),
            train_accuracy: accuracy(&train),
            test_count: test.len(),
        },
        test,
    ))
}

/// Every `HELD_OUT_EVERY`-th sample of each set (i mod 5 = 4) is held out.
const HELD_OUT_EVERY: usize = 5;

/// Whether sample i of a set is held out.
fn held_out(i: usize) -> bool {
    i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1
}

/// The per-sample gradient below which Newton's method stops.
const GRADIENT_TOLERANCE: f64 = 1e-12;

/// Newton steps at most (a strictly convex objective with a line search needs a handful).
const MAX_STEPS: usize = 100;

/// The two sets (rows and whether they are label 1) and the common centre of the rows.
struct Problem<'a, T> {
    sets: [(&'a [T], bool); 2],
    centre: &'a [f64],
}

/// The margins zᵢ = w·(xᵢ − c) + β of one set, and its label.
struct Margins {
    z: Vec<f64>,
    positive: bool,
}

impl Margins {
    /// The training samples' terms log(1 + exp(−sᵢ zᵢ)), summed in fixed chunks.
    fn loss(&self) -> f64 {
        sum_over_rows(self.z.len(), |i| {
            if held_out(i) {
                0.0
            } else {
                softplus(if self.positive { -self.z[i] } else { self.z[i] })
            }
        })
    }

    /// Per training sample, σ(zᵢ) − yᵢ and σ(zᵢ)(1 − σ(zᵢ)) (0 for held-out samples).
    fn residuals_and_weights(&self) -> (Vec<f64>, Vec<f64>) {
        let label = if self.positive { 1.0 } else { 0.0 };
        self.z
            .iter()
            .enumerate()
            .map(|(i, &z)| {
                if held_out(i) {
                    (0.0, 0.0)
                } else {
                    (sigmoid(z) - label, sigmoid(z) * sigmoid(-z))
                }
            })
            .unzip()
    }
}

impl<T: Scalar> Problem<'_, T> {
    fn dim(&self) -> usize {
        self.centre.len()
    }

    /// The margins of both sets for θ = (w, β).
    fn margins(&self, theta: &DVector<f64>) -> [Margins; 2] {
        let d = self.dim();
        let (w, beta) = (&theta.as_slice()[..d], theta[d]);
        self.sets.map(|(x, positive)| Margins {
            z: x.par_chunks_exact(d)
                .map(|row| {
                    let dot: f64 = row
                        .iter()
                        .zip(self.centre)
                        .zip(w)
                        .map(|((v, c), w)| (v.to_f64() - c) * w)
                        .sum();
                    dot + beta
                })
                .collect(),
            positive,
        })
    }

    /// The objective ½‖w‖² + Σ_train log(1 + exp(−sᵢ zᵢ)).
    fn objective(&self, theta: &DVector<f64>) -> f64 {
        let d = self.dim();
        let penalty = 0.5 * theta.rows(0, d).norm_squared();
        let [a, b] = self.margins(theta);
        penalty + a.loss() + b.loss()
    }

    /// Newton's method with a backtracking (Armijo) line search, from θ = 0.
    fn fit(&self) -> DVector<f64> {
        let d = self.dim();
        let samples: usize = self
            .sets
            .iter()
            .map(|(x, _)| (0..x.len() / d).filter(|&i| !held_out(i)).count())
            .sum();
        let mut theta = DVector::zeros(d + 1);
        let mut f = self.objective(&theta);
        for _ in 0..MAX_STEPS {
            let (gradient, hessian) = self.derivatives(&theta);
            if gradient.amax() <= GRADIENT_TOLERANCE * samples as f64 {
                break;
            }
            // H = I_w + Σ s x̃x̃ᵀ is positive definite (Σ s > 0 on unit rows); should rounding
            // ever deny it, θ is as far as Newton's method can take it.
            let Some(cholesky) = hessian.cholesky() else {
                break;
            };
            let step = -cholesky.solve(&gradient);
            let slope = gradient.dot(&step);
            let mut length = 1.0;
            let improved = loop {
                let candidate = &theta + length * &step;
                let value = self.objective(&candidate);
                if value <= f + 1e-4 * length * slope {
                    break Some((candidate, value));
                }
                length *= 0.5;
                if length < 1e-10 {
                    break None;
                }
            };
            match improved {
                Some((candidate, value)) if value < f => (theta, f) = (candidate, value),
                _ => break, // at the rounding floor of the objective
            }
        }
        theta
    }

    /// The gradient and Hessian of the objective at θ.
    fn derivatives(&self, theta: &DVector<f64>) -> (DVector<f64>, DMatrix<f64>) {
        let d = self.dim();
        let mut gradient = theta.clone();
        gradient[d] = 0.0; // β is not penalised
        let mut hessian = DMatrix::identity(d + 1, d + 1);
        hessian[(d, d)] = 0.0;
        for ((x, _), margins) in self.sets.iter().zip(self.margins(theta)) {
            let (residuals, weights) = margins.residuals_and_weights();
            let g = weighted_row_sum(x, self.centre, &residuals);
            let h = weighted_row_sum(x, self.centre, &weights);
            gradient += DVector::from_vec(g);
            for k in 0..d {
                hessian[(k, d)] += h[k];
                hessian[(d, k)] += h[k];
            }
            hessian[(d, d)] += h[d];
            let mut top = hessian.view_mut((0, 0), (d, d));
            top += weighted_cross_products(x, self.centre, &weights);
        }
        (gradient, hessian)
    }

    /// For each held-out (or training) sample, 1 on its side of the boundary, 0 not.
    fn outcomes(&self, theta: &DVector<f64>, held_out_samples: bool) -> Vec<f64> {
        self.margins(theta)
            .iter()
            .flat_map(|margins| {
                (margins.z.iter().enumerate())
                    .filter(|&(i, _)| held_out(i) == held_out_samples)
                    .map(|(_, &z)| f64::from(u8::from((z > 0.0) == margins.positive)))
            })
            .collect()
    }
}

/// (Σᵢ rᵢ (xᵢ − c), Σᵢ rᵢ) over the rows of `x`, as d + 1 values, in f64: fixed chunks of rows
/// in parallel, combined in chunk order.
fn weighted_row_sum<T: Scalar>(x: &[T], centre: &[f64], r: &[f64]) -> Vec<f64> {
    let d = centre.len();
    let parts = per_chunk(r.len(), |rows| {
        let mut sum = vec![0.0; d + 1];
        for i in rows {
            let row = &x[i * d..(i + 1) * d];
            for ((s, v), c) in sum.iter_mut().zip(row).zip(centre) {
                *s += r[i] * (v.to_f64() - c);
            }
            sum[d] += r[i];
        }
        sum
    });
    let mut total = vec![0.0; d + 1];
    for part in parts {
        total.iter_mut().zip(part).for_each(|(t, p)| *t += p);
    }
    total
}

/// log(1 + eᵘ) without overflow.
fn softplus(u: f64) -> f64 {
    u.max(0.0) + (-u.abs()).exp().ln_1p()
}

/// 1 / (1 + e⁻ᶻ) without overflow.
fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Overlapping clusters (n = 60 and m = 45 rows of dimension 8, means ±0.1 e₁ and noise of
    /// width 1): the fit stops at a stationary point, which is the minimum.
    #[test]
    fn the_fit_is_the_minimum_of_the_objective() {
        let d = 8;
        let mut state = 12345u64;
        let mut noise = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let mut rows = |count: usize, sign: f64| -> Vec<f64> {
            (0..count * d)
                .map(|k| noise() + if k % d == 0 { 0.1 * sign } else { 0.0 })
                .collect()
        };
        let (a, b) = (rows(60, 1.0), rows(45, -1.0));
        let centre = vec![0.01; d];
        let problem = Problem {
            sets: [(&a[..], true), (&b[..], false)],
            centre: &centre,
        };
        let theta = problem.fit();
        let (gradient, _) = problem.derivatives(&theta);
        assert!(gradient.amax() <= GRADIENT_TOLERANCE * 84.0, "{gradient}");
        let f = problem.objective(&theta);
        for k in 0..=d {
            for h in [-1e-4, 1e-4] {
                let mut moved = theta.clone();
                moved[k] += h;
                assert!(problem.objective(&moved) > f, "coordinate {k}, step {h}");
            }
        }
        assert_eq!(problem.outcomes(&theta, true).len(), 12 + 9);
        assert_eq!(problem.outcomes(&theta, false).len(), 48 + 36);
    }
}
