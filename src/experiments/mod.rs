//! The paper's protocols, built from the public metrics: moving embeddings along the gap and
//! the loss landscape it draws (Fig. 3b–d), zero-shot classification as the gap moves
//! (Table 1), the cone effect of randomly initialised networks (Fig. 2b), the mismatched-data
//! simulations on the sphere (Fig. 3e–g), the Procrustes alignment that amends the gap, the
//! 2-D views of Fig. 1 and PCA, and the zero-shot ROC-AUC of a binary task (Liang et al. 2022,
//! Sec. 2–5). The summaries the paper reports (mean ± 95% CI over seeds, per-group rates,
//! ROC-AUC) are in [`stats`](crate::stats).
//!
//! This module is a client of the crate like any other: it uses only the public API (the
//! metrics, the types, [`stats`](crate::stats)), the crate's shared argument checks, and the
//! crate's private d × d cross-products (behind Procrustes and the projections). What
//! an experiment needs from a pass, a public metric provides: the batched contrastive loss,
//! the loss with label targets, [`predict`](crate::predict) and [`hit_rates`](crate::hit_rates).

mod cone;
mod gap_target;
mod procrustes;
mod projection;
mod shift;
mod sphere;
mod sweep;
mod validation;
mod zero_shot;

pub use cone::{Activation, RandomMlp, relu_cone_theory};
pub use gap_target::{GapShift, GapTarget, delta_from_lambda, shift_to_gap};
pub use procrustes::{Procrustes, procrustes};
pub use projection::{Projection, project};
pub use shift::{Shift, shift};
pub use sphere::{
    LandscapePoint, NinePairLabels, Pairing, nine_pair_landscape, nine_pairs, sphere_landscape,
    sphere_pairs,
};
pub use sweep::{ShiftPoint, shift_sweep};
pub use validation::{ValidationLoss, validation_loss};
pub use zero_shot::{ZeroShotPoint, zero_shot_roc_auc, zero_shot_sweep};

use shift::{along, along_gap};
