use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

use std::ops::Range;

use crate::{
    Modality, Result, Scalar, UnitEmbeddings, check,
    gram::{weighted_cross_products, weighted_cross_products_of_tile},
    progress,
    reduce::{CHUNK_ROWS, ChunkTotal, chunk_totals_in, mean_row, per_chunk_in},
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
    let centre = common_centre(a, b);
    let problem = Problem {
        sets: [
            Labelled::new(a.as_slice(), true, &centre),
            Labelled::new(b.as_slice(), false, &centre),
        ],
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

/// The mean row of both sets together, (n·ā + m·b̄)/(n + m).
pub(crate) fn common_centre<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
) -> Vec<f64> {
    let (n, m) = (a.len() as f64, b.len() as f64);
    mean_row(a)
        .into_iter()
        .zip(mean_row(b))
        .map(|(x, y)| (n * x + m * y) / (n + m))
        .collect()
}

/// Every `HELD_OUT_EVERY`-th sample of each set (i mod 5 = 4) is held out.
pub(crate) const HELD_OUT_EVERY: usize = 5;

/// Whether sample i of a set is held out.
pub(crate) fn held_out(i: usize) -> bool {
    i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1
}

/// The training samples of a set of n: those not held out.
pub(crate) fn training(n: usize) -> usize {
    n - n / HELD_OUT_EVERY
}

/// The per-sample gradient below which Newton's method stops.
const GRADIENT_TOLERANCE: f64 = 1e-12;

/// Newton steps at most (a strictly convex objective with a line search needs a handful).
const MAX_STEPS: usize = 100;

/// One set of the problem: its rows (row-major, d = `centre.len()` columns), whether they are
/// label 1, and the common centre c of both sets' rows.
#[derive(Clone, Copy)]
pub(crate) struct Labelled<'a, T> {
    x: &'a [T],
    positive: bool,
    centre: &'a [f64],
}

impl<'a, T: Scalar> Labelled<'a, T> {
    pub(crate) fn new(x: &'a [T], positive: bool, centre: &'a [f64]) -> Self {
        Self {
            x,
            positive,
            centre,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.x.len() / self.centre.len()
    }

    /// Whether the set is label 1.
    pub(crate) fn positive(&self) -> bool {
        self.positive
    }

    /// The margins zᵢ = w·(xᵢ − c) + β of the rows `rows`, for θ = (w, β).
    pub(crate) fn margins(&self, theta: &[f64], rows: Range<usize>) -> Vec<f64> {
        let d = self.centre.len();
        let (w, beta) = (&theta[..d], theta[d]);
        self.x[rows.start * d..rows.end * d]
            .par_chunks_exact(d)
            .map(|row| {
                let dot: f64 = row
                    .iter()
                    .zip(self.centre)
                    .zip(w)
                    .map(|((v, c), w)| (v.to_f64() - c) * w)
                    .sum();
                dot + beta
            })
            .collect()
    }

    /// For each chunk of rows in `chunks`, the sum of log(1 + exp(−sᵢ zᵢ)) over its training
    /// rows, given the margins `z` of the rows from `first` on.
    pub(crate) fn loss_chunks(&self, z: &[f64], first: usize, chunks: Range<usize>) -> Vec<f64> {
        let term = |i: usize| {
            let z = z[i - first];
            if held_out(i) {
                0.0
            } else {
                softplus(if self.positive { -z } else { z })
            }
        };
        chunk_totals_in(self.len(), chunks, term, |_| {})
    }

    /// For each row from `first` on, given its margin in `z`, σ(zᵢ) − yᵢ and
    /// σ(zᵢ)(1 − σ(zᵢ)) (0 for held-out rows).
    pub(crate) fn residuals_and_weights(&self, z: &[f64], first: usize) -> (Vec<f64>, Vec<f64>) {
        let label = if self.positive { 1.0 } else { 0.0 };
        (z.iter().zip(first..))
            .map(|(&z, i)| {
                if held_out(i) {
                    (0.0, 0.0)
                } else {
                    (sigmoid(z) - label, sigmoid(z) * sigmoid(-z))
                }
            })
            .unzip()
    }

    /// For each chunk of rows in `chunks`, (Σᵢ rᵢ (xᵢ − c), Σᵢ rᵢ) and the same of w, as d + 1
    /// values each, given r and w of the rows from `first` on.
    pub(crate) fn weighted_sum_chunks(
        &self,
        (r, w): (&[f64], &[f64]),
        first: usize,
        chunks: Range<usize>,
    ) -> Vec<[Vec<f64>; 2]> {
        let d = self.centre.len();
        per_chunk_in(self.len(), chunks, |rows| {
            [r, w].map(|r| {
                let mut sum = vec![0.0; d + 1];
                for i in rows.clone() {
                    let (row, r) = (&self.x[i * d..(i + 1) * d], r[i - first]);
                    for ((s, v), c) in sum.iter_mut().zip(row).zip(self.centre) {
                        *s += r * (v.to_f64() - c);
                    }
                    sum[d] += r;
                }
                sum
            })
        })
    }

    /// Σᵢ wᵢ (xᵢ − c)(xᵢ − c)ᵀ over the rows `rows`, a node of the cross products' summation
    /// tree ([`cross_product_tiles`](crate::gram::cross_product_tiles)), given their weights.
    pub(crate) fn products(&self, w: &[f64], rows: Range<usize>) -> DMatrix<f64> {
        let d = self.centre.len();
        weighted_cross_products_of_tile(&self.x[rows.start * d..rows.end * d], self.centre, w)
    }
}

/// Vectors of one length added in order from zeros.
pub(crate) fn sum_in_order(parts: impl IntoIterator<Item = Vec<f64>>, len: usize) -> Vec<f64> {
    let mut total = vec![0.0; len];
    for part in parts {
        total.iter_mut().zip(part).for_each(|(t, p)| *t += p);
    }
    total
}

/// The objective ½‖w‖² + Σ_train log(1 + exp(−sᵢ zᵢ)) at θ = (w, β), from each set's sum.
pub(crate) fn objective_of(theta: &DVector<f64>, [a, b]: [f64; 2]) -> f64 {
    let d = theta.len() - 1;
    let penalty = 0.5 * theta.rows(0, d).norm_squared();
    penalty + a + b
}

/// One set's part of the derivatives: (Σᵢ rᵢ (xᵢ − c), Σᵢ rᵢ), the same of w, and
/// Σᵢ wᵢ (xᵢ − c)(xᵢ − c)ᵀ (see [`Labelled`]).
pub(crate) struct SetDerivatives {
    pub(crate) residuals: Vec<f64>,
    pub(crate) weights: Vec<f64>,
    pub(crate) products: DMatrix<f64>,
}

/// The gradient and Hessian of the objective at θ from each set's part.
pub(crate) fn derivatives_of(
    theta: &DVector<f64>,
    sets: [SetDerivatives; 2],
) -> (DVector<f64>, DMatrix<f64>) {
    let d = theta.len() - 1;
    let mut gradient = theta.clone();
    gradient[d] = 0.0; // β is not penalised
    let mut hessian = DMatrix::identity(d + 1, d + 1);
    hessian[(d, d)] = 0.0;
    for set in sets {
        let h = set.weights;
        gradient += DVector::from_vec(set.residuals);
        for k in 0..d {
            hessian[(k, d)] += h[k];
            hessian[(d, k)] += h[k];
        }
        hessian[(d, d)] += h[d];
        let mut top = hessian.view_mut((0, 0), (d, d));
        top += set.products;
    }
    (gradient, hessian)
}

/// What Newton's method asks next.
pub(crate) enum Need<'a> {
    /// The objective at θ.
    Objective(&'a DVector<f64>),
    /// The gradient and Hessian at θ.
    Derivatives(&'a DVector<f64>),
    /// Nothing: θ is the fit.
    Done(&'a DVector<f64>),
}

/// Newton's method with a backtracking (Armijo) line search from θ = 0, as a state machine
/// that asks for the objective or the derivatives at a θ and is given them: by the passes of
/// one process, or merged from shards.
#[derive(Debug, Clone)]
pub(crate) struct Newton {
    /// The training samples (of both sets): the gradient's tolerance scales with them.
    samples: usize,
    theta: DVector<f64>,
    /// The objective at θ (once known).
    f: f64,
    /// The derivatives received so far.
    steps: usize,
    phase: Phase,
}

#[derive(Debug, Clone)]
enum Phase {
    /// The objective at θ = 0 is asked.
    Start,
    /// The derivatives at θ are asked.
    Derivatives,
    /// The line search asks the objective at θ + length · step.
    Search {
        step: DVector<f64>,
        slope: f64,
        length: f64,
        candidate: DVector<f64>,
    },
    Done,
}

impl Newton {
    /// From θ = 0 in d + 1 parameters, for `samples` training samples.
    pub(crate) fn new(d: usize, samples: usize) -> Self {
        Self {
            samples,
            theta: DVector::zeros(d + 1),
            f: f64::NAN,
            steps: 0,
            phase: Phase::Start,
        }
    }

    pub(crate) fn need(&self) -> Need<'_> {
        match &self.phase {
            Phase::Start => Need::Objective(&self.theta),
            Phase::Derivatives => Need::Derivatives(&self.theta),
            Phase::Search { candidate, .. } => Need::Objective(candidate),
            Phase::Done => Need::Done(&self.theta),
        }
    }

    /// The objective asked for ([`Need::Objective`]).
    pub(crate) fn objective(&mut self, value: f64) {
        self.phase = match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Start => {
                self.f = value;
                Phase::Derivatives
            }
            Phase::Search {
                step,
                slope,
                length,
                candidate,
            } => {
                if value <= self.f + 1e-4 * length * slope {
                    if value < self.f {
                        (self.theta, self.f) = (candidate, value);
                        if self.steps < MAX_STEPS {
                            Phase::Derivatives
                        } else {
                            Phase::Done
                        }
                    } else {
                        Phase::Done // at the rounding floor of the objective
                    }
                } else {
                    let length = length * 0.5;
                    if length < 1e-10 {
                        Phase::Done
                    } else {
                        let candidate = &self.theta + length * &step;
                        Phase::Search {
                            step,
                            slope,
                            length,
                            candidate,
                        }
                    }
                }
            }
            phase => phase,
        };
    }

    /// The derivatives asked for ([`Need::Derivatives`]).
    pub(crate) fn derivatives(&mut self, (gradient, hessian): (DVector<f64>, DMatrix<f64>)) {
        if !matches!(self.phase, Phase::Derivatives) {
            return;
        }
        self.steps += 1;
        self.phase = Phase::Done;
        if gradient.amax() <= GRADIENT_TOLERANCE * self.samples as f64 {
            return;
        }
        // H = I_w + Σ s x̃x̃ᵀ is positive definite (Σ s > 0 on unit rows); should rounding
        // ever deny it, θ is as far as Newton's method can take it.
        let Some(cholesky) = hessian.cholesky() else {
            return;
        };
        let step = -cholesky.solve(&gradient);
        if !step.iter().all(|v| v.is_finite()) {
            // Every candidate would hold a NaN or an infinity: none decreases the objective.
            return;
        }
        let slope = gradient.dot(&step);
        let length = 1.0;
        let candidate = &self.theta + length * &step;
        self.phase = Phase::Search {
            step,
            slope,
            length,
            candidate,
        };
    }
}

/// The two sets (label 1, then label 0).
struct Problem<'a, T> {
    sets: [Labelled<'a, T>; 2],
}

impl<T: Scalar> Problem<'_, T> {
    /// The objective at θ.
    fn objective(&self, theta: &DVector<f64>) -> f64 {
        let losses = self.sets.map(|set| {
            let z = set.margins(theta.as_slice(), 0..set.len());
            let mut total = ChunkTotal::new();
            total.add_chunks(set.loss_chunks(&z, 0, 0..chunks(set.len())));
            total.value()
        });
        objective_of(theta, losses)
    }

    /// The gradient and Hessian of the objective at θ.
    fn derivatives(&self, theta: &DVector<f64>) -> (DVector<f64>, DMatrix<f64>) {
        let d = theta.len() - 1;
        let sets = self.sets.map(|set| {
            let z = set.margins(theta.as_slice(), 0..set.len());
            let (r, w) = set.residuals_and_weights(&z, 0);
            let parts = set.weighted_sum_chunks((&r, &w), 0, 0..chunks(set.len()));
            let [mut residuals, mut weights] = [Vec::new(), Vec::new()];
            for [r, w] in parts {
                residuals.push(r);
                weights.push(w);
            }
            SetDerivatives {
                residuals: sum_in_order(residuals, d + 1),
                weights: sum_in_order(weights, d + 1),
                products: weighted_cross_products(set.x, set.centre, &w),
            }
        });
        derivatives_of(theta, sets)
    }

    /// Newton's method from θ = 0.
    fn fit(&self) -> DVector<f64> {
        let d = self.sets[0].centre.len();
        let samples = self.sets.iter().map(|set| training(set.len())).sum();
        let mut newton = Newton::new(d, samples);
        loop {
            // Stopped (`progress::observe`): the passes that follow would skip their rows, so
            // no more steps; the fit's value is then not returned.
            if progress::cancelled() {
                return DVector::zeros(d + 1);
            }
            match newton.need() {
                Need::Objective(theta) => {
                    let value = self.objective(theta);
                    newton.objective(value);
                }
                Need::Derivatives(theta) => {
                    let derivatives = self.derivatives(theta);
                    newton.derivatives(derivatives);
                }
                Need::Done(theta) => return theta.clone(),
            }
        }
    }

    /// For each held-out (or training) sample, 1 on its side of the boundary, 0 not.
    fn outcomes(&self, theta: &DVector<f64>, held_out_samples: bool) -> Vec<f64> {
        self.sets
            .iter()
            .flat_map(|set| {
                let z = set.margins(theta.as_slice(), 0..set.len());
                (z.into_iter().enumerate())
                    .filter(|&(i, _)| held_out(i) == held_out_samples)
                    .map(|(_, z)| f64::from(u8::from((z > 0.0) == set.positive)))
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

/// The chunks of rows of a set of n.
fn chunks(n: usize) -> usize {
    n.div_ceil(CHUNK_ROWS)
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
            sets: [
                Labelled::new(&a[..], true, &centre),
                Labelled::new(&b[..], false, &centre),
            ],
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
