//! The paper's protocols, built from the metrics: moving embeddings along the gap and the loss
//! landscape it draws (Fig. 3b–d), zero-shot classification as the gap moves (Table 1),
//! the cone effect of randomly initialised networks (Fig. 2b), the Procrustes alignment that
//! amends the gap, and the 2-D views of Fig. 1 and PCA (Liang et al. 2022, Sec. 3–4).

mod cone;
mod gram;
mod procrustes;
mod projection;
mod shift;
mod sweep;
mod validation;
mod zero_shot;

pub use cone::{Activation, RandomMlp, relu_cone_theory};
pub use procrustes::{Procrustes, procrustes};
pub use projection::{Centring, Projection, project};
pub use shift::{Shift, shift};
pub use sweep::{ShiftPoint, shift_sweep};
pub use validation::{ValidationLoss, validation_loss};
pub use zero_shot::{ZeroShotPoint, hit_rates, predict, zero_shot_sweep};
