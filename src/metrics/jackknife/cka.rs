//! Linear CKA: a ratio of HSIC estimates, each a function of d × d cross products whose
//! leave-one-out values follow from rank-one updates.

use nalgebra::DMatrix;

use crate::gram::{cross_products, cross_products_between};
use crate::reduce::{dot, mean_row, per_chunk};
use crate::{Embeddings, HsicEstimator, Jackknife, Method, Modality, Result, Scalar, check};

/// The jackknife of [`cka`](crate::cka), exactly and in O(n·(d_a + d_b)²), the cost of the
/// metric. With rows centred at their means (ãᵢ, b̃ᵢ), C = Σ ãⱼb̃ⱼᵀ, pᵢ = ‖ãᵢ‖², qᵢ = ‖b̃ᵢ‖²,
/// leaving sample i out moves the mean, and with c = n/(n − 1), α = 1/(n − 1):
///
/// ```text
/// C₋ᵢ = C − c ãᵢb̃ᵢᵀ                       ‖C₋ᵢ‖²_F = ‖C‖²_F − 2c ãᵢᵀCb̃ᵢ + c² pᵢqᵢ
/// Σⱼ≠ᵢ p'ⱼ = Σⱼ pⱼ − c pᵢ
/// Σⱼ≠ᵢ p'ⱼq'ⱼ = Σⱼ pⱼqⱼ + 2α (b̃ᵢ·Σⱼpⱼb̃ⱼ + ãᵢ·Σⱼqⱼãⱼ) + α² (qᵢΣⱼpⱼ + pᵢΣⱼqⱼ)
///              + 4α² ãᵢᵀCb̃ᵢ + nα⁴ pᵢqᵢ − c⁴ pᵢqᵢ
/// ```
///
/// (p'ⱼ = ‖ãⱼ + αãᵢ‖², the squared norms about the leave-one-out mean). These give the biased
/// HSIC ‖C₋ᵢ‖²_F and the unbiased one's three terms (see [`cka`](crate::cka)) for A × B, A × A
/// and B × B, and CKA₋ᵢ their ratio, clamped as the metric's. CKA is a smooth function of
/// these means, so the jackknife is consistent; the unbiased HSIC is a U-statistic, and its
/// ratio's bias is O(1/n). The value is the metric's.
///
/// # Errors
///
/// Those of [`cka`](crate::cka); [`Error::TooFewSamples`](crate::Error::TooFewSamples) for
/// n < 3 (biased) or n < 5 (unbiased: each leave-one-out set needs 4);
/// [`Error::ZeroVariance`](crate::Error::ZeroVariance) when leaving a sample out leaves a set
/// with no variance.
///
/// # Examples
///
/// ```
/// use modality_gap::{HsicEstimator, Image, Jackknife, Text, cka, jackknife, npy};
///
/// static CLIP: &[u8] = include_bytes!("../../../data/features_clip.npy");
/// let (img, txt) = npy::read_pair_from::<f64, Image, Text, _>(CLIP)?;
/// let (img, txt) = (img.select(&(0..100).collect::<Vec<_>>())?, txt.select(&(0..100).collect::<Vec<_>>())?);
/// let fast = jackknife::cka(&img, &txt, HsicEstimator::Unbiased)?;
/// let brute = Jackknife::delete_one(100, |k| cka(&img.select(k)?, &txt.select(k)?, HsicEstimator::Unbiased))?;
/// assert_eq!(fast.value(), cka(&img, &txt, HsicEstimator::Unbiased)?);
/// assert!((fast.standard_error() / brute.standard_error() - 1.0).abs() < 1e-9);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Kornblith et al., "Similarity of Neural Network Representations Revisited", ICML 2019;
/// Song et al., JMLR 13, 2012, Eq. 5 (the unbiased HSIC); minyoungg/platonic-rep,
/// `metrics.py`; Efron & Stein 1981.
pub fn cka<T: Scalar, A: Modality, B: Modality>(
    a: &Embeddings<T, A>,
    b: &Embeddings<T, B>,
    estimator: HsicEstimator,
) -> Result<Jackknife> {
    check::same_len(a.len(), b.len())?;
    check::at_least(
        match estimator {
            HsicEstimator::Biased => 3,
            HsicEstimator::Unbiased => 5,
        },
        a.len(),
    )?;
    let value = crate::cka(a, b, estimator)?;
    let (side_a, side_b) = (Centred::of(a), Centred::of(b));
    let ab = Products::between(&side_a, &side_b);
    let aa = Products::between(&side_a, &side_a);
    let bb = Products::between(&side_b, &side_b);
    let n = a.len();
    let deviations = (0..n)
        .map(|i| {
            let hsic = |products: &Products| products.left_out(i, estimator);
            let (kl, kk, ll) = (hsic(&ab), hsic(&aa), hsic(&bb));
            check::some_variance(kk <= 0.0 || ll <= 0.0)?;
            let ratio = kl / (kk.sqrt() * ll.sqrt());
            let clamped = match estimator {
                HsicEstimator::Biased => ratio.clamp(0.0, 1.0),
                HsicEstimator::Unbiased => ratio.clamp(-1.0, 1.0),
            };
            Ok(clamped - value)
        })
        .collect::<Result<Vec<_>>>()?;
    Jackknife::from_deviations(value, deviations, Method::Jackknife)
}

/// One set's rows as f64, centred at their mean and scaled by 1/√(Σᵢ‖ãᵢ‖²) (exact enough: CKA
/// does not change under isotropic scaling, and the scaled sums cannot overflow).
struct Centred {
    rows: Vec<f64>,
    dim: usize,
}

impl Centred {
    fn of<T: Scalar, M: Modality>(x: &Embeddings<T, M>) -> Self {
        let mean = mean_row(x);
        let mut rows: Vec<f64> = x
            .rows()
            .flat_map(|row| row.iter().zip(&mean).map(|(v, m)| v.to_f64() - m))
            .collect();
        let total: f64 = rows.iter().map(|v| v * v).sum();
        let scale = total.sqrt().recip();
        rows.iter_mut().for_each(|v| *v *= scale);
        Self { rows, dim: x.dim() }
    }

    fn len(&self) -> usize {
        self.rows.len() / self.dim
    }

    fn row(&self, i: usize) -> &[f64] {
        &self.rows[i * self.dim..][..self.dim]
    }

    /// ‖x̃ᵢ‖² for every row.
    fn squared_norms(&self) -> Vec<f64> {
        (0..self.len())
            .map(|i| dot(self.row(i), self.row(i)))
            .collect()
    }

    /// Σᵢ wᵢ x̃ᵢ.
    fn weighted_sum(&self, weights: &[f64]) -> Vec<f64> {
        let mut sum = vec![0.0; self.dim];
        for (i, w) in weights.iter().enumerate() {
            sum.iter_mut()
                .zip(self.row(i))
                .for_each(|(s, v)| *s += w * v);
        }
        sum
    }
}

/// The per-sample and total quantities of one HSIC between centred sets X and Y.
struct Products {
    n: f64,
    /// ‖C‖²_F, C = Σ x̃ⱼỹⱼᵀ.
    frobenius: f64,
    /// Σⱼ pⱼqⱼ.
    norm_products: f64,
    /// Σⱼ pⱼ and Σⱼ qⱼ (1 for the scaled rows, up to rounding).
    totals: (f64, f64),
    p: Vec<f64>,
    q: Vec<f64>,
    /// x̃ᵢᵀ C ỹᵢ.
    m: Vec<f64>,
    /// ỹᵢ·Σⱼpⱼỹⱼ + x̃ᵢ·Σⱼqⱼx̃ⱼ.
    g: Vec<f64>,
}

impl Products {
    fn between(x: &Centred, y: &Centred) -> Self {
        let centre = |c: &Centred| vec![0.0; c.dim];
        let c: DMatrix<f64> = if std::ptr::eq(x, y) {
            cross_products(&x.rows, &x.rows, x.dim, &centre(x))
        } else {
            cross_products_between(&x.rows, &centre(x), &y.rows, &centre(y))
        };
        let (p, q) = (x.squared_norms(), y.squared_norms());
        let (py, qx) = (y.weighted_sum(&p), x.weighted_sum(&q));
        // x̃ᵢᵀ C ỹᵢ row by row: C ỹᵢ from C's columns, in fixed chunks.
        let parts = per_chunk(x.len(), |rows| {
            let mut cy = vec![0.0; x.dim];
            rows.map(|i| {
                cy.fill(0.0);
                for (l, &yl) in y.row(i).iter().enumerate() {
                    cy.iter_mut()
                        .zip(c.column(l).iter())
                        .for_each(|(s, v)| *s += v * yl);
                }
                (dot(x.row(i), &cy), dot(y.row(i), &py) + dot(x.row(i), &qx))
            })
            .collect::<Vec<_>>()
        });
        let (m, g) = parts.into_iter().flatten().unzip();
        Self {
            n: x.len() as f64,
            frobenius: c.norm_squared(),
            norm_products: p.iter().zip(&q).map(|(p, q)| p * q).sum(),
            totals: (p.iter().sum(), q.iter().sum()),
            p,
            q,
            m,
            g,
        }
    }

    /// The HSIC of the n − 1 samples without sample i (up to the factor that cancels in CKA;
    /// the unbiased one in the metric's form ‖C‖²_F − n/(n−2)·Σpq + Σp·Σq/((n−1)(n−2))).
    fn left_out(&self, i: usize, estimator: HsicEstimator) -> f64 {
        let n = self.n;
        let (c, alpha) = (n / (n - 1.0), 1.0 / (n - 1.0));
        let (p, q, m) = (self.p[i], self.q[i], self.m[i]);
        let frobenius = self.frobenius - 2.0 * c * m + c * c * p * q;
        match estimator {
            HsicEstimator::Biased => frobenius,
            HsicEstimator::Unbiased => {
                let (tp, tq) = self.totals;
                let products = self.norm_products
                    + 2.0 * alpha * self.g[i]
                    + alpha * alpha * (q * tp + p * tq)
                    + 4.0 * alpha * alpha * m
                    + (n * alpha.powi(4) - c.powi(4)) * p * q;
                let (tp, tq) = (tp - c * p, tq - c * q);
                let k = n - 1.0;
                frobenius - k / (k - 2.0) * products + tp * tq / ((k - 1.0) * (k - 2.0))
            }
        }
    }
}
