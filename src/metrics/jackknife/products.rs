//! One set's rows centred and scaled in f64, and the per-sample quantities of the cross
//! products between two such sets whose leave-one-out values follow from rank-one updates:
//! shared by the jackknifes of CKA and of the spectra.

use nalgebra::DMatrix;

use crate::gram::{apply_to_rows, cross_products, cross_products_between};
use crate::reduce::{dot, mean_row, per_chunk};
use crate::{Centring, Embeddings, HsicEstimator, Modality, Scalar};

/// One set's rows as f64, centred ([`Centring::Mean`]) or not, and scaled by 1/√(Σᵢ‖ãᵢ‖²)
/// (exact enough: CKA and the spectra's shapes do not change under isotropic scaling, and the
/// scaled sums cannot overflow).
pub(super) struct Centred {
    pub(super) rows: Vec<f64>,
    pub(super) dim: usize,
}

impl Centred {
    pub(super) fn of<T: Scalar, M: Modality>(x: &Embeddings<T, M>, centring: Centring) -> Self {
        let mean = match centring {
            Centring::Mean => mean_row(x),
            Centring::None => vec![0.0; x.dim()],
        };
        let mut rows: Vec<f64> = x
            .rows()
            .flat_map(|row| row.iter().zip(&mean).map(|(v, m)| v.to_f64() - m))
            .collect();
        let total: f64 = rows.iter().map(|v| v * v).sum();
        let scale = total.sqrt().recip();
        rows.iter_mut().for_each(|v| *v *= scale);
        Self { rows, dim: x.dim() }
    }

    pub(super) fn len(&self) -> usize {
        self.rows.len() / self.dim
    }

    pub(super) fn row(&self, i: usize) -> &[f64] {
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
pub(super) struct Products {
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
    pub(super) fn between(x: &Centred, y: &Centred) -> Self {
        let centre = |c: &Centred| vec![0.0; c.dim];
        let c: DMatrix<f64> = if std::ptr::eq(x, y) {
            cross_products(&x.rows, &x.rows, x.dim, &centre(x))
        } else {
            cross_products_between(&x.rows, &centre(x), &y.rows, &centre(y))
        };
        let (p, q) = (x.squared_norms(), y.squared_norms());
        let (py, qx) = (y.weighted_sum(&p), x.weighted_sum(&q));
        // x̃ᵢᵀ C ỹᵢ from C ỹᵢ for every row at once (blocked gemm).
        let cy: Vec<f64> = apply_to_rows(&y.rows, &centre(y), &c);
        let parts = per_chunk(x.len(), |rows| {
            rows.map(|i| {
                let cyi = &cy[i * x.dim..][..x.dim];
                (dot(x.row(i), cyi), dot(y.row(i), &py) + dot(x.row(i), &qx))
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

    /// Σⱼ pⱼ and Σⱼ qⱼ (for one set with itself, the trace of its scatter).
    pub(super) fn totals(&self) -> (f64, f64) {
        self.totals
    }

    /// Σⱼ p'ⱼ and Σⱼ q'ⱼ of the n − 1 samples without sample i (about their own means):
    /// Σⱼ pⱼ − c pᵢ and Σⱼ qⱼ − c qᵢ, c = n/(n − 1).
    pub(super) fn left_out_totals(&self, i: usize) -> (f64, f64) {
        let c = self.n / (self.n - 1.0);
        (self.totals.0 - c * self.p[i], self.totals.1 - c * self.q[i])
    }

    /// The HSIC of the n − 1 samples without sample i (up to the factor that cancels in CKA;
    /// the unbiased one in the metric's form ‖C‖²_F − n/(n−2)·Σpq + Σp·Σq/((n−1)(n−2))).
    pub(super) fn left_out(&self, i: usize, estimator: HsicEstimator) -> f64 {
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
                let (tp, tq) = self.left_out_totals(i);
                let k = n - 1.0;
                frobenius - k / (k - 2.0) * products + tp * tq / ((k - 1.0) * (k - 2.0))
            }
        }
    }
}
