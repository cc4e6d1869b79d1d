//! The paper's protocols, built from the metrics: moving embeddings along the gap and the loss
//! landscape it draws (Fig. 3b–d), zero-shot classification as the gap moves (Table 1), the
//! cone effect of randomly initialised networks (Fig. 2b), the mismatched-data simulations on
//! the sphere (Fig. 3e–g), the Procrustes alignment that amends the gap, the 2-D views of
//! Fig. 1 and PCA, and the summaries the paper reports: mean ± 95% CI over seeds, per-group
//! prediction rates (Table 2) and the zero-shot ROC-AUC of a binary task (Liang et al. 2022,
//! Sec. 2–5).

mod auc;
mod cone;
mod fairness;
mod gram;
mod procrustes;
mod projection;
mod shift;
mod sphere;
mod student_t;
mod summary;
mod sweep;
mod validation;
mod zero_shot;

pub use auc::{roc_auc, zero_shot_roc_auc};
pub use cone::{Activation, RandomMlp, relu_cone_theory};
pub use fairness::{GroupRates, group_rates};
pub use procrustes::{Procrustes, procrustes};
pub use projection::{Centring, Projection, project};
pub use shift::{Shift, shift};
pub use sphere::{
    LandscapePoint, NinePairLabels, Pairing, nine_pair_landscape, nine_pairs, sphere_landscape,
    sphere_pairs,
};
pub use student_t::{t_cdf, t_quantile};
pub use summary::{ConfidenceInterval, confidence_interval};
pub use sweep::{ShiftPoint, shift_sweep};
pub use validation::{ValidationLoss, validation_loss};
pub use zero_shot::{ZeroShotPoint, hit_rates, predict, zero_shot_sweep};
